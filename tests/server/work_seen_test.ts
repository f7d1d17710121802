import assert from "node:assert/strict";
import { LiveKeys, WorkSeen } from "../../server/_work_seen.ts";

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

Deno.test("LiveKeys sheds the oldest works first, keeps per-owner floors, and stays within its cap", () => {
  const budget = new LiveKeys(40); // sheds down to 30; floors collapse per work at 10 owners
  const works = Array.from({ length: 4 }, () => new WorkSeen("round"));
  for (const w of works) budget.join(w);
  const accepted: { w: WorkSeen; key: string; ntime: number; owner: bigint }[] = [];
  let most = 0;
  for (let i = 0; i < 4 * 30; i++) {
    const w = works[Math.floor(i / 30)]!; // work 0's shares first, then work 1's, …
    const owner = i % 2 === 0 ? A : B;
    const ntime = 1000 + (i % 7);
    const key = `${owner}:${ntime}:${i}`;
    assert.equal(w.check(key, ntime, { owner, cap: 1000 }), "new");
    w.add(key, ntime, owner);
    accepted.push({ w, key, ntime, owner });
    most = Math.max(most, budget.held);
    // held is exactly what the works hold
    assert.equal(budget.held, works.reduce((n, x) => n + x.size, 0));
  }
  assert.ok(most <= 40, `held at most ${most}`);
  assert.equal(works[0]!.keys.size, 0, "the oldest work went first");
  assert.ok(works[3]!.keys.size > 0, "the newest work keeps its keys");
  // Not one accepted share is new again, on any work, kept or forgotten.
  for (const { w, key, ntime, owner } of accepted) {
    assert.notEqual(w.check(key, ntime, { owner, cap: 1000 }), "new", key);
  }
  // A's floors never hold B back: B's share above its own floor on a shed work is new.
  assert.equal(works[0]!.floors.get(B), 1006);
  assert.equal(works[0]!.check("b:1007:x", 1007, { owner: B, cap: 1000 }), "new");
});

Deno.test("LiveKeys: a work that leaves stops counting; one that comes back counts again", () => {
  const budget = new LiveKeys(100);
  const w = new WorkSeen("round");
  budget.join(w);
  w.add("a:1:1", 1, A);
  w.add("a:1:2", 1, A);
  w.add("a:1:2", 1, A); // the same key again: not counted twice
  assert.equal(budget.held, 2);
  budget.leave(w);
  assert.equal(budget.held, 0);
  assert.equal(w.budget, undefined);
  w.add("a:1:3", 1, A); // an idle work is not the live budget's
  assert.equal(budget.held, 0);
  budget.join(w);
  budget.join(w); // twice: counted once
  assert.equal(budget.held, 3);
  assert.equal(budget.works, 1);
  w.forget({ collapseAt: 10 });
  assert.equal(budget.held, 1); // A's floor
});

Deno.test("LiveKeys collapses the oldest works' floors when floors alone exceed it, newest last", () => {
  const budget = new LiveKeys(8); // target 6, per-work collapse at 2 owners
  const old = new WorkSeen("round");
  const current = new WorkSeen("round");
  budget.join(old);
  budget.join(current);
  for (let o = 1n; o <= 5n; o++) old.add(`o${o}:100:1`, 100 + Number(o), o);
  for (let o = 1n; o <= 4n; o++) current.add(`c${o}:200:1`, 200, o); // 9th entry: shed
  assert.ok(budget.held <= 6, `held ${budget.held}`);
  assert.equal(old.size, 0, "the old work keeps one work-wide floor (not budgeted)");
  assert.equal(old.floor, 105);
  assert.ok(current.keys.size > 0 || current.floors.size > 0);
  for (let o = 1n; o <= 5n; o++) {
    assert.equal(old.check(`o${o}:100:1`, 100 + Number(o), { owner: o, cap: 100 }), "stale_job");
  }
});

Deno.test("LiveKeys: older works' floors collapse before the newest work forgets a key", () => {
  // Per-owner floors of older works are entries too: with many owners they alone can exceed the
  // budget; the older works then keep one floor each, and the newest work keeps its keys.
  const budget = new LiveKeys(40); // target 30, per-work collapse at 10 owners
  const older = Array.from({ length: 3 }, () => new WorkSeen("round"));
  const newest = new WorkSeen("round");
  for (const w of older) budget.join(w);
  budget.join(newest);
  for (const w of older) for (let o = 1n; o <= 9n; o++) w.add(`o${o}:100:1`, 100, o);
  for (let n = 0; n < 14; n++) newest.add(`n:200:${n}`, 200, 1n);
  assert.ok(budget.held <= 40, `held ${budget.held}`);
  assert.equal(newest.keys.size, 14, "the newest work kept every key");
  assert.equal(older[0]!.size, 0);
  assert.equal(older[0]!.floor, 100);
  assert.equal(older[2]!.floors.size, 9, "the last older work still has a floor per owner");
  // A work a new job uses again becomes the newest.
  budget.join(older[0]!);
  for (let n = 0; n < 20; n++) older[0]!.add(`r:300:${n}`, 300, 2n);
  assert.equal(older[0]!.keys.size, 20);
  assert.ok(budget.held <= 40, `held ${budget.held}`);
});
