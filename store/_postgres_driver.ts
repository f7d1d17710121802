/**
 * The PostgreSQL backend (npm:postgres). One dedicated connection commits the batches; a small
 * pool serves reads. Several pool instances may share the database: rows they write carry the
 * instance, locks are taken in one global order (workers by key, then round work by instance),
 * and a deadlock or serialization failure is retried.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import postgres from "postgres";
import { EpisodeLog } from "../log/mod.ts";
import { bytesToHex } from "../hash/hex.ts";
import type { MinuteScore, StoreDriver } from "./_driver.ts";
import { checkCurrent, checkNotNewer } from "./_migration.ts";
import {
  type CheckedBlockQuery,
  convertCounter,
  minuteOf,
  type OpOutcome,
  type WriteOp,
} from "./_ops.ts";
import { POSTGRES_MIGRATIONS } from "./_postgres_schema.ts";
import { runPayoutReadPostgres, runPayoutWritePostgres } from "./_payouts_postgres.ts";
import {
  banListing,
  blockFromRow,
  minuteScoreFromRow,
  shareFromRow,
  toBigInt,
  toNumber,
} from "./_rows.ts";
import type { PayoutRead } from "./_payouts_ops.ts";
import { RollupAccumulator } from "./_rollup.ts";
import { runScanReadPostgres } from "./_scan_postgres.ts";
import type { ScanRead } from "./_scan_read.ts";
import {
  type Activity,
  BAN_LIST_LIMIT,
  type BanListing,
  type BanListQuery,
  type Block,
  type BlockResult,
  type BlockUpdate,
  type InstanceLease,
  type NewBlock,
  type RollupPoint,
  type RollupQuery,
  type Share,
  type ShareQuery,
  type StoredBan,
  type StoredShare,
  type WorkerTotal,
} from "./store_types.ts";

// deno-lint-ignore no-explicit-any
type Sql = postgres.Sql<any>;
// deno-lint-ignore no-explicit-any
type Tx = postgres.TransactionSql<any>;
type Row = Record<string, unknown>;

const log = getLogger(["vbkpool", "store", "postgres"]);
/** A line the database's connection can repeat: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Settings of the PostgreSQL backend. */
export interface PostgresDriverOptions {
  /** Seconds to wait for a connection. */
  connectTimeoutS: number;
  /** Connections used for reads. */
  readers: number;
  /**
   * Open for reading only: one connection, no migration (the schema must be current), every
   * read inside one REPEATABLE READ READ ONLY transaction (one snapshot, taken at open).
   * @default false
   */
  readOnly?: boolean;
}

/**
 * npm:postgres 3.4.9 under Deno can throw from a deferred socket write after the connection
 * closed (`nextWrite` runs as an immediate after `closed()` set the socket to null; the
 * connection is already being torn down and reconnects on its own). Uncaught, it would end the
 * whole pool process when the database goes away, so exactly that error is swallowed and
 * logged; any other uncaught error still ends the process.
 */
function guardPostgresWriteRace(): void {
  if (guardInstalled) return;
  guardInstalled = true;
  globalThis.addEventListener("error", (event: ErrorEvent) => {
    const err = event.error;
    if (
      err instanceof TypeError && /reading 'write'/.test(err.message) &&
      /postgres[\\/]src[\\/]connection\.js/.test(err.stack ?? "")
    ) {
      event.preventDefault();
      episodes.warn(
        "late-write",
        "ignored a late write on a closed PostgreSQL connection (npm:postgres)",
      );
    }
  });
}
let guardInstalled = false;

/** Advisory lock serialising migrations across instances ("vbkpool" in ASCII). */
const MIGRATION_LOCK = 0x76626b706f6f6cn;
/** SQLSTATEs after which a batch is simply run again. */
const RETRYABLE = new Set(["40P01", "40001"]);

