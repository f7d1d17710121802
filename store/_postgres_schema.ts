/**
 * The PostgreSQL schema, as versioned migrations. Append new migrations; never edit an applied
 * one. Sums that can outgrow 64 bits (rollups, round work) are `NUMERIC`.
 *
 * @module
 */
import type { Migration } from "./_migration.ts";
import { POSTGRES_PAYOUTS_MIGRATION } from "./_payouts_schema.ts";

/** Every PostgreSQL migration, in order. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "shares, blocks, workers, extranonce counters, rollups, round work",
    statements: [
      `CREATE TABLE shares (
        id BIGSERIAL PRIMARY KEY,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        job_id TEXT NOT NULL,
        difficulty BIGINT NOT NULL,
        network_difficulty BIGINT NOT NULL,
        height INTEGER NOT NULL,
        time BIGINT NOT NULL,
        hash BYTEA NOT NULL UNIQUE
      )`,
      `CREATE INDEX shares_time ON shares (time)`,
      `CREATE TABLE blocks (
        id BIGSERIAL PRIMARY KEY,
        hash BYTEA NOT NULL UNIQUE,
        height INTEGER NOT NULL,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        network_difficulty BIGINT NOT NULL,
        reward BIGINT,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'orphaned')),
        confirmations INTEGER NOT NULL,
        effort DOUBLE PRECISION NOT NULL,
        time BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE INDEX blocks_time ON blocks (time)`,
      `CREATE INDEX blocks_status_time ON blocks (status, time)`,
      `CREATE TABLE workers (
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        difficulty BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (address, worker)
      )`,
      `CREATE TABLE extranonce_counters (
        instance INTEGER PRIMARY KEY,
        next NUMERIC(20, 0) NOT NULL
      )`,
      `CREATE TABLE rollups (
        minute BIGINT NOT NULL,
        instance INTEGER NOT NULL,
        address TEXT NOT NULL,
        worker TEXT NOT NULL,
        shares BIGINT NOT NULL,
        difficulty NUMERIC NOT NULL,
        score DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (minute, instance, address, worker)
      )`,
      `CREATE INDEX rollups_address ON rollups (address, worker, minute)`,
      `CREATE TABLE round_work (
        instance INTEGER PRIMARY KEY,
        work NUMERIC NOT NULL,
        shares BIGINT NOT NULL
      )`,
    ],
  },
  POSTGRES_PAYOUTS_MIGRATION,
  {
    version: 3,
    // As in SQLite: the pool rejects duplicate headers itself (server/jobs.ts), and instances
    // cannot collide (each has its own extranonce prefix).
    name: "shares without a unique index on the hash",
    statements: [`ALTER TABLE shares DROP CONSTRAINT IF EXISTS shares_hash_key`],
  },
  {
    version: 4,
    // As in SQLite: the range size beside the counter (store/_ops.ts convertCounter).
    name: "range size beside the extranonce counter",
    statements: [`ALTER TABLE extranonce_counters ADD COLUMN range_size NUMERIC(20, 0)`],
  },
  {
    version: 5,
    // As in SQLite: block candidates and their reconciliation, SOLO ports, the credit basis,
    // the payment's signature index.
    name: "block candidates, solo, credit basis, payment signature index",
    statements: [
      `ALTER TABLE shares ADD COLUMN solo BOOLEAN NOT NULL DEFAULT false`,
      `ALTER TABLE blocks DROP CONSTRAINT IF EXISTS blocks_status_check`,
      `ALTER TABLE blocks ADD CONSTRAINT blocks_status_check
        CHECK (status IN ('submitted', 'pending', 'confirmed', 'orphaned', 'rejected'))`,
      `ALTER TABLE blocks ADD COLUMN solo BOOLEAN NOT NULL DEFAULT false,
        ADD COLUMN source TEXT NOT NULL DEFAULT 'share' CHECK (source IN ('share', 'chain')),
        ADD COLUMN note TEXT NOT NULL DEFAULT '',
        ADD COLUMN credit_basis TEXT`,
      `CREATE INDEX blocks_height ON blocks (height)`,
      `ALTER TABLE payments ADD COLUMN signature_index TEXT`,
    ],
  },
  {
    version: 6,
    // As in SQLite: one live server per instance id (server/instance_lease.ts).
    name: "instance leases",
    statements: [
      `CREATE TABLE instance_leases (
        instance INTEGER PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 7,
    // As in SQLite: IP bans shared by every pool process, the latest decision per address.
    name: "ip bans",
    statements: [
      `CREATE TABLE bans (
        ip TEXT PRIMARY KEY,
        since BIGINT NOT NULL,
        until BIGINT NOT NULL,
        reason TEXT NOT NULL,
        offences INTEGER NOT NULL,
        lifted BOOLEAN NOT NULL,
        updated_at BIGINT NOT NULL,
        instance INTEGER NOT NULL,
        written_at BIGINT NOT NULL
      )`,
      `CREATE INDEX bans_written_at ON bans (written_at)`,
      `CREATE INDEX bans_until ON bans (until)`,
    ],
  },
];
