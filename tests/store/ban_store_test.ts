/**
 * IP bans in the store (`Store.recordBan`, `Store.listBans`), run against SQLite (writer thread
 * and inline) and PostgreSQL (when VBKPOOL_TEST_POSTGRES_URL is set; otherwise skipped with a
 * message): one row per IP where the latest decision wins, the listing of the bans in force and
 * the incremental listing of the rows written since a cursor (by the store's clock, in write order
 * then by ip), the store's clock read with each listing (`storeNow`), one batch of many writes for
 * the same IPs, the pruning of the rows ended a day before (`Store.prune`, not `recordBan`),
 * restarts, two stores on one database, and input checks.
 *
 * Nothing here asserts on an exact wall-clock value: `written_at` (read with raw SQL) is only
 * compared with other `written_at` values, with the listings' cursors and with `storeNow`; of
 * `storeNow` only that it is an integer at or past the cursor, and within 10 minutes of this
 * host's clock (the test PostgreSQL server runs here; a gross error, such as seconds for ms, or 0,
 * fails).
 */
import assert from "node:assert/strict";
import type { BanListing, BanListQuery, Store, StoredBan } from "../../store/mod.ts";
import { waitUntil } from "../_wait.ts";
import { contractTest, type Fixture, warnIfNoPostgres } from "./_backends.ts";
import { sampleShare } from "./_samples.ts";

warnIfNoPostgres();

const T0 = 1_700_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function contract(title: string, fn: (f: Fixture, store: Store) => Promise<void>): void {
  contractTest("Store bans", title, fn);
}

/** A ban of `ip` from T0 for an hour; fields can be overridden. */
function ban(ip: string, overrides: Partial<StoredBan> = {}): StoredBan {
  return {
    ip,
    since: T0,
    until: T0 + HOUR,
    reason: "invalid_shares",
    offences: 3,
    lifted: false,
    updatedAt: T0,
    instance: 0,
    ...overrides,
  };
}

/** The lift of `ip`'s ban `old` at `at`. */
function lift(old: StoredBan, at: number, instance = old.instance): StoredBan {
  return { ...old, lifted: true, updatedAt: at, instance };
}

/** A listing without its clock reading (`storeNow`, which {@linkcode list} checks). */
type Listed = Pick<BanListing, "bans" | "cursor">;

/**
 * Checks the fields of `listing` other than the rows and the cursor: `storeNow`, the store's
 * clock at the read, is a safe integer at or past the cursor and close to this host's clock (read
 * by the caller before and after the call), and there is no other field. Returns the rest, which
 * the tests compare whole.
 */
function withoutClock(listing: BanListing, before: number, after: number): Listed {
  const { bans, cursor, storeNow, ...rest } = listing;
  assert.deepEqual(rest, {}, "no other field");
  assert.ok(Number.isSafeInteger(storeNow), `storeNow is an integer: ${storeNow}`);
  assert.ok(storeNow >= cursor, `storeNow ${storeNow} >= cursor ${cursor}`);
  assert.ok(
    storeNow >= before - 10 * MINUTE && storeNow <= after + 10 * MINUTE,
    `storeNow ${storeNow} near this host's clock (${before}..${after})`,
  );
  return { bans, cursor };
}

/** `store.listBans(query)`, its `storeNow` checked and left out. */
async function list(store: Store, query: BanListQuery): Promise<Listed> {
  const before = Date.now();
  const listing = await store.listBans(query);
  return withoutClock(listing, before, Date.now());
}

/** Every row written since the start that is in force at `now` or lifted, in write order. */
async function listAll(store: Store, now = T0): Promise<StoredBan[]> {
  return (await list(store, { now, writtenSince: 0 })).bans;
}

/** The bans in force at `now` (no `writtenSince`). */
async function inForce(store: Store, now = T0): Promise<StoredBan[]> {
  return (await list(store, { now })).bans;
}

/** The IPs of every row of the table, whether listed or not. */
async function storedIps(f: Fixture): Promise<string[]> {
  const rows = await f.query("SELECT ip FROM bans");
  return rows.map((r) => r.ip as string).sort();
}

/** `written_at` of the row of `ip` (raw SQL: it is not a field of StoredBan). */
async function writtenAt(f: Fixture, ip: string): Promise<number> {
  const rows = await f.query(`SELECT written_at FROM bans WHERE ip = '${ip}'`);
  assert.equal(rows.length, 1, `one row for ${ip}`);
  return Number(rows[0]!.written_at);
}

/**
 * Checks `listing` against the table: its rows are sorted by (written_at, ip in byte order; the
 * IPs here are ASCII, so JavaScript's string order is byte order) and its cursor is the largest
 * written_at among them, 0 when it is empty.
 */
async function assertListingOrder(f: Fixture, listing: Listed): Promise<void> {
  const rows = await f.query("SELECT ip, written_at FROM bans");
  const at = new Map(rows.map((r) => [r.ip as string, Number(r.written_at)]));
  const keys = listing.bans.map((b) => ({ ip: b.ip, at: at.get(b.ip)! }));
  const sorted = [...keys].sort((x, y) => x.at - y.at || (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0));
  assert.deepEqual(keys, sorted, "listed by written_at, then ip");
  assert.equal(listing.cursor, Math.max(0, ...keys.map((k) => k.at)), "cursor");
}

/**
 * Wait until this host's clock is more than 1 ms past its reading at the call, so that a write
 * started afterwards is taken more than 1 ms (real time) after every write finished before the
 * call: its written_at (a millisecond clock running at the same rate, the writer's Date.now() or
 * PostgreSQL's clock_timestamp(), truncated or rounded) is then strictly larger.
 */
