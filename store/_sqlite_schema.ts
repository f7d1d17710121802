/**
 * The SQLite schema, as versioned migrations. Append new migrations; never edit an applied one.
 *
 * @module
 */
import type { Migration } from "./_migration.ts";
import { SQLITE_PAYOUTS_MIGRATION } from "./_payouts_schema.ts";

/** The block statuses as an SQL list (migration 5). */
const BLOCK_STATUS_LIST = "'submitted', 'pending', 'confirmed', 'orphaned', 'rejected'";

/** Every SQLite migration, in order. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "shares, blocks, workers, extranonce counters, rollups, round work",
    statements: [
      `CREATE TABLE shares (
        id INTEGER PRIMARY KEY,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        job_id TEXT NOT NULL,
        difficulty INTEGER NOT NULL,
        network_difficulty INTEGER NOT NULL,
        height INTEGER NOT NULL,
        time INTEGER NOT NULL,
        hash BLOB NOT NULL UNIQUE
      )`,
      `CREATE INDEX shares_time ON shares (time)`,
      `CREATE TABLE blocks (
        id INTEGER PRIMARY KEY,
        hash BLOB NOT NULL UNIQUE,
        height INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        network_difficulty INTEGER NOT NULL,
        reward INTEGER,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'orphaned')),
        confirmations INTEGER NOT NULL,
        effort REAL NOT NULL,
        time INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE INDEX blocks_time ON blocks (time)`,
      `CREATE INDEX blocks_status_time ON blocks (status, time)`,
      `CREATE TABLE workers (
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        difficulty INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (address, worker)
      ) WITHOUT ROWID`,
      `CREATE TABLE extranonce_counters (
        instance INTEGER PRIMARY KEY,
        next TEXT NOT NULL
      )`,
      `CREATE TABLE rollups (
        minute INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        shares INTEGER NOT NULL,
        difficulty INTEGER NOT NULL,
        score REAL NOT NULL,
        PRIMARY KEY (minute, instance, address, worker)
      ) WITHOUT ROWID`,
      `CREATE INDEX rollups_address ON rollups (address, worker, minute)`,
      `CREATE TABLE round_work (
        instance INTEGER PRIMARY KEY,
        work INTEGER NOT NULL,
        shares INTEGER NOT NULL
      )`,
    ],
  },
  SQLITE_PAYOUTS_MIGRATION,
  {
    version: 3,
    // The pool rejects a duplicate header before it reaches the store (server/jobs.ts); a
    // unique index on a random hash cost the writer one dirty page per share per commit.
    name: "shares without a unique index on the hash",
    statements: [
      `CREATE TABLE shares_v3 (
        id INTEGER PRIMARY KEY,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        job_id TEXT NOT NULL,
        difficulty INTEGER NOT NULL,
        network_difficulty INTEGER NOT NULL,
        height INTEGER NOT NULL,
        time INTEGER NOT NULL,
        hash BLOB NOT NULL
      )`,
      `INSERT INTO shares_v3 SELECT id, instance, address, worker, job_id, difficulty,
        network_difficulty, height, time, hash FROM shares`,
      `DROP TABLE shares`,
      `ALTER TABLE shares_v3 RENAME TO shares`,
      `CREATE INDEX shares_time ON shares (time)`,
    ],
  },
  {
    version: 4,
    // Counters count ranges; with the range size beside them a smaller range after a restart
    // continues past every value handed out before (store/_ops.ts convertCounter).
    name: "range size beside the extranonce counter",
    statements: [`ALTER TABLE extranonce_counters ADD COLUMN range_size TEXT`],
  },
  {
    version: 5,
    // Block candidates are stored before they are submitted and reconciled with the chain
    // (submitted, rejected); SOLO ports; how each block was credited, for the audit; the pool
    // address's signature index before a payment, to prove later whether it was executed.
    name: "block candidates, solo, credit basis, payment signature index",
    statements: [
      `ALTER TABLE shares ADD COLUMN solo INTEGER NOT NULL DEFAULT 0`,
      `CREATE TABLE blocks_v5 (
        id INTEGER PRIMARY KEY,
        hash BLOB NOT NULL UNIQUE,
        height INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        network_difficulty INTEGER NOT NULL,
        reward INTEGER,
        status TEXT NOT NULL CHECK (status IN (${BLOCK_STATUS_LIST})),
        confirmations INTEGER NOT NULL,
        effort REAL NOT NULL,
        time INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        solo INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL DEFAULT 'share' CHECK (source IN ('share', 'chain')),
        note TEXT NOT NULL DEFAULT '',
        credit_basis TEXT
      )`,
      `INSERT INTO blocks_v5 (id, hash, height, instance, address, worker, network_difficulty,
        reward, status, confirmations, effort, time, updated_at)
        SELECT id, hash, height, instance, address, worker, network_difficulty, reward, status,
        confirmations, effort, time, updated_at FROM blocks`,
      `DROP TABLE blocks`,
      `ALTER TABLE blocks_v5 RENAME TO blocks`,
      `CREATE INDEX blocks_time ON blocks (time)`,
      `CREATE INDEX blocks_status_time ON blocks (status, time)`,
      `CREATE INDEX blocks_height ON blocks (height)`,
      `ALTER TABLE payments ADD COLUMN signature_index TEXT`,
    ],
  },
  {
    version: 6,
    // One live server per instance id: a second server configured with the same id on this
    // database is refused (server/instance_lease.ts).
    name: "instance leases",
    statements: [
      `CREATE TABLE instance_leases (
        instance INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      )`,
    ],
  },
  {
    version: 7,
    // IP bans outlive a restart or a hand-over and are shared by every pool process on the
    // database: one row per address, the latest decision (a ban or its lift) wins.
    name: "ip bans",
    statements: [
      `CREATE TABLE bans (
        ip TEXT PRIMARY KEY,
        since INTEGER NOT NULL,
        until INTEGER NOT NULL,
        reason TEXT NOT NULL,
        offences INTEGER NOT NULL,
        lifted INTEGER NOT NULL CHECK (lifted IN (0, 1)),
        updated_at INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        written_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
      `CREATE INDEX bans_written_at ON bans (written_at)`,
      `CREATE INDEX bans_until ON bans (until)`,
    ],
  },
];
