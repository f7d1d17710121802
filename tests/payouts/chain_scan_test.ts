import assert from "node:assert/strict";
import { bytesToHex } from "../../hash/hex.ts";
import { ChainScan, NodeCoreRpc, Unlocker } from "../../payouts/mod.ts";
import { POOL, stackTest } from "./_stack.ts";

const hex = (hash: Uint8Array) => bytesToHex(hash, { upper: true });

stackTest(
  "ChainScan reads at most `blocks` heights a pass, never the tip, re-reads `margin` and catches up",
  async (s) => {
    const scan = new ChainScan(s.store, s.rpc, { poolAddress: POOL, blocks: 3, margin: 1 });
    const ranges: [number, number, string[]][] = [];
    const pass = async () => {
      const r = await scan.run(s.devnet.chain.height);
      ranges.push([r.from, r.to, r.recovered.map((b) => `${b.height}`)]);
    };
    await pass(); // genesis only
    const [h1] = await s.minePool();
    await pass(); // the tip is left for the next pass
    await s.devnet.rival.mineBlock();
    await pass();
    await s.minePool(3); // heights 3, 4, 5
    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock(); // tip 7
    await pass();
    await pass();
    await pass();
    await pass();
    assert.deepEqual(ranges, [
      [0, -1, []],
      [0, -1, []],
      [1, 1, ["1"]],
      [1, 3, ["3"]],
      [3, 5, ["4", "5"]],
      [5, 6, []],
      [6, 6, []],
    ]);
    // After a restart the scan starts `blocks` below the tip.
    const fresh = await new ChainScan(s.store, s.rpc, { poolAddress: POOL, blocks: 2 })
      .run(s.devnet.chain.height);
    assert.deepEqual([fresh.from, fresh.to, fresh.recovered.length], [5, 6, 0]);
    const stored = await s.store.listBlocks({ limit: 100 });
    assert.deepEqual(stored.map((b) => b.height), [5, 4, 3, 1], "the pool's blocks only");
    assert.ok(stored.every((b) => b.source === "chain" && b.note === "recovered_from_chain"));
    assert.equal(hex(stored.at(-1)!.hash), hex(h1!.hash));
  },
);

stackTest("Unlocker with scanBlocks 0 does not scan the chain", async (s) => {
  await s.minePool();
  await s.share(POOL, 1n, 1n, 1000);
  await s.devnet.rival.mineBlock();
  await s.devnet.rival.mineBlock();
  const off = new Unlocker(s.store, s.rpc, { poolAddress: POOL, confirmations: 1, scanBlocks: 0 });
  assert.deepEqual((await off.run()).recovered, []);
  assert.deepEqual(await s.store.listBlocks(), []);
  const on = new Unlocker(s.store, s.rpc, { poolAddress: POOL, confirmations: 1 });
  assert.equal((await on.run()).recovered.length, 1);
});

Deno.test("ChainScan and Unlocker refuse bad scan settings", () => {
  const store = {} as never;
  const rpc = new NodeCoreRpc();
  assert.throws(() => new ChainScan(store, rpc, { poolAddress: POOL, blocks: 0 }), RangeError);
  assert.throws(
    () => new ChainScan(store, rpc, { poolAddress: POOL, blocks: 3, margin: 3 }),
    RangeError,
  );
  assert.throws(() => new Unlocker(store, rpc, { poolAddress: POOL, scanBlocks: -1 }), RangeError);
  assert.throws(() => new Unlocker(store, rpc, { poolAddress: POOL, scanBlocks: 1.5 }), RangeError);
  new Unlocker(store, rpc, { poolAddress: POOL, confirmations: 5, scanBlocks: 1 }); // margin 0
});
