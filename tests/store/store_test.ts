/**
 * The store contract: one suite, run against SQLite (writer thread and inline) and PostgreSQL
 * (when VBKPOOL_TEST_POSTGRES_URL is set; otherwise skipped with a message).
 */
import assert from "node:assert/strict";
import { type Store, StoreUnavailableError } from "../../store/mod.ts";
import { contractTest, type Fixture, warnIfNoPostgres } from "./_backends.ts";
import { sampleBlock, sampleShare } from "./_samples.ts";

warnIfNoPostgres();

const INT64_MAX = (1n << 63n) - 1n;
const MINUTE = 60_000;
const T0 = 1_700_000_040_000; // a minute boundary

function contract(title: string, fn: (f: Fixture, store: Store) => Promise<void>): void {
  contractTest("Store", title, fn);
}

contract("applies migrations once, also when reopened", async (f, store) => {
  await store.close();
  for (let i = 0; i < 2; i++) await (await f.open()).close();
  const again = await f.open();
  await again.close();
  const rows = await f.query("SELECT version, name FROM schema_migrations ORDER BY version");
  assert.deepEqual(rows.map((r) => Number(r.version)), [1, 2, 3, 4, 5, 6, 7]);
});

contract("refuses a database migrated by a newer vbkpool", async (f) => {
  await f.query(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
  );
  await assert.rejects(f.open(), (err: Error) => {
    assert.ok(err instanceof RangeError);
    assert.match(err.message, /schema version 999 is newer than this vbkpool supports \(7\)/);
    return true;
  });
});

contract("records a burst of shares in a few batches", async (_f, store) => {
  const shares = Array.from({ length: 2500 }, (_, i) => sampleShare({ time: T0 + i }));
  const results = await Promise.all(shares.map((s) => store.recordShare(s)));
  assert.ok(results.every((r) => r === undefined));
  assert.equal(await store.countShares(), 2500);
  const stats = store.stats();
  assert.equal(stats.committed, 2500);
  assert.ok(stats.batches >= 3 && stats.batches < 100, `batches: ${stats.batches}`);
  assert.equal(stats.queueDepth, 0);
  assert.equal(stats.healthy, true);
});

contract("stores every share field exactly and lists newest first", async (_f, store) => {
  const a = sampleShare({ time: T0, difficulty: INT64_MAX, networkDifficulty: INT64_MAX - 1n });
  const b = sampleShare({ time: T0 + 5, worker: "", jobId: "ff", height: 2 ** 31 - 1 });
  await store.recordShare(a);
  await store.recordShare(b);
  const listed = await store.listShares();
  assert.equal(listed.length, 2);
  const [first, second] = listed;
  assert.deepEqual({ ...first!, id: 0n }, { ...b, id: 0n });
  assert.deepEqual({ ...second!, id: 0n }, { ...a, id: 0n });
  assert.ok(first!.id > second!.id);
  assert.deepEqual((await store.listShares({ before: T0 + 5 })).map((s) => s.time), [T0]);
  assert.deepEqual((await store.listShares({ since: T0 + 1 })).map((s) => s.time), [T0 + 5]);
  assert.equal((await store.listShares({ limit: 1 })).length, 1);
  assert.equal((await store.listShares({ address: "Vnobody" })).length, 0);
});

contract(
  "copies a share before recordShare returns (the caller may reuse it)",
  async (_f, store) => {
    const share = sampleShare({ time: T0 });
    const hash = share.hash.slice();
    const stored = store.recordShare(share);
    share.hash.fill(0xee);
    share.address = "Vchanged";
    await stored;
    const [listed] = await store.listShares();
    assert.deepEqual(listed!.hash, hash);
    assert.equal(listed!.address, "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX");
  },
);