async function clockPast(): Promise<void> {
  const start = Date.now();
  await waitUntil(() => Date.now() > start + 1, `the clock to pass ${start} + 1 ms`, {
    timeoutMs: 5_000,
    intervalMs: 1,
  });
}

/** Record `bans` one after the other, each with a strictly later written_at than the one before. */
async function recordInTurn(store: Store, bans: readonly StoredBan[]): Promise<void> {
  for (const b of bans) {
    await clockPast();
    await store.recordBan(b);
  }
}

contract("stores every field of a ban exactly, and nothing more", async (f, store) => {
  const v4 = ban("192.0.2.7", { offences: 0, instance: 2 ** 31 - 1, reason: "manual" });
  const v6 = ban("2001:db8::1", {
    since: Number.MAX_SAFE_INTEGER - 1,
    until: Number.MAX_SAFE_INTEGER,
    updatedAt: T0 + 1,
    offences: 2 ** 31 - 1,
    reason: "r".repeat(200),
    instance: 3,
  });
  const long = ban("f".repeat(200), { updatedAt: 0, since: 0 });
  // One batch, applied in this order, which is also the ips' byte order: whether their written_at
  // tie or not, the listing has this order. deepEqual shows the rows have exactly the StoredBan
  // fields (no written_at).
  await Promise.all([store.recordBan(v4), store.recordBan(v6), store.recordBan(long)]);
  assert.deepEqual(await inForce(store), [v4, v6, long]);
  assert.deepEqual(await listAll(store), [v4, v6, long]);
  const lifted = lift(v4, T0 + 5);
  await store.recordBan(lifted);
  assert.deepEqual(await inForce(store), [v6, long]);
  assert.deepEqual(await listAll(store), [v6, long, lifted]);
  for (const b of await listAll(store)) {
    assert.deepEqual(Object.keys(b).sort(), Object.keys(v4).sort());
  }
  // A decision at the latest time there is prunes nothing by itself; a prune at that time deletes
  // every row that ended and was decided more than a day before it.
  const last = ban("::ffff:192.0.2.7", {
    since: Number.MAX_SAFE_INTEGER,
    until: Number.MAX_SAFE_INTEGER,
    updatedAt: Number.MAX_SAFE_INTEGER,
  });
  await store.recordBan(last);
  assert.deepEqual(await listAll(store), [v6, long, lifted, last]);
  const pruned = await store.prune({
    sharesBefore: 0,
    rollupsBefore: 0,
    pplnsWindow: 0,
    now: Number.MAX_SAFE_INTEGER,
  });
  assert.deepEqual(pruned, { shares: 0, rollups: 0, bans: 2, shareCutoff: 0 });
  assert.deepEqual(await listAll(store), [v6, last]);
  assert.deepEqual(await storedIps(f), ["2001:db8::1", "::ffff:192.0.2.7"]);
});

contract("copies a ban before recordBan returns (the caller may reuse it)", async (_f, store) => {
  const b = ban("192.0.2.8");
  const stored = store.recordBan(b);
  b.ip = "192.0.2.99";
  b.lifted = true;
  await stored;
  assert.deepEqual(await listAll(store), [ban("192.0.2.8")]);
  assert.deepEqual(await inForce(store), [ban("192.0.2.8")]);
});

contract(
  "keeps one row per IP: a later decision replaces, an older one does not",
  async (f, store) => {
    // A ban, then its lift decided later: the lift replaces it.
    const a = ban("198.51.100.1");
    await store.recordBan(a);
    await store.recordBan(lift(a, T0 + MINUTE, 1));
    assert.deepEqual(await listAll(store), [lift(a, T0 + MINUTE, 1)]);
    // The other order: the lift lands first, the older ban after it is not kept.
    const b = ban("198.51.100.2");
    await store.recordBan(lift(b, T0 + MINUTE, 1));
    await store.recordBan(b);
    // A later ban after a lift applies again; an older lift written after it does not undo it.
    const c = ban("198.51.100.3");
    await store.recordBan(lift(c, T0 + MINUTE));
    const again = ban("198.51.100.3", { since: T0 + 2 * MINUTE, updatedAt: T0 + 2 * MINUTE });
    await store.recordBan(again);
    await store.recordBan(lift(c, T0 + MINUTE + 1));
    // Written in the ips' order, so the order holds whether written_at tie or not.
    assert.deepEqual(await listAll(store), [
      lift(a, T0 + MINUTE, 1),
      lift(b, T0 + MINUTE, 1),
      again,
    ]);
    assert.deepEqual(await inForce(store), [again]);
    // An equal decision time: the one written last wins.
    const d = ban("198.51.100.4", { reason: "first" });
    await store.recordBan(d);
    await store.recordBan({ ...d, reason: "second", offences: 9 });
    // Both orders inside one batch too (queued together, applied in order).
    const e = ban("198.51.100.5");
    const g = ban("198.51.100.6");
    await Promise.all([
      store.recordBan(e),
      store.recordBan(lift(e, T0 + 1)),
      store.recordBan(lift(g, T0 + 1)),
      store.recordBan(g),
    ]);
    const listing = await list(store, { now: T0, writtenSince: 0 });
    await assertListingOrder(f, listing);
    const listed = listing.bans;
    assert.deepEqual(listed.find((x) => x.ip === d.ip), { ...d, reason: "second", offences: 9 });
    assert.deepEqual(listed.filter((x) => x.ip === e.ip || x.ip === g.ip), [
      lift(e, T0 + 1),
      lift(g, T0 + 1),
    ]);
    assert.deepEqual((await inForce(store)).map((x) => x.ip), [again.ip, d.ip]);
    const rows = await f.query("SELECT COUNT(*) AS n FROM bans");
    assert.equal(Number(rows[0]!.n), 6, "one row per IP");
  },
);

