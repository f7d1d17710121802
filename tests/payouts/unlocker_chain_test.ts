/**
 * The unlocker reconciles the pool's blocks with the chain (issue 15, defect 4), seen from a
 * flaky node's side: a candidate whose submit outcome never came back, candidates the chain never
 * took, several candidates at one height, a pool block the store never heard of, and a block
 * that leaves the main chain and comes back. What the devnet's main chain says decides; each
 * block on it is credited exactly once however often the pass runs. Each test ends by checking
 * the books.
 */
import assert from "node:assert/strict";
import { DEVNET_BLOCK_REWARD } from "../../devnet/mod.ts";
import { bytesToHex } from "../../hash/hex.ts";
import { Unlocker } from "../../payouts/mod.ts";
import { assertBooks } from "./_books.ts";
import { A, B, C, phantomBlock, POOL, stackTest } from "./_stack.ts";

const R = DEVNET_BLOCK_REWARD; // 50 VBK
const hex = (hash: Uint8Array) => bytesToHex(hash, { upper: true });

stackTest(
  "Unlocker credits once a candidate whose submit outcome is unknown but which the chain holds, through reorganisations both ways",
  async (s) => {
    const [p] = await s.minePool(); // height 1
    await s.share(A, 600n, 1000n, 1000);
    await s.share(B, 400n, 1000n, 2000);
    // The pool wrote the candidate, then the submit timed out: nobody knows what NodeCore did.
    await s.recordFound(p!, 5000, { status: "submitted", note: "submit_unknown" });
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
    });
    let report = await unlocker.run();
    assert.deepEqual(report.onChain.map((b) => hex(b.hash)), [hex(p!.hash)]);
    let row = (await s.store.getBlock(p!.hash))!;
    assert.deepEqual([row.status, row.note, row.confirmations], ["pending", "", 1]);

    // The rival takes heights 1 and 2: the block waits with 0 confirmations, pass after pass.
    const rivalBranch = await s.devnet.rival.reorg(1);
    for (let i = 0; i < 3; i++) {
      report = await unlocker.run();
      assert.deepEqual([report.waiting, report.confirmed.length, report.orphaned.length], [
        1,
        0,
        0,
      ]);
    }
    row = (await s.store.getBlock(p!.hash))!;
    assert.deepEqual([row.status, row.confirmations], ["pending", 0]);

    // The pool's branch wins again (two blocks on top of it, tip 3): settled and credited.
    const x2 = await s.devnet.rival.mineBlock({ parent: p! });
    let top = await s.devnet.rival.mineBlock({ parent: x2 });
    assert.equal(s.devnet.chain.isMainChain(p!.hash), true);
    report = await unlocker.run();
    assert.equal(report.confirmed.length, 1);
    assert.equal(report.confirmed[0]!.reward, R);
    assert.equal(await s.store.payouts.balance(A), R * 6n / 10n);
    assert.equal(await s.store.payouts.balance(B), R * 4n / 10n);

    // Away (the rival's branch grows to 4) and back (the pool's to 5): nothing is credited again.
    let rivalTop = rivalBranch.at(-1)!;
    for (let i = 0; i < 2; i++) rivalTop = await s.devnet.rival.mineBlock({ parent: rivalTop });
    assert.equal(s.devnet.chain.isMainChain(p!.hash), false);
    for (let i = 0; i < 3; i++) assert.equal((await unlocker.run()).confirmed.length, 0);
    for (let i = 0; i < 2; i++) top = await s.devnet.rival.mineBlock({ parent: top });
    assert.equal(s.devnet.chain.isMainChain(p!.hash), true);
    for (let i = 0; i < 3; i++) {
      report = await unlocker.run();
      assert.deepEqual([report.confirmed.length, report.recovered.length], [0, 0]);
    }
    assert.equal((await s.store.getBlock(p!.hash))!.status, "confirmed");
    assert.equal((await s.store.listBlocks({ limit: 100 })).length, 1, "rival blocks unrecorded");
    const credited = await assertBooks(s.store);
    assert.deepEqual(credited, new Map([[A, R * 6n / 10n], [B, R * 4n / 10n]]));
  },
);

stackTest(
  "Unlocker rejects candidates the chain never took once another block holds their height N deep; they credit nothing",
  async (s) => {
    await s.share(A, 600n, 1000n, 1000);
    const refused = phantomBlock(1);
    const lost = phantomBlock(1);
    const early = phantomBlock(3);
    await s.recordFound(refused, 2000, { status: "submitted", note: "submit_rejected" });
    await s.recordFound(lost, 2000, { status: "submitted" });
    await s.recordFound(early, 2000, { status: "submitted", note: "submit_unknown" });
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
    });
    let report = await unlocker.run(); // the chain is at its genesis
    assert.deepEqual([report.waiting, report.rejected.length], [3, 0]);
    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock(); // the rival's block at 1 is 2 deep: not settled
    report = await unlocker.run();
    assert.deepEqual([report.waiting, report.rejected.length], [3, 0]);
    await s.devnet.rival.mineBlock(); // 3 deep: settled
    report = await unlocker.run();
    assert.deepEqual(
      report.rejected.map((b) => [hex(b.hash), b.note]).sort(),
      [[hex(refused.hash), "submit_rejected"], [hex(lost.hash), "not_on_chain"]].sort(),
    );
    assert.equal(report.waiting, 1, "the candidate at the tip's height waits");
    for (let i = 0; i < 3; i++) {
      report = await unlocker.run();
      assert.deepEqual([report.rejected.length, report.confirmed.length], [0, 0]);
    }
    for (const b of [refused, lost]) {
      assert.equal((await s.store.getBlock(b.hash))!.status, "rejected");
    }
    assert.equal((await s.store.getBlock(early.hash))!.status, "submitted");
    assert.deepEqual(await s.store.payouts.listBalances(), [], "nothing credited");
    await assertBooks(s.store);
  },
);