contract("stores shares as given (a duplicate header is the pool's check)", async (_f, store) => {
  const share = sampleShare({ time: T0 });
  await store.recordShare(share);
  // No unique index on the hash (schema version 3): the same hash again is a second row.
  await store.recordShare({ ...share, jobId: "other" });
  assert.equal(await store.countShares(), 2);
  const [point] = await store.rollups({ since: T0 });
  assert.equal(point!.shares, 2);
});

contract(
  "answers each share of a large mixed batch in order",
  async (_f, store) => {
    await store.recordShare(sampleShare({ time: T0 }));
    // 150 shares in one batch, a worker difficulty in the middle.
    const shares = Array.from({ length: 150 }, (_, i) => sampleShare({ time: T0 + i }));
    const writes: Promise<unknown>[] = shares.map((s) => store.recordShare(s));
    writes.splice(100, 0, store.setWorkerDifficulty("V5Ujv72h4jEBcKnALGc4fKqs6CDAPX", "rig1", 77n));
    const results = await Promise.all(writes);
    assert.deepEqual(results, new Array(151).fill(undefined));
    assert.equal(await store.countShares(), 151);
    assert.equal(await store.getWorkerDifficulty("V5Ujv72h4jEBcKnALGc4fKqs6CDAPX", "rig1"), 77n);
    const points = await store.rollups({ since: T0 });
    assert.equal(points.reduce((n, p) => n + p.shares, 0), 151);
  },
);

contract("rejects malformed shares without touching the batch", async (_f, store) => {
  const good = store.recordShare(sampleShare());
  const bad: [Record<string, unknown>, ErrorConstructor][] = [
    [{ difficulty: 1000 }, TypeError],
    [{ difficulty: 0n }, RangeError],
    [{ difficulty: 1n << 63n }, RangeError],
    [{ networkDifficulty: "5" }, TypeError],
    [{ hash: new Uint8Array(23) }, RangeError],
    [{ hash: "00".repeat(24) }, TypeError],
    [{ address: "" }, RangeError],
    [{ address: 5 }, TypeError],
    [{ worker: "w".repeat(201) }, RangeError],
    [{ instance: -1 }, RangeError],
    [{ instance: 1.5 }, TypeError],
    [{ time: Number.NaN }, TypeError],
    [{ height: -1 }, RangeError],
  ];
  for (const [patch, kind] of bad) {
    await assert.rejects(
      store.recordShare({ ...sampleShare(), ...patch } as never),
      (err: Error) => err instanceof kind && /^Cannot record share: /.test(err.message),
      JSON.stringify(Object.keys(patch)),
    );
  }
  await assert.rejects(store.recordShare(null as never), TypeError);
  await good;
  assert.equal(await store.countShares(), 1);
});

