/**
 * The mining loop's own cost: one thread's {@linkcode WorkLoop} slices versus bare kernel
 * scans of the same size (same thread, no workers). The difference is the per-slice
 * bookkeeping (generation check, clock, counters).
 *
 * @module
 */
import { createWasmKernel } from "../hash/mod.ts";
import { buildThreadWork, WorkLoop } from "../miner/mod.ts";
import { createControl } from "../miner/_control.ts";
import type { NotifyJob } from "../protocol/mod.ts";

const SLICE = 10_000; // about 2.5 ms of hashing (the default slice is 3 ms)

const JOB: NotifyJob = {
  jobId: "bench",
  height: 5000,
  version: 2,
  previousHash: new Uint8Array(12).fill(1),
  previousKeystone: new Uint8Array(9).fill(2),
  secondKeystone: new Uint8Array(9).fill(3),
  popRoot: new Uint8Array(32).fill(4),
  normalRoot: new Uint8Array(32).fill(5),
  metapackageHash: new Uint8Array(32).fill(6),
  timestamp: 1_553_000_000,
  bits: 0x0600e8d4,
  cleanJobs: true,
};

const work = buildThreadWork(JOB, {
  generation: 1,
  sessionId: 0,
  extranonce: 0n,
  thread: 0,
  threads: 1,
  target: 0n,
});

const control = createControl(1);
Atomics.store(control.generation, 0, 1);
const loop = new WorkLoop(createWasmKernel(), control, {
  index: 0,
  initialSlice: SLICE,
  adaptSlice: false,
  report: () => {},
});
loop.offer(work);

const kernel = createWasmKernel();
let nonce = 0;

Deno.bench({
  name: `kernel.scan(${SLICE} nonces)`,
  group: "slice",
  baseline: true,
  fn() {
    kernel.scan(work.header, { startNonce: nonce, count: SLICE, target: work.target });
    nonce = (nonce + SLICE) % (2 ** 32 - SLICE);
  },
});

Deno.bench({
  name: `WorkLoop.step() (${SLICE} nonces)`,
  group: "slice",
  fn() {
    loop.step();
  },
});
