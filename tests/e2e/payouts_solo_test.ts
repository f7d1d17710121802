/**
 * End to end, SOLO ports: a real `vbkpool mine` on the pool's SOLO port and another on its PPLNS
 * port, on the devnet. A real `vbkpool payouts --once` credits each SOLO block to its finder
 * alone (after `solo_fees`), each PPLNS block to the PPLNS miner alone (the SOLO miner's shares
 * never enter a PPLNS window), and the books add up.
 */
import assert from "node:assert/strict";
import { DEVNET_BLOCK_REWARD } from "../../devnet/mod.ts";
import { parseCreditBasis } from "../../payouts/mod.ts";
import { waitUntil } from "../_process.ts";
import { assertBooks } from "../payouts/_books.ts";
import { POOL, runAudit, runPayouts, startMiners, startPayoutPool } from "./_payouts_stack.ts";

const SOLO_MINER = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const PPLNS_MINER = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
const R = DEVNET_BLOCK_REWARD;
const N = 3;

Deno.test("payouts end to end: a SOLO port's blocks go to their finder alone, PPLNS blocks never to SOLO shares", async () => {
  const stack = await startPayoutPool({ minDifficulty: 4_000_000n }, 300_000n, { soloPort: true });
  const store = stack.persisted.store;
  const miners = startMiners([
    [stack.soloUrl!, `${SOLO_MINER}.solo`],
    [stack.url, `${PPLNS_MINER}.rig`],
  ]);
  const stopMiners = miners.stop;
  try {
    await waitUntil(
      async () => {
        const blocks = (await store.listBlocks({ limit: 1000 })).filter((b) =>
          stack.devnet.chain.isMainChain(b.hash)
        );
        return blocks.some((b) => b.solo) && blocks.some((b) => !b.solo);
      },
      "a SOLO and a PPLNS block on the chain and in the store",
      150_000,
    );
    await stopMiners();
    await waitUntil(
      () => stack.pool.inflight === 0,
      "the last blocks' answers",
      30_000,
    );
    for (let i = 0; i < N; i++) await stack.devnet.rival.mineBlock();
    const soloShares = await store.listShares({ address: SOLO_MINER, limit: 100_000 });
    assert.ok(soloShares.length > 0 && soloShares.every((s) => s.solo));
    const pplnsShares = await store.listShares({ address: PPLNS_MINER, limit: 100_000 });
    assert.ok(pplnsShares.length > 0 && pplnsShares.every((s) => !s.solo));

    const env = {
      VBKPOOL_STORE_URL: stack.storeUrl,
      VBKPOOL_WALLET_URL: stack.walletUrl,
      VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
      VBKPOOL_PAYOUTS_CONFIRMATIONS: String(N),
      VBKPOOL_PAYOUTS_PPLNS_WINDOW: "1000",
      VBKPOOL_PAYOUTS_FEES: `${POOL}=1`,
      VBKPOOL_PAYOUTS_SOLO_FEES: `${POOL}=2`,
      VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1000000",
      VBKPOOL_LOG_LEVEL: "warning",
    };
    const run = await runPayouts(env);
    assert.equal(run.code, 0, run.err + run.out);

    // Two miners can find a block at one height: NodeCore takes one, the other candidate ends
    // rejected and credits nothing (the books check below).
    const all = await store.listBlocks({ limit: 1000 });
    for (const b of all.filter((b) => !stack.devnet.chain.isMainChain(b.hash))) {
      assert.equal(b.status, "rejected", `${b.height} ${b.status} ${b.note}`);
    }
    const blocks = all.filter((b) => stack.devnet.chain.isMainChain(b.hash));
    const solo = blocks.filter((b) => b.solo);
    const pplns = blocks.filter((b) => !b.solo);
    assert.ok(solo.length > 0 && pplns.length > 0);
    for (const b of blocks) {
      assert.equal(b.status, "confirmed", `${b.height} ${b.status} ${b.note}`);
      assert.equal(b.reward, R);
      const credits = await store.payouts.listBalanceChanges({ blockHash: b.hash });
      const to = (address: string) =>
        credits.filter((c) => c.address === address).reduce((s, c) => s + c.amount, 0n);
      const basis = parseCreditBasis(b.creditBasis);
      if (b.solo) {
        // The finder alone, after 2 % to the pool.
        assert.equal(b.address, SOLO_MINER);
        assert.equal(basis?.scheme, "solo");
        assert.equal(to(POOL), R * 2n / 100n);
        assert.equal(to(SOLO_MINER), R - R * 2n / 100n);
        assert.equal(to(PPLNS_MINER), 0n);
      } else {
        // The PPLNS window holds only the PPLNS miner's shares.
        assert.equal(basis?.scheme, "pplns");
        assert.equal(to(SOLO_MINER), 0n, "a SOLO share entered a PPLNS window");
        assert.equal(to(POOL), R / 100n);
        assert.equal(to(PPLNS_MINER), R - R / 100n);
      }
    }
    const credited = await assertBooks(store);
    assert.equal(credited.get(SOLO_MINER), BigInt(solo.length) * (R - R * 2n / 100n));
    const audit = await runAudit(env, ["--nodecore", stack.walletUrl]);
    assert.equal(audit.code, 0, audit.out + audit.err);
    assert.match(audit.out, /^Result: PASS/m);
  } finally {
    await stopMiners();
    await stack.stop();
  }
});
