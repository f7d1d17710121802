import assert from "node:assert/strict";
import { backoffDelay } from "../../miner/backoff.ts";

Deno.test("backoffDelay() doubles per failure up to the cap", () => {
  const top = { minMs: 100, maxMs: 1000, random: () => 1 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, top)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
});

Deno.test("backoffDelay() jitters between half and the full delay", () => {
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(3, { minMs: 1000, maxMs: 60000 });
    assert.ok(d >= 2000 && d <= 4000, String(d));
  }
});

Deno.test("backoffDelay() is 0 without failures and stays finite for huge counts", () => {
  assert.equal(backoffDelay(0), 0);
  assert.equal(backoffDelay(-1), 0);
  assert.equal(backoffDelay(Number.NaN), 0);
  assert.equal(backoffDelay(10_000, { maxMs: 5000, random: () => 1 }), 5000);
});
