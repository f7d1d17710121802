import assert from "node:assert/strict";
import { hexToBytes } from "../../hash/hex.ts";
import { ADDRESS, breakStore, connectMiner, OTHER_ADDRESS, startFixture } from "./_fixture.ts";
import { ADDRESSES, freshTemplate, startPool } from "../server/_pool.ts";
import { CudaLikeMiner } from "../e2e/_ucp_cuda_miner.ts";
import { LiveStats } from "../../api/live_stats.ts";
import { PoolData } from "../../api/pool_data.ts";
import { PoolMetrics } from "../../api/pool_metrics.ts";
import { PUBLIC_CODES } from "../../api/public_codes.ts";
import { openStore } from "../../store/mod.ts";
import { parsePrometheus, sampleValue } from "./_prometheus.ts";

Deno.test("PoolData.pool() counts miners and shares, and shows the network and upstream", async () => {
  const f = await startFixture();
  const a = await connectMiner(f.port, `${ADDRESS}.rig1`);
  const b = await connectMiner(f.port, `${ADDRESS}.rig2`);
  const c = await connectMiner(f.port, OTHER_ADDRESS);
  try {
    assert.deepEqual(await a.submit(3), [true, true, true]);
    assert.deepEqual(await c.submit(1), [true]);
    await c.submitBad();
    const view = await f.data.pool();
    assert.equal(view.miners, 2);
    assert.equal(view.workers, 3);
    assert.equal(view.connections, 3);
    assert.equal(view.subscribed, 3);
    assert.equal(view.sharesAccepted, 4);
    assert.equal(view.sharesRejected, 1);
    assert.ok(view.hashrate > 0);
    assert.equal(view.hashrate, (4 * 16) / view.hashrateWindowSeconds);
    assert.equal(view.network.height, f.pool.jobs.current!.template.height - 1);
    assert.equal(view.network.difficulty, f.pool.jobs.current!.networkDifficulty.toString());
    assert.deepEqual(view.upstream, {
      state: "ready",
      connected: true,
      since: 1000,
      reconnects: 2,
    });
    assert.equal(view.lastBlock, null);
    assert.equal(view.roundWork, "64");
    assert.equal(view.roundEffort, 64 / Number(f.pool.jobs.current!.networkDifficulty));
    assert.equal(f.data.sessions().authorized, 3);
    assert.equal(b.client.closedReason, undefined);
  } finally {
    await a.close();
    await b.close();
    await c.close();
    await f.close();
  }
});

Deno.test("PoolData.miner() lists online and recent workers with rates, counts and balance", async () => {
  const f = await startFixture();
  const a = await connectMiner(f.port, `${ADDRESS}.rig1`);
  const b = await connectMiner(f.port, `${ADDRESS}.rig1`);
  const other = await connectMiner(f.port, OTHER_ADDRESS);
  try {
    await a.submit(2);
    await b.submit(1);
    await other.submit(1);
    await a.submitBad();
    // A worker that mined earlier (in the store only) shows up offline.
    await f.store.recordShare({
      instance: 0,
      address: ADDRESS,
      worker: "old",
      jobId: "x",
      difficulty: 5n,
      networkDifficulty: 1000n,
      height: 1,
      time: Date.now() - 30 * 60_000,
      hash: new Uint8Array(24).fill(9),
    });
    const view = await f.data.miner(ADDRESS);
    assert.equal(view.address, ADDRESS);
    assert.equal(view.online, true);
    assert.equal(view.balance, "0");
    assert.deepEqual(view.payments, []);
    assert.deepEqual(view.shares.window, {
      accepted: 3,
      rejected: 1,
      seconds: view.hashrateWindowSeconds,
    });
    assert.deepEqual(view.shares.lastHour, { accepted: 4, difficulty: String(3 * 16 + 5) });
    assert.equal(view.shares.last24Hours.accepted, 4);
    assert.deepEqual(view.workers.map((w) => [w.worker, w.online, w.connections]), [
      [`${ADDRESS}.rig1`, true, 2],
      [`${ADDRESS}.old`, false, 0],
    ]);
    const rig = view.workers[0]!;
    assert.equal(rig.name, "rig1");
    assert.equal(rig.difficulty, "16");
    assert.equal(rig.sharesAccepted, 3);
    assert.equal(rig.sharesRejected, 1);
    assert.equal(rig.shares24h, 3);
    assert.ok(rig.hashrate > 0 && rig.lastShareAt !== null);
    assert.equal(view.workers[1]!.difficulty, null);
    assert.equal(view.workers[1]!.shares24h, 1);
    const stranger = await f.data.miner(ADDRESSES[2]!);
    assert.equal(stranger.online, false);
    assert.deepEqual(stranger.workers, []);
    assert.equal(stranger.hashrate, 0);
  } finally {
    await a.close();
    await b.close();
    await other.close();
    await f.close();
  }
});

