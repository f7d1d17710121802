import assert from "node:assert/strict";
import { TokenBucket } from "../../server/_token_bucket.ts";

Deno.test("TokenBucket allows a burst, then the sustained rate", () => {
  const bucket = new TokenBucket(10, 3, 0);
  assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [
    true,
    true,
    true,
    false,
  ]);
  assert.equal(bucket.take(50), false); // half a token
  assert.equal(bucket.take(100), true); // one token after 100 ms at 10/s
  assert.equal(bucket.take(10_000), true); // refilled, capped at the burst
  assert.equal(bucket.take(10_000), true);
  assert.equal(bucket.take(10_000), true);
  assert.equal(bucket.take(10_000), false);
  assert.equal(bucket.take(5_000), false); // a clock going backwards adds nothing
});