/** Remove the password from a connection URL, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}

function client(url: string, max: number, options: PostgresDriverOptions): Sql {
  return postgres(url, {
    max,
    connect_timeout: options.connectTimeoutS,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    connection: {
      application_name: "vbkpool",
      // A read-only store's connection refuses writes even outside its transaction.
      ...(options.readOnly === true ? { default_transaction_read_only: true } : {}),
    },
  });
}

/** Bring the schema up to date; returns the version found first (0: a new, empty database). */
async function migrate(sql: Sql, where: string): Promise<number> {
  let found: number | undefined;
  for (const m of POSTGRES_MIGRATIONS) {
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
      const [latest] = await tx`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`;
      found ??= toNumber(latest!.v);
      checkNotNewer(toNumber(latest!.v), POSTGRES_MIGRATIONS, where);
      const done = await tx`SELECT 1 FROM schema_migrations WHERE version = ${m.version}`;
      if (done.length > 0) return;
      for (const statement of m.statements) await tx.unsafe(statement);
      await tx`INSERT INTO schema_migrations (version, name, applied_at)
        VALUES (${m.version}, ${m.name}, ${Date.now()})`;
    });
  }
  return found ?? 0;
}

/** Executes one batch inside a transaction. */
async function runBatch(tx: Tx, ops: WriteOp[]): Promise<OpOutcome[]> {
  const outcomes: OpOutcome[] = new Array(ops.length);
  // Phase 1: worker difficulties, last value per worker, in key order (a global lock order).
  const difficulties = new Map<string, Extract<WriteOp, { kind: "difficulty" }>>();
  ops.forEach((op, i) => {
    if (op.kind !== "difficulty") return;
    difficulties.set(`${op.address}\u0000${op.worker}`, op);
    outcomes[i] = { ok: true, value: undefined };
  });
  if (difficulties.size > 0) {
    const rows = [...difficulties.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) =>
      e[1]
    );
    await tx`INSERT INTO workers (address, worker, difficulty, updated_at)
      SELECT * FROM unnest(${rows.map((r) => r.address)}::text[], ${
      rows.map((r) => r.worker)
    }::text[],
        ${rows.map((r) => r.difficulty.toString())}::bigint[], ${rows.map((r) => r.time)}::bigint[])
      ON CONFLICT (address, worker) DO UPDATE SET
        difficulty = excluded.difficulty, updated_at = excluded.updated_at`;
  }
  await recordBans(tx, ops, outcomes);
  // Phase 2: shares and the rest, in order. A batch holding a block locks every round row first.
  if (ops.some((op) => op.kind === "block")) {
    await tx`SELECT instance FROM round_work ORDER BY instance FOR UPDATE`;
  }
  const rollups = new RollupAccumulator();
  const round = new Map<number, { work: bigint; shares: number }>();
  let run: { index: number; share: Share }[] = [];
  const flushShares = async () => {
    if (run.length === 0) return;
    const s = run.map((r) => r.share);
    await tx`INSERT INTO shares (instance, address, worker, job_id, difficulty,
        network_difficulty, height, time, hash, solo)
      SELECT i, a, w, j, d, n, h, t, decode(x, 'hex'), o <> 0 FROM unnest(
        ${s.map((v) => v.instance)}::int[], ${s.map((v) => v.address)}::text[],
        ${s.map((v) => v.worker)}::text[], ${s.map((v) => v.jobId)}::text[],
        ${s.map((v) => v.difficulty.toString())}::bigint[],
        ${s.map((v) => v.networkDifficulty.toString())}::bigint[],
        ${s.map((v) => v.height)}::int[], ${s.map((v) => v.time)}::bigint[],
        ${s.map((v) => bytesToHex(v.hash))}::text[], ${
      s.map((v) => v.solo === true ? 1 : 0)
    }::int[]) AS u (i, a, w, j, d, n, h, t, x, o)
`;
    for (const { index, share } of run) {
      outcomes[index] = { ok: true, value: undefined };
      rollups.add(share);
      const w = round.get(share.instance) ?? { work: 0n, shares: 0 };
      w.work += share.difficulty;
      w.shares += 1;
      round.set(share.instance, w);
    }
    run = [];
  };
  const flushRound = async () => {
    await flushShares();
    for (const [instance, w] of [...round].sort((a, b) => a[0] - b[0])) {
      await tx`INSERT INTO round_work (instance, work, shares)
        VALUES (${instance}, ${w.work.toString()}::numeric, ${w.shares})
        ON CONFLICT (instance) DO UPDATE SET
          work = round_work.work + excluded.work, shares = round_work.shares + excluded.shares`;
    }
    round.clear();
  };
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.kind) {
      case "difficulty":
        break;
      case "share":
        run.push({ index: i, share: op.share });
        break;
      case "block":
        await flushRound();
        outcomes[i] = { ok: true, value: await recordBlock(tx, op.block) };
        break;
      case "updateBlock":
        await flushShares();
        outcomes[i] = { ok: true, value: await updateBlock(tx, op.hash, op.update, op.time) };
        break;
      case "reserve":
        await flushShares();
        outcomes[i] = await reserve(tx, op);
        break;
      case "lease":
        await flushShares();
        outcomes[i] = { ok: true, value: await lease(tx, op) };
        break;
      case "unlease":
        await flushShares();
        await tx`DELETE FROM instance_leases WHERE instance = ${op.instance}
          AND owner = ${op.owner}`;
        outcomes[i] = { ok: true, value: undefined };
        break;
      case "ban":
        break; // phase 1

      case "pruneShares": {
        await flushShares();
        const r = await tx`DELETE FROM shares WHERE id IN (
          SELECT id FROM shares WHERE time < ${op.before} ORDER BY time LIMIT ${op.limit})`;
        outcomes[i] = { ok: true, value: r.count };
        break;
      }
      case "pruneRollups": {
        await flushShares();
        const r = await tx`DELETE FROM rollups WHERE ctid IN (
          SELECT ctid FROM rollups WHERE minute < ${op.before} LIMIT ${op.limit})`;
        outcomes[i] = { ok: true, value: r.count };
        break;
      }
      case "pruneBans": {
        await flushShares();
        // An ended row may be rewritten by a new ban of its IP meanwhile: rows another
        // transaction holds are skipped (no deadlock with ban writes), and the condition is
        // checked again on the row as deleted (a row that became a ban in force stays).
        const r = await tx`DELETE FROM bans WHERE ip IN (
          SELECT ip FROM bans WHERE until < ${op.before} AND updated_at < ${op.before}
          LIMIT ${op.limit} FOR UPDATE SKIP LOCKED)
          AND until < ${op.before} AND updated_at < ${op.before}`;
        outcomes[i] = { ok: true, value: r.count };
        break;
      }
      case "payout":
        await flushShares();
        outcomes[i] = await runPayoutWritePostgres(tx, op.op);
        break;
    }
  }
  await flushRound();
  // Phase 3: rollups (rows keyed by instance, so instances never touch each other's rows).
  const r = rollups.rows();
  if (r.length > 0) {
    await tx`INSERT INTO rollups (minute, instance, address, worker, shares, difficulty, score)
      SELECT * FROM unnest(${r.map((v) => v.minute)}::bigint[], ${r.map((v) => v.instance)}::int[],
        ${r.map((v) => v.address)}::text[], ${r.map((v) => v.worker)}::text[],
        ${r.map((v) => v.shares)}::bigint[], ${r.map((v) => v.difficulty.toString())}::numeric[],
        ${r.map((v) => v.score)}::float8[])
      ON CONFLICT (minute, instance, address, worker) DO UPDATE SET
        shares = rollups.shares + excluded.shares,
        difficulty = rollups.difficulty + excluded.difficulty,
        score = rollups.score + excluded.score`;
  }
  return outcomes;
}