contract("records blocks with effort and moves them through their lifecycle", async (_f, store) => {
  // 1.5 network difficulties of work before the first block.
  await Promise.all([
    store.recordShare(sampleShare({ difficulty: 1_000_000n, time: T0 })),
    store.recordShare(sampleShare({ difficulty: 500_000n, time: T0 + 1, instance: 3 })),
  ]);
  const first = sampleBlock({ height: 100, time: T0 + 2, reward: 5_000_000_000n });
  const r1 = await store.recordBlock(first);
  assert.equal(r1.inserted, true);
  assert.equal(r1.block.status, "pending");
  assert.equal(r1.block.effort, 1.5);
  assert.equal(r1.block.reward, 5_000_000_000n);
  assert.equal(r1.block.confirmations, 0);
  assert.deepEqual(r1.block.hash, first.hash);
  // The same block again: not inserted, same row, round untouched.
  const again = await store.recordBlock({ ...first, height: 999 });
  assert.equal(again.inserted, false);
  assert.equal(again.block.id, r1.block.id);
  assert.equal(again.block.height, 100);
  // Only work after the first block counts for the second; shares in the same batch before it
  // count for it.
  const [, r2] = await Promise.all([
    store.recordShare(sampleShare({ difficulty: 250_000n, time: T0 + 3 })),
    store.recordBlock(sampleBlock({ height: 101, time: T0 + 4 })),
  ]);
  assert.equal(r2.block.effort, 0.25);
  assert.equal(r2.block.reward, undefined);
  const third = await store.recordBlock(sampleBlock({ height: 102, time: T0 + 5 }));
  assert.equal(third.block.effort, 0);

  const confirmed = await store.updateBlock(first.hash, { status: "confirmed", confirmations: 20 });
  assert.equal(confirmed?.status, "confirmed");
  assert.equal(confirmed?.confirmations, 20);
  assert.equal(confirmed?.reward, 5_000_000_000n);
  const orphaned = await store.updateBlock(r2.block.hash, { status: "orphaned", reward: 0n });
  assert.equal(orphaned?.status, "orphaned");
  assert.equal(orphaned?.reward, 0n);
  assert.equal(await store.updateBlock(new Uint8Array(24), { status: "confirmed" }), undefined);
  await assert.rejects(store.updateBlock(first.hash, { status: "lost" as never }), RangeError);
  await assert.rejects(store.recordBlock({ ...first, hash: new Uint8Array(3) }), RangeError);

  assert.deepEqual((await store.listBlocks()).map((b) => b.height), [102, 101, 100]);
  assert.deepEqual((await store.listBlocks({ status: "pending" })).map((b) => b.height), [102]);
  assert.deepEqual((await store.listBlocks({ limit: 1 })).map((b) => b.height), [102]);
  assert.equal((await store.getBlock(first.hash))?.status, "confirmed");
  assert.equal(await store.getBlock(new Uint8Array(24)), undefined);
});

contract("remembers worker difficulty across reopening", async (f, store) => {
  assert.equal(await store.getWorkerDifficulty("Vaddr", "rig"), undefined);
  await store.setWorkerDifficulty("Vaddr", "rig", 4096n);
  await store.setWorkerDifficulty("Vaddr", "", 8n);
  await Promise.all([
    store.setWorkerDifficulty("Vaddr", "rig", 1n),
    store.setWorkerDifficulty("Vaddr", "rig", 65536n),
  ]);
  assert.equal(await store.getWorkerDifficulty("Vaddr", "rig"), 65536n);
  assert.equal(await store.getWorkerDifficulty("Vaddr", ""), 8n);
  await assert.rejects(store.setWorkerDifficulty("Vaddr", "rig", 0n), RangeError);
  await assert.rejects(store.setWorkerDifficulty("Vaddr", "rig", 5 as never), TypeError);
  await store.close();
  const reopened = await f.open();
  try {
    assert.equal(await reopened.getWorkerDifficulty("Vaddr", "rig"), 65536n);
  } finally {
    await reopened.close();
  }
});

contract(
  "moves a counter past every value handed out when the range size changes",
  async (_f, store) => {
    const limit = 1n << 40n;
    const reserve = (count: bigint, rangeSize?: bigint) =>
      store.reserveExtranonces(9, {
        count,
        limit,
        ...(rangeSize === undefined ? {} : { rangeSize }),
      });
    assert.deepEqual(await reserve(10n, 1_000_000n), { start: 0n, end: 10n });
    // Ten ranges of 10^6 values used 10^7 values: ranges of 1,000 continue at 10,000.
    assert.deepEqual(await reserve(5n, 1_000n), { start: 10_000n, end: 10_005n });
    // 10,005 ranges of 1,000 end at 10,005,000: ranges of 10^6 continue at 11.
    assert.deepEqual(await reserve(1n, 1_000_000n), { start: 11n, end: 12n });
    // Without a range size the counter just continues.
    assert.deepEqual(await reserve(1n), { start: 12n, end: 13n });
    assert.deepEqual(await reserve(1n, 1_000_000n), { start: 13n, end: 14n });
    await assert.rejects(reserve(1n, 0n), RangeError);
  },
);

