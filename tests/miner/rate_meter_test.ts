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

Deno.test("RateMeter.rateOver() answers every window up to its retention from one meter", () => {
  const m = new RateMeter({ windowMs: 10_000, keepMs: 900_000 });
  // 1000/s for 15 min, then 5000/s for the last minute (one sample a second).
  let count = 0;
  for (let t = 1; t <= 960; t++) {
    count += t > 900 ? 5000 : 1000;
    m.sample(t * 1000, count);
  }
  assert.equal(m.rate(), 5000);
  assert.equal(m.rateOver(10_000), 5000);
  assert.equal(m.rateOver(60_000), 5000);
  assert.equal(m.rateOver(900_000), (840 * 1000 + 60 * 5000) / 900);
  // Longer than kept: the oldest kept sample (one at or before the retention start).
  assert.equal(m.rateOver(3_600_000), m.rateOver(900_000));
});

Deno.test("RateMeter.rateOver() covers the time so far while the window is not full", () => {
  const m = new RateMeter({ keepMs: 900_000 });
  m.sample(0, 0);
  m.sample(2000, 4000);
  assert.equal(m.rateOver(900_000), 2000);
  assert.equal(m.rateOver(1000), 2000);
});