async function recordBlock(tx: Tx, b: NewBlock): Promise<BlockResult> {
  const [sum] = await tx`SELECT COALESCE(SUM(work), 0)::text AS work FROM round_work`;
  const effort = Number(BigInt(sum!.work as string)) / Number(b.networkDifficulty);
  const inserted = await tx`INSERT INTO blocks (hash, height, instance, address, worker,
      network_difficulty, reward, status, confirmations, effort, time, updated_at, solo, source,
      note)
    VALUES (decode(${
    bytesToHex(b.hash)
  }, 'hex'), ${b.height}, ${b.instance}, ${b.address}, ${b.worker},
      ${b.networkDifficulty.toString()}::bigint, ${b.reward?.toString() ?? null}::bigint,
      ${b.status ?? "pending"}, 0, ${effort}, ${b.time}, ${Date.now()}, ${b.solo === true},
      ${b.source ?? "share"}, ${b.note ?? ""})
    ON CONFLICT (hash) DO NOTHING RETURNING *`;
  if (inserted.length === 1) {
    await tx`UPDATE round_work SET work = 0, shares = 0`;
    return { block: blockFromRow(inserted[0]!), inserted: true };
  }
  const [existing] = await tx`SELECT * FROM blocks WHERE hash = decode(${
    bytesToHex(b.hash)
  }, 'hex')`;
  return { block: blockFromRow(existing!), inserted: false };
}

