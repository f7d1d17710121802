import assert from "node:assert/strict";
import { ExtranonceAllocator } from "../../server/extranonce.ts";
import { ExtranonceReservations } from "../../server/extranonce_reservations.ts";
import type { Store } from "../../store/mod.ts";
import { until, withStore } from "./_store.ts";
import { waitUntil } from "../_wait.ts";

/** The allocator's next range, once the block holding it is reserved (bounded wait). */
function nextRange(allocator: ExtranonceAllocator) {
  return waitUntil(
    () => {
      try {
        return allocator.allocate();
      } catch {
        return undefined; // next block still being reserved
      }
    },
    "the next reserved block",
    { timeoutMs: 10_000, intervalMs: 5 },
  );
}

Deno.test("ExtranonceReservations never hands out a range twice, across restarts", async () => {
  await withStore(async (store) => {
    const seen = new Set<bigint>();
    for (let restart = 0; restart < 4; restart++) {
      const r = await ExtranonceReservations.open(store, { instance: 2, blockSize: 3n });
      const allocator = new ExtranonceAllocator(r.allocatorOptions());
      for (let i = 0; i < 7; i++) {
        const range = await nextRange(allocator);
        assert.ok(!seen.has(range.start), `range ${range.start} handed out twice`);
        assert.equal(range.start >> 58n, 2n);
        seen.add(range.start);
      }
      await r.close();
    }
    assert.equal(seen.size, 28);
  }, { thread: false });
});

Deno.test("ExtranonceReservations never reuses a value when the range size shrinks or grows", async () => {
  await withStore(async (store) => {
    const used: { start: bigint; end: bigint }[] = [];
    // 1,000,000 values per connection, then 1,000 (the reviewer's case), then 1,000,000 again.
    for (const rangeSize of [1_000_000n, 1_000n, 1_000_000n]) {
      const r = await ExtranonceReservations.open(store, { instance: 3, blockSize: 4n, rangeSize });
      const allocator = new ExtranonceAllocator(r.allocatorOptions());
      for (let i = 0; i < 6; i++) {
        const range = await nextRange(allocator);
        for (const u of used) {
          assert.ok(
            range.end <= u.start || range.start >= u.end,
            `[${range.start}, ${range.end}) overlaps [${u.start}, ${u.end})`,
          );
        }
        used.push({ start: range.start, end: range.end });
      }
      await r.close();
    }
    assert.equal(used.length, 18);
  }, { thread: false });
});

Deno.test("ExtranonceReservations refuses counters it does not hold, then recovers", async () => {
  let fail = false;
  let next = 0n;
  const store = {
    reserveExtranonces(_instance: number, options: { count: bigint }) {
      if (fail) return Promise.reject(new Error("database is down"));
      const start = next;
      next += options.count;
      return Promise.resolve({ start, end: next });
    },
  } as unknown as Store;
  const r = await ExtranonceReservations.open(store, { instance: 0, blockSize: 2n });
  await until(() => next === 4n); // one block in use, one spare
  fail = true;
  const allocator = new ExtranonceAllocator(r.allocatorOptions());
  allocator.allocate(); // 1
  allocator.allocate(); // 2 (spare block)
  allocator.allocate(); // 3
  assert.throws(
    () => allocator.allocate(),
    /Cannot allocate extranonce: counter 4 is not reserved/,
  );
  fail = false;
  await until(() => {
    try {
      allocator.allocate();
      return true;
    } catch {
      return false;
    }
  });
  assert.equal(allocator.nextCounter, 5n);
  await r.close();
});

Deno.test("ExtranonceReservations detects another process using the same instance", async () => {
  await withStore(async (store) => {
    // The store as `a` sees it, counting the reservations `a` asks for and gets.
    let started = 0;
    let finished = 0;
    const seenByA = {
      reserveExtranonces(...args: Parameters<Store["reserveExtranonces"]>) {
        started++;
        return store.reserveExtranonces(...args).finally(() => finished++);
      },
    } as unknown as Store;
    const a = await ExtranonceReservations.open(seenByA, { instance: 9, blockSize: 2n });
    await until(async () =>
      (await store.reserveExtranonces(9, { count: 1n, limit: 1n << 40n })).start > 3n
    );
    const allocator = new ExtranonceAllocator(a.allocatorOptions());
    for (let i = 1; i < 4; i++) {
      assert.equal(allocator.allocate().start, (9n << 58n) + BigInt(i) * 1_000_000n);
    }
    // Counter 4 was taken by the other reservation: never handed out, also once every
    // reservation `a` asked for (each refusal asks for more) has come back.
    for (let i = 0; i < 3; i++) {
      assert.throws(() => allocator.allocate(), /counter 4 is not reserved/);
      await until(() => finished === started);
    }
    assert.ok(finished >= 2, `${finished} reservations`);
    await a.close();
  }, { thread: false });
});

Deno.test("ExtranonceReservations.open() checks its options", async () => {
  const store = {} as Store;
  await assert.rejects(ExtranonceReservations.open(store, { instance: 32 }), RangeError);
  await assert.rejects(
    ExtranonceReservations.open(store, { instance: 1, rangeSize: 0n }),
    RangeError,
  );
  await assert.rejects(
    ExtranonceReservations.open(store, { instance: 1, blockSize: 0n }),
    RangeError,
  );
});