contract(
  "one batch of many writes for the same and other IPs keeps the winning decision per IP",
  async (f, store) => {
    // 20 IPs, in an order that is not their byte order, each decided 10 times in one batch of 200
    // (interleaved, decision times out of order, ties among them; bans and lifts).
    const ips = Array.from(
      { length: 20 },
      (_, i) => (i % 4 === 3 ? `2001:db8::${(19 - i).toString(16)}` : `198.51.100.${200 - i}`),
    );
    const decisions = Array.from({ length: 200 }, (_, k) => {
      const ip = ips[(k * 7) % 20]!;
      const b = ban(ip, { updatedAt: T0 + ((k * 37) % 7), offences: k, reason: `r${k}` });
      return k % 3 === 0 ? lift(b, b.updatedAt) : b;
    });
    // Stored before: a later decision for ips[0] (the batch loses), an equal one for ips[1] (the
    // batch's last equal one wins).
    const pre = [
      ban(ips[0]!, { updatedAt: T0 + 100, reason: "later" }),
      ban(ips[1]!, { updatedAt: T0 + 6, reason: "equal" }),
    ];
    await Promise.all(pre.map((b) => store.recordBan(b)));
    const w0 = await writtenAt(f, ips[0]!);
    // The winner per IP: the latest decision, of equal ones the one written last.
    const expected = new Map(pre.map((b) => [b.ip, b]));
    for (const d of decisions) {
      const kept = expected.get(d.ip);
      if (kept === undefined || d.updatedAt >= kept.updatedAt) expected.set(d.ip, d);
    }
    // The data holds the cases meant: the batch replaces ips[1]; ties decide some IPs.
    assert.notEqual(expected.get(ips[1]!), pre[1]);
    assert.ok(ips.some((ip) => {
      const w = expected.get(ip)!;
      return decisions.filter((d) => d.ip === ip && d.updatedAt === w.updatedAt).length > 1;
    }));
    // Meanwhile another store writes older decisions for the same IPs in the reverse order (rows
    // locked in opposite orders by two transactions would deadlock): they never win.
    const second = await f.open();
    try {
      const older = ips.toReversed().map((ip, i) => ban(ip, { updatedAt: T0 - 1 - i }));
      await Promise.all([
        ...decisions.map((d) => store.recordBan(d)),
        ...older.map((d) => second.recordBan(d)),
      ]);
    } finally {
      await second.close();
    }
    const byIp = (x: StoredBan, y: StoredBan) => (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0);
    const listing = await list(store, { now: T0, writtenSince: 0 });
    await assertListingOrder(f, listing);
    assert.deepEqual(listing.bans.toSorted(byIp), [...expected.values()].sort(byIp));
    assert.deepEqual(
      (await inForce(store)).toSorted(byIp),
      [...expected.values()].filter((b) => !b.lifted).sort(byIp),
    );
    assert.equal(await writtenAt(f, ips[0]!), w0, "the losing writes left ips[0] as it was");
    const rows = await f.query("SELECT COUNT(*) AS n FROM bans");
    assert.equal(Number(rows[0]!.n), 20, "one row per IP");
  },
);

contract(
  "storeNow is the store's clock at the read: at or past every earlier write, not a later one",
  async (f, store) => {
    // Empty table: the clock is read all the same (list checks it is near this host's).
    assert.deepEqual(await list(store, { now: T0 }), { bans: [], cursor: 0 });
    const a = ban("192.0.2.100");
    const b = lift(ban("192.0.2.101"), T0 + 1);
    await recordInTurn(store, [a, b]);
    const newest = Number((await f.query("SELECT MAX(written_at) AS m FROM bans"))[0]!.m);
    assert.equal(newest, await writtenAt(f, b.ip));
    // Whatever a listing holds, even nothing (cursor 0), its storeNow is past every write before.
    const queries: BanListQuery[] = [
      { now: T0 },
      { now: T0, writtenSince: 0 },
      { now: T0, writtenSince: newest + 1 },
      { now: T0 + 2 * HOUR },
    ];
    const second = await f.open();
    try {
      for (const s of [store, second]) {
        for (const query of queries) {
          const before = Date.now();
          const listing = await s.listBans(query);
          withoutClock(listing, before, Date.now());
          assert.ok(
            listing.storeNow >= newest,
            `${Deno.inspect(query)}: storeNow ${listing.storeNow} >= newest ${newest}`,
          );
        }
      }
      // A write after a read is stamped at or after its storeNow (the same clock): listing from
      // there finds it.
      const read = await second.listBans({ now: T0, writtenSince: newest + 1 });
      assert.deepEqual(read.bans, []);
      await clockPast();
      const c = ban("192.0.2.102");
      await store.recordBan(c);
      const wc = await writtenAt(f, c.ip);
      assert.ok(wc >= read.storeNow, `written_at ${wc} >= storeNow ${read.storeNow}`);
      assert.deepEqual(await list(second, { now: T0, writtenSince: read.storeNow }), {
        bans: [c],
        cursor: wc,
      });
    } finally {
      await second.close();
    }
  },
);

