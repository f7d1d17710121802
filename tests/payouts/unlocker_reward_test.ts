/**
 * What the unlocker credits (issue 15, defect 6, and SOLO blocks): exactly what the chain shows
 * the coinbase paid the pool address, never `powCoinbaseReward` on trust, seen from a node that
 * lies about the outputs (an HTTP proxy that drops them) and from blocks paying someone else;
 * the operator's `blockReward` override credits without that proof. A SOLO block goes to its
 * finder alone, and SOLO shares never enter a PPLNS window. Each test ends by checking the books.
 */
import assert from "node:assert/strict";
import { DEVNET_BLOCK_REWARD } from "../../devnet/mod.ts";
import { NodeCoreRpc, parseCreditBasis, Unlocker } from "../../payouts/mod.ts";
import { assertBooks } from "./_books.ts";
import { type Json, startRewriteProxy } from "./_rewrite_proxy.ts";
import { A, B, C, FEE, POOL, stackTest } from "./_stack.ts";

const R = DEVNET_BLOCK_REWARD; // 50 VBK

stackTest(
  "Unlocker credits only what the coinbase paid the pool address; a block paying others or listing no outputs is noted, never credited, unless block_reward overrides",
  async (s) => {
    const [elsewhere] = await s.mineAs(A); // height 1: its coinbase pays A
    const [unlisted] = await s.minePool(); // height 2: pays the pool, but the node lists no outputs
    const [paid] = await s.minePool(); // height 3
    await s.devnet.rival.mineBlock(); // tip 4
    await s.share(B, 1000n, 1000n, 1000);
    for (const b of [elsewhere!, unlisted!, paid!]) await s.recordFound(b, 2000);
    const proxy = startRewriteProxy(s.url, (method, result) => {
      if (method !== "getblocks") return;
      for (const block of result.blocks as Json[]) {
        if (String(block.hash).toUpperCase() !== unlisted!.hashHex) continue;
        const meta = block.blockContentMetapackage as Json;
        delete (meta.coinbaseTransaction as Json).powOutputs; // powCoinbaseReward stays 50 VBK
      }
    });
    try {
      const rpc = new NodeCoreRpc({ url: proxy.url, timeoutMs: 5000 });
      assert.equal((await rpc.getBlockAt(2))!.powCoinbaseReward, R, "the node claims a reward");
      const unlocker = new Unlocker(s.store, rpc, {
        poolAddress: POOL,
        confirmations: 1,
        window: 1,
      });
      let report = await unlocker.run();
      assert.deepEqual(report.confirmed.map((c) => [c.block.height, c.reward]), [[3, R]]);
      assert.equal(report.waiting, 2);
      const noted = async () =>
        await Promise.all([elsewhere!, unlisted!].map((b) => s.store.getBlock(b.hash)));
      const first = await noted();
      assert.deepEqual(
        first.map((b) => [b!.status, b!.note, b!.reward]),
        [["pending", "coinbase_not_pool", undefined], ["pending", "coinbase_missing", undefined]],
      );
      for (let i = 0; i < 5; i++) {
        report = await unlocker.run();
        assert.deepEqual([report.confirmed.length, report.waiting], [0, 2]);
      }
      // The note (and its log line) is written once, not at every pass.
      assert.deepEqual((await noted()).map((b) => b!.updatedAt), first.map((b) => b!.updatedAt));
      assert.equal(await s.store.payouts.balance(B), R, "only the proven block is credited");

      // The operator's override credits without proof, and says so in the note.
      const override = new Unlocker(s.store, rpc, {
        poolAddress: POOL,
        confirmations: 1,
        window: 1,
        blockReward: R / 2n,
      });
      report = await override.run();
      assert.deepEqual(
        report.confirmed.map((c) => [c.block.height, c.reward]),
        [[1, R / 2n], [2, R / 2n]],
      );
      assert.deepEqual((await noted()).map((b) => [b!.status, b!.note]), [
        ["confirmed", "reward_override"],
        ["confirmed", "reward_override"],
      ]);
      assert.equal(await s.store.payouts.balance(B), 2n * R);
      assert.equal((await override.run()).confirmed.length, 0);
      await assertBooks(s.store);
    } finally {
      await proxy.close();
    }
  },
);

