/**
 * The SQLite backend: writes go to a {@linkcode SqliteWriter} (in its own thread by default),
 * reads use a second connection on the calling thread (WAL lets readers run beside the writer).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { MinuteScore, StoreDriver } from "./_driver.ts";
import { FileIdentity } from "./_file_identity.ts";
import { checkCurrent } from "./_migration.ts";
import { type CheckedBlockQuery, minuteOf, type OpOutcome, type WriteOp } from "./_ops.ts";
import { packBatch, unpackOutcomes } from "./_packed_batch.ts";
import { prepareBig } from "./_sqlite_rows.ts";
import type { PayoutRead } from "./_payouts_ops.ts";
import { runPayoutReadSqlite } from "./_payouts_sqlite.ts";
import { runScanReadSqlite } from "./_scan_sqlite.ts";
import type { ScanRead } from "./_scan_read.ts";
import {
  banListing,
  blockFromRow,
  minuteScoreFromRow,
  shareFromRow,
  toBigInt,
  toNumber,
} from "./_rows.ts";
import { SqliteWorkerClient } from "./_sqlite_worker.ts";
import { SQLITE_MIGRATIONS } from "./_sqlite_schema.ts";
import { SqliteWriter, type SqliteWriterOptions } from "./_sqlite_writer.ts";
import {
  type Activity,
  BAN_LIST_LIMIT,
  type BanListing,
  type BanListQuery,
  type Block,
  type RollupPoint,
  type RollupQuery,
  type ShareQuery,
  type StoredShare,
  type WorkerTotal,
} from "./store_types.ts";

/** How the SQLite backend runs. */
export interface SqliteDriverOptions extends SqliteWriterOptions {
  /** Run the writer in a worker thread (true) or on the calling thread. */
  thread: boolean;
  /**
   * Open for reading only: no writer and no migration (the schema must be current); every read
   * sees one snapshot, taken when the store opened (one read transaction until close).
   * @default false
   */
  readOnly?: boolean;
}

/** The write side: a worker thread or an inline writer. */
export interface Writer {
  commit(ops: WriteOp[]): Promise<OpOutcome[]>;
  probe(): Promise<void>;
  close(): Promise<void>;
}

/** Run `fn` as a macrotask, so a chain of commits cannot starve timers and I/O. */
function later<T>(fn: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      try {
        resolve(fn());
      } catch (err) {
        reject(err);
      }
    }, 0);
  });
}

/** The write side of a read-only driver: refuses every commit. */
const NO_WRITER: Writer = {
  commit: () => Promise.reject(new Error("Cannot write: the store is open read-only")),
  probe: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

function inlineWriter(path: string, options: SqliteWriterOptions): Writer {
  const writer = new SqliteWriter(path, options);
  return {
    commit: (ops) => later(() => unpackOutcomes(ops, writer.commit(packBatch(ops)))),
    probe: () => later(() => writer.probe()),
    close: () => Promise.resolve().then(() => writer.close()),
  };
}

/** Sum rollup rows into one point per minute. */
function byMinute(rows: Record<string, unknown>[]): RollupPoint[] {
  const points = new Map<number, RollupPoint>();
  for (const r of rows) {
    const minute = toNumber(r.minute);
    let p = points.get(minute);
    if (p === undefined) {
      p = { minute, shares: 0, difficulty: 0n, score: 0 };
      points.set(minute, p);
    }
    p.shares += toNumber(r.shares);
    p.difficulty += toBigInt(r.difficulty);
    p.score += toNumber(r.score);
  }
  return [...points.values()].sort((a, b) => a.minute - b.minute);
}

/** How often, at most, a commit checks that the database file is still the one opened (ms). */
const IDENTITY_CHECK_MS = 1000;

/** The schema version of an existing file; 0 for a missing file or one without a schema. */
function schemaVersion(path: string): number {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as {
      v: number | null;
    };
    return Number(row.v ?? 0);
  } catch {
    // A new file, or one without a schema yet.
    return 0;
  } finally {
    db?.close();
  }
}

