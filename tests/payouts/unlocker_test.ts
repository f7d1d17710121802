import assert from "node:assert/strict";
import { DEVNET_BLOCK_REWARD } from "../../devnet/mod.ts";
import { NodeCoreRpc, type StateInfo, Unlocker } from "../../payouts/mod.ts";
import { alertEvents } from "../../log/mod.ts";
import { A, B, C, FEE, POOL, stackTest } from "./_stack.ts";

const R = DEVNET_BLOCK_REWARD; // 50 VBK

stackTest(
  "Unlocker credits a block by PPLNS once the tip is N blocks past it, not before",
  async (s) => {
    const [block] = await s.minePool();
    // Window X = 1 at network difficulty 1000: A 600, B 400 (+ an older share outside it).
    await s.share(C, 500n, 1000n, 1000);
    await s.share(A, 600n, 1000n, 2000);
    await s.share(B, 400n, 1000n, 3000);
    await s.share(C, 999n, 1000n, 9000); // after the block: not in its window
    await s.recordFound(block!, 5000);
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
      fees: [{ address: FEE, percent: "1" }],
    });
    let report = await unlocker.run();
    assert.equal(report.confirmed.length, 0);
    assert.equal(report.waiting, 1);
    assert.equal((await s.store.getBlock(block!.hash))!.confirmations, 1);
    await s.devnet.rival.mineBlock();
    report = await unlocker.run();
    assert.equal(report.waiting, 1);
    assert.equal((await s.store.getBlock(block!.hash))!.confirmations, 2);
    await s.devnet.rival.mineBlock();
    const alerts: string[] = [];
    const unsubscribe = alertEvents.subscribe((e) => alerts.push(`${e.type} ${e.details.reward}`));
    report = await unlocker.run();
    unsubscribe();
    assert.equal(report.confirmed.length, 1);
    assert.deepEqual(alerts, ["block_confirmed 50"]);
    assert.equal(report.tip, 3);
    const credited = report.confirmed[0]!;
    assert.equal(credited.reward, R);
    assert.equal(credited.shares, 2);
    assert.equal(credited.filled, true);
    // Fee 1 % = 0.5 VBK; net 49.5 VBK: A 60 %, B 40 %.
    assert.equal(await s.store.payouts.balance(FEE), R / 100n);
    assert.equal(await s.store.payouts.balance(A), (R - R / 100n) * 6n / 10n);
    assert.equal(await s.store.payouts.balance(B), (R - R / 100n) * 4n / 10n);
    assert.equal(await s.store.payouts.balance(C), 0n);
    const row = (await s.store.getBlock(block!.hash))!;
    assert.equal(row.status, "confirmed");
    assert.equal(row.reward, R);
    assert.equal(row.confirmations, 3);
    const audit = await s.store.payouts.listBalanceChanges({ blockHash: block!.hash });
    assert.equal(audit.reduce((sum, c) => sum + c.amount, 0n), R);
    assert.ok(audit.every((c) => c.blockHeight === block!.height));
    assert.equal((await unlocker.run()).confirmed.length, 0, "nothing credited twice");
  },
);

stackTest(
  "Unlocker orphans a replaced block once the replacement is N deep; its shares pay the next block",
  async (s) => {
    const [lost] = await s.minePool();
    await s.share(A, 300n, 1000n, 1000);
    await s.share(B, 100n, 1000n, 2000);
    await s.recordFound(lost!, 3000);
    await s.devnet.rival.reorg(1); // heights 1 and 2 are the rival's now
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
    });
    let report = await unlocker.run();
    assert.equal(report.orphaned.length, 0, "the tip is 1 block past the replacement, not 2");
    assert.equal(report.waiting, 1);
    await s.devnet.rival.mineBlock();
    const alerts: string[] = [];
    const unsubscribe = alertEvents.subscribe((e) => alerts.push(`${e.type} ${e.details.height}`));
    report = await unlocker.run();
    unsubscribe();
    assert.equal(report.orphaned.length, 1);
    assert.deepEqual(alerts, [`block_orphaned ${lost!.height}`]);
    assert.equal((await s.store.getBlock(lost!.hash))!.status, "orphaned");
    assert.deepEqual(await s.store.payouts.listBalances(), [], "an orphan credits nothing");
    // The next pool block: its window (X = 1) takes the new shares, then the orphan's.
    const [won] = await s.minePool();
    await s.share(C, 200n, 2000n, 4000); // score 0.1, outside the window
    await s.share(A, 2000n, 2000n, 5000); // score 1.0: the newest share fills X = 1 alone
    await s.recordFound(won!, 6000);
    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock();
    report = await unlocker.run();
    assert.equal(report.confirmed.length, 1);
    assert.equal(await s.store.payouts.balance(A), R);
    assert.equal(report.confirmed[0]!.shares, 1);
  },
);