stackTest(
  "Unlocker credits a noted block once the configured pool address is the one its coinbase pays, and clears the note",
  async (s) => {
    const [block] = await s.minePool();
    await s.share(A, 1n, 1n, 1000);
    await s.recordFound(block!, 2000);
    await s.devnet.rival.mineBlock();
    const wrong = new Unlocker(s.store, s.rpc, { poolAddress: C, confirmations: 1 });
    assert.equal((await wrong.run()).confirmed.length, 0);
    assert.equal((await s.store.getBlock(block!.hash))!.note, "coinbase_not_pool");
    const fixed = new Unlocker(s.store, s.rpc, { poolAddress: POOL, confirmations: 1 });
    assert.equal((await fixed.run()).confirmed.length, 1);
    const row = (await s.store.getBlock(block!.hash))!;
    assert.deepEqual([row.status, row.note, row.reward], ["confirmed", "", R]);
    await assertBooks(s.store);
  },
);

stackTest(
  "Unlocker credits a SOLO block to its finder alone after the SOLO fees; SOLO shares never enter a PPLNS window",
  async (s) => {
    const [solo, pplns] = await s.minePool(2);
    await s.share(A, 600n, 1000n, 1000);
    await s.share(B, 400n, 1000n, 2000);
    await s.share(C, 5000n, 1000n, 2500, { solo: true });
    await s.recordFound(solo!, 3000, { solo: true, address: C, worker: "solo-rig" });
    await s.share(C, 5000n, 1000n, 3500, { solo: true });
    await s.recordFound(pplns!, 4000);
    await s.devnet.rival.mineBlock(); // tip 3, N = 1
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 1,
      window: 1,
      fees: [{ address: FEE, percent: "1" }],
      soloFees: [{ address: FEE, percent: "2" }],
    });
    const report = await unlocker.run();
    assert.equal(report.confirmed.length, 2);
    const credits = async (hash: Uint8Array) =>
      (await s.store.payouts.listBalanceChanges({ blockHash: hash }))
        .map((c) => [c.address, c.reason, c.amount]).sort();
    const soloFee = R * 2n / 100n;
    assert.deepEqual(
      await credits(solo!.hash),
      [[C, "share", R - soloFee], [FEE, "fee", soloFee]].sort(),
    );
    const fee = R / 100n;
    assert.deepEqual(
      await credits(pplns!.hash),
      [
        [A, "share", (R - fee) * 6n / 10n],
        [B, "share", (R - fee) * 4n / 10n],
        [FEE, "fee", fee],
      ].sort(),
      "the window holds A and B only: C's SOLO shares stay out",
    );
    const basis = async (hash: Uint8Array) =>
      parseCreditBasis((await s.store.getBlock(hash))!.creditBasis);
    assert.deepEqual(
      [(await basis(solo!.hash))?.scheme, (await basis(solo!.hash))?.finder],
      ["solo", C],
    );
    assert.equal((await basis(pplns!.hash))?.scheme, "pplns");
    const credited = await assertBooks(s.store);
    assert.equal(credited.get(C), R - soloFee);
  },
);

stackTest(
  "Unlocker leaves a block with no share to credit and nowhere else for the reward pending (no_shares) and credits the others",
  async (s) => {
    const [empty, full] = await s.minePool(2);
    await s.recordFound(empty!, 1000); // no share at or before it
    await s.share(A, 1n, 1n, 2000);
    await s.recordFound(full!, 3000);
    await s.devnet.rival.mineBlock();
    const unlocker = new Unlocker(s.store, s.rpc, { poolAddress: POOL, confirmations: 1 });
    let report = await unlocker.run();
    assert.deepEqual(report.confirmed.map((c) => c.block.height), [2]);
    assert.deepEqual([report.waiting, (await s.store.getBlock(empty!.hash))!.note], [
      1,
      "no_shares",
    ]);
    report = await unlocker.run();
    assert.deepEqual([report.waiting, report.confirmed.length], [1, 0]);
    // With a remainder address the reward has somewhere to go.
    const fixed = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 1,
      remainderAddress: FEE,
    });
    assert.deepEqual((await fixed.run()).confirmed.map((c) => c.block.height), [1]);
    assert.equal((await s.store.getBlock(empty!.hash))!.note, "");
    assert.equal(await s.store.payouts.balance(FEE), R);
    await assertBooks(s.store);
  },
);
