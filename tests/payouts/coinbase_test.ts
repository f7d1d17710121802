import assert from "node:assert/strict";
import { chainDifficulty, poolPayment } from "../../payouts/mod.ts";

const POOL = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
const OTHER = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";

Deno.test("poolPayment() sums the outputs paying the pool address, and says why when none", () => {
  const out = (address: string, amount: bigint) => ({ address, amount });
  assert.deepEqual(
    poolPayment({ coinbaseOutputs: [out(POOL, 30n), out(OTHER, 20n), out(POOL, 5n)] }, POOL),
    { amount: 35n, note: "" },
  );
  assert.deepEqual(poolPayment({ coinbaseOutputs: [] }, POOL), {
    amount: 0n,
    note: "coinbase_missing",
  });
  assert.deepEqual(poolPayment({ coinbaseOutputs: [out(OTHER, 50n)] }, POOL), {
    amount: 0n,
    note: "coinbase_not_pool",
  });
  assert.deepEqual(poolPayment({ coinbaseOutputs: [out(POOL, 0n)] }, POOL), {
    amount: 0n,
    note: "coinbase_not_pool",
  });
  assert.deepEqual(
    poolPayment({ coinbaseOutputs: [out(POOL.toLowerCase(), 50n)] }, POOL),
    { amount: 0n, note: "coinbase_not_pool" },
    "addresses are case-sensitive Base58",
  );
  const big = (1n << 62n) + 1n;
  assert.equal(
    poolPayment({ coinbaseOutputs: [out(POOL, big), out(POOL, big)] }, POOL).amount,
    2n * big,
  );
});

Deno.test("chainDifficulty() decodes encodedDifficulty and falls back to 1", () => {
  assert.equal(chainDifficulty({ encodedDifficulty: 0x0405F5E1 }), 100_000_000n);
  assert.equal(chainDifficulty({ encodedDifficulty: 0 }), 1n);
  assert.equal(chainDifficulty({ encodedDifficulty: 0x04923456 }), 1n, "negative compact");
  assert.equal(chainDifficulty({ encodedDifficulty: -1 }), 1n, "int32 sign bit");
});
