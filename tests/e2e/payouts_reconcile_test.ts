/**
 * End to end, issue 15 defect 4 from a flaky node's side: the devnet accepts two of the pool's
 * blocks but hides it (it drops the pool's UCP link instead of replying, then answers
 * MINING_SUBMIT_FAILURE for a block it took), while real `vbkpool mine` processes keep finding
 * blocks. Whatever the pool made of those answers (no row, or a `submitted` candidate), a real
 * `vbkpool payouts --once` credits every pool block on the devnet's main chain exactly once,
 * however often it runs; nothing else is recorded, and the books add up.
 */
import assert from "node:assert/strict";
import { DEVNET_BLOCK_REWARD, type DevnetBlock } from "../../devnet/mod.ts";
import { bytesToHex } from "../../hash/hex.ts";
import { waitUntil } from "../_process.ts";
import { assertBooks } from "../payouts/_books.ts";
import { STACK_BACKENDS } from "../payouts/_stack.ts";
import { POOL, runAudit, runPayouts, startMiners, startPayoutPool } from "./_payouts_stack.ts";

const MINER_A = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const MINER_B = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
const R = DEVNET_BLOCK_REWARD;
const N = 3;

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `payouts end to end (${backend.name}): blocks whose submit reply was lost are credited ` +
      "exactly once from what the chain says",
    ignore: backend.ignore,
    fn: () => lostReplies(backend.name),
  });
}

async function lostReplies(backend: "sqlite" | "postgres"): Promise<void> {
  const stack = await startPayoutPool({ minDifficulty: 4_000_000n }, 300_000n, { backend });
  const { devnet } = stack;
  const store = stack.persisted.store;
  const hex = (h: Uint8Array) => bytesToHex(h, { upper: true });
  // The first pool block accepted after each fault is armed is the one whose reply is lost.
  const lost: DevnetBlock[] = [];
  let armed = false;
  const off = devnet.on((event) => {
    if (event.type === "block" && event.result.block.source === "pool" && armed) {
      lost.push(event.result.block);
      armed = false;
    }
  });
  const arm = (mode: "close" | "refuse") => {
    armed = true;
    devnet.loseSubmitReplies(1, { mode });
  };
  const miners = startMiners([
    [stack.url, `${MINER_A}.rig1`],
    [stack.url, `${MINER_B}.rig1`],
  ]);
  const stopMiners = miners.stop;
  const poolBlocks = () => devnet.chain.mainChain().filter((b) => b.source === "pool");
  try {
    arm("close"); // the pool's UCP link drops instead of MINING_SUBMIT_SUCCESS
    await waitUntil(() => devnet.stats.lostReplies === 1, "a block with a dropped link", 150_000);
    arm("refuse"); // MINING_SUBMIT_FAILURE for a block the devnet took
    await waitUntil(() => devnet.stats.lostReplies === 2, "a refused accepted block", 150_000);
    await waitUntil(() => poolBlocks().length >= 4, "two more pool blocks", 150_000);
    await stopMiners();
    assert.equal(lost.length, 2);
    assert.ok(lost.every((b) => devnet.chain.isMainChain(b.hash)), "no rival: no reorganisation");
    // Every pool block the pool was told about is stored; the lost ones are not, or are
    // candidates whose outcome the pool does not know.
    const lostHex = new Set(lost.map((b) => hex(b.hash)));
    await waitUntil(async () => {
      await store.flush();
      for (const b of poolBlocks()) {
        if (!lostHex.has(b.hashHex) && (await store.getBlock(b.hash)) === undefined) return false;
      }
      return true;
    }, "every acknowledged pool block in the store");
    let candidates = 0;
    for (const b of lost) {
      const row = await store.getBlock(b.hash);
      assert.ok(row === undefined || row.status === "submitted", `${b.height}: ${row?.status}`);
      if (row !== undefined) candidates++;
    }
    for (let i = 0; i < N; i++) await devnet.rival.mineBlock();

    const env = {
      VBKPOOL_STORE_URL: stack.storeUrl,
      VBKPOOL_WALLET_URL: stack.walletUrl,
      VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
      VBKPOOL_PAYOUTS_CONFIRMATIONS: String(N),
      VBKPOOL_PAYOUTS_PPLNS_WINDOW: "1000",
      VBKPOOL_PAYOUTS_FEES: `${POOL}=1`,
      VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1000000",
      VBKPOOL_LOG_LEVEL: "warning",
    };
    const first = await runPayouts(env);
    assert.equal(first.code, 0, first.err + first.out);
    const recovered = Number(/(\d+) recovered from the chain/.exec(first.out)?.[1]);
    assert.equal(recovered, 2 - candidates, first.out);
    if (recovered > 0) assert.match(first.err, /RECOVERED block/);

    const expected = poolBlocks().map((b) => b.hashHex).sort();
    const rows = await store.listBlocks({ limit: 1000 });
    const onChain = rows.filter((b) => devnet.chain.isMainChain(b.hash));
    assert.deepEqual(onChain.map((b) => hex(b.hash)).sort(), expected, "every pool block");
    for (const row of onChain) {
      assert.equal(row.status, "confirmed", `${row.height} ${row.note}`);
      assert.equal(row.reward, R);
    }
    // Candidates NodeCore refused for real (a block found on a job that had just gone stale)
    // are stored too, and end rejected, crediting nothing.
    for (const row of rows.filter((b) => !devnet.chain.isMainChain(b.hash))) {
      assert.equal(row.status, "rejected", `${row.height} ${row.note}`);
      assert.ok(row.note !== "", `${row.height}: a rejected candidate says why`);
    }
    for (const b of lost) {
      const row = (await store.getBlock(b.hash))!;
      assert.ok(["recovered_from_chain", ""].includes(row.note), row.note);
    }
    const credited = await assertBooks(store);
    assert.ok((credited.get(MINER_A) ?? 0n) > 0n && (credited.get(MINER_B) ?? 0n) > 0n);
    assert.equal(
      [...credited.values()].reduce((x, y) => x + y, 0n),
      R * BigInt(expected.length),
      "every pool block's reward, once",
    );

    // More passes, more blocks on top: nothing is credited or recorded again.
    for (let i = 0; i < 2; i++) {
      await devnet.rival.mineBlock();
      const again = await runPayouts(env);
      assert.equal(again.code, 0, again.err + again.out);
      assert.match(again.out, /^0 block\(s\) credited, 0 orphaned, 0 rejected, 0 recovered/m);
    }
    assert.deepEqual(await assertBooks(store), credited);
    assert.equal((await store.listBlocks({ limit: 1000 })).length, rows.length);
    const audit = await runAudit(env, ["--nodecore", stack.walletUrl]);
    assert.equal(audit.code, 0, audit.out + audit.err);
    assert.match(audit.out, /^Result: PASS/m);
  } finally {
    off();
    await stopMiners();
    await stack.stop();
  }
}
