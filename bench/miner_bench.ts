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
import { BENCH_JOB } from "../miner/mod.ts";

const SLICE = 10_000; // about 2.5 ms of hashing (the default slice is 3 ms)

const work = buildThreadWork(BENCH_JOB, {
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