Deno.test("PoolData.blocks() pages newest first with status; the round restarts after a block", async () => {
  const f = await startFixture();
  try {
    for (let i = 1; i <= 5; i++) {
      await f.store.recordBlock({
        instance: 0,
        height: 100 + i,
        hash: hexToBytes(i.toString(16).padStart(48, "0")),
        address: ADDRESS,
        worker: "rig",
        networkDifficulty: 1000n,
        time: Date.now() - (10 - i) * 120_000,
      });
    }
    await f.store.updateBlock(hexToBytes("5".padStart(48, "0")), {
      status: "confirmed",
      confirmations: 12,
      reward: 5_000_000_000n,
    });
    const first = await f.data.blocks({ page: 0, pageSize: 2 });
    assert.equal(first.hasMore, true);
    assert.deepEqual(first.blocks.map((b) => b.height), [105, 104]);
    assert.deepEqual(
      [first.blocks[0]!.status, first.blocks[0]!.confirmations, first.blocks[0]!.reward],
      ["confirmed", 12, "5000000000"],
    );
    assert.equal(first.blocks[1]!.status, "pending");
    assert.equal(first.blocks[1]!.finder, ADDRESS);
    assert.equal(first.blocks[1]!.hash, "4".padStart(48, "0"));
    const last = await f.data.blocks({ page: 2, pageSize: 2 });
    assert.deepEqual([last.hasMore, last.blocks.map((b) => b.height)], [false, [101]]);
    const pending = await f.data.blocks({ page: 0, pageSize: 10, status: "pending" });
    assert.equal(pending.blocks.length, 4);
    const pool = await f.data.pool();
    assert.equal(pool.lastBlock?.height, 105);
    assert.equal(pool.roundWork, "0");
  } finally {
    await f.close();
  }
});

Deno.test("PoolData.hashrate() gives one point per minute, zero-filled", async () => {
  const f = await startFixture();
  const m = await connectMiner(f.port, `${ADDRESS}.rig1`);
  try {
    await m.submit(2);
    const points = await f.data.hashrate({ minutes: 5 });
    assert.equal(points.length, 5);
    for (let i = 1; i < points.length; i++) {
      assert.equal(points[i]!.time - points[i - 1]!.time, 60_000);
    }
    assert.equal(points.at(-1)!.shares, 2);
    assert.ok(points.at(-1)!.hashrate > 0);
    assert.equal(points[0]!.hashrate, 0);
    const mine = await f.data.hashrate({ minutes: 1, address: ADDRESS, worker: "rig1" });
    assert.equal(mine[0]!.shares, 2);
    const none = await f.data.hashrate({ minutes: 1, address: OTHER_ADDRESS });
    assert.equal(none[0]!.shares, 0);
  } finally {
    await m.close();
    await f.close();
  }
});

Deno.test("PoolData.health() is ok only with the upstream ready and the store healthy, and says why in codes", async () => {
  const f = await startFixture({ store: { probeIntervalMs: 600_000 } });
  try {
    assert.deepEqual(f.data.health(), {
      status: "ok",
      reasons: [],
      upstream: { state: "ready", connected: true, since: 1000, reconnects: 2 },
      store: { backend: "sqlite", healthy: true, queueDepth: 0 },
    });
    f.upstream = {
      state: "backoff",
      endpoint: "10.9.8.7:8501",
      since: 5,
      reconnects: 3,
      lastError: "SECRET-TEXT connect ECONNREFUSED 10.9.8.7:8501",
    };
    assert.deepEqual(f.data.health(), {
      status: "unavailable",
      reasons: ["upstream_unavailable"],
      upstream: { state: "backoff", connected: false, since: 5, reconnects: 3 },
      store: { backend: "sqlite", healthy: true, queueDepth: 0 },
    });
    await breakStore(f, "SECRET-TEXT password=hunter2 at 10.9.8.7:5432");
    const health = f.data.health();
    assert.deepEqual([health.status, health.reasons], [
      "unavailable",
      ["upstream_unavailable", "store_failing"],
    ]);
    assert.deepEqual(health.store, { backend: "sqlite", healthy: false, queueDepth: 0 });
    f.upstream = { state: "ready", endpoint: "10.9.8.7:8501", since: 6, reconnects: 3 };
    assert.deepEqual(f.data.health().reasons, ["store_failing"]);
    for (const code of f.data.health().reasons) assert.ok(code in PUBLIC_CODES, code);
  } finally {
    await f.close();
  }
});