async function updateBlock(
  tx: Tx,
  hash: Uint8Array,
  u: BlockUpdate,
  time: number,
): Promise<Block | undefined> {
  const h = bytesToHex(hash);
  const only = u.ifStatus === undefined ? null : [...u.ifStatus];
  const [row] = await tx`UPDATE blocks SET
      status = COALESCE(${u.status ?? null}::text, status),
      reward = COALESCE(${u.reward?.toString() ?? null}::bigint, reward),
      confirmations = COALESCE(${u.confirmations ?? null}::int, confirmations),
      note = COALESCE(${u.note ?? null}::text, note),
      updated_at = ${time}
    WHERE hash = decode(${h}, 'hex')
      AND (${only}::text[] IS NULL OR status = ANY(${only}::text[])) RETURNING *`;
  if (row !== undefined) return blockFromRow(row);
  const [existing] = await tx`SELECT * FROM blocks WHERE hash = decode(${h}, 'hex')`;
  return existing === undefined ? undefined : blockFromRow(existing);
}

async function reserve(
  tx: Tx,
  op: Extract<WriteOp, { kind: "reserve" }>,
): Promise<OpOutcome> {
  await tx`INSERT INTO extranonce_counters (instance, next) VALUES (${op.instance}, 0)
    ON CONFLICT (instance) DO NOTHING`;
  const [row] = await tx`SELECT next::text AS next, range_size::text AS range_size
    FROM extranonce_counters WHERE instance = ${op.instance} FOR UPDATE`;
  let start = BigInt(row!.next as string);
  if (op.rangeSize !== undefined && row!.range_size !== null) {
    start = convertCounter(start, BigInt(row!.range_size as string), op.rangeSize);
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
  const size = op.rangeSize?.toString() ?? null;
  await tx`UPDATE extranonce_counters SET next = ${end.toString()}::numeric,
    range_size = COALESCE(${size}::numeric, range_size) WHERE instance = ${op.instance}`;
  return { ok: true, value: { start, end } };
}

/** Take or renew an instance id's lease; otherwise report its holder. */
async function lease(
  tx: Tx,
  op: Extract<WriteOp, { kind: "lease" }>,
): Promise<InstanceLease> {
  const expiresAt = op.now + op.ttlMs;
  const taken = await tx`INSERT INTO instance_leases (instance, owner, expires_at)
    VALUES (${op.instance}, ${op.owner}, ${expiresAt})
    ON CONFLICT (instance) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
    WHERE instance_leases.owner = excluded.owner OR instance_leases.expires_at <= ${op.now}
    RETURNING owner`;
  if (taken.length === 1) return { acquired: true, owner: op.owner, expiresAt };
  const [row] = await tx`SELECT owner, expires_at FROM instance_leases
    WHERE instance = ${op.instance}`;
  return { acquired: false, owner: String(row!.owner), expiresAt: toNumber(row!.expires_at) };
}

/**
 * Phase 1 (after the workers): the batch's bans and lifts, each stored unless its row holds a later
 * decision, in one statement.
 */
/**
 * Whether a decision replaces the one kept for its IP: a later (or equal) one does, except that a
 * ban never shortens a ban in force (an automated ban made before an operator's longer one had
 * reached this process must not cut it short; lift, then ban, to shorten one).
 */
function replaces(next: StoredBan, kept: StoredBan): boolean {
  return next.updatedAt >= kept.updatedAt &&
    (next.lifted || kept.lifted || next.until >= kept.until);
}

async function recordBans(tx: Tx, ops: WriteOp[], outcomes: OpOutcome[]): Promise<void> {
  // The decision that wins per IP (the latest; of equal ones the last queued), in ip order: one
  // statement, its rows locked in one global order (after the workers'), so that instances
  // banning the same addresses in different orders never deadlock.
  const latest = new Map<string, StoredBan>();
  ops.forEach((op, i) => {
    if (op.kind !== "ban") return;
    const kept = latest.get(op.ban.ip);
    // The rule the statement applies to the stored row, applied within the batch first.
    if (kept === undefined || replaces(op.ban, kept)) latest.set(op.ban.ip, op.ban);
    outcomes[i] = { ok: true, value: undefined };
  });
  if (latest.size === 0) return;
  const b = [...latest.values()].sort((x, y) => (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0));
  // written_at is the database's clock, one for every pool process (their pollers' cursor).
  await tx`INSERT INTO bans (ip, since, until, reason, offences, lifted, updated_at, instance,
      written_at)
    SELECT ip, since, until, reason, offences, lifted <> 0, updated_at, instance,
      (extract(epoch FROM clock_timestamp()) * 1000)::bigint
    FROM unnest(${b.map((v) => v.ip)}::text[], ${b.map((v) => v.since)}::bigint[],
      ${b.map((v) => v.until)}::bigint[], ${b.map((v) => v.reason)}::text[],
      ${b.map((v) => v.offences)}::int[], ${b.map((v) => v.lifted ? 1 : 0)}::int[],
      ${b.map((v) => v.updatedAt)}::bigint[], ${b.map((v) => v.instance)}::int[])
      AS u (ip, since, until, reason, offences, lifted, updated_at, instance)
    ORDER BY ip COLLATE "C"
    ON CONFLICT (ip) DO UPDATE SET since = excluded.since, until = excluded.until,
      reason = excluded.reason, offences = excluded.offences, lifted = excluded.lifted,
      updated_at = excluded.updated_at, instance = excluded.instance,
      written_at = excluded.written_at
    WHERE excluded.updated_at >= bans.updated_at
      AND (excluded.lifted OR bans.lifted OR excluded.until >= bans.until)`;
}

function sumByMinute(rows: readonly Row[]): RollupPoint[] {
  return rows.map((r) => ({
    minute: toNumber(r.minute),
    shares: toNumber(r.shares),
    difficulty: toBigInt(r.difficulty),
    score: toNumber(r.score),
  }));
}

/** The PostgreSQL {@linkcode StoreDriver}. */
export class PostgresDriver implements StoreDriver {
  readonly backend = "postgres" as const;
  readonly where: string;
  readonly readOnly: boolean;
  readonly fresh: boolean;
  #url: string;
  #options: PostgresDriverOptions;
  #writer: Sql;
  #reader: Sql;

  /**
   * @param url Connection URL.
   * @param options Timeouts and pool size.
   * @param clients The writer and reader clients, and whether the database was new.
   */
  constructor(
    url: string,
    options: PostgresDriverOptions,
    clients: { writer: Sql; reader: Sql; fresh?: boolean },
  ) {
    this.#url = url;
    this.#options = options;
    this.where = redactUrl(url);
    this.#writer = clients.writer;
    this.#reader = clients.reader;
    this.readOnly = options.readOnly === true;
    this.fresh = clients.fresh === true;
  }

  /**
   * Connect, migrate and return a driver.
   *
   * @param url Connection URL (`postgres://user:password@host:port/database`).
   * @param options Timeouts and pool size.
   * @returns The driver.
   */
  static async open(url: string, options: PostgresDriverOptions): Promise<PostgresDriver> {
    guardPostgresWriteRace();
    if (options.readOnly === true) return await PostgresDriver.#openSnapshot(url, options);
    const reader = client(url, options.readers, options);
    const writer = client(url, 1, options);
    let found: number;
    try {
      found = await migrate(reader, redactUrl(url));
      await writer`SELECT 1`;
    } catch (err) {
      await Promise.all([reader.end({ timeout: 0 }), writer.end({ timeout: 0 })]);
      throw err;
    }
    return new PostgresDriver(url, options, { writer, reader, fresh: found === 0 });
  }

  /** One read-only connection inside one REPEATABLE READ transaction (the snapshot). */
  static async #openSnapshot(url: string, options: PostgresDriverOptions): Promise<PostgresDriver> {
    const sql = client(url, 1, options);
    try {
      await sql.unsafe("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      // The first query takes the snapshot.
      const [t] = await sql`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`;
      const [v] = t!.present === true
        ? await sql`SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`
        : [{ v: 0 }];
      checkCurrent(toNumber(v!.v), POSTGRES_MIGRATIONS, redactUrl(url));
    } catch (err) {
      await sql.end({ timeout: 0 });
      throw err;
    }
    return new PostgresDriver(url, options, { writer: sql, reader: sql });
  }

  async commit(ops: WriteOp[]): Promise<OpOutcome[]> {
    if (this.readOnly) throw new Error("Cannot write: the store is open read-only");
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#writer.begin((tx) => runBatch(tx, ops)) as OpOutcome[];
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt >= 3 || typeof code !== "string" || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  async probe(): Promise<void> {
    await this.#writer`SELECT 1`;
  }

  async reset(): Promise<void> {
    const old = this.#writer;
    this.#writer = client(this.#url, 1, this.#options);
    await old.end({ timeout: 0 });
  }

  async close(): Promise<void> {
    if (this.readOnly) {
      await this.#reader.unsafe("ROLLBACK").catch(() => {});
      await this.#reader.end({ timeout: 5 });
      return;
    }
    await Promise.all([this.#writer.end({ timeout: 5 }), this.#reader.end({ timeout: 5 })]);
  }

  async workerDifficulty(address: string, worker: string): Promise<bigint | undefined> {
    const [row] = await this.#reader`SELECT difficulty FROM workers
      WHERE address = ${address} AND worker = ${worker}`;
    return row === undefined ? undefined : toBigInt(row.difficulty);
  }

  async block(hash: Uint8Array): Promise<Block | undefined> {
    const [row] = await this.#reader`SELECT * FROM blocks WHERE hash = decode(${
      bytesToHex(hash)
    }, 'hex')`;
    return row === undefined ? undefined : blockFromRow(row);
  }

  async blocks(query: CheckedBlockQuery): Promise<Block[]> {
    const sql = this.#reader;
    const statuses = query.status ?? null;
    const height = query.height ?? null;
    const rows = await sql`SELECT * FROM blocks
      WHERE (${statuses}::text[] IS NULL OR status = ANY(${statuses}::text[]))
        AND (${height}::int IS NULL OR height = ${height}::int)
      ORDER BY time DESC, id DESC LIMIT ${query.limit}`;
    return rows.map(blockFromRow);
  }

  async shares(query: ShareQuery & { limit: number }): Promise<StoredShare[]> {
    const sql = this.#reader;
    const rows = await sql`SELECT * FROM shares WHERE TRUE
      ${query.before === undefined ? sql`` : sql`AND time < ${query.before}`}
      ${query.since === undefined ? sql`` : sql`AND time >= ${query.since}`}
      ${query.address === undefined ? sql`` : sql`AND address = ${query.address}`}
      ORDER BY time DESC, id DESC LIMIT ${query.limit}`;
    return rows.map(shareFromRow);
  }

  async shareCount(): Promise<number> {
    const [row] = await this.#reader`SELECT COUNT(*) AS n FROM shares`;
    return toNumber(row!.n);
  }

  async rollups(query: RollupQuery & { since: number; until: number }): Promise<RollupPoint[]> {
    const sql = this.#reader;
    const since = minuteOf(query.since);
    const filter = query.address === undefined
      ? sql`address = '' AND worker = ''`
      : query.worker === undefined
      ? sql`address = ${query.address}`
      : sql`address = ${query.address} AND worker = ${query.worker}`;
    const rows =
      await sql`SELECT minute, SUM(shares) AS shares, SUM(difficulty)::text AS difficulty,
        SUM(score) AS score
      FROM rollups WHERE ${filter} AND minute >= ${since} AND minute < ${query.until}
      GROUP BY minute ORDER BY minute`;
    return sumByMinute(rows);
  }

  async activity(query: { since: number; until: number }): Promise<Activity> {
    const sql = this.#reader;
    const since = minuteOf(query.since);
    // The pool rows (address '') carry the totals; the worker rows the distinct names (grouped
    // first: a hash aggregate, 4x faster than COUNT(DISTINCT (address, worker)) here).
    const [row] = await sql`WITH w AS (SELECT address, worker FROM rollups
        WHERE address != '' AND minute >= ${since} AND minute < ${query.until}
        GROUP BY address, worker)
      SELECT (SELECT COUNT(*) FROM w) AS workers,
        (SELECT COUNT(DISTINCT address) FROM w) AS miners,
        p.shares, p.difficulty
      FROM (SELECT COALESCE(SUM(shares), 0) AS shares,
          COALESCE(SUM(difficulty), 0)::text AS difficulty
        FROM rollups WHERE address = '' AND worker = ''
          AND minute >= ${since} AND minute < ${query.until}) p`;
    return {
      shares: toNumber(row!.shares),
      difficulty: toBigInt(row!.difficulty),
      miners: toNumber(row!.miners),
      workers: toNumber(row!.workers),
    };
  }

  async workerTotals(
    query: RollupQuery & { since: number; until: number },
  ): Promise<WorkerTotal[]> {
    const sql = this.#reader;
    const since = minuteOf(query.since);
    const filter = query.address === undefined
      ? sql`address != ''`
      : query.worker === undefined
      ? sql`address = ${query.address}`
      : sql`address = ${query.address} AND worker = ${query.worker}`;
    const rows = await sql`SELECT address, worker, SUM(shares) AS shares,
        SUM(difficulty)::text AS difficulty, MAX(minute) AS last
      FROM rollups WHERE ${filter} AND minute >= ${since} AND minute < ${query.until}
      GROUP BY address, worker ORDER BY address COLLATE "C", worker COLLATE "C"`;
    return rows.map((r) => ({
      address: r.address as string,
      worker: r.worker as string,
      shares: toNumber(r.shares),
      difficulty: toBigInt(r.difficulty),
      lastMinute: toNumber(r.last),
    }));
  }

  async bans(query: BanListQuery): Promise<BanListing> {
    // The clock that stamps written_at (before the rows: a row stamped later is read next time).
    const [clock] = await this.#reader`SELECT
      (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`;
    const rows = query.writtenSince === undefined
      ? await this.#reader`SELECT * FROM bans WHERE NOT lifted AND until > ${query.now}
        ORDER BY written_at, ip COLLATE "C" LIMIT ${BAN_LIST_LIMIT}`
      : await this.#reader`SELECT * FROM bans
        WHERE written_at >= ${query.writtenSince} AND (lifted OR until > ${query.now})
        ORDER BY written_at, ip COLLATE "C" LIMIT ${BAN_LIST_LIMIT}`;
    return banListing(rows, toNumber(clock!.now));
  }

  async oldestPendingTime(): Promise<number | undefined> {
    const [row] = await this.#reader`SELECT MIN(time) AS t FROM blocks
      WHERE status IN ('submitted', 'pending')`;
    return row!.t === null ? undefined : toNumber(row!.t);
  }

  async minuteScores(beforeMinute: number, limit: number): Promise<MinuteScore[]> {
    const rows = await this.#reader`SELECT minute, SUM(score) AS score FROM rollups
      WHERE address = '' AND worker = '' AND minute < ${beforeMinute}
      GROUP BY minute ORDER BY minute DESC LIMIT ${limit}`;
    return rows.map(minuteScoreFromRow);
  }

  payoutRead(query: PayoutRead): Promise<unknown> {
    return runPayoutReadPostgres(this.#reader, query);
  }

  scanRead(query: ScanRead): Promise<unknown> {
    return runScanReadPostgres(this.#reader, query);
  }
}
