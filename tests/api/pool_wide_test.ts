/**
 * Pool-wide API figures: with several servers on one store, one instance's pool summary and
 * miner pages show the work of every instance (from the store's per-minute rollups), cached so
 * that requests cannot turn into one database query each. On every store backend.
 */
import assert from "node:assert/strict";
import { LiveStats } from "../../api/live_stats.ts";
import { PoolData } from "../../api/pool_data.ts";
import { StoreShareRecorder } from "../../server/store_share_recorder.ts";
import type { Store } from "../../store/mod.ts";
import { ADDRESSES, freshTemplate, startPool, testPort } from "../server/_pool.ts";
import { contractTest } from "../store/_backends.ts";
import { sampleShare } from "../store/_samples.ts";
import { connectMiner } from "./_fixture.ts";

const [A, B, C] = ADDRESSES as [string, string, string];
const upstream = () => ({ state: "ready" as const, endpoint: "n:1", since: 0, reconnects: 0 });

/** Instance 0 in this process (one miner of A connected); B and C mine on instances 1 and 2. */
async function withInstance(
  store: Store,
  fn: (
    data: (options?: { poolWide?: boolean; now?: () => number }) => PoolData,
    local: Awaited<ReturnType<typeof connectMiner>>,
  ) => Promise<void>,
): Promise<void> {
  const { pool, port } = startPool({
    ports: [testPort({ difficulty: 16n, minDifficulty: 1n, vardiff: false })],
    recorder: new StoreShareRecorder(store, { instance: 0 }),
  });
  pool.addTemplate(freshTemplate(1));
  const stats = new LiveStats(pool.events);
  const local = await connectMiner(port(), `${A}.rig1`);
  try {
    await fn(
      (options = {}) =>
        new PoolData({ pool, store, upstream, stats }, { windowSeconds: 600, ...options }),
      local,
    );
  } finally {
    await local.close();
    stats.close();
    await pool.stop();
  }
}

async function remoteShares(store: Store, now: number): Promise<void> {
  const shares = [
    sampleShare({ instance: 1, address: B, worker: "gpu0", difficulty: 1000n, time: now - 1000 }),
    sampleShare({ instance: 1, address: B, worker: "gpu1", difficulty: 1000n, time: now - 2000 }),
    sampleShare({ instance: 2, address: C, worker: "", difficulty: 3000n, time: now - 3000 }),
    sampleShare({ instance: 2, address: A, worker: "rig9", difficulty: 16n, time: now - 4000 }),
    // Outside the window: not counted.
    sampleShare({ instance: 2, address: C, worker: "old", time: now - 3_600_000 }),
  ];
  await Promise.all(shares.map((s) => store.recordShare(s)));
}

contractTest(
  "PoolData",
  "pool-wide figures count every instance's miners and work",
  async (_f, store) => {
    await withInstance(store, async (data, local) => {
      assert.deepEqual(await local.submit(2), [true, true]);
      const now = Date.now();
      await remoteShares(store, now);
      const own = await data().pool();
      assert.deepEqual([own.poolWide, own.miners, own.workers, own.sharesAccepted], [
        false,
        1,
        1,
        2,
      ]);

      const view = await data({ poolWide: true }).pool();
      assert.equal(view.poolWide, true);
      // A (here and on instance 2), B and C; A.rig1, A.rig9, B.gpu0, B.gpu1, C.
      assert.deepEqual([view.miners, view.workers, view.sharesAccepted], [3, 5, 6]);
      // The window starts at a minute boundary at most 10 min ago.
      assert.ok(view.hashrateWindowSeconds >= 600 && view.hashrateWindowSeconds <= 661);
      assert.equal(view.hashrate, (2 * 16 + 1000 + 1000 + 3000 + 16) / view.hashrateWindowSeconds);
      assert.equal(view.sharesPerSecond, 6 / view.hashrateWindowSeconds);
      // This process's own counts stay its own.
      assert.deepEqual([view.connections, view.sharesRejected], [1, 0]);

      // A miner page shows workers mining on other instances, online, with their rates.
      const b = await data({ poolWide: true }).miner(B);
      assert.equal(b.online, true);
      assert.deepEqual(b.workers.map((w) => [w.worker, w.online, w.connections]), [
        [`${B}.gpu0`, true, 0],
        [`${B}.gpu1`, true, 0],
      ]);
      assert.equal(b.hashrate, 2000 / b.hashrateWindowSeconds);
      assert.equal(b.shares.window.accepted, 2);
      const a = await data({ poolWide: true }).miner(A);
      assert.deepEqual(a.workers.map((w) => [w.worker, w.online, w.connections]), [
        [`${A}.rig1`, true, 1],
        [`${A}.rig9`, true, 0],
      ]);
      assert.equal(a.workers[0]!.sharesAccepted, 2);
    });
  },
);

contractTest(
  "PoolData",
  "pool-wide figures are cached: one store query per period",
  async (_f, store) => {
    await withInstance(store, async (data) => {
      let now = Date.now();
      await remoteShares(store, now);
      let queries = 0;
      const activity = store.activity.bind(store);
      store.activity = (q) => (queries++, activity(q));
      const d = data({ poolWide: true, now: () => now });
      const first = await d.pool();
      const burst = await Promise.all(Array.from({ length: 50 }, () => d.pool()));
      assert.equal(queries, 1);
      assert.ok(burst.every((v) => v.workers === first.workers));
      await store.recordShare(sampleShare({ instance: 1, address: C, worker: "new", time: now }));
      assert.equal((await d.pool()).workers, first.workers, "still the cached figure");
      now += 5_000;
      assert.equal((await d.pool()).workers, first.workers + 1);
      assert.equal(queries, 2);
    });
  },
);

contractTest(
  "Store",
  "activity() sums the pool rows and counts distinct miners and workers",
  async (_f, store) => {
    const now = Date.now();
    assert.deepEqual(await store.activity({ since: now - 600_000 }), {
      shares: 0,
      difficulty: 0n,
      miners: 0,
      workers: 0,
    });
    await remoteShares(store, now);
    // Huge difficulties add up exactly (beyond 64 bits on SQLite's INTEGER column).
    const big = (1n << 62n) + 1n;
    await store.recordShare(
      sampleShare({ instance: 3, address: A, worker: "x", difficulty: big, time: now }),
    );
    await store.recordShare(
      sampleShare({ instance: 4, address: A, worker: "x", difficulty: big, time: now }),
    );
    assert.deepEqual(await store.activity({ since: now - 600_000 }), {
      shares: 6,
      difficulty: 1000n + 1000n + 3000n + 16n + 2n * big,
      miners: 3,
      workers: 5,
    });
    await assert.rejects(store.activity({ since: -1 }), /Cannot query rollups/);
    await assert.rejects(
      store.activity(null as unknown as { since: number }),
      /Cannot query rollups/,
    );
  },
);