contract(
  "reserves extranonce ranges that never overlap, also after reopening",
  async (f, store) => {
    const limit = 1n << 40n;
    const first = await store.reserveExtranonces(7, { count: 1000n, limit });
    assert.deepEqual(first, { start: 0n, end: 1000n });
    const parallel = await Promise.all(
      Array.from({ length: 20 }, () => store.reserveExtranonces(7, { count: 10n, limit })),
    );
    const other = await store.reserveExtranonces(8, { count: 5n, limit });
    assert.deepEqual(other, { start: 0n, end: 5n });
    await store.close();
    const reopened = await f.open();
    try {
      const after = await reopened.reserveExtranonces(7, { count: 1n, limit });
      const all = [first, ...parallel, after].sort((a, b) => (a.start < b.start ? -1 : 1));
      for (let i = 1; i < all.length; i++) assert.equal(all[i]!.start, all[i - 1]!.end);
      assert.equal(after.start, 1200n);
      await assert.rejects(
        reopened.reserveExtranonces(7, { count: limit, limit }),
        /Cannot reserve extranonces: instance 7 has used 1201 of 1099511627776/,
      );
      // Up to the full 64-bit space.
      const big = await reopened.reserveExtranonces(9, {
        count: (1n << 64n) - 1n,
        limit: 1n << 64n,
      });
      assert.equal(big.end, (1n << 64n) - 1n);
      await assert.rejects(
        reopened.reserveExtranonces(9, { count: 2n, limit: 1n << 64n }),
        RangeError,
      );
      await assert.rejects(reopened.reserveExtranonces(9, { count: 0n, limit }), RangeError);
      await assert.rejects(reopened.reserveExtranonces(-1, { count: 1n, limit }), RangeError);
    } finally {
      await reopened.close();
    }
  },
);

contract("rolls shares up per minute for the pool, an address and a worker", async (_f, store) => {
  const A = "Vaddress1";
  const B = "Vaddress2";
  await Promise.all([
    store.recordShare(sampleShare({ address: A, worker: "x", difficulty: 100n, time: T0 })),
    store.recordShare(
      sampleShare({ address: A, worker: "y", difficulty: 200n, time: T0 + 59_999 }),
    ),
    store.recordShare(
      sampleShare({ address: B, worker: "x", difficulty: 400n, time: T0 + MINUTE }),
    ),
    store.recordShare(
      sampleShare({ address: A, worker: "x", difficulty: 800n, time: T0 + MINUTE, instance: 2 }),
    ),
  ]);
  const pool = await store.rollups({ since: T0 + 1 });
  assert.deepEqual(pool.map((p) => [p.minute, p.shares, p.difficulty]), [
    [T0, 2, 300n],
    [T0 + MINUTE, 2, 1200n],
  ]);
  assert.ok(Math.abs(pool[0]!.score - 300 / 1_000_000) < 1e-15);
  const a = await store.rollups({ since: T0, address: A });
  assert.deepEqual(a.map((p) => [p.minute, p.shares, p.difficulty]), [
    [T0, 2, 300n],
    [T0 + MINUTE, 1, 800n],
  ]);
  const ax = await store.rollups({ since: T0, address: A, worker: "x" });
  assert.deepEqual(ax.map((p) => p.difficulty), [100n, 800n]);
  assert.deepEqual(await store.rollups({ since: T0, until: T0 + MINUTE, address: B }), []);
  const totals = await store.workerTotals({ since: T0 });
  assert.deepEqual(totals.map((t) => [t.address, t.worker, t.shares, t.difficulty, t.lastMinute]), [
    [A, "x", 2, 900n, T0 + MINUTE],
    [A, "y", 1, 200n, T0],
    [B, "x", 1, 400n, T0 + MINUTE],
  ]);
  assert.equal((await store.workerTotals({ since: T0, address: B })).length, 1);
  assert.equal((await store.workerTotals({ since: T0 + 2 * MINUTE })).length, 0);
  await assert.rejects(store.rollups({ since: T0, worker: "x" }), TypeError);
  await assert.rejects(store.rollups({ since: -5 }), RangeError);
});

