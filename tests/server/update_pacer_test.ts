import assert from "node:assert/strict";
import { UpdatePacer } from "../../server/_update_pacer.ts";
import { waitUntil } from "../_wait.ts";

/** A pacer on a clock the test moves; its timer is real (short intervals). */
function pacer(intervalMs: number) {
  let now = 1000;
  const released: string[] = [];
  const p = new UpdatePacer<string>({
    intervalMs,
    send: (t) => released.push(t),
    now: () => now,
  });
  return { p, released, advance: (ms: number) => now += ms };
}

Deno.test("UpdatePacer sends new blocks at once and the first update after the interval", () => {
  const { p, released, advance } = pacer(1000);
  assert.equal(p.offer("block 1", false), true);
  advance(1000);
  assert.equal(p.offer("update 1", true), true);
  assert.equal(p.offer("block 2", false), true, "a new block is never held");
  assert.equal(p.holding, false);
  assert.deepEqual(released, []);
});

Deno.test("UpdatePacer holds a flood of updates and releases only the newest, once", async () => {
  const { p, released } = pacer(50);
  assert.equal(p.offer("block", false), true);
  for (let i = 0; i < 1000; i++) assert.equal(p.offer(`update ${i}`, true), false);
  assert.equal(p.holding, true);
  await waitUntil(() => released.length > 0, "the held update");
  assert.deepEqual(released, ["update 999"]);
  assert.equal(p.merged, 999);
  assert.equal(p.holding, false);
  // The release counts as a send: the next update waits again, and comes out alone.
  assert.equal(p.offer("update 1000", true), false);
  await waitUntil(() => released.length > 1, "the next held update");
  assert.deepEqual(released, ["update 999", "update 1000"]);
});

Deno.test("UpdatePacer drops the held update for a new block and on cancel", async () => {
  const { p, released } = pacer(50);
  p.offer("block 1", false);
  p.offer("update of block 1", true);
  assert.equal(p.offer("block 2", false), true);
  assert.equal(p.holding, false);
  p.offer("update of block 2", true);
  p.cancel();
  assert.equal(p.holding, false);
  // A later held update proves the timers ran: the dropped ones never came out before it.
  p.offer("later update", true);
  await waitUntil(() => released.length > 0, "the later update");
  assert.deepEqual(released, ["later update"]);
  assert.equal(p.merged, 2);
});

Deno.test("UpdatePacer with interval 0 holds nothing; a new interval applies to the next", () => {
  const { p } = pacer(0);
  p.offer("block", false);
  for (let i = 0; i < 10; i++) assert.equal(p.offer(`update ${i}`, true), true);
  p.setInterval(60_000);
  assert.equal(p.offer("update 10", true), false);
  p.cancel();
});
