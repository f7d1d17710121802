/**
 * API contract tests against the real `vbkpool server` (subprocess) on a devnet, with a scripted
 * miner mining real shares and a block: the shapes and values of every endpoint, errors, CORS,
 * the rate limit, server-sent events, metrics in the Prometheus text format, and health going
 * from 200 to 503 when NodeCore goes away.
 */
import assert from "node:assert/strict";
import { hexToBytes } from "../../hash/hex.ts";
import { openStore } from "../../store/mod.ts";
import { ADDRESSES } from "../server/_pool.ts";
import { parsePrometheus, sampleValue } from "../api/_prometheus.ts";
import { ScriptedMiner, SHARE_DIFFICULTY, startApiStack } from "./_api_stack.ts";
import { waitUntil } from "../_wait.ts";
import { readEvents } from "../api/_sse.ts";

const A = ADDRESSES[0]!;
const B = ADDRESSES[1]!;

// deno-lint-ignore no-explicit-any
type Json = any;

Deno.test("vbkpool server's HTTP API against a live pool on the devnet", async (t) => {
  const stack = await startApiStack({ VBKPOOL_API_CORS_ORIGINS: "https://dash.example" });
  const miners: ScriptedMiner[] = [];
  try {
    await t.step("/api/pool before any miner", async () => {
      const pool: Json = await stack.json("/api/pool");
      assert.equal(pool.upstream.connected, true);
      assert.equal(pool.upstream.state, "ready");
      // Which NodeCore is in use stays in the log.
      assert.deepEqual(Object.keys(pool.upstream).sort(), [
        "connected",
        "reconnects",
        "since",
        "state",
      ]);
      assert.equal(pool.network.height, stack.devnet.chain.height);
      assert.match(pool.network.difficulty, /^\d+$/);
      assert.deepEqual([pool.hashrate, pool.miners, pool.workers, pool.lastBlock], [0, 0, 0, null]);
    });

    const a = await ScriptedMiner.connect(stack.stratumPort, `${A}.rig1`);
    const b = await ScriptedMiner.connect(stack.stratumPort, `${B}.gpu`);
    miners.push(a, b);

    await t.step("shares raise the hash rate and the counts", async () => {
      assert.deepEqual(await a.shares(6), [true, true, true, true, true, true]);
      assert.deepEqual(await b.shares(2), [true, true]);
      assert.deepEqual(await a.stale(), [21, "Job 'gone' not found", null]);
      const pool: Json = await stack.json("/api/pool");
      assert.equal(pool.miners, 2);
      assert.equal(pool.workers, 2);
      assert.equal(pool.connections, 2);
      assert.equal(pool.subscribed, 2);
      assert.equal(pool.sharesAccepted, 8);
      assert.equal(pool.sharesRejected, 1);
      assert.ok(pool.hashrate > 0, `hash rate ${pool.hashrate}`);
      assert.equal(pool.hashrate, (8 * Number(SHARE_DIFFICULTY)) / pool.hashrateWindowSeconds);
      assert.ok(pool.sharesPerSecond > 0);
      // The round's work comes from the store, cached for 2 s.
      const round: Json = await waitUntil(
        async () => {
          const p: Json = await stack.json("/api/pool");
          return p.roundWork === String(8n * SHARE_DIFFICULTY) ? p : undefined;
        },
        "the round's work",
        { intervalMs: 100 },
      );
      assert.ok(round.roundEffort > 0);
    });

    await t.step("/api/miners/{address} shows workers, rates and share counts", async () => {
      const miner: Json = await stack.json(`/api/miners/${A}`);
      assert.equal(miner.address, A);
      assert.equal(miner.online, true);
      assert.ok(miner.hashrate > 0);
      assert.deepEqual(miner.shares.window, {
        accepted: 6,
        rejected: 1,
        seconds: miner.hashrateWindowSeconds,
      });
      assert.deepEqual(miner.shares.lastHour, {
        accepted: 6,
        difficulty: String(6n * SHARE_DIFFICULTY),
      });
      assert.equal(miner.workers.length, 1);
      const w = miner.workers[0];
      assert.deepEqual(
        [w.worker, w.name, w.online, w.connections, w.difficulty, w.sharesAccepted, w.shares24h],
        [`${A}.rig1`, "rig1", true, 1, String(SHARE_DIFFICULTY), 6, 6],
      );
      assert.ok(w.hashrate > 0 && w.lastShareAt > 0);
      assert.equal(miner.balance, "0");
      assert.deepEqual(miner.payments, []);
      const history: Json = await stack.json(`/api/miners/${A}/hashrate?minutes=2&worker=rig1`);
      assert.equal(history.points.length, 2);
      assert.equal(history.points.reduce((n: number, p: Json) => n + p.shares, 0), 6);
    });

    let blockHash = "";
    await t.step("a block found by a miner appears in /api/blocks as pending", async () => {
      const height = stack.devnet.chain.height;
      assert.equal(await a.block(), true);
      // Stored as a submitted candidate first, pending once NodeCore's acceptance is written.
      const page: Json = await waitUntil(
        async () => {
          const p: Json = await stack.json("/api/blocks");
          return p.blocks[0]?.status === "pending" ? p : undefined;
        },
        "the accepted block in /api/blocks",
        { intervalMs: 100 },
      );
      const block = page.blocks[0];
      blockHash = block.hash;
      assert.deepEqual(
        [block.height, block.finder, block.worker, block.status, block.confirmations],
        [height + 1, A, "rig1", "pending", 0],
      );
      assert.match(block.hash, /^[0-9a-f]{48}$/);
      assert.ok(stack.devnet.chain.isMainChain(block.hash));
      assert.ok(block.effort > 0);
      assert.match(block.networkDifficulty, /^\d+$/);
      assert.equal(block.reward, null);
      assert.equal(page.hasMore, false);
      const pending: Json = await stack.json("/api/blocks?status=pending&pageSize=1");
      assert.equal(pending.blocks[0].hash, block.hash);
      const confirmed: Json = await stack.json("/api/blocks?status=confirmed");
      assert.deepEqual(confirmed.blocks, []);
      const pool: Json = await waitUntil(
        async () => {
          const p: Json = await stack.json("/api/pool");
          return p.lastBlock !== null && p.network.height === height + 1 ? p : undefined;
        },
        "the pool summary to show the block",
        { intervalMs: 100 },
      );
      assert.equal(pool.lastBlock.hash, block.hash);
    });

    await t.step("payments and balances written by the payout store show up", async () => {
      const store = await openStore(stack.storePath, { thread: false });
      try {
        const hash = hexToBytes(blockHash);
        assert.ok(
          await store.payouts.creditBlock(hash, {
            reward: 5_000_000_000n,
            confirmations: 10,
            credits: [
              { address: A, amount: 4_000_000_000n, reason: "share" },
              { address: B, amount: 1_000_000_000n, reason: "share" },
            ],
          }),
        );
        assert.ok(await store.payouts.acquireLock("e2e", { ttlMs: 60_000 }));
        const payment = await store.payouts.createPayment("e2e", {
          items: [{ address: A, amount: 3_000_000_000n }],
          startHeight: stack.devnet.chain.height,
        });
        await store.payouts.markPaymentSent("e2e", payment.id, ["AB".repeat(32)]);
      } finally {
        await store.close();
      }
      const payments: Json = await stack.json("/api/payments");
      assert.equal(payments.payments.length, 1);
      const p = payments.payments[0];
      assert.deepEqual([p.status, p.total, p.recipients, p.txIds], [
        "sent",
        "3000000000",
        1,
        ["AB".repeat(32)],
      ]);
      assert.deepEqual(p.items, [{ address: A, amount: "3000000000" }]);
      const miner: Json = await stack.json(`/api/miners/${A}`);
      assert.equal(miner.balance, "1000000000");
      assert.equal(miner.payments[0].amount, "3000000000");
      const blocks: Json = await stack.json("/api/blocks?status=confirmed");
      assert.deepEqual([blocks.blocks[0].status, blocks.blocks[0].reward], [
        "confirmed",
        "5000000000",
      ]);
    });

    await t.step("/api/pool/hashrate has per-minute points with the shares", async () => {
      const history: Json = await stack.json("/api/pool/hashrate?minutes=3");
      assert.equal(history.points.length, 3);
      const shares = history.points.reduce((n: number, p: Json) => n + p.shares, 0);
      assert.equal(shares, 9); // 8 shares and the block
      assert.ok(history.points.some((p: Json) => p.hashrate > 0));
    });

    await t.step("errors are JSON: 404, 400, 405; CORS for the configured origin", async () => {
      const missing = await stack.get("/api/nope", { headers: { origin: "https://dash.example" } });
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get("access-control-allow-origin"), "https://dash.example");
      assert.deepEqual(await missing.json(), {
        error: 'Cannot find "/api/nope": no such endpoint',
        status: 404,
      });
      const bad = await stack.get("/api/blocks?pageSize=1000");
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /"pageSize" must be from 1 to 100/);
      const badMiner = await stack.get("/api/miners/V123");
      assert.equal(badMiner.status, 400);
      assert.match((await badMiner.json()).error, /not a VeriBlock address/);
      const post = await stack.get("/api/pool", { method: "DELETE" });
      assert.equal(post.status, 405);
      await post.body?.cancel();
      const foreign = await stack.get("/api/pool", { headers: { origin: "https://evil.example" } });
      assert.equal(foreign.headers.get("access-control-allow-origin"), null);
      await foreign.body?.cancel();
    });

    await t.step("/api/events streams pool updates", async () => {
      const response = await stack.get("/api/events");
      assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      const text = await readEvents(reader, "", (t) => /event: pool\ndata: .*\n\n/.test(t));
      await reader.cancel();
      const pool = JSON.parse(/event: pool\ndata: (.*)\n/.exec(text)![1]!);
      assert.equal(pool.miners, 2);
    });

    await t.step("/metrics is valid Prometheus text with the pool's counts", async () => {
      const response = await stack.get("/metrics");
      assert.equal(
        response.headers.get("content-type"),
        "text/plain; version=0.0.4; charset=utf-8",
      );
      const families = parsePrometheus(await response.text());
      const v = (name: string, labels: Record<string, string> = {}) =>
        sampleValue(families, name, labels);
      assert.equal(v("vbkpool_shares_total", { result: "accepted" }), 9);
      assert.equal(v("vbkpool_shares_total", { result: "rejected", reason: "stale_job" }), 1);
      assert.equal(v("vbkpool_submit_duration_seconds_count"), 9);
      assert.equal(v("vbkpool_share_difficulty_total"), 8 * Number(SHARE_DIFFICULTY) + 64);
      assert.equal(v("vbkpool_blocks_found_total"), 1);
      assert.equal(v("vbkpool_block_submissions_total", { result: "accepted" }), 1);
      assert.equal(
        v("vbkpool_connections", { port: String(stack.stratumPort), protocol: "stratum" }),
        2,
      );
      assert.equal(v("vbkpool_miners_authorized"), 2);
      assert.equal(v("vbkpool_upstream_up"), 1);
      assert.equal(v("vbkpool_store_up"), 1);
      assert.ok(v("vbkpool_jobs_total", { clean: "true" })! >= 2);
      assert.ok(v("vbkpool_job_notify_latency_seconds_count")! >= 2);
      assert.ok(v("vbkpool_store_batches_total")! >= 1);
      assert.equal(v("vbkpool_network_height"), stack.devnet.chain.height);
      assert.ok(v("vbkpool_api_requests_total", { route: "pool", code: "200" })! >= 3);
    });

    await t.step("a client over the rate limit gets 429 with Retry-After", async () => {
      // The default limit: a burst of 60, then 20 per second. Bursts of 100 requests from one
      // client until it is refused; however slow the machine, it is never let through more
      // than the burst plus what refilled meanwhile.
      const burst = () =>
        Promise.all(
          Array.from(
            { length: 100 },
            () =>
              stack.get("/api/health", { headers: { "x-forwarded-for": "198.51.100.7" } })
                .then(async (r) => {
                  const retry = r.headers.get("retry-after");
                  await r.body?.cancel();
                  return r.status === 429 ? `429 ${retry}` : String(r.status);
                }),
          ),
        );
      const started = performance.now();
      const codes: string[] = [];
      while (!codes.some((c) => c.startsWith("429")) && codes.length < 1000) {
        codes.push(...await burst());
      }
      const seconds = (performance.now() - started) / 1000;
      const limited = codes.filter((c) => c.startsWith("429"));
      assert.ok(limited.length > 0, codes.join(","));
      const allowed = codes.length - limited.length;
      assert.ok(allowed <= 60 + Math.ceil(20 * seconds) + 1, `${allowed} allowed in ${seconds} s`);
      assert.ok(limited.every((c) => c === "429 1"), limited.join(","));
      // Other clients are not affected.
      assert.equal((await stack.json<Json>("/api/health")).status, "ok");
    });

    await t.step("/api/health turns 503 with a reason code when NodeCore goes away", async () => {
      const endpoint = `127.0.0.1:${stack.devnet.addr.port}`;
      await stack.devnet.stop();
      const text: string = await waitUntil(
        async () => {
          const r = await stack.get("/api/health");
          const body = await r.text();
          return r.status === 503 ? body : undefined;
        },
        "health 503",
        { intervalMs: 100 },
      );
      assert.ok(!text.includes(endpoint), text);
      const health: Json = JSON.parse(text);
      assert.equal(health.status, "unavailable");
      assert.deepEqual(health.reasons, ["upstream_unavailable"]);
      assert.match(health.upstream.state, /^(connecting|backoff)$/);
      assert.deepEqual(Object.keys(health.store).sort(), ["backend", "healthy", "queueDepth"]);
      assert.equal(health.store.healthy, true);
      const families = parsePrometheus(await (await stack.get("/metrics")).text());
      assert.equal(sampleValue(families, "vbkpool_upstream_up"), 0);
      assert.ok(sampleValue(families, "vbkpool_upstream_reconnects_total")! >= 1);
    });
  } finally {
    for (const m of miners) await m.close();
    await stack.stop();
  }
});
