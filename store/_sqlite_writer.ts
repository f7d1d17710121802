/**
 * The SQLite write side: opens the database (WAL, migrations) and executes a batch of write
 * operations in one transaction. Synchronous (node:sqlite), so it normally runs in its own
 * worker thread (`_sqlite_worker.ts`) and the event loop never waits for an fsync.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { checkNotNewer } from "./_migration.ts";
import { convertCounter, type OpOutcome } from "./_ops.ts";
import {
  type OtherOp,
  type PackedBatch,
  type PackedOutcomes,
  readShare,
  scratchShare,
} from "./_packed_batch.ts";
import { runPayoutWriteSqlite } from "./_payouts_sqlite.ts";
import { RollupAccumulator } from "./_rollup.ts";
import { blockFromRow, toBigInt } from "./_rows.ts";
import { cachedStatement, prepareBig } from "./_sqlite_rows.ts";
import { SQLITE_MIGRATIONS } from "./_sqlite_schema.ts";
import { ShareInserter } from "./_sqlite_share_insert.ts";
import type {
  Block,
  BlockResult,
  BlockUpdate,
  InstanceLease,
  NewBlock,
  StoredBan,
} from "./store_types.ts";

/** Σ difficulty and shares added to an instance's round by a batch. */
type RoundWork = Map<number, { work: bigint; shares: number }>;

/** Settings of the SQLite writer. */
export interface SqliteWriterOptions {
  /** `PRAGMA synchronous`: `"full"` survives power loss, `"normal"` only a crash. */
  synchronous: "full" | "normal";
  /** How long a write waits for a lock held by another process (ms). */
  busyTimeoutMs: number;
}