contract(
  "lists in write order, not by decision time or ip, ties by ip in byte order",
  async (f, store) => {
    // Written newest decision first, and against the ips' order.
    const third = ban("10.1.0.3", { updatedAt: T0 + 30 });
    const first = lift(ban("10.1.0.1"), T0 + 20);
    const second = ban("10.1.0.2", { updatedAt: T0 + 10 });
    await recordInTurn(store, [third, first, second]);
    const [w3, w1, w2] = [
      await writtenAt(f, third.ip),
      await writtenAt(f, first.ip),
      await writtenAt(f, second.ip),
    ];
    assert.ok(w3 < w1 && w1 < w2, `written_at in write order: ${[w3, w1, w2]}`);
    let listing = await list(store, { now: T0, writtenSince: 0 });
    assert.deepEqual(listing, { bans: [third, first, second], cursor: w2 });
    assert.deepEqual(await list(store, { now: T0 }), { bans: [third, second], cursor: w2 });
    // Replaced by a later decision, a row moves to the end.
    const again = ban("10.1.0.3", { updatedAt: T0 + 40, offences: 4 });
    await recordInTurn(store, [again]);
    const w3again = await writtenAt(f, third.ip);
    assert.ok(w3again > w2, "a replaced row is written again");
    listing = await list(store, { now: T0, writtenSince: 0 });
    assert.deepEqual(listing, { bans: [first, second, again], cursor: w3again });
    assert.deepEqual(await list(store, { now: T0 }), { bans: [second, again], cursor: w3again });
    // Equal written_at (set by hand, to the newest one there is): byte order of the ip, where
    // "10" < "9" and "D" < "d" (PostgreSQL's collation of the database does not apply).
    const tied = ["10.1.0.9", "10.1.0.10", "2001:db8::d", "2001:DB8::D"].map((ip) => ban(ip));
    await Promise.all(tied.map((b) => store.recordBan(b)));
    const newest = Math.max(...await Promise.all(tied.map((b) => writtenAt(f, b.ip))));
    await f.query(
      `UPDATE bans SET written_at = ${newest} WHERE ip IN (${
        tied.map((b) => `'${b.ip}'`).join(", ")
      })`,
    );
    listing = await list(store, { now: T0, writtenSince: newest });
    assert.deepEqual(listing.bans.map((b) => b.ip), [
      "10.1.0.10",
      "10.1.0.9",
      "2001:DB8::D",
      "2001:db8::d",
    ]);
    assert.equal(listing.cursor, newest);
    listing = await list(store, { now: T0 });
    await assertListingOrder(f, listing);
    assert.deepEqual(listing.bans.map((b) => b.ip), [
      "10.1.0.2",
      "10.1.0.3",
      "10.1.0.10",
      "10.1.0.9",
      "2001:DB8::D",
      "2001:db8::d",
    ]);
  },
);

contract(
  "lists bans in force at now, and with writtenSince the rows in force or lifted",
  async (_f, store) => {
    const ended = ban("203.0.113.1", { until: T0 + MINUTE });
    const inForceNow = ban("203.0.113.2", { until: T0 + MINUTE + 1 });
    const future = ban("203.0.113.3", { since: T0 + HOUR, until: T0 + 2 * HOUR });
    const early = lift(ban("203.0.113.4"), T0 + 10);
    const late = lift(ban("203.0.113.5"), T0 + 20);
    const tieB = ban("203.0.113.9", { updatedAt: T0 + 5, until: T0 + HOUR });
    const tieA = ban("203.0.113.10", { updatedAt: T0 + 5, until: T0 + HOUR });
    await recordInTurn(store, [ended, inForceNow, future, early, late, tieB, tieA]);
    const now = T0 + MINUTE;
    // An ended ban (its end at or before now) is not listed, nor is a lift; one that ends after
    // now is, even if it has not started.
    assert.deepEqual(await inForce(store, now), [inForceNow, future, tieB, tieA]);
    assert.deepEqual(await inForce(store, now - 1), [ended, inForceNow, future, tieB, tieA]);
    assert.deepEqual(await list(store, { now: T0 + 2 * HOUR }), { bans: [], cursor: 0 });
    // With writtenSince: the lifts too, whenever their ban ends; ended bans still not.
    assert.deepEqual(await listAll(store, now), [inForceNow, future, early, late, tieB, tieA]);
    assert.deepEqual(await listAll(store, now - 1), [
      ended,
      inForceNow,
      future,
      early,
      late,
      tieB,
      tieA,
    ]);
    assert.deepEqual(await listAll(store, T0 + 2 * HOUR), [early, late]);
    assert.deepEqual(await listAll(store, Number.MAX_SAFE_INTEGER), [early, late]);
  },
);

contract(
  "the cursor is the newest written_at listed, 0 when nothing is",
  async (f, store) => {
    assert.deepEqual(await list(store, { now: T0 }), { bans: [], cursor: 0 });
    assert.deepEqual(await list(store, { now: T0, writtenSince: 0 }), { bans: [], cursor: 0 });
    const a = ban("192.0.2.60");
    const b = ban("192.0.2.61");
    const c = lift(ban("192.0.2.62"), T0 + 1);
    await recordInTurn(store, [a, b, c]);
    const [wa, wb, wc] = [
      await writtenAt(f, a.ip),
      await writtenAt(f, b.ip),
      await writtenAt(f, c.ip),
    ];
    assert.ok(wa < wb && wb < wc, `written_at in write order: ${[wa, wb, wc]}`);
    const max = await f.query("SELECT MAX(written_at) AS m FROM bans");
    assert.equal(Number(max[0]!.m), wc);
    // The lift is not a ban in force: the newest listed is b.
    assert.deepEqual(await list(store, { now: T0 }), { bans: [a, b], cursor: wb });
    assert.deepEqual(await list(store, { now: T0, writtenSince: 0 }), {
      bans: [a, b, c],
      cursor: wc,
    });
    assert.deepEqual(await list(store, { now: T0, writtenSince: wa + 1 }), {
      bans: [b, c],
      cursor: wc,
    });
    // Nothing listed: 0, also when rows exist.
    assert.deepEqual(await list(store, { now: T0, writtenSince: wc + 1 }), {
      bans: [],
      cursor: 0,
    });
    assert.deepEqual(await list(store, { now: T0 + HOUR }), { bans: [], cursor: 0 });
    assert.deepEqual(
      await list(store, { now: T0, writtenSince: Number.MAX_SAFE_INTEGER }),
      { bans: [], cursor: 0 },
    );
  },
);

