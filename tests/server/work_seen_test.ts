import assert from "node:assert/strict";
import { WorkSeen } from "../../server/_work_seen.ts";

const A = 0x7c00000000000000n;
const B = 0x7c000000000f4240n;

Deno.test("WorkSeen keeps a floor per owner: one owner's far-ahead ntime leaves others alone", () => {
  const seen = new WorkSeen("round");
  const cap = 6; // floors collapse at 3 owners
  seen.add("a:2000:0", 2000, A); // far ahead
  for (let n = 1; n <= 4; n++) seen.add(`a:1000:${n}`, 1000, A);
  seen.add("b:1000:1", 1000, B);
  // The set is full: the next check forgets the keys, leaving per-owner floors.
  assert.equal(seen.check("b:1000:2", 1000, { owner: B, cap }), "stale_job"); // B's floor 1000
  assert.equal(seen.check("b:1001:1", 1001, { owner: B, cap }), "new");
  assert.equal(seen.check("a:1999:9", 1999, { owner: A, cap }), "stale_job"); // A's floor 2000
  assert.equal(seen.floor, -1);
  // A new owner is not held back by anyone's floor.
  assert.equal(seen.check("c:1000:1", 1000, { owner: 3n, cap }), "new");
});

Deno.test("WorkSeen never lets a forgotten duplicate through", () => {
  const seen = new WorkSeen("round");
  seen.add("a:100:1", 100, A);
  assert.equal(seen.check("a:100:1", 100, { owner: A, cap: 1 }), "duplicate_share");
  seen.forget({ collapseAt: 10 });
  assert.equal(seen.check("a:100:1", 100, { owner: A, cap: 1 }), "stale_job");
});

Deno.test("WorkSeen collapses its floors into one when they reach half the cap, and when trimmed", () => {
  const seen = new WorkSeen("round");
  for (let i = 0n; i < 4n; i++) seen.add(`o${i}:${500 + Number(i)}:1`, 500 + Number(i), i);
  assert.equal(seen.size, 4);
  // Four owners' floors reach half of a cap of 8 as soon as the keys are forgotten.
  seen.forget({ collapseAt: 4 });
  assert.equal(seen.floors.size, 0);
  assert.equal(seen.floor, 503);
  assert.equal(seen.size, 0);
  // The job manager's trim (no option) always collapses: an idle work keeps one number.
  const idle = new WorkSeen("round");
  idle.add("a:7:1", 7, A);
  assert.equal(idle.forget(), 1);
  assert.equal(idle.floor, 7);
  assert.equal(idle.size, 0);
});