/** Open a SQLite database with the pool's settings and bring its schema up to date. */
export function openSqliteDatabase(path: string, options: SqliteWriterOptions): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    const mode = prepareBig(db, "PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    if (mode.journal_mode !== "wal" && path !== ":memory:") {
      throw new Error(`journal_mode is ${mode.journal_mode}, WAL is required`);
    }
    db.exec(`PRAGMA synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    migrate(db, path);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Apply every migration that is not yet applied, each in its own transaction. */
function migrate(db: DatabaseSync, where: string): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const latest = prepareBig(db, "SELECT MAX(version) AS v FROM schema_migrations").get() as {
    v: bigint | null;
  };
  checkNotNewer(Number(latest.v ?? 0n), SQLITE_MIGRATIONS, where);
  const applied = prepareBig(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
  const record = prepareBig(
    db,
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
  );
  for (const m of SQLITE_MIGRATIONS) {
    db.exec("BEGIN IMMEDIATE");
    try {
      if (applied.get(m.version) === undefined) {
        for (const statement of m.statements) db.exec(statement);
        record.run(m.version, m.name, Date.now());
      }
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  }
}

/** Executes write batches on one connection. */
export class SqliteWriter {
  #db: DatabaseSync;
  #shares: ShareInserter;
  #upsertRollup: StatementSync;
  #addRoundWork: StatementSync;
  #roundWork: StatementSync;
  #resetRound: StatementSync;
  #blockByHash: StatementSync;
  #insertBlock: StatementSync;
  #updateBlock: StatementSync;
  #upsertWorker: StatementSync;
  #counter: StatementSync;
  #setCounter: StatementSync;
  #pruneShares: StatementSync;
  #pruneRollups: StatementSync;

  /**
   * @param path Database file.
   * @param options Durability and lock settings.
   */
  constructor(path: string, options: SqliteWriterOptions) {
    const db = this.#db = openSqliteDatabase(path, options);
    this.#shares = new ShareInserter(db);
    this.#upsertRollup = prepareBig(
      db,
      `INSERT INTO rollups (minute, instance, address, worker, shares, difficulty, score)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (minute, instance, address, worker) DO UPDATE SET
         shares = shares + excluded.shares, difficulty = difficulty + excluded.difficulty,
         score = score + excluded.score`,
    );
    this.#addRoundWork = prepareBig(
      db,
      `INSERT INTO round_work (instance, work, shares) VALUES (?, ?, ?)
       ON CONFLICT (instance) DO UPDATE SET
         work = work + excluded.work, shares = shares + excluded.shares`,
    );
    this.#roundWork = prepareBig(db, "SELECT work FROM round_work");
    this.#resetRound = prepareBig(db, "UPDATE round_work SET work = 0, shares = 0");
    this.#blockByHash = prepareBig(db, "SELECT * FROM blocks WHERE hash = ?");
    this.#insertBlock = prepareBig(
      db,
      `INSERT INTO blocks (hash, height, instance, address, worker, network_difficulty, reward,
        status, confirmations, effort, time, updated_at, solo, source, note)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) RETURNING *`,
    );
    this.#updateBlock = prepareBig(
      db,
      `UPDATE blocks SET status = ?, reward = ?, confirmations = ?, note = ?, updated_at = ?
       WHERE hash = ? RETURNING *`,
    );
    this.#upsertWorker = prepareBig(
      db,
      `INSERT INTO workers (address, worker, difficulty, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (address, worker) DO UPDATE SET
         difficulty = excluded.difficulty, updated_at = excluded.updated_at`,
    );
    this.#counter = prepareBig(
      db,
      "SELECT next, range_size FROM extranonce_counters WHERE instance = ?",
    );
    this.#setCounter = prepareBig(
      db,
      `INSERT INTO extranonce_counters (instance, next, range_size) VALUES (?, ?, ?)
       ON CONFLICT (instance) DO UPDATE SET next = excluded.next,
         range_size = COALESCE(excluded.range_size, extranonce_counters.range_size)`,
    );
    this.#pruneShares = prepareBig(
      db,
      "DELETE FROM shares WHERE id IN (SELECT id FROM shares WHERE time < ? ORDER BY time LIMIT ?)",
    );
    this.#pruneRollups = prepareBig(
      db,
      `DELETE FROM rollups WHERE (minute, instance, address, worker) IN (
        SELECT minute, instance, address, worker FROM rollups WHERE minute < ? LIMIT ?)`,
    );
  }

  /**
   * Run a batch in one transaction.
   *
   * @param batch Write operations and share runs, in order.
   * @returns The number of shares stored, and the outcomes of the other operations.
   * @throws When the transaction fails (nothing of the batch is committed).
   */
  commit(batch: PackedBatch): PackedOutcomes {
    const db = this.#db;
    const others: OpOutcome[] = [];
    const rollups = new RollupAccumulator();
    const round: RoundWork = new Map();
    let next = 0;
    db.exec("BEGIN IMMEDIATE");
    try {
      for (const step of batch.steps) {
        if (typeof step === "number") {
          this.#insertShares(batch, { start: next, count: step }, rollups, round);
          next += step;
        } else {
          others.push(this.#run(step, round));
        }
      }
      this.#flushRound(round);
      for (const r of rollups.rows()) {
        this.#upsertRollup.run(
          r.minute,
          r.instance,
          r.address,
          r.worker,
          r.shares,
          r.difficulty,
          r.score,
        );
      }
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw err;
    }
    return { shares: batch.shares.count, others };
  }

  /** Insert a run of shares and add them to the rollups and the round. */
  #insertShares(
    batch: PackedBatch,
    range: { start: number; count: number },
    rollups: RollupAccumulator,
    round: RoundWork,
  ): void {
    this.#shares.insert(batch.shares, range);
    const share = scratchShare();
    for (let i = range.start; i < range.start + range.count; i++) {
      readShare(batch.shares, i, share);
      rollups.add(share);
      let w = round.get(share.instance);
      if (w === undefined) {
        w = { work: 0n, shares: 0 };
        round.set(share.instance, w);
      }
      w.work += share.difficulty;
      w.shares += 1;
    }
  }

  #run(op: OtherOp, round: RoundWork): OpOutcome {
    switch (op.kind) {
      case "block":
        this.#flushRound(round);
        return { ok: true, value: this.#recordBlock(op.block) };
      case "updateBlock":
        return { ok: true, value: this.#applyUpdate(op.hash, op.update, op.time) };
      case "difficulty":
        this.#upsertWorker.run(op.address, op.worker, op.difficulty, op.time);
        return { ok: true, value: undefined };
      case "reserve": {
        const row = this.#counter.get(op.instance) as
          | { next: string; range_size: string | null }
          | undefined;
        let start = BigInt(row?.next ?? "0");
        if (op.rangeSize !== undefined && row?.range_size != null) {
          start = convertCounter(start, BigInt(row.range_size), op.rangeSize);
        }
        const end = start + op.count;
        if (end > op.limit) {
          return {
            ok: false,
            error: {
              name: "RangeError",
              message:
                `Cannot reserve extranonces: instance ${op.instance} has used ${start} of ${op.limit}`,
            },
          };
        }
        this.#setCounter.run(op.instance, end.toString(), op.rangeSize?.toString() ?? null);
        return { ok: true, value: { start, end } };
      }
      case "lease":
        return { ok: true, value: this.#lease(op) };
      case "unlease":
        this.#db.prepare("DELETE FROM instance_leases WHERE instance = ? AND owner = ?")
          .run(op.instance, op.owner);
        return { ok: true, value: undefined };
      case "ban":
        this.#ban(op.ban);
        return { ok: true, value: undefined };
      case "pruneShares":
        return { ok: true, value: Number(this.#pruneShares.run(op.before, op.limit).changes) };
      case "pruneRollups":
        return { ok: true, value: Number(this.#pruneRollups.run(op.before, op.limit).changes) };
      case "pruneBans": {
        const deleted = cachedStatement(
          this.#db,
          `DELETE FROM bans WHERE ip IN (
             SELECT ip FROM bans WHERE until < ? AND updated_at < ? LIMIT ?)`,
        ).run(op.before, op.before, op.limit);
        return { ok: true, value: Number(deleted.changes) };
      }
      case "payout":
        return runPayoutWriteSqlite(this.#db, op.op);
    }
  }

  /** Take or renew an instance id's lease; otherwise report its holder (rare: not prepared). */
  #lease(op: Extract<OtherOp, { kind: "lease" }>): InstanceLease {
    const expiresAt = op.now + op.ttlMs;
    const taken = this.#db.prepare(
      `INSERT INTO instance_leases (instance, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (instance) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE instance_leases.owner = excluded.owner OR instance_leases.expires_at <= ?
       RETURNING owner`,
    ).get(op.instance, op.owner, expiresAt, op.now);
    if (taken !== undefined) return { acquired: true, owner: op.owner, expiresAt };
    const row = this.#db.prepare(
      "SELECT owner, expires_at FROM instance_leases WHERE instance = ?",
    ).get(op.instance) as { owner: string; expires_at: number | bigint };
    return { acquired: false, owner: row.owner, expiresAt: Number(row.expires_at) };
  }

  /** Store a ban or a lift unless the row holds a later decision (rare: prepared on first use). */
  #ban(b: StoredBan): void {
    cachedStatement(
      this.#db,
      `INSERT INTO bans (ip, since, until, reason, offences, lifted, updated_at, instance,
         written_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ip) DO UPDATE SET since = excluded.since, until = excluded.until,
         reason = excluded.reason, offences = excluded.offences, lifted = excluded.lifted,
         updated_at = excluded.updated_at, instance = excluded.instance,
         written_at = excluded.written_at
       WHERE excluded.updated_at >= bans.updated_at
         AND (excluded.lifted = 1 OR bans.lifted = 1 OR excluded.until >= bans.until)`,
    ).run(
      b.ip,
      b.since,
      b.until,
      b.reason,
      b.offences,
      b.lifted ? 1 : 0,
      b.updatedAt,
      b.instance,
      // One file, one host: this clock is every writer's (the pollers' cursor).
      Date.now(),
    );
  }

  #flushRound(round: RoundWork): void {
    for (const [instance, w] of [...round].sort((a, b) => a[0] - b[0])) {
      this.#addRoundWork.run(instance, w.work, w.shares);
    }
    round.clear();
  }

  #recordBlock(b: NewBlock): BlockResult {
    const existing = this.#blockByHash.get(b.hash);
    if (existing !== undefined) return { block: blockFromRow(existing), inserted: false };
    let work = 0n;
    for (const row of this.#roundWork.all() as { work: unknown }[]) work += toBigInt(row.work);
    this.#resetRound.run();
    const effort = Number(work) / Number(b.networkDifficulty);
    const row = this.#insertBlock.get(
      b.hash,
      b.height,
      b.instance,
      b.address,
      b.worker,
      b.networkDifficulty,
      b.reward ?? null,
      b.status ?? "pending",
      effort,
      b.time,
      Date.now(),
      b.solo === true ? 1 : 0,
      b.source ?? "share",
      b.note ?? "",
    );
    return { block: blockFromRow(row), inserted: true };
  }

  #applyUpdate(hash: Uint8Array, u: BlockUpdate, time: number): Block | undefined {
    const row = this.#blockByHash.get(hash);
    if (row === undefined) return undefined;
    const b = blockFromRow(row);
    if (u.ifStatus !== undefined && !u.ifStatus.includes(b.status)) return b;
    const updated = this.#updateBlock.get(
      u.status ?? b.status,
      u.reward ?? b.reward ?? null,
      u.confirmations ?? b.confirmations,
      u.note ?? b.note,
      time,
      hash,
    );
    return blockFromRow(updated);
  }

  /**
   * Check that the database accepts a write transaction again.
   *
   * @throws When it does not.
   */
  probe(): void {
    this.#db.exec("BEGIN IMMEDIATE");
    this.#db.exec("ROLLBACK");
  }

  /** Close the connection (an open transaction is rolled back). */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