stackTest(
  "Unlocker credits only the candidate the chain holds among several at one height; the others are rejected or orphaned",
  async (s) => {
    const [p] = await s.minePool(); // height 1
    await s.share(A, 600n, 1000n, 1000);
    await s.share(B, 400n, 1000n, 2000);
    const refused = phantomBlock(1);
    const believed = phantomBlock(1);
    await s.recordFound(refused, 3000, { status: "submitted", note: "submit_rejected" });
    await s.recordFound(believed, 3000); // pending: the pool took NodeCore's word for it
    await s.recordFound(p!, 3500, { status: "submitted", note: "submit_unknown" });
    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock(); // tip 3: height 1 settled
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
    });
    const report = await unlocker.run();
    assert.deepEqual(report.onChain.map((b) => hex(b.hash)), [hex(p!.hash)]);
    assert.deepEqual(report.confirmed.map((c) => hex(c.block.hash)), [hex(p!.hash)]);
    assert.deepEqual(report.rejected.map((b) => hex(b.hash)), [hex(refused.hash)]);
    assert.deepEqual(report.orphaned.map((b) => hex(b.hash)), [hex(believed.hash)]);
    for (let i = 0; i < 3; i++) assert.equal((await unlocker.run()).confirmed.length, 0);
    const credited = await assertBooks(s.store);
    assert.deepEqual(credited, new Map([[A, R * 6n / 10n], [B, R * 4n / 10n]]));
  },
);

stackTest(
  "Unlocker recovers a pool block the store never heard of from the chain and credits it once; rival blocks are never recorded",
  async (s) => {
    await s.devnet.rival.mineBlock(); // height 1: the rival's
    const [p] = await s.minePool(); // height 2: the pool crashed before writing the candidate
    const t = p!.timestamp * 1000;
    await s.share(A, 600n, 1000n, t - 3000);
    await s.share(B, 400n, 1000n, t - 2000);
    await s.share(C, 999n, 1000n, t + 60_000); // after the block: outside its window
    await s.devnet.rival.mineBlock(); // tip 3
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
    });
    let report = await unlocker.run();
    assert.deepEqual(report.recovered.map((b) => hex(b.hash)), [hex(p!.hash)]);
    assert.equal(report.confirmed.length, 0, "2 deep: not settled yet");
    const row = (await s.store.getBlock(p!.hash))!;
    assert.deepEqual(
      [row.status, row.source, row.note, row.address, row.worker, row.solo],
      ["pending", "chain", "recovered_from_chain", POOL, "", false],
    );
    assert.deepEqual([row.height, row.time, row.networkDifficulty], [2, t, p!.difficulty]);
    await s.devnet.rival.mineBlock(); // tip 4
    report = await unlocker.run();
    assert.deepEqual([report.recovered.length, report.confirmed.length], [0, 1]);
    for (let i = 0; i < 3; i++) {
      await s.devnet.rival.mineBlock();
      report = await unlocker.run();
      assert.deepEqual([report.recovered.length, report.confirmed.length], [0, 0]);
    }
    assert.deepEqual(
      (await s.store.listBlocks({ limit: 100 })).map((b) => hex(b.hash)),
      [hex(p!.hash)],
      "only the pool's block is recorded",
    );
    const credited = await assertBooks(s.store);
    assert.deepEqual(credited, new Map([[A, R * 6n / 10n], [B, R * 4n / 10n]]));
  },
);

stackTest(
  "Unlocker makes an orphaned pool block that comes back to the main chain pending again and credits it once",
  async (s) => {
    const [p] = await s.minePool(); // height 1
    await s.share(A, 600n, 1000n, 1000);
    await s.share(B, 400n, 1000n, 2000);
    await s.recordFound(p!, 3000);
    const rivalBranch = await s.devnet.rival.reorg(1);
    let rivalTop = await s.devnet.rival.mineBlock(); // tip 3: the rival's block at 1 is 3 deep
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
    });
    let report = await unlocker.run();
    assert.deepEqual(report.orphaned.map((b) => hex(b.hash)), [hex(p!.hash)]);
    assert.equal(rivalBranch.length, 2);
    // A reorganisation deeper than the confirmations: the pool's branch reaches height 4.
    let top = p!;
    for (let i = 0; i < 3; i++) top = await s.devnet.rival.mineBlock({ parent: top });
    assert.equal(s.devnet.chain.isMainChain(p!.hash), true);
    report = await unlocker.run();
    assert.deepEqual(report.restored.map((b) => hex(b.hash)), [hex(p!.hash)]);
    assert.deepEqual(report.confirmed.map((c) => hex(c.block.hash)), [hex(p!.hash)]);
    assert.equal((await s.store.getBlock(p!.hash))!.note, "back_on_chain");
    // Away and back once more: confirmed blocks stay as they are.
    for (let i = 0; i < 2; i++) rivalTop = await s.devnet.rival.mineBlock({ parent: rivalTop });
    assert.equal(s.devnet.chain.isMainChain(p!.hash), false);
    assert.equal((await unlocker.run()).orphaned.length, 0);
    for (let i = 0; i < 2; i++) top = await s.devnet.rival.mineBlock({ parent: top });
    assert.equal(s.devnet.chain.isMainChain(p!.hash), true);
    report = await unlocker.run();
    assert.deepEqual([report.restored.length, report.confirmed.length], [0, 0]);
    assert.equal((await s.store.getBlock(p!.hash))!.status, "confirmed");
    const credited = await assertBooks(s.store);
    assert.deepEqual(credited, new Map([[A, R * 6n / 10n], [B, R * 4n / 10n]]));
  },
);
