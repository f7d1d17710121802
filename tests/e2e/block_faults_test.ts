/**
 * End to end, issue 15 defect 4 with a real `vbkpool server` process: three blocks NodeCore (the
 * devnet) accepts are each hidden from the pool in one way: the reply never comes (the submit
 * times out), the link drops instead of the reply, and the pool is killed with SIGKILL the
 * moment NodeCore accepted. A real `vbkpool payouts --once` then credits each block exactly once
 * from what the chain says, however often it runs, and `vbkpool audit --nodecore` passes.
 */
import assert from "node:assert/strict";
import { DEVNET_BLOCK_REWARD, startDevnet } from "../../devnet/mod.ts";
import { hashToBigInt } from "../../hash/difficulty.ts";
import { difficultyToTarget } from "../../hash/difficulty.ts";
import { openStore } from "../../store/mod.ts";
import { spawnVbkpool, type VbkpoolProcess, waitUntil, withTempDir } from "../_process.ts";
import { assertBooks } from "../payouts/_books.ts";
import { hashHeader, headerFromNotify, hex16, hex8 } from "../server/_pool.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";
import { POOL, runAudit, runPayouts } from "./_payouts_stack.ts";

const MINER = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const N = 2;

function spawnServer(dir: string, devnetPort: number): VbkpoolProcess {
  return spawnVbkpool(["server"], {
    cwd: dir,
    env: {
      VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0 diff=1 min=1 vardiff=off",
      VBKPOOL_NODECORE_ENDPOINTS: `127.0.0.1:${devnetPort}`,
      VBKPOOL_NODECORE_ADDRESS: POOL,
      VBKPOOL_NODECORE_SUBMIT_TIMEOUT_MS: "1000",
      VBKPOOL_NODECORE_BACKOFF_MIN_MS: "50",
      VBKPOOL_NODECORE_BACKOFF_MAX_MS: "200",
      VBKPOOL_STORE_URL: `${dir}/pool.sqlite`,
      VBKPOOL_API_ENABLED: "false",
      VBKPOOL_LOG_LEVEL: "info",
    },
  });
}

/** Mine one block through the pool (a Stratum client hashing in this process). */
async function mineBlock(port: number, network: () => bigint): Promise<void> {
  const client = await TestClient.connect(port);
  try {
    const { extranonce } = await subscribeAndAuthorize(client, `${MINER}.rig`);
    const notify = await client.notification("mining.notify");
    const ntime = Math.floor(Date.now() / 1000);
    const header = headerFromNotify(notify.json.params, extranonce, ntime);
    const target = difficultyToTarget(network());
    const view = new DataView(header.buffer);
    let nonce = 0;
    for (;; nonce++) {
      view.setUint32(60, nonce);
      if (hashToBigInt(hashHeader(header)) < target) break;
    }
    // The reply may never come (the pool may be killed): the block is sent, that is enough.
    client.send("mining.submit", [
      `${MINER}.rig`,
      notify.json.params[0],
      hex16(extranonce),
      hex8(ntime),
      hex8(nonce),
    ]);
    await client.waitFor((l) =>
      l.json?.id !== undefined && l.json?.method === undefined &&
      typeof l.json?.id === "number" && l.json.id >= 3, 5000).catch(() => undefined);
  } finally {
    await client.close();
  }
}

Deno.test("a block NodeCore accepted is credited once though its reply timed out, its link dropped, or the pool was killed", async () => {
  await withTempDir("vbkpool-e2e-block-faults-", async (dir) => {
    const devnet = await startDevnet({
      port: 0,
      rpcPort: 0,
      minDifficulty: 2000n,
      mempoolIntervalMs: 0,
    });
    const server = spawnServer(dir, devnet.addr.port);
    const accepted: string[] = [];
    const off = devnet.on((e) => {
      if (e.type === "block" && e.result.block.source === "pool") {
        accepted.push(e.result.block.hashHex);
      }
    });
    const network = () => devnet.chain.childTemplate().difficulty;
    try {
      let port = (await server.serverAddresses()).stratum[0]!;
      // 1. NodeCore takes the block and never answers: the pool's submit times out.
      devnet.loseSubmitReplies(1, { mode: "silent" });
      await mineBlock(port, network);
      await waitUntil(() => accepted.length === 1, "the first block on the chain", 60_000);
      await server.waitForLog(/not accepted \(unknown\)/, 30_000);
      // 2. NodeCore takes the block and drops the link instead of answering.
      devnet.loseSubmitReplies(1, { mode: "close" });
      await mineBlock(port, network);
      await waitUntil(() => accepted.length === 2, "the second block on the chain", 60_000);
      // 3. The pool dies the moment NodeCore accepted the block (once its link is back).
      const ready = () => (server.err.match(/upstream ready/g) ?? []).length;
      await waitUntil(() => ready() >= 2, "the pool's upstream back after the drop", 30_000);
      const killed = devnet.on((e) => {
        if (e.type === "block" && e.result.block.source === "pool") {
          server.signal("SIGKILL");
        }
      });
      port = (await server.serverAddresses()).stratum[0]!;
      await mineBlock(port, network);
      await waitUntil(() => accepted.length === 3, "the third block on the chain", 60_000);
      killed();
      await waitUntil(() => server.status !== undefined, "the pool killed", 30_000);

      // What the pool knew: each block a submitted candidate (stored before it was sent), none
      // of them known to be accepted.
      const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
      try {
        const rows = (await store.listBlocks()).reverse();
        const seen = JSON.stringify(rows.map((b) => [b.height, b.status, b.note]));
        assert.equal(rows.length, 3, seen);
        assert.deepEqual(
          rows.slice(0, 2).map((b) => [b.status, b.note]),
          [["submitted", "submit_unknown"], ["submitted", "submit_unknown"]],
          seen,
        );
        // The killed pool wrote its candidate before it sent it (its answer had no time).
        assert.ok(["submitted", "pending"].includes(rows[2]!.status), seen);
      } finally {
        await store.close();
      }

      for (let i = 0; i < N; i++) await devnet.rival.mineBlock();
      const env = {
        VBKPOOL_STORE_URL: `${dir}/pool.sqlite`,
        VBKPOOL_WALLET_URL: `http://127.0.0.1:${devnet.rpcAddr!.port}/api`,
        VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
        VBKPOOL_PAYOUTS_CONFIRMATIONS: String(N),
        VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1000000",
        VBKPOOL_LOG_LEVEL: "warning",
      };
      for (let pass = 0; pass < 3; pass++) {
        const run = await runPayouts(env);
        assert.equal(run.code, 0, run.err + run.out);
        await devnet.rival.mineBlock();
      }
      const store2 = await openStore(`${dir}/pool.sqlite`, { thread: false });
      try {
        const rows = await store2.listBlocks();
        assert.equal(rows.length, 3);
        for (const b of rows) {
          assert.equal(b.status, "confirmed", `${b.height} ${b.status} ${b.note}`);
          assert.equal(b.reward, DEVNET_BLOCK_REWARD);
        }
        const credited = await assertBooks(store2);
        assert.equal(credited.get(MINER), 3n * DEVNET_BLOCK_REWARD);
      } finally {
        await store2.close();
      }
      const audit = await runAudit(env, [
        "--nodecore",
        `http://127.0.0.1:${devnet.rpcAddr!.port}/api`,
      ]);
      assert.equal(audit.code, 0, audit.out + audit.err);
      assert.match(audit.out, /^Result: PASS/m);
    } finally {
      off();
      if (server.status === undefined) await server.kill();
      await devnet.stop();
    }
  });
});