contract(
  "writtenSince lists only what was written since a cursor, also by another store",
  async (f, first) => {
    const x = ban("192.0.2.3");
    const y = ban("192.0.2.2");
    await recordInTurn(first, [x, y]);
    const start = await list(first, { now: T0, writtenSince: 0 });
    assert.deepEqual(start.bans, [x, y]);
    const c1 = start.cursor;
    assert.equal(c1, await writtenAt(f, y.ip));
    const second = await f.open();
    try {
      // The other process bans z, then lifts x (ip order would list x first).
      const z = ban("192.0.2.9", { instance: 1 });
      const xLifted = lift(x, T0 + 1, 1);
      await recordInTurn(second, [z, xLifted]);
      const next = await list(first, { now: T0, writtenSince: c1 + 1 });
      assert.deepEqual(next.bans, [z, xLifted]);
      const c2 = next.cursor;
      assert.equal(c2, await writtenAt(f, x.ip));
      assert.ok(c2 > c1);
      // writtenSince = a cursor lists the rows written at it again.
      assert.deepEqual(await list(first, { now: T0, writtenSince: c1 }), {
        bans: [y, z, xLifted],
        cursor: c2,
      });
      assert.deepEqual(await list(first, { now: T0, writtenSince: c2 }), {
        bans: [xLifted],
        cursor: c2,
      });
      assert.deepEqual(await list(first, { now: T0, writtenSince: c2 + 1 }), {
        bans: [],
        cursor: 0,
      });
      // Both stores read the same; the bans in force leave the lift out.
      assert.deepEqual(
        await list(second, { now: T0, writtenSince: c1 + 1 }),
        await list(first, { now: T0, writtenSince: c1 + 1 }),
      );
      assert.deepEqual(await inForce(first), [y, z]);
      assert.deepEqual(await inForce(second), [y, z]);
      // A write of the first store after that is listed from c2 + 1 on both.
      const w = ban("192.0.2.1");
      await recordInTurn(first, [w]);
      for (const s of [first, second]) {
        assert.deepEqual(await list(s, { now: T0, writtenSince: c2 + 1 }), {
          bans: [w],
          cursor: await writtenAt(f, w.ip),
        });
      }
    } finally {
      await second.close();
    }
  },
);

contract(
  "a losing (older) write moves neither the row nor its written_at",
  async (f, store) => {
    const a = ban("192.0.2.70", { since: T0 + 10, updatedAt: T0 + 10 });
    await store.recordBan(a);
    const w1 = await writtenAt(f, a.ip);
    const c = (await list(store, { now: T0, writtenSince: 0 })).cursor;
    assert.equal(c, w1);
    // Older decisions written later, alone and in one batch with a write that wins elsewhere.
    await recordInTurn(store, [ban(a.ip, { reason: "older" }), lift(a, T0 + 9)]);
    const b = ban("192.0.2.71");
    await clockPast();
    await Promise.all([store.recordBan(lift(a, T0 + 5)), store.recordBan(b)]);
    assert.equal(await writtenAt(f, a.ip), w1, "written_at unchanged");
    const wb = await writtenAt(f, b.ip);
    assert.ok(wb > w1);
    assert.deepEqual(await list(store, { now: T0, writtenSince: c + 1 }), {
      bans: [b],
      cursor: wb,
    });
    assert.deepEqual(await list(store, { now: T0 }), { bans: [a, b], cursor: wb });
    // An equal decision time wins: written again, listed again.
    const equal = { ...a, reason: "equal", offences: 5 };
    await recordInTurn(store, [equal]);
    const w2 = await writtenAt(f, a.ip);
    assert.ok(w2 > wb);
    assert.deepEqual(await list(store, { now: T0, writtenSince: wb + 1 }), {
      bans: [equal],
      cursor: w2,
    });
    // A later lift too; an older ban after it again moves nothing.
    const lifted = lift(equal, T0 + 11);
    await recordInTurn(store, [lifted, a]);
    const w3 = await writtenAt(f, a.ip);
    assert.ok(w3 > w2);
    assert.deepEqual(await list(store, { now: T0, writtenSince: w2 + 1 }), {
      bans: [lifted],
      cursor: w3,
    });
    assert.deepEqual(await list(store, { now: T0 }), { bans: [b], cursor: wb });
  },
);

contract(
  "an ended ban that was not lifted is never listed, its later lift is",
  async (f, store) => {
    const e = ban("192.0.2.80", { until: T0 + MINUTE });
    await store.recordBan(e);
    const now = T0 + MINUTE;
    // Still in force before its end.
    const before = await list(store, { now: now - 1, writtenSince: 0 });
    assert.deepEqual(before, { bans: [e], cursor: await writtenAt(f, e.ip) });
    const c0 = before.cursor;
    assert.deepEqual(await list(store, { now }), { bans: [], cursor: 0 });
    assert.deepEqual(await list(store, { now, writtenSince: 0 }), { bans: [], cursor: 0 });
    assert.deepEqual(await list(store, { now, writtenSince: c0 }), { bans: [], cursor: 0 });
    // Decided again (still ended): written again, still not listed.
    const again = { ...e, offences: 4, updatedAt: T0 + 1 };
    await recordInTurn(store, [again]);
    assert.ok(await writtenAt(f, e.ip) > c0);
    assert.deepEqual(await list(store, { now, writtenSince: c0 + 1 }), { bans: [], cursor: 0 });
    // Its lift is listed incrementally, even though the ban has ended.
    const lifted = lift(again, T0 + 2 * MINUTE);
    await recordInTurn(store, [lifted]);
    const w = await writtenAt(f, e.ip);
    assert.deepEqual(await list(store, { now, writtenSince: c0 + 1 }), {
      bans: [lifted],
      cursor: w,
    });
    assert.deepEqual(await list(store, { now, writtenSince: w }), { bans: [lifted], cursor: w });
    assert.deepEqual(await list(store, { now }), { bans: [], cursor: 0 });
    assert.deepEqual(await list(store, { now: now - 1 }), { bans: [], cursor: 0 });
  },
);

