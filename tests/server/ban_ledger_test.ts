/**
 * IP bans kept in the store (`server/ban_ledger.ts`), over real TCP and a real SQLite file that
 * two pools open at once (as two instances, or a server and its successor in a hand-over, do):
 * a ban outlives its pool, a ban or lift on one pool reaches the other, and from the attacker's
 * side, the races that could bring a ban back or lift one too early, a store outage, and a
 * decision the store refuses.
 */
import assert from "node:assert/strict";
import { BanLedger, type BanLedgerOptions, type BanStore } from "../../server/ban_ledger.ts";
import type { BanInfo, BanListOptions } from "../../server/bans.ts";
import type { Pool } from "../../server/pool.ts";
import { type BanListing, openStore, type Store, type StoredBan } from "../../store/mod.ts";
import { waitUntil } from "../_wait.ts";
import { freshTemplate, startPool, testPort } from "./_pool.ts";
import { TestClient } from "./_stratum_client.ts";

const BANNED = "127.0.0.61";
const BANS = { enabled: true, exemptLoopback: false, banSeconds: 600 };

/**
 * A store whose ban writes can be made to fail, and whose reads can be held after they read (a
 * slow read that returns what the table held when it began); the rest is the real store's.
 */
class GatedStore implements BanStore {
  fail = false;
  holdReads = false;
  /** Rows each listing returned. */
  reads: number[] = [];
  /** Ban writes asked of the store. */
  writes = 0;
  heldReads: (() => void)[] = [];
  /** The `writtenSince` of each listing asked. */
  queries: (number | undefined)[] = [];
  /** Shift the store's clock as reported (a clock set back: negative). */
  clockShiftMs = 0;
  /** Reads that never answer (a lost database). */
  hangReads = false;
  constructor(readonly store: Store) {}
  /** Writes and reads work again; held reads go on. */
  release(): void {
    this.fail = false;
    this.hangReads = false;
    this.holdReads = false;
    for (const go of this.heldReads.splice(0)) go();
  }
  async recordBan(ban: StoredBan): Promise<void> {
    this.writes++;
    if (this.fail) throw new Error("store down (test)");
    await this.store.recordBan(ban);
  }
  async listBans(query: Parameters<Store["listBans"]>[0]): Promise<BanListing> {
    this.queries.push(query.writtenSince);
    if (this.hangReads) return await new Promise<never>(() => {});
    const listing = await this.store.listBans(query);
    listing.storeNow += this.clockShiftMs;
    this.reads.push(listing.bans.length);
    if (this.holdReads) await new Promise<void>((resolve) => this.heldReads.push(resolve));
    return listing;
  }
}

/** One pool on the store at `path`, with its ledger (synced by hand: no timer). */
async function instance(
  path: string,
  id: number,
  gate = false,
  options: Partial<BanLedgerOptions> = {},
  bans: BanListOptions = BANS,
) {
  const store = await openStore(path);
  const gated = new GatedStore(store);
  const ledger = new BanLedger({
    store: gate ? gated : store,
    instance: id,
    intervalMs: 0,
    ...options,
  });
  const restored = await ledger.load();
  const { pool, port } = startPool({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
    bans,
    banRecord: ledger,
  });
  for (const ban of restored) pool.adoptBan(ban, "restored");
  ledger.start(pool);
  pool.addTemplate(freshTemplate(1));
  return {
    pool,
    port: port(),
    ledger,
    gated,
    store,
    restored,
    async stop() {
      await pool.stop();
      await ledger.stop();
      await store.close();
    },
  };
}

