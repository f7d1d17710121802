import assert from "node:assert/strict";
import { HashrateWatch } from "../../alerts/mod.ts";
import { type AlertEvent, AlertEvents } from "../../log/mod.ts";

/** A watch on a simulated clock: one `add` per window, then `check` at the window's end. */
function simulate(rates: bigint[], options: { baselineWindows?: number; dropPercent?: number }) {
  const bus = new AlertEvents();
  const events: AlertEvent[] = [];
  bus.subscribe((e) => events.push(e));
  let now = 0;
  const watch = new HashrateWatch({ windowMs: 60_000, bus, now: () => now, ...options });
  const perWindow: number[] = [];
  for (const work of rates) {
    watch.add(work);
    now += 30_000;
    watch.check(); // mid-window: nothing closes
    now += 30_000;
    watch.check();
    perWindow.push(events.length);
  }
  return { events, perWindow };
}

Deno.test("HashrateWatch alerts once per drop, after a full baseline, and again after a recovery", () => {
  const w = 600n; // 10 H/s per window of 60 s
  const { events, perWindow } = simulate(
    [w, w, w, w / 3n, w / 4n, w / 5n, w, w, w / 10n],
    { baselineWindows: 3, dropPercent: 50 },
  );
  // Windows 1–3 make the baseline; 4 drops (alert); 5 and 6 stay low (no repeat, the baseline
  // holds); 7 recovers; 9 drops again (second alert).
  assert.deepEqual(perWindow, [0, 0, 0, 1, 1, 1, 1, 1, 2]);
  assert.equal(events[0]!.type, "hashrate_drop");
  assert.equal(events[0]!.details.percent, 67);
  assert.equal(events[0]!.details.baseline, 10);
  assert.match(events[0]!.summary, /dropped 67 %/);
  assert.equal(events[1]!.details.percent, 90);
});

Deno.test("HashrateWatch: a small dip, a pool with no hash rate at all, or no baseline yet: no alert", () => {
  assert.equal(simulate([600n, 600n, 400n], { baselineWindows: 2 }).events.length, 0);
  assert.equal(simulate([0n, 0n, 0n, 0n], { baselineWindows: 2 }).events.length, 0);
  assert.equal(simulate([600n, 0n], { baselineWindows: 2 }).events.length, 0);
});

Deno.test("HashrateWatch refuses bad options", () => {
  for (
    const o of [{ windowMs: 0 }, { baselineWindows: 0 }, { dropPercent: 0 }, {
      dropPercent: 101,
    }]
  ) {
    assert.throws(() => new HashrateWatch(o), RangeError, JSON.stringify(o));
  }
});