/**
 * Say so before an upgrade of an existing file: a migration that rebuilds a table (version 3
 * rebuilds `shares`) runs before the pool starts and takes minutes on a large file.
 */
function announceUpgrade(path: string, from: number): void {
  const to = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;
  if (from > 0 && from < to) {
    const slow = from < 3 ? "; this rewrites the shares table (minutes on a large file)" : "";
    getLogger(["vbkpool", "store"]).info(
      `Upgrading the schema of {path} from version {from} to {to}${slow}`,
      { path, from, to },
    );
  }
}

/** The SQLite {@linkcode StoreDriver}. */
export class SqliteDriver implements StoreDriver {
  readonly backend = "sqlite" as const;
  readonly where: string;
  readonly readOnly: boolean;
  readonly fresh: boolean;
  #writer: Writer;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #identity: FileIdentity | undefined;
  #checkedAt = 0;
  #lost: Error | undefined;

  /**
   * @param where The database path.
   * @param writer The write side.
   * @param db The read connection (inside a read transaction when `readOnly`).
   * @param options A read-only snapshot (no identity check), or whether the file is new.
   */
  constructor(
    where: string,
    writer: Writer,
    db: DatabaseSync,
    options: { readOnly?: boolean; fresh?: boolean } = {},
  ) {
    this.where = where;
    this.#writer = writer;
    this.#db = db;
    this.readOnly = options.readOnly === true;
    this.fresh = options.fresh === true;
    if (!this.readOnly) this.#identity = FileIdentity.take(where);
  }

  /**
   * Open (creating and migrating when needed) a database file.
   *
   * @param path Database file.
   * @param options Durability, lock and thread settings.
   * @returns The driver.
   */
  static async open(path: string, options: SqliteDriverOptions): Promise<SqliteDriver> {
    if (options.readOnly === true) return SqliteDriver.#openSnapshot(path, options);
    const version = schemaVersion(path);
    announceUpgrade(path, version);
    let writer: Writer;
    if (options.thread) {
      const client = new SqliteWorkerClient();
      try {
        await client.open(path, options);
      } catch (err) {
        await client.close().catch(() => {});
        throw err;
      }
      writer = client;
    } else {
      writer = inlineWriter(path, options);
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    } catch (err) {
      await writer.close();
      throw err;
    }
    return new SqliteDriver(path, writer, db, { fresh: version === 0 });
  }