/** `store.prune` of the bans only, at `now`: shares and rollups before 0 (none) are kept. */
async function pruneBans(store: Store, now: number): Promise<number> {
  const r = await store.prune({ sharesBefore: 0, rollupsBefore: 0, pplnsWindow: 0, now });
  assert.deepEqual(r, { shares: 0, rollups: 0, bans: r.bans, shareCutoff: 0 });
  return r.bans;
}

contract(
  "prune deletes the rows that ended and were decided more than a day before now",
  async (f, store) => {
    // Old shares and their rollups, which a prune of the bans alone (before 0) leaves alone.
    await store.recordShare(sampleShare({ time: T0 - 5 * DAY }));
    const rollups = async () => Number((await f.query("SELECT COUNT(*) AS n FROM rollups"))[0]!.n);
    const rollupRows = await rollups();
    assert.ok(rollupRows > 0);
    const rows = [
      // Ended and decided more than a day before T0: deleted by a prune at T0.
      ban("10.0.0.1", { since: T0 - 3 * DAY, until: T0 - 2 * DAY, updatedAt: T0 - 3 * DAY }),
      lift(ban("10.0.0.2", { since: T0 - 3 * DAY, until: T0 - 2 * DAY }), T0 - 2 * DAY),
      // Decided long ago, but it has not ended a day before: kept.
      ban("10.0.0.3", { since: T0 - 3 * DAY, until: T0, updatedAt: T0 - 3 * DAY }),
      // Ended long ago, but lifted less than a day before: kept.
      lift(ban("10.0.0.4", { since: T0 - 3 * DAY, until: T0 - 2 * DAY }), T0 - DAY + 1),
      // Ended and decided exactly a day before (not more): kept.
      ban("10.0.0.5", { since: T0 - 2 * DAY, until: T0 - DAY, updatedAt: T0 - DAY }),
      // Lifted long ago, but the ban it lifted would still run: kept.
      lift(ban("10.0.0.6", { since: T0 - 3 * DAY, until: T0 + 3 * DAY }), T0 - 2 * DAY),
      // One ms past a day on both: deleted; on one of them only: kept.
      ban("10.0.0.7", { since: T0 - 2 * DAY, until: T0 - DAY - 1, updatedAt: T0 - DAY - 1 }),
      ban("10.0.0.8", { since: T0 - 2 * DAY, until: T0 - DAY - 1, updatedAt: T0 - DAY }),
      lift(ban("10.0.1.8", { since: T0 - 2 * DAY, until: T0 - DAY }), T0 - DAY - 1),
    ];
    // Oldest decision first, then a decision at T0 and one two days on: recordBan prunes nothing.
    for (const b of [...rows].sort((x, y) => x.updatedAt - y.updatedAt)) await store.recordBan(b);
    const now = ban("10.0.0.9", { updatedAt: T0 });
    await store.recordBan(now);
    await store.recordBan(ban("10.0.2.9", { updatedAt: T0 + 2 * DAY, until: T0 + 3 * DAY }));
    const all = [...rows.map((b) => b.ip), "10.0.0.9", "10.0.2.9"].sort();
    assert.deepEqual(await storedIps(f), all);
    // A prune before any of them ended a day: nothing.
    assert.equal(await pruneBans(store, T0 - DAY), 0);
    assert.deepEqual(await storedIps(f), all);
    // A prune at T0.
    assert.equal(await pruneBans(store, T0), 3);
    assert.deepEqual(await storedIps(f), [
      "10.0.0.3",
      "10.0.0.4",
      "10.0.0.5",
      "10.0.0.6",
      "10.0.0.8",
      "10.0.0.9",
      "10.0.1.8",
      "10.0.2.9",
    ]);
    // Again: nothing more.
    assert.equal(await pruneBans(store, T0), 0);
    // The shares and rollups are untouched.
    assert.equal(await store.countShares(), 1);
    assert.equal(await rollups(), rollupRows);
    // The rows kept are listed as before; an older decision for a kept IP does not replace it.
    await store.recordBan(ban("10.0.0.9", { updatedAt: T0 - 5 * DAY, reason: "older" }));
    assert.deepEqual((await listAll(store)).find((b) => b.ip === "10.0.0.9"), now);
    // Two days on, everything that ended a day before is gone; what runs later stays.
    assert.equal(await pruneBans(store, T0 + 2 * DAY), 6);
    assert.deepEqual(await storedIps(f), ["10.0.0.6", "10.0.2.9"]);
    const listing = await list(store, { now: T0 + 2 * DAY, writtenSince: 0 });
    assert.deepEqual(listing.bans.map((b) => b.ip).sort(), ["10.0.0.6", "10.0.2.9"]);
    await assertListingOrder(f, listing);
    // The latest time there is: the rest.
    assert.equal(await pruneBans(store, Number.MAX_SAFE_INTEGER), 2);
    assert.deepEqual(await storedIps(f), []);
  },
);

