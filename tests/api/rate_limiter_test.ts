import assert from "node:assert/strict";
import { IpRateLimiter } from "../../api/rate_limiter.ts";

Deno.test("IpRateLimiter refills at the rate and caps at the burst", () => {
  const limiter = new IpRateLimiter({ perSecond: 2, burst: 4 });
  const allowed = (now: number) => limiter.take("10.0.0.1", now).allowed;
  assert.deepEqual([0, 0, 0, 0, 0].map(allowed), [true, true, true, true, false]);
  assert.equal(allowed(500), true);
  assert.equal(allowed(500), false);
  // A long pause refills only up to the burst.
  assert.deepEqual([60_000, 60_000, 60_000, 60_000, 60_000].map(allowed), [
    true,
    true,
    true,
    true,
    false,
  ]);
});

Deno.test("IpRateLimiter.take() suggests whole seconds to wait", () => {
  const limiter = new IpRateLimiter({ perSecond: 0.1, burst: 1 });
  assert.equal(limiter.take("a", 0).allowed, true);
  assert.deepEqual(limiter.take("a", 0), { allowed: false, retryAfterSeconds: 10 });
  assert.deepEqual(limiter.take("a", 5000), { allowed: false, retryAfterSeconds: 5 });
});

Deno.test("IpRateLimiter forgets the least recently seen IPs beyond maxIps", () => {
  const limiter = new IpRateLimiter({ perSecond: 1, burst: 1, maxIps: 2 });
  assert.equal(limiter.take("a", 0).allowed, true);
  assert.equal(limiter.take("b", 0).allowed, true);
  assert.equal(limiter.take("a", 0).allowed, false);
  assert.equal(limiter.take("c", 0).allowed, true); // evicts b (a was seen more recently)
  assert.equal(limiter.size, 2);
  assert.equal(limiter.take("b", 0).allowed, true); // b starts over with a full bucket
  assert.equal(limiter.take("a", 0).allowed, true); // a was evicted by b
});

Deno.test("IpRateLimiter with rate 0 is off; bad settings throw", () => {
  const off = new IpRateLimiter({ perSecond: 0, burst: 0 });
  assert.equal(off.enabled, false);
  for (let i = 0; i < 100; i++) assert.equal(off.take("a", 0).allowed, true);
  assert.throws(() => new IpRateLimiter({ perSecond: -1, burst: 1 }), RangeError);
  assert.throws(() => new IpRateLimiter({ perSecond: 1, burst: 0 }), RangeError);
  assert.throws(() => new IpRateLimiter({ perSecond: NaN, burst: 1 }), RangeError);
});
