import assert from "node:assert/strict";
import {
  type AsyncScanner,
  GpuWorkLoop,
  MAX_GPU_BATCH,
  MIN_GPU_BATCH,
} from "../../../miner/gpu/gpu_work_loop.ts";
import { createControl } from "../../../miner/_control.ts";
import type { ThreadWork } from "../../../miner/work.ts";
import type { WorkLoopReport } from "../../../miner/work_loop.ts";
import {
  bytesToHex,
  createWasmKernel,
  difficultyToTarget,
  hexToBytes,
  type ScanOptions,
  targetToBytes,
} from "../../../hash/mod.ts";
import { sampleJob, sampleWork } from "../_job.ts";
import { vectors } from "../../hash/_vectors.ts";

/** The WebAssembly kernel behind an asynchronous face, recording every scan. */
function fakeScanner(): AsyncScanner & { calls: { start: number; count: number; time: number }[] } {
  const wasm = createWasmKernel();
  const calls: { start: number; count: number; time: number }[] = [];
  return {
    name: "fake",
    calls,
    async scan(header: Uint8Array, options: ScanOptions) {
      calls.push({
        start: options.startNonce,
        count: options.count,
        time: new DataView(header.buffer, header.byteOffset).getUint32(52),
      });
      await Promise.resolve();
      return wasm.scan(header, options);
    },
  };
}

function setup(options: { now?: () => number; batch?: number } = {}) {
  const control = createControl(1);
  const reports: WorkLoopReport[] = [];
  const scanner = fakeScanner();
  const loop = new GpuWorkLoop(scanner, control, {
    index: 0,
    batch: options.batch ?? 1000,
    report: (m) => reports.push(m),
    ...(options.now ? { nowSeconds: options.now } : {}),
  });
  function give(work: ThreadWork): void {
    Atomics.store(control.generation, 0, work.generation);
    loop.offer(work);
  }
  return { control, reports, loop, give, scanner };
}

Deno.test("GpuWorkLoop idles without work for the current generation", async () => {
  const { loop, control, reports } = setup();
  assert.equal(await loop.step(), false);
  loop.offer(sampleWork(1)); // generation 1 is not current yet
  assert.equal(await loop.step(), false);
  Atomics.store(control.generation, 0, 1);
  assert.equal(await loop.step(), true);
  assert.deepEqual(reports.map((r) => r.type), ["started"]);
  assert.equal(Atomics.load(control.hashes, 0), 1000n);
});

Deno.test("GpuWorkLoop stops stale work and picks up new work at the next step", async () => {
  const { loop, control, give, reports } = setup();
  give(sampleWork(1));
  assert.equal(await loop.step(), true);
  Atomics.add(control.generation, 0, 1); // a new job is coming
  assert.equal(await loop.step(), false);
  give(sampleWork(3, { key: "other" }));
  assert.equal(await loop.step(), true);
  assert.deepEqual(reports.map((r) => r.type === "started" && r.generation), [1, 3]);
});

Deno.test("GpuWorkLoop keeps its position for the same key and restarts for a new one", async () => {
  const now = () => 1_560_000_100;
  const { loop, give, scanner } = setup({ now });
  give(sampleWork(1));
  await loop.step();
  await loop.step();
  give(sampleWork(2)); // same key: e.g. only the difficulty changed
  await loop.step();
  give(sampleWork(3, { key: "new" }));
  await loop.step();
  assert.deepEqual(scanner.calls.map((c) => c.start), [0, 1000, 2000, 0]);
  assert.ok(scanner.calls.every((c) => c.time === 1_560_000_100));
  assert.deepEqual(loop.position, { key: "new", time: 1_560_000_100, nonce: 1000 });
});

Deno.test("GpuWorkLoop rolls the time when its range is exhausted within a second", async () => {
  const { loop, give, scanner } = setup({ now: () => 1_560_000_000, batch: 600 });
  give(sampleWork(1, { nonceStart: 100, nonceEnd: 1100 }));
  for (let i = 0; i < 4; i++) await loop.step();
  assert.deepEqual(
    scanner.calls.map((c) => [c.time - 1_560_000_000, c.start, c.count]),
    [[0, 100, 600], [0, 700, 400], [1, 100, 600], [1, 700, 400]],
  );
});

Deno.test("GpuWorkLoop never puts the header time below the job time", async () => {
  const { loop, give, scanner } = setup({ now: () => 1_000 });
  give(sampleWork(1));
  await loop.step();
  assert.equal(scanner.calls[0]!.time, sampleJob().timestamp);
});

Deno.test("GpuWorkLoop reports shares with the header time and the reference hash", async () => {
  const share = vectors.stratum_share.work[2]!;
  const template = hexToBytes(share.header);
  const ntime = parseInt(share.ntime, 16);
  const { loop, give, reports } = setup({ now: () => ntime, batch: 0x100 });
  give({
    generation: 1,
    key: "vector",
    jobId: "3",
    header: template,
    extranonce: 0x7c000000000f4240n,
    minTime: ntime,
    nonceStart: 0x4300,
    nonceEnd: 2 ** 32,
    target: targetToBytes(difficultyToTarget(65536n)),
  });
  assert.equal(await loop.step(), true);
  const shares = reports.filter((r) => r.type === "share");
  assert.equal(shares.length, 1);
  const found = shares[0]!;
  assert.equal(found.type === "share" && found.nonce, 0x430b);
  assert.equal(found.type === "share" && found.ntime, ntime);
  assert.equal(found.type === "share" && bytesToHex(found.hash), share.hash);
});

Deno.test("GpuWorkLoop keeps a fixed batch and tunes an automatic one within bounds", async () => {
  const fixed = setup({ batch: 1234 });
  fixed.give(sampleWork(1));
  for (let i = 0; i < 3; i++) await fixed.loop.step();
  assert.deepEqual(fixed.scanner.calls.map((c) => c.count), [1234, 1234, 1234]);
  assert.equal(fixed.loop.batchSize, 1234);
  const auto = setup({ batch: 0 });
  auto.give(sampleWork(1));
  for (let i = 0; i < 3; i++) await auto.loop.step();
  const size = auto.loop.batchSize;
  assert.ok(size >= MIN_GPU_BATCH && size <= MAX_GPU_BATCH && size % MIN_GPU_BATCH === 0);
  assert.equal(auto.scanner.calls[0]!.count, 65536);
});

Deno.test("GpuWorkLoop rejects a bad batch", () => {
  const control = createControl(1);
  for (const batch of [-1, 1.5, 2 ** 31 + 1]) {
    assert.throws(
      () => new GpuWorkLoop(fakeScanner(), control, { index: 0, batch, report: () => {} }),
      RangeError,
    );
  }
});

Deno.test("GpuWorkLoop passes kernel failures to its caller", async () => {
  const control = createControl(1);
  const broken: AsyncScanner = {
    name: "broken",
    scan: () => Promise.reject(new Error("Cannot scan: the GPU device was lost (test)")),
  };
  const loop = new GpuWorkLoop(broken, control, { index: 0, batch: 10, report: () => {} });
  Atomics.store(control.generation, 0, 1);
  loop.offer(sampleWork(1));
  await assert.rejects(() => loop.step(), /device was lost/);
});