  /** A read-only connection holding one read transaction (the snapshot) until close. */
  static #openSnapshot(path: string, options: SqliteDriverOptions): SqliteDriver {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
      db.exec("BEGIN");
      // The first read starts the snapshot.
      const table = db.prepare(
        "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
      ).get();
      const version = table === undefined ? 0 : toNumber(
        (db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as {
          v: unknown;
        }).v,
      );
      checkCurrent(version, SQLITE_MIGRATIONS, path);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteDriver(path, NO_WRITER, db, { readOnly: true });
  }

  #prepare(sql: string): StatementSync {
    let st = this.#statements.get(sql);
    if (st === undefined) {
      st = prepareBig(this.#db, sql);
      this.#statements.set(sql, st);
    }
    return st;
  }

  commit(ops: WriteOp[]): Promise<OpOutcome[]> {
    try {
      this.#verify(false);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#writer.commit(ops);
  }

  probe(): Promise<void> {
    try {
      this.#verify(true);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#writer.probe();
  }

  watch(): void {
    this.#verify(false);
  }

  /**
   * Throw when the database file was removed or replaced since it was opened (checked at most
   * once a second unless `always`). Once lost, always lost: a file that appears at the same
   * path later is not this database.
   */
  #verify(always: boolean): void {
    if (this.#lost !== undefined) throw this.#lost;
    if (this.#identity === undefined) return;
    const now = performance.now();
    if (!always && now - this.#checkedAt < IDENTITY_CHECK_MS) return;
    this.#checkedAt = now;
    try {
      this.#identity.check();
    } catch (err) {
      this.#lost = err as Error;
      throw err;
    }
  }

  reset(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    try {
      await this.#writer.close();
    } finally {
      if (this.#db.isOpen) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        this.#db.close();
      }
    }
  }

  workerDifficulty(address: string, worker: string): Promise<bigint | undefined> {
    const row = this.#prepare("SELECT difficulty FROM workers WHERE address = ? AND worker = ?")
      .get(address, worker) as { difficulty: unknown } | undefined;
    return Promise.resolve(row === undefined ? undefined : toBigInt(row.difficulty));
  }

  block(hash: Uint8Array): Promise<Block | undefined> {
    const row = this.#prepare("SELECT * FROM blocks WHERE hash = ?").get(hash);
    return Promise.resolve(row === undefined ? undefined : blockFromRow(row));
  }

  blocks(query: CheckedBlockQuery): Promise<Block[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.status !== undefined) {
      where.push(`status IN (${query.status.map(() => "?").join(", ")})`);
      args.push(...query.status);
    }
    if (query.height !== undefined) {
      where.push("height = ?");
      args.push(query.height);
    }
    const sql = `SELECT * FROM blocks ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
      ORDER BY time DESC, id DESC LIMIT ?`;
    const rows = this.#prepare(sql).all(...args, query.limit);
    return Promise.resolve(rows.map(blockFromRow));
  }

  shares(query: ShareQuery & { limit: number }): Promise<StoredShare[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.before !== undefined) {
      where.push("time < ?");
      args.push(query.before);
    }
    if (query.since !== undefined) {
      where.push("time >= ?");
      args.push(query.since);
    }
    if (query.address !== undefined) {
      where.push("address = ?");
      args.push(query.address);
    }
    const sql = `SELECT * FROM shares ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY time DESC, id DESC LIMIT ?`;
    const rows = this.#prepare(sql).all(...args, query.limit);
    return Promise.resolve(rows.map(shareFromRow));
  }

  shareCount(): Promise<number> {
    const row = this.#prepare("SELECT COUNT(*) AS n FROM shares").get() as { n: unknown };
    return Promise.resolve(toNumber(row.n));
  }

  rollups(query: RollupQuery & { since: number; until: number }): Promise<RollupPoint[]> {
    const since = minuteOf(query.since);
    let rows: Record<string, unknown>[];
    if (query.address === undefined) {
      rows = this.#prepare(
        `SELECT minute, shares, difficulty, score FROM rollups
         WHERE address = '' AND worker = '' AND minute >= ? AND minute < ?`,
      ).all(since, query.until);
    } else if (query.worker === undefined) {
      rows = this.#prepare(
        `SELECT minute, shares, difficulty, score FROM rollups
         WHERE address = ? AND minute >= ? AND minute < ?`,
      ).all(query.address, since, query.until);
    } else {
      rows = this.#prepare(
        `SELECT minute, shares, difficulty, score FROM rollups
         WHERE address = ? AND worker = ? AND minute >= ? AND minute < ?`,
      ).all(query.address, query.worker, since, query.until);
    }
    return Promise.resolve(byMinute(rows));
  }

  activity(query: { since: number; until: number }): Promise<Activity> {
    // The pool rows (address '') carry the totals; the worker rows the distinct names.
    const row = this.#prepare(
      `SELECT
         COALESCE(SUM(CASE WHEN address = '' THEN shares END), 0) AS shares,
         COUNT(DISTINCT CASE WHEN address != '' THEN address END) AS miners,
         COUNT(DISTINCT CASE WHEN address != '' THEN address || char(0) || worker END) AS workers
       FROM rollups WHERE minute >= ? AND minute < ?`,
    ).get(minuteOf(query.since), query.until) as Record<string, unknown>;
    return Promise.resolve({
      shares: toNumber(row.shares),
      difficulty: this.#poolDifficulty(minuteOf(query.since), query.until),
      miners: toNumber(row.miners),
      workers: toNumber(row.workers),
    });
  }

  /** Exact Σ difficulty of the pool rows (SQLite sums integers as 64-bit: add them here). */
  #poolDifficulty(since: number, until: number): bigint {
    let sum = 0n;
    const rows = this.#prepare(
      "SELECT difficulty FROM rollups WHERE address = '' AND worker = '' AND minute >= ? AND minute < ?",
    ).all(since, until);
    for (const r of rows) sum += toBigInt(r.difficulty);
    return sum;
  }

  workerTotals(query: RollupQuery & { since: number; until: number }): Promise<WorkerTotal[]> {
    const since = minuteOf(query.since);
    const rows = query.address === undefined
      ? this.#prepare(
        `SELECT minute, address, worker, shares, difficulty FROM rollups
         WHERE address != '' AND minute >= ? AND minute < ?`,
      ).all(since, query.until)
      : this.#prepare(
        `SELECT minute, address, worker, shares, difficulty FROM rollups
         WHERE address = ? AND minute >= ? AND minute < ?`,
      ).all(query.address, since, query.until);
    const totals = new Map<string, WorkerTotal>();
    for (const r of rows) {
      const address = r.address as string;
      const worker = r.worker as string;
      if (query.worker !== undefined && worker !== query.worker) continue;
      const key = `${address}\u0000${worker}`;
      let t = totals.get(key);
      if (t === undefined) {
        t = { address, worker, shares: 0, difficulty: 0n, lastMinute: 0 };
        totals.set(key, t);
      }
      t.shares += toNumber(r.shares);
      t.difficulty += toBigInt(r.difficulty);
      t.lastMinute = Math.max(t.lastMinute, toNumber(r.minute));
    }
    return Promise.resolve(
      [...totals.values()].sort((a, b) =>
        a.address < b.address ? -1 : a.address > b.address ? 1 : a.worker < b.worker ? -1 : 1
      ),
    );
  }

  bans(query: BanListQuery): Promise<BanListing> {
    // One file, one host: the writers' clock is this one.
    const storeNow = Date.now();
    const rows = query.writtenSince === undefined
      ? this.#prepare(
        `SELECT * FROM bans WHERE lifted = 0 AND until > ? ORDER BY written_at, ip LIMIT ?`,
      ).all(query.now, BAN_LIST_LIMIT)
      : this.#prepare(
        `SELECT * FROM bans WHERE written_at >= ? AND (lifted = 1 OR until > ?)
         ORDER BY written_at, ip LIMIT ?`,
      ).all(query.writtenSince, query.now, BAN_LIST_LIMIT);
    return Promise.resolve(banListing(rows, storeNow));
  }

  oldestPendingTime(): Promise<number | undefined> {
    const row = this.#prepare(
      "SELECT MIN(time) AS t FROM blocks WHERE status IN ('submitted', 'pending')",
    )
      .get() as { t: unknown };
    return Promise.resolve(row.t === null ? undefined : toNumber(row.t));
  }

  minuteScores(beforeMinute: number, limit: number): Promise<MinuteScore[]> {
    const rows = this.#prepare(
      `SELECT minute, SUM(score) AS score FROM rollups
       WHERE address = '' AND worker = '' AND minute < ?
       GROUP BY minute ORDER BY minute DESC LIMIT ?`,
    ).all(beforeMinute, limit);
    return Promise.resolve(rows.map(minuteScoreFromRow));
  }

  payoutRead(query: PayoutRead): Promise<unknown> {
    return Promise.resolve(runPayoutReadSqlite(this.#db, query));
  }

  scanRead(query: ScanRead): Promise<unknown> {
    return Promise.resolve(runScanReadSqlite(this.#db, query));
  }
}