async function withDir(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-ban-ledger-" });
  try {
    await fn(`${dir}/pool.sqlite`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What {@linkcode withPools} starts: an instance id, a gated store or not, ledger options. */
interface PoolSpec {
  id: number;
  gate?: boolean;
  options?: Partial<BanLedgerOptions>;
  bans?: BanListOptions;
}

/** Run `fn` with pools on one fresh store file (as instances on one database), then stop them. */
async function withPools(
  specs: PoolSpec[],
  fn: (...pools: Awaited<ReturnType<typeof instance>>[]) => Promise<void>,
): Promise<void> {
  await withDir(async (path) => {
    const pools: Awaited<ReturnType<typeof instance>>[] = [];
    try {
      for (const s of specs) pools.push(await instance(path, s.id, s.gate, s.options, s.bans));
      await fn(...pools);
    } finally {
      for (const pool of pools) {
        pool.gated.release();
        await pool.stop();
      }
    }
  });
}

/** Whether a connection from `ip` is refused (closed before any answer) by the pool at `port`. */
async function refused(port: number, ip: string): Promise<boolean> {
  const client = await TestClient.connectFrom(port, ip);
  try {
    const answer = client.call("mining.subscribe", ["ban-test/1"]).then(() => false, () => true);
    return await Promise.race([answer, client.closed.then(() => true)]);
  } finally {
    client.close();
  }
}

const banned = (pool: Pool, ip: string) => pool.listBans().some((b) => b.ip === ip);

Deno.test("a ban outlives its pool: the next start takes it before its first accept", async () => {
  await withDir(async (path) => {
    const first = await instance(path, 1);
    const ban = first.pool.ban(BANNED, { seconds: 3600 })!;
    assert.ok(await refused(first.port, BANNED));
    await first.stop(); // writes what waits
    const next = await instance(path, 1);
    try {
      assert.deepEqual(next.restored.map((b: Omit<BanInfo, "refused">) => [b.ip, b.until]), [
        [BANNED, ban.until],
      ]);
      assert.ok(banned(next.pool, BANNED));
      assert.ok(await refused(next.port, BANNED));
      assert.equal(await refused(next.port, "127.0.0.62"), false);
      // Lifted by the operator, the next start does not bring it back.
      assert.equal(next.pool.unban(BANNED), true);
    } finally {
      await next.stop();
    }
    const third = await instance(path, 1);
    try {
      assert.deepEqual(third.restored, []);
      assert.equal(await refused(third.port, BANNED), false);
    } finally {
      await third.stop();
    }
  });
});

Deno.test("a ban and its lift on one pool reach another pool on the same store", async () => {
  await withPools([{ id: 1 }, { id: 2 }], async (a, b) => {
    // A miner from the IP mines on b until a bans the IP.
    const victim = await TestClient.connectFrom(b.port, BANNED);
    await victim.call("mining.subscribe", ["ban-test/1"]);
    a.pool.ban(BANNED, { seconds: 3600 });
    await a.ledger.flush();
    await b.ledger.sync();
    assert.ok(banned(b.pool, BANNED));
    await victim.closed; // b closed its connection
    assert.ok(await refused(b.port, BANNED));
    // Lifted on b (which did not make it): a lifts it too.
    assert.equal(b.pool.unban(BANNED), true);
    await b.ledger.flush();
    await a.ledger.sync();
    assert.equal(banned(a.pool, BANNED), false);
    assert.equal(await refused(a.port, BANNED), false);
    // Nothing comes back on later syncs.
    await a.ledger.sync();
    await b.ledger.sync();
    assert.equal(banned(a.pool, BANNED) || banned(b.pool, BANNED), false);
  });
});

Deno.test("a read before this pool's own write lands neither brings back its lift nor lifts its newer ban", async () => {
  await withPools([{ id: 1 }, { id: 2, gate: true }], async (a, b) => {
    a.pool.ban(BANNED, { seconds: 3600 });
    assert.equal(await a.ledger.flush(), true);
    await b.ledger.sync();
    assert.ok(banned(b.pool, BANNED));
    // b's operator lifts it; b's write fails: the store still says "banned".
    b.gated.fail = true;
    assert.equal(b.pool.unban(BANNED), true);
    const rows = (await b.store.listBans({ now: Date.now() })).bans;
    assert.equal(rows.find((r) => r.ip === BANNED)?.lifted, false, "the row is still a ban");
    // A round reads the stale row: the lift decided here wins, and stays queued.
    await b.ledger.sync();
    assert.equal(banned(b.pool, BANNED), false, "the old row brought back a lifted ban");
    assert.equal(b.ledger.pending, 1);
    // The store comes back: the lift lands and reaches a.
    b.gated.fail = false;
    await b.ledger.sync();
    assert.equal(b.ledger.pending, 0);
    await a.ledger.sync();
    assert.equal(banned(a.pool, BANNED), false);

    // A read that began before a lift here was written returns after the write landed: the
    // lift decided here still wins (nothing is pending any more).
    a.pool.ban("127.0.0.65", { seconds: 3600 });
    assert.equal(await a.ledger.flush(), true);
    b.gated.holdReads = true;
    const slow = b.ledger.sync();
    await waitUntil(() => b.gated.heldReads.length === 1, "b's read, held");
    assert.equal(b.pool.unban("127.0.0.65"), false); // not taken by b yet: lifted everywhere
    assert.equal(await b.ledger.flush(), true);
    b.gated.holdReads = false;
    b.gated.heldReads.splice(0).forEach((go) => go());
    await slow;
    assert.equal(banned(b.pool, "127.0.0.65"), false, "a stale read brought back a lifted ban");
    await a.ledger.sync();
    assert.equal(banned(a.pool, "127.0.0.65"), false);
    // And a stale read that returns that lift after b banned the IP anew does not lift it.
    const liftedAt = Date.now();
    await waitUntil(() => Date.now() > liftedAt, "a later millisecond");
    b.gated.holdReads = true;
    const slow2 = b.ledger.sync();
    await waitUntil(() => b.gated.heldReads.length === 1, "b's read, held");
    b.pool.ban("127.0.0.65", { seconds: 3600 });
    assert.equal(await b.ledger.flush(), true);
    b.gated.holdReads = false;
    b.gated.heldReads.splice(0).forEach((go) => go());
    await slow2;
    assert.ok(banned(b.pool, "127.0.0.65"), "a stale lift lifted a newer ban");

    // A lift read from the store that is older than a ban made here does not lift it.
    b.gated.fail = true; // b's new ban cannot be written yet
    b.pool.ban(BANNED, { seconds: 3600 });
    await b.ledger.sync();
    assert.ok(banned(b.pool, BANNED), "an older lift lifted a newer ban");
    b.gated.fail = false;
    await b.ledger.sync();
    await a.ledger.sync();
    assert.ok(banned(a.pool, BANNED), "the newer ban reached a once written");
  });
});

Deno.test("a store down at a ban keeps the decision until it can be written; a refused one is dropped", async () => {
  await withPools([{ id: 1, gate: true }, { id: 2 }], async (a, b) => {
    a.gated.fail = true;
    a.pool.ban(BANNED, { seconds: 3600 });
    await a.ledger.sync();
    await a.ledger.sync();
    assert.equal(a.ledger.pending, 1);
    await b.ledger.sync();
    assert.equal(banned(b.pool, BANNED), false);
    a.gated.fail = false;
    await a.ledger.sync();
    assert.equal(a.ledger.pending, 0);
    await b.ledger.sync();
    assert.ok(banned(b.pool, BANNED));
    // A value the store refuses (here a reason over 200 characters) is not tried forever.
    const now = Date.now();
    a.ledger.banned({
      ip: "127.0.0.64",
      since: now,
      until: now + 60_000,
      reason: "x".repeat(500),
      offences: 0,
      refused: 0,
    });
    await a.ledger.sync();
    assert.equal(a.ledger.pending, 0);
  });
});

Deno.test("an attacker with many banned addresses costs each read the changes, not the bans", async () => {
  await withPools(
    [{ id: 1, gate: true }, { id: 2, gate: true, options: { readOverlapMs: 0 } }],
    async (a, b) => {
      // 2,000 addresses banned on a (an IPv6 attacker can bring many): each written once (a write
      // of everything waiting per ban was 2 million writes and filled the store's queue).
      for (let i = 0; i < 2000; i++) a.pool.ban(`2001:db8::${i.toString(16)}`, { seconds: 3600 });
      assert.equal(await a.ledger.flush(), true);
      assert.equal(a.gated.writes, 2000);
      await b.ledger.sync();
      assert.equal(b.pool.listBans().length, 2000);
      // Later reads list what changed since (and the newest row again), not the 2,000.
      const last = Date.now();
      await waitUntil(() => Date.now() > last, "a later millisecond");
      a.pool.ban("2001:db8::ffff:1", { seconds: 3600 });
      assert.equal(await a.ledger.flush(), true);
      await b.ledger.sync();
      await b.ledger.sync();
      assert.ok(banned(b.pool, "2001:db8::ffff:1"));
      const [, , second, third] = b.gated.reads; // the load, the first sync, then these
      // (rows stamped in the cursor's own millisecond are read again: a batch shares one)
      assert.ok(second! < 1000 && third! < 50, `rows read: ${b.gated.reads}`);
    },
  );
});

Deno.test("a lift relayed by a worker beside this pool is not undone by a read that still has the ban", async () => {
  await withPools([{ id: 1 }, { id: 2 }], async (a, b) => {
    a.pool.ban(BANNED, { seconds: 3600 });
    assert.equal(await a.ledger.flush(), true);
    await b.ledger.sync();
    assert.ok(banned(b.pool, BANNED));
    // b's sibling worker lifted it and told b over the supervisor's link; the store still has
    // the ban (the sibling's write has not landed): b's next read must not take it again.
    assert.equal(b.pool.liftBan(BANNED, "worker"), true);
    await b.ledger.sync();
    assert.equal(banned(b.pool, BANNED), false, "a read brought back a relayed lift");
  });
});

Deno.test("a read never keeps its cursor past the store's clock (a clock set back)", async () => {
  await withPools(
    [{ id: 1 }, { id: 2, gate: true, options: { readOverlapMs: 1000 } }],
    async (a, b) => {
      a.pool.ban(BANNED, { seconds: 3600 });
      assert.equal(await a.ledger.flush(), true);
      await b.ledger.sync(); // the cursor is now about the store's clock
      const cursor = b.gated.queries.at(-1)!;
      // The store's clock goes back an hour: the next read starts an overlap before it.
      b.gated.clockShiftMs = -3_600_000;
      await b.ledger.sync();
      await b.ledger.sync();
      const since = b.gated.queries.at(-1)!;
      assert.ok(since < Date.now() - 3_600_000, `read from ${since}, the first from ${cursor}`);
    },
  );
});

Deno.test("a read or a stop on a lost database gives up in time", async () => {
  await withPools(
    [{ id: 1, gate: true, options: { readTimeoutMs: 200, stopWaitMs: 300 } }],
    async (a) => {
      a.gated.hangReads = true;
      const started = Date.now();
      await a.ledger.sync();
      assert.ok(Date.now() - started < 5000, "the read gave up");
      // A stop with a read hanging and a decision waiting returns.
      a.gated.fail = true;
      a.pool.ban(BANNED, { seconds: 3600 });
      const reading = a.ledger.sync();
      const stopping = Date.now();
      await a.ledger.stop();
      assert.ok(Date.now() - stopping < 5000, "the stop did not wait for the lost database");
      await reading;
    },
  );
});

Deno.test("too many decisions waiting: bans for offences give way, the operator's stay", async () => {
  await withPools([{ id: 1, gate: true, options: { maxPending: 3 } }], async (a) => {
    a.gated.fail = true;
    const now = Date.now();
    const offence = (ip: string) => ({
      ip,
      since: now,
      until: now + 60_000,
      reason: "flood",
      offences: 3,
      refused: 0,
    });
    a.pool.ban("127.0.0.71", { seconds: 3600 }); // the operator's
    a.ledger.banned(offence("127.0.0.72"));
    a.pool.unban("127.0.0.73"); // the operator's lift (of a ban elsewhere)
    a.ledger.banned(offence("127.0.0.74"));
    a.ledger.banned(offence("127.0.0.75"));
    assert.equal(a.ledger.pending, 3);
    assert.equal(a.ledger.dropped, 2);
    a.gated.fail = false;
    assert.equal(await a.ledger.flush(), true);
    const rows = (await a.store.listBans({ now, writtenSince: 0 })).bans;
    assert.deepEqual(rows.map((r) => r.ip).sort(), ["127.0.0.71", "127.0.0.73", "127.0.0.75"]);
  });
});

Deno.test("a stored row keyed ::ffff:a.b.c.d (another version, a dual-stack port) bans a.b.c.d", async () => {
  await withPools([{ id: 1 }], async (a) => {
    const now = Date.now();
    await a.store.recordBan({
      ip: "::ffff:127.0.0.66",
      since: now,
      until: now + 60_000,
      reason: "manual",
      offences: 0,
      lifted: false,
      updatedAt: now,
      instance: 9,
    });
    await a.ledger.sync();
    assert.ok(banned(a.pool, "127.0.0.66"));
    assert.ok(await refused(a.port, "127.0.0.66"));
    // And the operator lifts it by the address the pool shows.
    assert.equal(a.pool.unban("127.0.0.66"), true);
  });
});

Deno.test("bans off: nothing read or lost; switched on by a reload, the bans in force apply", async () => {
  await withDir(async (path) => {
    const a = await instance(path, 1);
    a.pool.ban(BANNED, { seconds: 3600 });
    assert.equal(await a.ledger.flush(), true);
    const first = Date.now();
    await waitUntil(() => Date.now() > first, "a later millisecond");
    a.pool.ban("127.0.0.68", { seconds: 3600 });
    assert.equal(await a.ledger.flush(), true);
    // b starts with bans off: the bans in force are read at its start but not taken (and with
    // no overlap, the older one is behind its cursor from then on).
    const b = await instance(path, 2, false, { readOverlapMs: 0 }, { ...BANS, enabled: false });
    try {
      await b.ledger.sync();
      assert.equal(banned(b.pool, BANNED), false);
      a.pool.ban("127.0.0.67", { seconds: 3600 });
      assert.equal(await a.ledger.flush(), true);
      await b.ledger.sync();
      b.pool.configure({ bans: BANS });
      await b.ledger.sync();
      assert.ok(banned(b.pool, BANNED) && banned(b.pool, "127.0.0.67"));
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

Deno.test("a pool that throws on a row, or a store that never answers, neither ends the process nor the syncs", async () => {
  await withPools([{ id: 1 }], async (a) => {
    a.pool.ban(BANNED, { seconds: 3600 });
    assert.equal(await a.ledger.flush(), true);
    let calls = 0;
    const target = {
      adoptBan: () => {
        calls++;
        throw new Error("a pool that throws (test)");
      },
      liftBan: () => false,
      findBan: () => undefined,
      bans: { enabled: true },
    };
    const ledger = new BanLedger({ store: a.store, instance: 2, intervalMs: 20 });
    ledger.start(target);
    try {
      await ledger.sync(); // resolves: logged, not thrown
      await waitUntil(() => calls >= 3, "the timer's syncs go on");
    } finally {
      await ledger.stop();
    }
    // A first read that never answers is given up: the server starts, and reads again.
    const gated = new GatedStore(a.store);
    gated.hangReads = true;
    const hanging = new BanLedger({ store: gated, instance: 3, readTimeoutMs: 100 });
    await assert.rejects(hanging.load(), /no answer within 100 ms/);
  });
});

Deno.test("the ledger's timer syncs on its own and stops with it", async () => {
  await withDir(async (path) => {
    const a = await instance(path, 1);
    const store = await openStore(path);
    const ledger = new BanLedger({ store, instance: 2, intervalMs: 20 });
    const { pool } = startPool({ ports: [testPort()], bans: BANS, banRecord: ledger });
    ledger.start(pool);
    try {
      a.pool.ban(BANNED, { seconds: 3600 });
      await a.ledger.flush();
      await waitUntil(() => banned(pool, BANNED), "the timer's sync");
    } finally {
      await pool.stop();
      await ledger.stop();
      await store.close();
      await a.stop();
    }
  });
});
