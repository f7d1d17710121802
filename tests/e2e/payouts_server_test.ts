/**
 * End to end, one process: `vbkpool server` with the embedded devnet and `[payouts] enabled`
 * runs the payout service in-process against the devnet's NodeCore HTTP API; a `vbkpool mine`
 * process finds blocks, which are credited and paid, and the payments land on the devnet ledger;
 * `vbkpool audit --nodecore` run beside the live server finds the books in order. On SQLite and
 * PostgreSQL.
 */
import assert from "node:assert/strict";
import { NodeCoreRpc } from "../../payouts/mod.ts";
import { openStore } from "../../store/mod.ts";
import { runAudit, startMiner } from "./_payouts_stack.ts";
import { spawnVbkpool, waitUntil } from "../_process.ts";
import { STACK_BACKENDS } from "../payouts/_stack.ts";
import { freshPostgresDatabase } from "../store/_backends.ts";

const MINER = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const DEVNET_POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `vbkpool server (${backend.name}) with [payouts] enabled credits and pays miners ` +
      "in-process, and the audit agrees",
    ignore: backend.ignore,
    fn: () => serverPayouts(backend.name),
  });
}

async function serverPayouts(backend: "sqlite" | "postgres"): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-e2e-server-payouts-" });
  const pg = backend === "postgres" ? await freshPostgresDatabase() : undefined;
  const storeUrl = pg?.url ?? `${dir}/pool.sqlite`;
  // Every listener on port 0: Stratum, the pool's HTTP API, and (with [payouts] enabled) the
  // embedded devnet's UCP and NodeCore HTTP API.
  const server = spawnVbkpool(["server", "--listen", "127.0.0.1:0 diff=300000 vardiff=off"], {
    cwd: dir,
    env: {
      VBKPOOL_STORE_URL: storeUrl,
      VBKPOOL_DEVNET_MIN_DIFFICULTY: "4000000",
      VBKPOOL_DEVNET_MEMPOOL_INTERVAL: "0",
      VBKPOOL_API_LISTEN: "127.0.0.1:0",
      VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
      VBKPOOL_PAYOUTS_ENABLED: "true",
      VBKPOOL_PAYOUTS_INTERVAL_SECONDS: "1",
      VBKPOOL_PAYOUTS_CONFIRMATIONS: "2",
      VBKPOOL_PAYOUTS_FEES: `${DEVNET_POOL_ADDRESS}=1`,
      VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1",
      VBKPOOL_PAYOUTS_PAYMENT_CONFIRMATIONS: "2",
    },
  });
  const log = () => server.err;
  let miner: ReturnType<typeof startMiner> | undefined;
  let code: number | undefined;
  try {
    const { stratum: [port], api: poolApi } = await server.serverAddresses();
    assert.match(poolApi ?? "", /^http:\/\/127\.0\.0\.1:\d+$/, log());
    const api = /payouts in-process: pool (V\w+), NodeCore API (http:\/\/[^\s,]+),/.exec(log());
    assert.ok(api !== null, log());
    assert.equal(api[1], DEVNET_POOL_ADDRESS);
    miner = startMiner(`stratum+tcp://127.0.0.1:${port}`, `${MINER}.rig`);
    const store = await openStore(storeUrl, { thread: false });
    try {
      await waitUntil(
        async () => {
          const payments = await store.payouts.listPayments({
            address: MINER,
            status: "confirmed",
          });
          return payments.length >= 1;
        },
        () => `a confirmed payment; log:\n${log().slice(-3000)}`,
        150_000,
      );
      await miner.stop();
      miner = undefined;
      // Every payment is the devnet transaction it says, and the ledger holds what was paid.
      const rpc = new NodeCoreRpc({ url: api[2]! });
      const payments = await store.payouts.listPayments({ address: MINER });
      let confirmed = 0n;
      for (const p of payments) {
        assert.notEqual(p.status, "failed", p.error);
        if (p.txIds.length === 0) continue;
        const [info] = await rpc.getTransactions(p.txIds);
        assert.deepEqual(
          info!.transaction.outputs.map((o) => [o.address, o.amount]).sort(),
          p.items.map((i) => [i.address, i.amount]).sort(),
        );
        if (info!.confirmations >= 1) confirmed += p.items.find((i) => i.address === MINER)!.amount;
      }
      const [balance] = await rpc.getBalance([MINER]);
      assert.equal(balance!.totalAmount, confirmed);
      assert.ok(confirmed > 0n);
      const blocks = await store.listBlocks({ status: "confirmed" });
      assert.ok(blocks.length >= 1);
    } finally {
      await store.close();
    }
    // The audit, beside the live server (its payout service still runs: one snapshot).
    const audit = await runAudit({
      VBKPOOL_STORE_URL: storeUrl,
      VBKPOOL_PAYOUTS_POOL_ADDRESS: DEVNET_POOL_ADDRESS,
    }, ["--nodecore", api[2]!]);
    assert.equal(audit.code, 0, audit.out + audit.err);
    assert.match(audit.out, /^PASS {2}chain {9}/m);
    code = await server.stop("SIGINT");
  } finally {
    await miner?.stop();
    await server.kill();
    await pg?.drop();
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(code, 0, log().slice(-3000));
}
