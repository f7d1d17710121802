/**
 * End to end: `vbkpool server` on its embedded devnet, with payouts NOT enabled, follows its
 * blocks itself (pending → confirmed, with confirmations) and posts alert webhooks: signed JSON
 * to a local receiver (verified here) and Discord-shaped to another, beside a webhook that never
 * answers. A separate `vbkpool payouts` process then runs on the same store and the same blocks
 * as the server's tracker; the audit finds every confirmed block credited exactly once. The
 * process metrics and webhook counts are on `/metrics`.
 */
import assert from "node:assert/strict";
import { verifyWebhook } from "../../alerts/mod.ts";
import { openStore } from "../../store/mod.ts";
import { runAudit, startMiner } from "./_payouts_stack.ts";
import { spawnVbkpool, waitUntil } from "../_process.ts";
import { startReceiver, startSilentReceiver } from "../alerts/_receiver.ts";

const MINER = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const POOL = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
const SECRET = "e2e-secret";

Deno.test("vbkpool server tracks its blocks to confirmed without payouts, posts webhooks beside a silent one, and a separate payouts process credits nothing twice", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-e2e-alerts-" });
  const good = startReceiver();
  const chat = startReceiver();
  const silent = startSilentReceiver();
  const storeUrl = `${dir}/pool.sqlite`;
  await Deno.writeTextFile(
    `${dir}/vbkpool.toml`,
    `[alerts]
webhooks = [
  "${silent.url}",
  "${good.url}",
  "${chat.url} format=discord events=block_found,block_confirmed",
]
timeout_seconds = 60
name = "e2e"
`,
  );
  const env = {
    VBKPOOL_STORE_URL: storeUrl,
    VBKPOOL_ALERTS_SECRET: SECRET,
    VBKPOOL_PAYOUTS_INTERVAL_SECONDS: "1",
    VBKPOOL_PAYOUTS_CONFIRMATIONS: "2",
    VBKPOOL_PAYOUTS_FEES: `${POOL}=1`,
    VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1",
  };
  const server = spawnVbkpool(["server", "--listen", "127.0.0.1:0 diff=300000 vardiff=off"], {
    cwd: dir,
    env: {
      ...env,
      VBKPOOL_DEVNET_MIN_DIFFICULTY: "4000000",
      VBKPOOL_DEVNET_MEMPOOL_INTERVAL: "0",
      VBKPOOL_API_LISTEN: "127.0.0.1:0",
      VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
    },
  });
  const log = () => server.err;
  let miner: ReturnType<typeof startMiner> | undefined;
  let payouts: ReturnType<typeof spawnVbkpool> | undefined;
  const store = await openStore(storeUrl, { thread: false });
  try {
    const { stratum: [port], api } = await server.serverAddresses();
    const tracking = /block tracking in-process .*NodeCore API (http:\/\/[^\s,]+),/.exec(log());
    assert.ok(tracking !== null, log());
    assert.doesNotMatch(log(), /payouts in-process/);
    miner = startMiner(`stratum+tcp://127.0.0.1:${port}`, `${MINER}.rig`);
    // A block goes pending (with confirmations counted) and then confirmed, with no payout
    // service anywhere.
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        for (const b of await store.listBlocks({ limit: 100 })) {
          if (b.status === "pending" && b.confirmations >= 1) seen.add("pending+confirmations");
          if (b.status === "confirmed") seen.add("confirmed");
        }
        return seen.has("confirmed");
      },
      () => `a confirmed block; log:\n${log().slice(-3000)}`,
      150_000,
    );
    assert.equal((await store.payouts.listPayments({})).length, 0, "the server never pays");
    // The webhooks: signed JSON to the good receiver, Discord-shaped to the chat.
    await waitUntil(
      () => good.received.some((r) => JSON.parse(r.body).type === "block_confirmed"),
      () => `a block_confirmed webhook; got ${good.received.map((r) => r.body).join("\n")}`,
    );
    for (const r of good.received) {
      const ok = await verifyWebhook(SECRET, {
        timestamp: r.headers.get("x-vbkpool-timestamp"),
        signature: r.headers.get("x-vbkpool-signature"),
        body: r.body,
      });
      assert.ok(ok, `signature of ${r.body}`);
      assert.equal(JSON.parse(r.body).pool, "e2e");
    }
    const types = new Set(good.received.map((r) => JSON.parse(r.body).type));
    assert.ok(types.has("block_found"), [...types].join());
    await waitUntil(() => chat.received.length >= 2, "Discord deliveries");
    for (const r of chat.received) {
      assert.match(JSON.parse(r.body).content, /^\[e2e\] block_(found|confirmed): /);
    }
    // The silent webhook holds its first event; the others were delivered regardless.
    assert.equal(silent.accepted, 1);
    const metrics = await (await fetch(`${api}/metrics`)).text();
    assert.match(metrics, /^vbkpool_webhook_deliveries_total\{result="sent"\} [1-9]\d*$/m);
    assert.match(metrics, /^vbkpool_webhook_queued [1-9]\d*$/m);
    assert.match(metrics, /^process_resident_memory_bytes [1-9]\d*$/m);
    assert.match(metrics, /^vbkpool_build_info\{version="[\d.]+",deno="[\d.]+"/m);

    // Now a separate payout process on the same store and blocks, beside the server's tracker.
    payouts = spawnVbkpool(["payouts"], {
      cwd: dir,
      env: { ...env, VBKPOOL_WALLET_URL: tracking[1]!, VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL },
    });
    const confirmedBefore = (await store.listBlocks({ status: ["confirmed"], limit: 1000 })).length;
    await waitUntil(
      async () =>
        (await store.listBlocks({ status: ["confirmed"], limit: 1000 })).length >=
          confirmedBefore + 3 && /payment|Payment/.test(payouts!.err),
      () => `3 more confirmed blocks with both running; payouts log:\n${payouts!.err.slice(-3000)}`,
      180_000,
    );
    await miner.stop();
    miner = undefined;
    assert.equal(await payouts.stop(), 0, payouts.err);
    payouts = undefined;
    assert.equal(await server.stop(), 0, log());
    const audit = await runAudit({ VBKPOOL_STORE_URL: storeUrl }, [], dir);
    assert.match(audit.out, /^PASS\s+block_credits/m, audit.out + audit.err);
    assert.match(audit.out, /^PASS\s+balances/m, audit.out);
    assert.equal(audit.code, 0, audit.out + audit.err);
  } finally {
    await miner?.stop();
    await payouts?.kill();
    await server.kill();
    await store.close();
    silent.close();
    await good.close();
    await chat.close();
    await Deno.remove(dir, { recursive: true });
  }
});
