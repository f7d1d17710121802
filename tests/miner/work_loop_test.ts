import assert from "node:assert/strict";
import { WorkLoop, type WorkLoopReport } from "../../miner/work_loop.ts";
import { createControl } from "../../miner/_control.ts";
import { shareHeader, type ThreadWork } from "../../miner/work.ts";
import {
  bytesToTarget,
  createReferenceKernel,
  createWasmKernel,
  hashToBigInt,
  MAX_TARGET,
  vblake,
} from "../../hash/mod.ts";
import { sampleJob, sampleWork } from "./_job.ts";

function setup(options: { now?: () => number; slice?: number; maxResults?: number } = {}) {
  const control = createControl(1);
  const reports: WorkLoopReport[] = [];
  const loop = new WorkLoop(createWasmKernel(), control, {
    index: 0,
    initialSlice: options.slice ?? 1000,
    maxResults: options.maxResults ?? 8,
    adaptSlice: false,
    report: (m) => reports.push(m),
    ...(options.now ? { nowSeconds: options.now } : {}),
  });
  function give(work: ThreadWork): void {
    Atomics.store(control.generation, 0, work.generation);
    loop.offer(work);
  }
  return { control, reports, loop, give };
}

Deno.test("WorkLoop idles without work for the current generation", () => {
  const { loop, control, reports } = setup();
  assert.equal(loop.step(), false);
  loop.offer(sampleWork(1)); // generation 1 is not current yet
  assert.equal(loop.step(), false);
  Atomics.store(control.generation, 0, 1);
  assert.equal(loop.step(), true);
  assert.equal(reports[0]?.type, "started");
});

Deno.test("WorkLoop stops stale work as soon as the generation moves", () => {
  const { loop, control, give } = setup();
  give(sampleWork(1));
  assert.equal(loop.step(), true);
  const before = Atomics.load(control.hashes, 0);
  Atomics.add(control.generation, 0, 1);
  assert.equal(loop.step(), false);
  assert.equal(Atomics.load(control.hashes, 0), before);
});

Deno.test("WorkLoop counts every nonce tried and reports when it started", () => {
  const { loop, control, reports, give } = setup({ slice: 500 });
  const before = performance.timeOrigin + performance.now();
  give(sampleWork(1));
  loop.step();
  loop.step();
  const started = reports.filter((r) => r.type === "started");
  assert.equal(started.length, 1);
  assert.ok(started[0]!.type === "started" && started[0]!.at >= before - 1);
  assert.equal(Number(Atomics.load(control.hashes, 0)), loop.position.nonce);
});

Deno.test("WorkLoop finds shares that verify with the reference vBlake", () => {
  const { loop, reports, give } = setup({ slice: 2000, maxResults: 256 });
  const target = MAX_TARGET / 64n;
  const w = sampleWork(1, {}, target);
  give(w);
  loop.step();
  const shares = reports.filter((r) => r.type === "share");
  assert.ok(shares.length > 5, `found ${shares.length}`);
  // Cross-check against the reference kernel over the same nonces.
  const header = shareHeader(w.header, loop.position.time, 0);
  const ref = createReferenceKernel().scan(header, { startNonce: 0, count: 2000, target });
  assert.deepEqual(shares.map((s) => s.type === "share" && s.nonce), ref.nonces);
  for (const s of shares) {
    if (s.type !== "share") continue;
    const h = vblake(shareHeader(w.header, s.ntime, s.nonce));
    assert.deepEqual(s.hash, h);
    assert.ok(hashToBigInt(h) < bytesToTarget(w.target));
    assert.equal(s.jobId, "3");
    assert.equal(s.extranonce, 5n);
    assert.equal(s.generation, 1);
  }
});

Deno.test("WorkLoop reports at most maxResults shares per slice and resumes after them", () => {
  const { loop, reports, give } = setup({ slice: 1000, maxResults: 3 });
  give(sampleWork(1, {}, MAX_TARGET)); // every hash is a share
  loop.step();
  assert.equal(reports.filter((r) => r.type === "share").length, 3);
  assert.equal(loop.position.nonce, 3);
  loop.step();
  const nonces = reports.flatMap((r) => r.type === "share" ? [r.nonce] : []);
  assert.deepEqual(nonces, [0, 1, 2, 3, 4, 5]);
});

Deno.test("WorkLoop keeps the time at or above the job time", () => {
  const { loop, give } = setup({ now: () => 1_000 }); // clock far behind the job
  give(sampleWork(1));
  loop.step();
  assert.equal(loop.position.time, sampleJob().timestamp);
});

Deno.test("WorkLoop rolls the time with the clock and restarts the nonce", () => {
  let now = 1_600_000_000;
  const { loop, give } = setup({ now: () => now });
  give(sampleWork(1));
  loop.step();
  assert.deepEqual([loop.position.time, loop.position.nonce], [now, 1000]);
  now++;
  loop.step();
  assert.deepEqual([loop.position.time, loop.position.nonce], [now, 1000]);
  now -= 5; // a clock step backwards never moves the time back
  loop.step();
  assert.deepEqual([loop.position.time, loop.position.nonce], [now + 5, 2000]);
});

Deno.test("WorkLoop moves the time ahead when its nonce range runs out", () => {
  const now = 1_600_000_000;
  const { loop, give } = setup({ now: () => now, slice: 1000 });
  give(sampleWork(1, { nonceStart: 100, nonceEnd: 1600 }));
  loop.step();
  loop.step();
  assert.deepEqual([loop.position.time, loop.position.nonce], [now, 1600]);
  loop.step();
  assert.deepEqual([loop.position.time, loop.position.nonce], [now + 1, 1100]);
});

Deno.test("WorkLoop keeps its position for new work on the same search space", () => {
  const now = 1_600_000_000;
  const { loop, give, control, reports } = setup({ now: () => now, slice: 1000 });
  give(sampleWork(1));
  loop.step();
  give(sampleWork(2, {}, MAX_TARGET)); // same key, new target: every hash is a share
  loop.step();
  assert.deepEqual([loop.position.time, loop.position.nonce], [now, 1008]); // 8 per slice
  const shares = reports.filter((r) => r.type === "share");
  assert.equal(shares[0]?.type === "share" && shares[0].nonce, 1000);
  assert.equal(shares[0]?.type === "share" && shares[0].ntime, now);
  give(sampleWork(3, { key: "other" }));
  loop.step();
  assert.deepEqual([loop.position.time, loop.position.nonce], [now, 1000]);
  assert.equal(Atomics.load(control.generation, 0), 3);
});

Deno.test("WorkLoop adapts its slice to the target duration", () => {
  const control = createControl(1);
  const loop = new WorkLoop(createWasmKernel(), control, {
    index: 0,
    sliceMs: 5,
    initialSlice: 64,
    report: () => {},
  });
  Atomics.store(control.generation, 0, 1);
  loop.offer(sampleWork(1));
  for (let i = 0; i < 30; i++) loop.step();
  assert.ok(loop.sliceSize > 64, `slice ${loop.sliceSize}`);
});