contract(
  "recordBan of many old rows deletes nothing; prune deletes them in chunks",
  async (f, store) => {
    // More rows than one chunk of prune (5,000), all ended and decided long before T0, written
    // together with a later decision for one of their IPs (queued last, it wins).
    const n = 5_001;
    const old = Array.from(
      { length: n },
      (_, i) =>
        ban(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, {
          since: T0 - 10 * DAY,
          until: T0 - 9 * DAY,
          updatedAt: T0 - 9 * DAY + i,
        }),
    );
    const current = ban(old[0]!.ip, { updatedAt: T0 });
    await Promise.all([...old, current].map((b) => store.recordBan(b)));
    await store.recordBan(ban("192.0.2.91", { updatedAt: T0 + 2 * DAY, until: T0 + 3 * DAY }));
    const count = async () => Number((await f.query("SELECT COUNT(*) AS n FROM bans"))[0]!.n);
    assert.equal(await count(), n + 1, "recordBan deleted nothing");
    assert.equal(await pruneBans(store, T0), n - 1);
    assert.deepEqual(await storedIps(f), [current.ip, "192.0.2.91"]);
    assert.deepEqual(await inForce(store), [
      current,
      ban("192.0.2.91", {
        updatedAt: T0 + 2 * DAY,
        until: T0 + 3 * DAY,
      }),
    ]);
    assert.equal(await pruneBans(store, T0), 0);
    assert.equal(await count(), 2);
  },
);

contract("keeps bans and their written_at over a restart", async (f, store) => {
  const a = ban("192.0.2.20", { until: T0 + DAY });
  const b = lift(ban("192.0.2.21"), T0 + 1);
  await recordInTurn(store, [a, b]);
  const before = await list(store, { now: T0, writtenSince: 0 });
  assert.deepEqual(before.bans, [a, b]);
  await store.close();
  const reopened = await f.open();
  try {
    assert.deepEqual(await list(reopened, { now: T0, writtenSince: 0 }), before);
    assert.deepEqual(await inForce(reopened), [a]);
    await recordInTurn(reopened, [lift(a, T0 + 2)]);
  } finally {
    await reopened.close();
  }
  const third = await f.open();
  try {
    assert.deepEqual(await listAll(third), [b, lift(a, T0 + 2)]);
    assert.deepEqual(await list(third, { now: T0, writtenSince: before.cursor + 1 }), {
      bans: [lift(a, T0 + 2)],
      cursor: await writtenAt(f, a.ip),
    });
    assert.deepEqual(await inForce(third), []);
  } finally {
    await third.close();
  }
});

contract("shares bans between two stores on one database", async (f, first) => {
  const second = await f.open();
  try {
    const a = ban("192.0.2.30", { instance: 0 });
    await first.recordBan(a);
    assert.deepEqual(await listAll(second), [a]);
    assert.deepEqual(await inForce(second), [a]);
    // The other process lifts it later: both see the lift.
    await second.recordBan(lift(a, T0 + 1, 1));
    assert.deepEqual(await listAll(first), [lift(a, T0 + 1, 1)]);
    assert.deepEqual(await inForce(first), []);
    // Whichever writes last, the later decision wins.
    const b = ban("192.0.2.31", { instance: 1, updatedAt: T0 + 10, since: T0 + 10 });
    await second.recordBan(b);
    await first.recordBan(lift(b, T0 + 5, 0));
    assert.deepEqual(await listAll(first), [lift(a, T0 + 1, 1), b]);
    // Concurrent writes from both stores.
    const many = Array.from({ length: 20 }, (_, i) => ban(`198.18.0.${i}`, { updatedAt: T0 + i }));
    await Promise.all(many.map((x, i) => (i % 2 === 0 ? first : second).recordBan(x)));
    const listing = await list(first, { now: T0, writtenSince: 0 });
    assert.deepEqual(listing, await list(second, { now: T0, writtenSince: 0 }));
    assert.equal(listing.bans.length, 22);
    await assertListingOrder(f, listing);
    assert.deepEqual(await inForce(first), await inForce(second));
    assert.equal((await inForce(second)).length, 21);
  } finally {
    await second.close();
  }
});

