/**
 * IP bans in the store (`Store.recordBan`, `Store.listBans`), run against SQLite (writer thread
 * and inline) and PostgreSQL (when VBKPOOL_TEST_POSTGRES_URL is set; otherwise skipped with a
 * message): one row per IP where the latest decision wins, the listing of bans in force and
 * recent lifts, the day-old pruning, restarts, two stores on one database, and input checks.
 */
import assert from "node:assert/strict";
import type { Store, StoredBan } from "../../store/mod.ts";
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

/** Everything listed at T0 (bans in force, and every lift). */
function listAll(store: Store, now = T0): Promise<StoredBan[]> {
  return store.listBans({ now, liftedSince: 0 });
}

/** The IPs of every row of the table, whether listed or not. */
async function storedIps(f: Fixture): Promise<string[]> {
  const rows = await f.query("SELECT ip FROM bans");
  return rows.map((r) => r.ip as string).sort();
}

contract("stores every field of a ban exactly", async (f, store) => {
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
  await Promise.all([store.recordBan(v4), store.recordBan(v6), store.recordBan(long)]);
  assert.deepEqual(await store.listBans({ now: T0, liftedSince: T0 }), [long, v4, v6]);
  const lifted = lift(v4, T0 + 5);
  await store.recordBan(lifted);
  assert.deepEqual(await store.listBans({ now: T0, liftedSince: T0 }), [long, v6, lifted]);
  // The latest time there is: every row that ended before it (a day before) goes.
  const last = ban("::ffff:192.0.2.7", {
    since: Number.MAX_SAFE_INTEGER,
    until: Number.MAX_SAFE_INTEGER,
    updatedAt: Number.MAX_SAFE_INTEGER,
  });
  await store.recordBan(last);
  assert.deepEqual(await store.listBans({ now: T0, liftedSince: 0 }), [v6, last]);
  assert.deepEqual(await storedIps(f), ["2001:db8::1", "::ffff:192.0.2.7"]);
});

contract("copies a ban before recordBan returns (the caller may reuse it)", async (_f, store) => {
  const b = ban("192.0.2.8");
  const stored = store.recordBan(b);
  b.ip = "192.0.2.99";
  b.lifted = true;
  await stored;
  assert.deepEqual(await listAll(store), [ban("192.0.2.8")]);
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
    assert.deepEqual(await listAll(store), [
      lift(a, T0 + MINUTE, 1),
      lift(b, T0 + MINUTE, 1),
      again,
    ]);
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
    const listed = await store.listBans({ now: T0, liftedSince: T0 });
    assert.deepEqual(listed.find((x) => x.ip === d.ip), { ...d, reason: "second", offences: 9 });
    assert.deepEqual(listed.filter((x) => x.ip === e.ip || x.ip === g.ip), [
      lift(e, T0 + 1),
      lift(g, T0 + 1),
    ]);
    const rows = await f.query("SELECT COUNT(*) AS n FROM bans");
    assert.equal(Number(rows[0]!.n), 6, "one row per IP");
  },
);

contract(
  "lists bans in force and lifts since liftedSince, by decision then ip",
  async (_f, store) => {
    const ended = ban("203.0.113.1", { until: T0 + MINUTE });
    const inForce = ban("203.0.113.2", { until: T0 + MINUTE + 1 });
    const future = ban("203.0.113.3", { since: T0 + HOUR, until: T0 + 2 * HOUR });
    const early = lift(ban("203.0.113.4"), T0 + 10);
    const late = lift(ban("203.0.113.5"), T0 + 20);
    const tieB = ban("203.0.113.9", { updatedAt: T0 + 5, until: T0 + HOUR });
    const tieA = ban("203.0.113.10", { updatedAt: T0 + 5, until: T0 + HOUR });
    for (const b of [ended, inForce, future, early, late, tieB, tieA]) await store.recordBan(b);
    const now = T0 + MINUTE;
    // An ended ban (its end at or before now) is not listed; one that ends after now is.
    assert.deepEqual(await store.listBans({ now, liftedSince: T0 + 10 }), [
      inForce,
      future,
      tieA,
      tieB,
      early,
      late,
    ]);
    assert.deepEqual(await store.listBans({ now, liftedSince: T0 + 11 }), [
      inForce,
      future,
      tieA,
      tieB,
      late,
    ]);
    assert.deepEqual(await store.listBans({ now, liftedSince: T0 + 21 }), [
      inForce,
      future,
      tieA,
      tieB,
    ]);
    assert.deepEqual(await store.listBans({ now: T0 + MINUTE - 1, liftedSince: T0 + 21 }), [
      ended,
      inForce,
      future,
      tieA,
      tieB,
    ]);
    assert.deepEqual(await store.listBans({ now: T0 + 2 * HOUR, liftedSince: 0 }), [early, late]);
  },
);

