import assert from "node:assert/strict";
import { LiveStats } from "../../api/live_stats.ts";
import { type AcceptedShare, PoolEvents } from "../../server/mod.ts";

function share(worker: string, difficulty: bigint, at: number): AcceptedShare {
  const dot = worker.indexOf(".");
  return {
    at,
    connectionId: 1,
    ip: "127.0.0.1",
    port: 3333,
    worker,
    address: dot < 0 ? worker : worker.slice(0, dot),
    workerName: dot < 0 ? "" : worker.slice(dot + 1),
    jobId: "1",
    upstreamJobId: 1,
    height: 1,
    extranonce: 0n,
    ntime: 0,
    nonce: 0,
    hash: "00",
    difficulty,
    achievedDifficulty: difficulty,
    networkDifficulty: 1_000_000n,
    block: false,
    solo: false,
  };
}

Deno.test("LiveStats averages accepted difficulty over the covered part of the window", () => {
  let now = 10_000_000;
  const events = new PoolEvents();
  const stats = new LiveStats(events, { windowSeconds: 60, bucketSeconds: 10, now: () => now });
  const accept = (worker: string, d: bigint) =>
    events.emit({ type: "share_accepted", at: now, share: share(worker, d, now) });
  accept("A.rig1", 600n);
  accept("A.rig2", 300n);
  accept("B", 100n);
  now += 20_000;
  // 20 s since start: the window is not full yet.
  assert.deepEqual(stats.pool(), {
    hashrate: 1000 / 20,
    sharesPerSecond: 3 / 20,
    accepted: 3,
    rejected: 0,
    seconds: 20,
    lastShareAt: 10_000_000,
  });
  assert.equal(stats.address("A").hashrate, 900 / 20);
  assert.equal(stats.worker("A.rig2").accepted, 1);
  assert.deepEqual(stats.workers("A"), ["A.rig1", "A.rig2"]);
  assert.deepEqual(stats.workers("B"), ["B"]);
  assert.equal(stats.worker("C").hashrate, 0);
  assert.equal(stats.worker("C").lastShareAt, undefined);
  stats.close();
});

Deno.test("LiveStats forgets shares that left the window, and idle workers", () => {
  let now = 10_000_000;
  const events = new PoolEvents();
  const stats = new LiveStats(events, { windowSeconds: 60, bucketSeconds: 10, now: () => now });
  events.emit({ type: "share_accepted", at: now, share: share("A.rig1", 600n, now) });
  now += 300_000;
  events.emit({ type: "share_accepted", at: now, share: share("B", 60n, now) });
  const pool = stats.pool();
  assert.equal(pool.accepted, 1);
  assert.equal(pool.seconds, 50);
  assert.equal(pool.hashrate, 60 / 50);
  assert.equal(stats.address("A").accepted, 0);
  assert.deepEqual(stats.workers("A"), []);
  stats.close();
});

Deno.test("LiveStats counts rejections per worker, but not unauthorized or nameless ones", () => {
  const now = 10_000_000;
  const events = new PoolEvents();
  const stats = new LiveStats(events, { now: () => now });
  const reject = (worker: string | undefined, reason: "stale_job" | "unauthorized") =>
    events.emit({
      type: "share_rejected",
      at: now,
      connectionId: 1,
      ip: "127.0.0.1",
      reason,
      ...(worker === undefined ? {} : { worker }),
    });
  reject("A.rig1", "stale_job");
  reject("X.garbage", "unauthorized");
  reject(undefined, "stale_job");
  assert.equal(stats.pool().rejected, 3);
  assert.equal(stats.worker("A.rig1").rejected, 1);
  assert.equal(stats.address("A").rejected, 1);
  assert.deepEqual(stats.workers("X"), []);
  stats.close();
});

Deno.test("LiveStats tracks at most maxKeys addresses and workers", () => {
  const now = 10_000_000;
  const events = new PoolEvents();
  const stats = new LiveStats(events, { maxKeys: 4, now: () => now });
  for (let i = 0; i < 5; i++) {
    events.emit({ type: "share_accepted", at: now, share: share(`A${i}.w`, 10n, now) });
  }
  assert.equal(stats.pool().accepted, 5);
  assert.equal(stats.worker("A1.w").accepted, 1);
  assert.equal(stats.worker("A4.w").accepted, 0);
  stats.close();
  assert.throws(() => new LiveStats(events, { windowSeconds: 0 }), RangeError);
});
