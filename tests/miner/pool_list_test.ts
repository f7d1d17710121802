import assert from "node:assert/strict";
import { PoolList } from "../../miner/pool_list.ts";

const fixed = { minMs: 1000, maxMs: 8000, random: () => 1 };

Deno.test("PoolList rejects an empty list", () => {
  assert.throws(() => new PoolList([]), RangeError);
});

Deno.test("PoolList.pick() prefers the first available pool", () => {
  const pools = new PoolList(["a", "b", "c"], fixed);
  assert.deepEqual(pools.pick(0), { index: 0 });
  pools.failed(0, 0);
  assert.deepEqual(pools.pick(0), { index: 1 });
  pools.failed(1, 0);
  assert.deepEqual(pools.pick(0), { index: 2 });
  pools.failed(2, 500);
  assert.deepEqual(pools.pick(0), { waitMs: 1000 });
  assert.deepEqual(pools.pick(1000), { index: 0 });
});

Deno.test("PoolList backs off each pool exponentially and resets on success", () => {
  const pools = new PoolList(["a"], fixed);
  assert.equal(pools.failed(0, 0), 1000);
  assert.equal(pools.failed(0, 0), 2000);
  assert.equal(pools.failed(0, 0), 4000);
  assert.equal(pools.failed(0, 0), 8000);
  assert.equal(pools.failed(0, 0), 8000);
  pools.succeeded(0);
  assert.deepEqual(pools.pick(0), { index: 0 });
  assert.equal(pools.failed(0, 0), 1000);
});

Deno.test("PoolList.preferredDue() names a better pool that may be probed", () => {
  const pools = new PoolList(["a", "b", "c"], fixed);
  assert.equal(pools.preferredDue(0, 0), undefined);
  assert.equal(pools.preferredDue(2, 0), 0);
  pools.failed(0, 0);
  assert.equal(pools.preferredDue(2, 0), 1);
  pools.failed(1, 0);
  assert.equal(pools.preferredDue(2, 0), undefined);
  assert.equal(pools.preferredDue(2, 1000), 0);
});

Deno.test("PoolList rejects unknown indexes", () => {
  const pools = new PoolList(["a"]);
  assert.throws(() => pools.failed(3, 0), RangeError);
  assert.throws(() => pools.succeeded(-1), RangeError);
});