Deno.test("PoolData.payments() and miner balances come from the payout store", async () => {
  const f = await startFixture();
  try {
    const hash = hexToBytes("ab".repeat(24));
    await f.store.recordBlock({
      instance: 0,
      height: 7,
      hash,
      address: ADDRESS,
      worker: "",
      networkDifficulty: 1000n,
      time: Date.now(),
    });
    assert.equal(
      await f.store.payouts.creditBlock(hash, {
        reward: 1000n,
        confirmations: 10,
        credits: [
          { address: ADDRESS, amount: 700n, reason: "share" },
          { address: OTHER_ADDRESS, amount: 300n, reason: "share" },
        ],
      }),
      true,
    );
    assert.ok(await f.store.payouts.acquireLock("test", { ttlMs: 60_000 }));
    const payment = await f.store.payouts.createPayment("test", {
      items: [{ address: ADDRESS, amount: 500n }, { address: OTHER_ADDRESS, amount: 300n }],
      startHeight: 7,
    });
    await f.store.payouts.markPaymentSent("test", payment.id, ["AA".repeat(32)]);
    const page = await f.data.payments({ page: 0, pageSize: 10 });
    assert.equal(page.payments.length, 1);
    const p = page.payments[0]!;
    assert.deepEqual([p.status, p.total, p.recipients, p.txIds], ["sent", "800", 2, [
      "AA".repeat(32),
    ]]);
    assert.deepEqual(
      p.items,
      [{ address: ADDRESS, amount: "500" }, { address: OTHER_ADDRESS, amount: "300" }]
        .sort((x, y) => x.address < y.address ? -1 : 1),
    );
    const mine = await f.data.payments({ page: 0, pageSize: 10, address: OTHER_ADDRESS });
    assert.equal(mine.payments[0]!.amount, "300");
    assert.equal(mine.payments[0]!.items, undefined);
    const none = await f.data.payments({ page: 0, pageSize: 10, status: "confirmed" });
    assert.deepEqual(none.payments, []);
    const miner = await f.data.miner(ADDRESS);
    assert.equal(miner.balance, "200");
    assert.equal(miner.payments[0]!.amount, "500");
  } finally {
    await f.close();
  }
});

Deno.test("PoolData.payments() and miner() show a payment's error as a code, never its text", async () => {
  const f = await startFixture();
  try {
    const hash = hexToBytes("cd".repeat(24));
    await f.store.recordBlock({
      instance: 0,
      height: 8,
      hash,
      address: ADDRESS,
      worker: "",
      networkDifficulty: 1000n,
      time: Date.now(),
    });
    await f.store.payouts.creditBlock(hash, {
      reward: 1000n,
      confirmations: 10,
      credits: [{ address: ADDRESS, amount: 1000n, reason: "share" }],
    });
    assert.ok(await f.store.payouts.acquireLock("test", { ttlMs: 60_000 }));
    const items = [{ address: ADDRESS, amount: 400n }];
    const failed = await f.store.payouts.createPayment("test", { items, startHeight: 8 });
    await f.store.payouts.failPayment("test", failed.id, "SECRET-TEXT wallet locked at 10.9.8.7");
    const noted = await f.store.payouts.createPayment("test", { items, startHeight: 8 });
    await f.store.payouts.markPaymentSent("test", noted.id, ["BB".repeat(32)]);
    await f.store.payouts.notePayment(noted.id, "outcome unknown: SECRET-TEXT 10.9.8.7:10600");
    const fine = await f.store.payouts.createPayment("test", { items, startHeight: 8 });
    await f.store.payouts.markPaymentSent("test", fine.id, ["CC".repeat(32)]);
    const page = await f.data.payments({ page: 0, pageSize: 10 });
    assert.deepEqual(page.payments.map((p) => [p.id, p.status, p.error]), [
      [fine.id.toString(), "sent", null],
      [noted.id.toString(), "sent", "payment_problem"],
      [failed.id.toString(), "failed", "payment_failed"],
    ]);
    const miner = await f.data.miner(ADDRESS);
    assert.deepEqual(miner.payments.map((p) => p.error), [
      null,
      "payment_problem",
      "payment_failed",
    ]);
    const text = JSON.stringify([page, miner]);
    assert.ok(!text.includes("SECRET-TEXT") && !text.includes("10.9.8.7"), text);
  } finally {
    await f.close();
  }
});

Deno.test("PoolData and PoolMetrics count legacy UCP miners too", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-api-ucp-" });
  const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
  const { pool } = startPool({
    ucp: {
      ports: [{ hostname: "127.0.0.1", port: 0, difficulty: 4096n }],
      limits: { writeGapMs: 50 }, // the CUDA-like client reads one message at a time
    },
  });
  pool.addTemplate(freshTemplate(1));
  const stats = new LiveStats(pool.events);
  const metrics = new PoolMetrics({ pool });
  const upstream = () => ({ state: "ready" as const, endpoint: "n:1", since: 0, reconnects: 0 });
  const data = new PoolData({ pool, store, upstream, stats });
  const miner = await CudaLikeMiner.connect(pool.ucpServers[0]!.addr.port);
  try {
    await miner.setup(`${ADDRESS}.gpu`);
    assert.deepEqual(data.sessions(), {
      connections: 1,
      subscribed: 1,
      authorized: 1,
      miners: 1,
      workers: 1,
    });
    const view = await data.miner(ADDRESS);
    assert.deepEqual(
      view.workers.map((w) => [w.worker, w.online, w.difficulty]),
      [[`${ADDRESS}.gpu`, true, "4096"]],
    );
    const port = String(pool.ucpServers[0]!.addr.port);
    const families = parsePrometheus(metrics.render());
    assert.equal(sampleValue(families, "vbkpool_connections", { port, protocol: "ucp" }), 1);
    assert.equal(sampleValue(families, "vbkpool_miners_authorized"), 1);
  } finally {
    await miner.close();
    metrics.close();
    stats.close();
    await pool.stop();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
