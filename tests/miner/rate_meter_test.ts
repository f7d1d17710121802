import assert from "node:assert/strict";
import { RateMeter } from "../../miner/rate_meter.ts";

Deno.test("RateMeter.rate() is 0 before two samples", () => {
  const m = new RateMeter();
  assert.equal(m.rate(), 0);
  m.sample(0, 100);
  assert.equal(m.rate(), 0);
});

Deno.test("RateMeter averages over its window only", () => {
  const m = new RateMeter({ windowMs: 5000 });
  for (let t = 0; t <= 10; t++) m.sample(t * 1000, t <= 5 ? t * 100 : 500 + (t - 5) * 1000);
  // The last 5 s (plus the sample at the window start) run at 1000/s.
  assert.equal(m.rate(), 1000);
});

Deno.test("RateMeter.reset() forgets samples", () => {
  const m = new RateMeter();
  m.sample(0, 0);
  m.sample(1000, 10);
  m.reset();
  assert.equal(m.rate(), 0);
});
