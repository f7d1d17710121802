/**
 * End to end, one process: `vbkpool server` with the embedded devnet and `[payouts] enabled`
 * runs the payout service in-process against the devnet's NodeCore HTTP API; a `vbkpool mine`
 * process finds blocks, which are credited and paid, and the payments land on the devnet ledger.
 */
import assert from "node:assert/strict";
import { NodeCoreRpc } from "../../payouts/mod.ts";
import { openStore } from "../../store/mod.ts";
import { MAIN, startMiner, until } from "./_payouts_stack.ts";

const MINER = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const DEVNET_POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

Deno.test("vbkpool server with [payouts] enabled credits and pays miners in-process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-e2e-server-payouts-" });
  const port = freePort();
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "server", "--listen", `127.0.0.1:${port} diff=300000 vardiff=off`],
    env: {
      NO_COLOR: "1",
      VBKPOOL_STORE_URL: `${dir}/pool.sqlite`,
      VBKPOOL_DEVNET_MIN_DIFFICULTY: "4000000",
      VBKPOOL_DEVNET_MEMPOOL_INTERVAL: "0",
      VBKPOOL_API_LISTEN: `127.0.0.1:${freePort()}`, // the pool's HTTP API, when there is one
      VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
      VBKPOOL_PAYOUTS_ENABLED: "true",
      VBKPOOL_PAYOUTS_INTERVAL_SECONDS: "1",
      VBKPOOL_PAYOUTS_CONFIRMATIONS: "2",
      VBKPOOL_PAYOUTS_FEES: `${DEVNET_POOL_ADDRESS}=1`,
      VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1",
      VBKPOOL_PAYOUTS_PAYMENT_CONFIRMATIONS: "2",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const logDone = server.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (log += chunk) }),
  );
  const stdoutDone = server.stdout.pipeTo(new WritableStream());
  let miner: ReturnType<typeof startMiner> | undefined;
  try {
    await until(() => /Stratum on "?127\.0\.0\.1"?:\d+/.test(log), 30_000, "the server");
    const api = /payouts in-process: pool "?(V\w+)"?, NodeCore API "?(http:\/\/[^\s"]+)"?/.exec(
      log,
    );
    assert.ok(api !== null, log);
    assert.equal(api[1], DEVNET_POOL_ADDRESS);
    miner = startMiner(`stratum+tcp://127.0.0.1:${port}`, `${MINER}.rig`);
    const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
    try {
      await until(
        async () => {
          const payments = await store.payouts.listPayments({
            address: MINER,
            status: "confirmed",
          });
          return payments.length >= 1;
        },
        150_000,
        `a confirmed payment; log:\n${log.slice(-3000)}`,
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
  } finally {
    await miner?.stop();
    try {
      server.kill("SIGINT");
    } catch {
      // already exited
    }
    const status = await server.status;
    await logDone;
    await stdoutDone;
    await Deno.remove(dir, { recursive: true });
    assert.equal(status.code, 0, log.slice(-3000));
  }
});
