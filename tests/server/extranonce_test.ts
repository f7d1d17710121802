import assert from "node:assert/strict";
import { ExtranonceAllocator, ownsExtranonce } from "../../server/extranonce.ts";

Deno.test("ExtranonceAllocator gives the original server's first ranges with instance 31", () => {
  const allocator = new ExtranonceAllocator();
  const first = allocator.allocate();
  assert.equal(first.start.toString(16).padStart(16, "0"), "7c000000000f4240");
  assert.equal(first.end - first.start, 1_000_000n);
  assert.equal(allocator.allocate().start.toString(16), "7c000000001e8480");
  assert.equal(allocator.nextCounter, 3n);
});

Deno.test("ExtranonceAllocator ranges never overlap and stay inside the instance", () => {
  const allocator = new ExtranonceAllocator({ instanceId: 0, rangeSize: 10n, firstCounter: 0n });
  const ranges = Array.from({ length: 100 }, () => allocator.allocate());
  for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i]!.start, ranges[i - 1]!.end);
  assert.equal(ranges[0]!.start, 0n);
  const top = new ExtranonceAllocator({ instanceId: 31, rangeSize: 1n << 57n });
  assert.equal(top.allocate().end, 1n << 63n); // the last range ends at 2^63
  assert.throws(() => top.allocate(), RangeError);
});

Deno.test("ExtranonceAllocator calls the reservation hook before passing the mark", () => {
  const calls: bigint[] = [];
  const allocator = new ExtranonceAllocator({
    firstCounter: 5n,
    reserve: (from) => {
      calls.push(from);
      return from + 2n;
    },
  });
  for (let i = 0; i < 5; i++) allocator.allocate();
  assert.deepEqual(calls, [5n, 7n, 9n]);
  const stuck = new ExtranonceAllocator({ reserve: (from) => from });
  assert.throws(() => stuck.allocate(), RangeError);
});

Deno.test("ExtranonceAllocator rejects bad options", async (t) => {
  const cases: [string, () => unknown, ErrorConstructor][] = [
    ["instance 32", () => new ExtranonceAllocator({ instanceId: 32 }), RangeError],
    ["instance -1", () => new ExtranonceAllocator({ instanceId: -1 }), RangeError],
    ["instance 1.5", () => new ExtranonceAllocator({ instanceId: 1.5 }), RangeError],
    ["range 0", () => new ExtranonceAllocator({ rangeSize: 0n }), RangeError],
    ["range 2^59", () => new ExtranonceAllocator({ rangeSize: 1n << 59n }), RangeError],
    [
      "range number",
      () => new ExtranonceAllocator({ rangeSize: 5 as unknown as bigint }),
      TypeError,
    ],
    ["first counter -1", () => new ExtranonceAllocator({ firstCounter: -1n }), RangeError],
  ];
  for (const [name, make, kind] of cases) {
    await t.step(name, () => assert.throws(make, kind));
  }
});

Deno.test("ownsExtranonce() is start-inclusive and end-exclusive", () => {
  const range = { start: 100n, end: 200n };
  assert.equal(ownsExtranonce(range, 99n), false);
  assert.equal(ownsExtranonce(range, 100n), true);
  assert.equal(ownsExtranonce(range, 199n), true);
  assert.equal(ownsExtranonce(range, 200n), false);
});