contract("prunes old shares but keeps the PPLNS window of pending blocks", async (_f, store) => {
  // One share per minute for 10 minutes, each worth 0.5 network difficulty.
  const shares = Array.from(
    { length: 10 },
    (_, i) => sampleShare({ time: T0 + i * MINUTE, difficulty: 500n, networkDifficulty: 1000n }),
  );
  await Promise.all(shares.map((s) => store.recordShare(s)));
  // A pending block at minute 6: its window of 2.0 covers minutes 2..5 (the block's own minute
  // is not counted, so the cut is conservative).
  await store.recordBlock(sampleBlock({ time: T0 + 6 * MINUTE + 10 }));
  const r1 = await store.prune({
    sharesBefore: T0 + 9 * MINUTE,
    pplnsWindow: 2,
    rollupsBefore: 0,
    now: T0 + 20 * MINUTE,
  });
  assert.equal(r1.shareCutoff, T0 + 2 * MINUTE);
  assert.equal(r1.shares, 2);
  assert.equal(r1.rollups, 0);
  assert.equal(await store.countShares(), 8);
  // Retention says go, the window says keep: kept. Rollups of minutes 0..3 go (pool + worker).
  const r2 = await store.prune({
    sharesBefore: T0 + 5 * MINUTE,
    pplnsWindow: 2,
    rollupsBefore: T0 + 4 * MINUTE,
    now: T0 + 20 * MINUTE,
  });
  assert.equal(r2.shares, 0);
  assert.equal(r2.rollups, 8);
  // Once the block is confirmed, the window ends now (minute 20): minutes 8, 9 and earlier.
  const [block] = await store.listBlocks();
  await store.updateBlock(block!.hash, { status: "confirmed" });
  const r3 = await store.prune({
    sharesBefore: T0 + 9 * MINUTE,
    pplnsWindow: 2,
    rollupsBefore: 0,
    now: T0 + 20 * MINUTE,
  });
  // Rollups of minutes 0..3 are gone, so the window (9, 8, 7, 6 = 2.0) starts at minute 6.
  assert.equal(r3.shareCutoff, T0 + 6 * MINUTE);
  assert.equal(r3.shares, 4);
  assert.deepEqual((await store.listShares()).map((s) => (s.time - T0) / MINUTE), [9, 8, 7, 6]);
  // A window the shares cannot fill protects everything.
  const r4 = await store.prune({
    sharesBefore: T0 + 99 * MINUTE,
    pplnsWindow: 50,
    rollupsBefore: 0,
  });
  assert.equal(r4.shareCutoff, -Infinity);
  assert.equal(r4.shares, 0);
  // No window: only the retention counts.
  const r5 = await store.prune({ sharesBefore: T0 + 8 * MINUTE, pplnsWindow: 0, rollupsBefore: 0 });
  assert.equal(r5.shares, 2);
  await assert.rejects(
    store.prune({ sharesBefore: 0, pplnsWindow: -1, rollupsBefore: 0 }),
    RangeError,
  );
});

contract("rejects writes after close", async (f) => {
  const store = await f.open();
  await store.close();
  await assert.rejects(store.recordShare(sampleShare()), StoreUnavailableError);
  await assert.rejects(store.countShares(), StoreUnavailableError);
});

contract("flush commits at once and close commits what is queued", async (f) => {
  const store = await f.open({ batchDelayMs: 10_000 });
  const pending = store.recordShare(sampleShare());
  await store.flush();
  await pending;
  const queued = Array.from({ length: 5 }, () => store.recordShare(sampleShare()));
  await store.close();
  assert.deepEqual(await Promise.all(queued), new Array(5).fill(undefined));
  const again = await f.open();
  try {
    assert.equal(await again.countShares(), 6);
  } finally {
    await again.close();
  }
});