stackTest(
  "Unlocker spreads a block over the previous block's shares when the window needs them",
  async (s) => {
    const [lost] = await s.minePool();
    await s.share(A, 300n, 1000n, 1000); // 0.3
    await s.share(B, 100n, 1000n, 2000); // 0.1
    await s.recordFound(lost!, 3000);
    await s.devnet.rival.reorg(1);
    await s.devnet.rival.mineBlock();
    const unlocker = new Unlocker(s.store, s.rpc, {
      poolAddress: POOL,
      confirmations: 2,
      window: 1,
    });
    assert.equal((await unlocker.run()).orphaned.length, 1);
    const [won] = await s.minePool();
    await s.share(C, 1200n, 2000n, 4000); // 0.6
    await s.recordFound(won!, 5000);
    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock();
    const report = await unlocker.run();
    assert.equal(report.confirmed.length, 1);
    // Window X = 1: C 0.6, then B 0.1, then A 0.3 (all of the orphan's shares).
    assert.equal(await s.store.payouts.balance(C), R * 6n / 10n);
    assert.equal(await s.store.payouts.balance(B), R * 1n / 10n);
    assert.equal(await s.store.payouts.balance(A), R * 3n / 10n);
  },
);

stackTest(
  "Unlocker waits while NodeCore is not synced, and for a coinbase that pays someone else",
  async (s) => {
    const [block] = await s.minePool();
    await s.share(A, 1n, 1n, 1000);
    await s.recordFound(block!, 2000);
    await s.devnet.rival.mineBlock(); // the tip is 1 block past it
    class Behind extends NodeCoreRpc {
      override async getStateInfo(): Promise<StateInfo> {
        return { ...await super.getStateInfo(), networkHeight: 99, synced: false };
      }
    }
    const behind = new Unlocker(s.store, new Behind({ url: s.url }), {
      poolAddress: POOL,
      confirmations: 1,
    });
    const report = await behind.run();
    assert.match(report.skipped!, /not synced/);
    assert.equal(report.waiting, 1);
    const elsewhere = new Unlocker(s.store, s.rpc, { poolAddress: A, confirmations: 1 });
    assert.equal((await elsewhere.run()).confirmed.length, 0);
    assert.equal((await s.store.getBlock(block!.hash))!.status, "pending");
    const fixed = new Unlocker(s.store, s.rpc, { poolAddress: POOL, confirmations: 1 });
    assert.equal((await fixed.run()).confirmed.length, 1);
    assert.equal(await s.store.payouts.balance(A), R);
  },
);

Deno.test("Unlocker refuses bad options", () => {
  const store = {} as never;
  const rpc = new NodeCoreRpc();
  assert.throws(
    () => new Unlocker(store, rpc, { poolAddress: POOL, confirmations: 0 }),
    RangeError,
  );
  assert.throws(() => new Unlocker(store, rpc, { poolAddress: POOL, window: 0 }), RangeError);
  assert.throws(
    () => new Unlocker(store, rpc, { poolAddress: POOL, fees: [{ address: FEE, percent: 101 }] }),
    /fees exceed 100 %/,
  );
});