contract("refuses bad bans and queries one by one without failing the batch", async (_f, store) => {
  const share = sampleShare();
  const good = ban("192.0.2.40");
  const writes = [store.recordShare(share), store.recordBan(good)];
  const bad: [unknown, ErrorConstructor][] = [
    [{ instance: 1.5 }, TypeError],
    [{ instance: -1 }, RangeError],
    [{ instance: "0" }, TypeError],
    [{ instance: 2 ** 31 }, RangeError],
    [{ offences: -1 }, RangeError],
    [{ offences: 0.5 }, TypeError],
    [{ offences: NaN }, TypeError],
    [{ offences: 1n }, TypeError],
    [{ ip: "" }, RangeError],
    [{ ip: "1".repeat(201) }, RangeError],
    [{ ip: 3232235777 }, TypeError],
    [{ ip: undefined }, TypeError],
    [{ reason: "" }, RangeError],
    [{ reason: "x".repeat(201) }, RangeError],
    [{ reason: null }, TypeError],
    [{ since: NaN }, TypeError],
    [{ since: -1 }, RangeError],
    [{ since: Infinity }, TypeError],
    [{ until: NaN }, TypeError],
    [{ until: -1 }, RangeError],
    [{ until: Number.MAX_SAFE_INTEGER + 1 }, RangeError],
    [{ until: "2023-11-14" }, TypeError],
    [{ updatedAt: NaN }, TypeError],
    [{ updatedAt: -1 }, RangeError],
    [{ updatedAt: 1.5 }, TypeError],
    [{ lifted: "true" }, TypeError],
    [{ lifted: 1 }, TypeError],
    [{ lifted: undefined }, TypeError],
    [{ lifted: null }, TypeError],
  ];
  const refused = bad.map(([overrides, kind]) => {
    const b = { ...ban("192.0.2.41"), ...(overrides as object) } as StoredBan;
    return assert.rejects(store.recordBan(b), (err: Error) => {
      assert.ok(err instanceof kind, `${Deno.inspect(overrides)}: ${err}`);
      assert.match(err.message, /^Cannot record ban: /);
      return true;
    });
  });
  for (const value of [null, undefined, "192.0.2.41", 5, [good]]) {
    refused.push(assert.rejects(store.recordBan(value as unknown as StoredBan), TypeError));
  }
  const queries: [unknown, ErrorConstructor][] = [
    [null, TypeError],
    [undefined, TypeError],
    [T0, TypeError],
    [{}, TypeError],
    [{ now: NaN }, TypeError],
    [{ now: -1 }, RangeError],
    [{ now: 1.5 }, TypeError],
    [{ now: String(T0) }, TypeError],
    [{ now: NaN, writtenSince: 0 }, TypeError],
    [{ now: T0, writtenSince: NaN }, TypeError],
    [{ now: T0, writtenSince: -1 }, RangeError],
    [{ now: T0, writtenSince: 0.5 }, TypeError],
    [{ now: T0, writtenSince: Infinity }, TypeError],
    [{ now: T0, writtenSince: Number.MAX_SAFE_INTEGER + 1 }, RangeError],
    [{ now: T0, writtenSince: "0" }, TypeError],
    [{ now: T0, writtenSince: 0n }, TypeError],
    [{ now: T0, writtenSince: null }, TypeError],
    [{ now: T0, writtenSince: true }, TypeError],
  ];
  for (const [query, kind] of queries) {
    refused.push(assert.rejects(store.listBans(query as never), (err: Error) => {
      assert.ok(err instanceof kind, `${Deno.inspect(query)}: ${err}`);
      assert.match(err.message, /^Cannot list bans: /);
      return true;
    }));
  }
  await Promise.all(refused);
  assert.deepEqual(await Promise.all(writes), [undefined, undefined]);
  assert.equal(await store.countShares(), 1);
  assert.deepEqual(await listAll(store), [good]);
  assert.deepEqual(await inForce(store), [good]);
  // writtenSince left out (undefined) is the listing of the bans in force.
  assert.deepEqual(
    await list(store, { now: T0, writtenSince: undefined }),
    await list(store, { now: T0 }),
  );
  assert.equal(store.stats().failed, 0);
  assert.equal(store.stats().healthy, true);
});

contract("a read-only store lists bans and refuses recordBan", async (f, store) => {
  const a = ban("192.0.2.50");
  await store.recordBan(a);
  const snapshot = await f.open({ readOnly: true });
  try {
    await store.recordBan(ban("192.0.2.51"));
    // The snapshot was taken when it opened.
    const listing = await list(snapshot, { now: T0, writtenSince: 0 });
    assert.deepEqual(listing, { bans: [a], cursor: await writtenAt(f, a.ip) });
    assert.deepEqual(await list(snapshot, { now: T0 }), listing);
    assert.deepEqual(
      await list(snapshot, { now: T0, writtenSince: listing.cursor + 1 }),
      { bans: [], cursor: 0 },
    );
    await assert.rejects(snapshot.recordBan(ban("192.0.2.52")), /open read-only/);
    await assert.rejects(snapshot.recordBan({} as StoredBan), TypeError);
    await assert.rejects(snapshot.listBans({ now: T0, writtenSince: -1 }), RangeError);
  } finally {
    await snapshot.close();
  }
  assert.deepEqual(await storedIps(f), ["192.0.2.50", "192.0.2.51"]);
});

contract("a ban never shortens a ban in force; a lift, then a ban, does", async (_f, store) => {
  // The operator's ban of a day; then an automated ban of 10 min decided later elsewhere (it had
  // not heard of the operator's yet): the day stays.
  const day = ban("198.51.100.40", { reason: "manual", until: T0 + DAY });
  const later = ban("198.51.100.40", {
    since: T0 + 1,
    updatedAt: T0 + 1,
    until: T0 + 1 + 10 * MINUTE,
  });
  await store.recordBan(day);
  await store.recordBan(later);
  assert.deepEqual((await inForce(store, T0 + HOUR)).map((b) => b.until), [T0 + DAY]);
  // The same inside one batch (both queued together), for another IP.
  const day2 = { ...day, ip: "198.51.100.41" };
  await Promise.all([store.recordBan(day2), store.recordBan({ ...later, ip: "198.51.100.41" })]);
  assert.deepEqual((await inForce(store, T0 + HOUR)).map((b) => [b.ip, b.until]), [
    ["198.51.100.40", T0 + DAY],
    ["198.51.100.41", T0 + DAY],
  ]);
  // Lifted, then banned for 10 min: the shorter ban applies.
  await store.recordBan(lift(day, T0 + 2));
  const short = ban("198.51.100.40", { since: T0 + 3, updatedAt: T0 + 3, until: T0 + 10 * MINUTE });
  await store.recordBan(short);
  assert.deepEqual(
    (await inForce(store, T0 + HOUR)).map((b) => [b.ip, b.until]),
    [["198.51.100.41", T0 + DAY]],
  );
  assert.deepEqual(
    (await inForce(store, T0 + MINUTE)).find((b) => b.ip === "198.51.100.40")?.until,
    T0 + 10 * MINUTE,
  );
});