contract(
  "deletes rows ended and decided more than a day before a new decision",
  async (f, store) => {
    const rows = [
      // Ended and decided more than a day before T0: deleted by a decision at T0.
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
    ];
    // Newest decision first: each prunes only what is older than itself, so all are stored.
    for (const b of [...rows].sort((x, y) => y.updatedAt - x.updatedAt)) await store.recordBan(b);
    assert.deepEqual(await storedIps(f), rows.map((b) => b.ip));
    const now = ban("10.0.0.9", { updatedAt: T0 });
    await store.recordBan(now);
    assert.deepEqual(await storedIps(f), [
      "10.0.0.3",
      "10.0.0.4",
      "10.0.0.5",
      "10.0.0.6",
      "10.0.0.9",
    ]);
    // An older decision written later prunes by its own time (nothing here), and is not kept over
    // the later one stored for its IP.
    await store.recordBan(ban("10.0.0.9", { updatedAt: T0 - 5 * DAY, reason: "older" }));
    assert.deepEqual(await storedIps(f), [
      "10.0.0.3",
      "10.0.0.4",
      "10.0.0.5",
      "10.0.0.6",
      "10.0.0.9",
    ]);
    assert.deepEqual((await listAll(store)).find((b) => b.ip === "10.0.0.9"), now);
    // Two days on, everything that ended a day before is gone; the new decision stays.
    const later = ban("10.0.0.10", { updatedAt: T0 + 2 * DAY, until: T0 + 3 * DAY });
    await store.recordBan(later);
    assert.deepEqual(await storedIps(f), ["10.0.0.10", "10.0.0.6"]);
  },
);

contract("keeps bans over a restart", async (f, store) => {
  const a = ban("192.0.2.20", { until: T0 + DAY });
  const b = lift(ban("192.0.2.21"), T0 + 1);
  await store.recordBan(a);
  await store.recordBan(b);
  await store.close();
  const reopened = await f.open();
  try {
    assert.deepEqual(await listAll(reopened), [a, b]);
    await reopened.recordBan(lift(a, T0 + 2));
  } finally {
    await reopened.close();
  }
  const third = await f.open();
  try {
    assert.deepEqual(await listAll(third), [b, lift(a, T0 + 2)]);
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
    // The other process lifts it later: both see the lift.
    await second.recordBan(lift(a, T0 + 1, 1));
    assert.deepEqual(await listAll(first), [lift(a, T0 + 1, 1)]);
    // Whichever writes last, the later decision wins.
    const b = ban("192.0.2.31", { instance: 1, updatedAt: T0 + 10, since: T0 + 10 });
    await second.recordBan(b);
    await first.recordBan(lift(b, T0 + 5, 0));
    assert.deepEqual(await listAll(first), [lift(a, T0 + 1, 1), b]);
    // Concurrent writes from both stores.
    const many = Array.from({ length: 20 }, (_, i) => ban(`198.18.0.${i}`, { updatedAt: T0 + i }));
    await Promise.all(many.map((x, i) => (i % 2 === 0 ? first : second).recordBan(x)));
    assert.deepEqual(await listAll(first), await listAll(second));
    assert.equal((await listAll(second)).length, 22);
  } finally {
    await second.close();
  }
});

contract("refuses bad bans one by one without failing the batch", async (_f, store) => {
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
    [{ now: NaN, liftedSince: 0 }, TypeError],
    [{ now: T0 }, TypeError],
    [{ now: T0, liftedSince: -1 }, RangeError],
    [{ now: -1, liftedSince: 0 }, RangeError],
  ];
  for (const [query, kind] of queries) {
    refused.push(assert.rejects(store.listBans(query as never), kind));
  }
  await Promise.all(refused);
  assert.deepEqual(await Promise.all(writes), [undefined, undefined]);
  assert.equal(await store.countShares(), 1);
  assert.deepEqual(await listAll(store), [good]);
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
    assert.deepEqual(await listAll(snapshot), [a]);
    await assert.rejects(snapshot.recordBan(ban("192.0.2.52")), /open read-only/);
    await assert.rejects(snapshot.recordBan({} as StoredBan), TypeError);
  } finally {
    await snapshot.close();
  }
  assert.deepEqual(await storedIps(f), ["192.0.2.50", "192.0.2.51"]);
});
