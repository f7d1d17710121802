import assert from "node:assert/strict";
import { type PoolEvent, PoolEvents } from "../../server/events.ts";

Deno.test("PoolEvents delivers to every listener and survives a throwing one", () => {
  const events = new PoolEvents();
  assert.equal(events.active, false);
  const seen: PoolEvent[] = [];
  events.subscribe(() => {
    throw new Error("observer bug");
  });
  const stop = events.subscribe((e) => seen.push(e));
  assert.equal(events.active, true);
  const event: PoolEvent = { type: "banned", at: 1, ip: "10.0.0.1", until: 2, reason: "x" };
  events.emit(event);
  stop();
  events.emit(event);
  assert.deepEqual(seen, [event]);
});
