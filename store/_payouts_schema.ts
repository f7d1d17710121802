/**
 * Schema migration 2 (both backends): balances with optional per-miner thresholds, the balance
 * audit trail, payment intents and their recipients, and the payer lock. Appended to
 * `SQLITE_MIGRATIONS` and `POSTGRES_MIGRATIONS`; never edit it once released.
 *
 * @module
 */
import type { Migration } from "./_migration.ts";

const NAME = "balances, balance changes, payments, payment items, payout lock";
const REASONS = "'share', 'fee', 'rounding', 'payment', 'payment_failed'";
const STATUSES = "'pending', 'sent', 'confirmed', 'failed'";

/** Migration 2 for SQLite. */
export const SQLITE_PAYOUTS_MIGRATION: Migration = {
  version: 2,
  name: NAME,
  statements: [
    `CREATE TABLE balances (
      address TEXT PRIMARY KEY,
      amount INTEGER NOT NULL CHECK (amount >= 0),
      threshold INTEGER CHECK (threshold > 0),
      updated_at INTEGER NOT NULL
    )`,
    `CREATE TABLE balance_changes (
      id INTEGER PRIMARY KEY,
      address TEXT NOT NULL,
      amount INTEGER NOT NULL,
      reason TEXT NOT NULL CHECK (reason IN (${REASONS})),
      block_hash BLOB,
      block_height INTEGER,
      payment_id INTEGER,
      details TEXT NOT NULL,
      time INTEGER NOT NULL
    )`,
    `CREATE INDEX balance_changes_address ON balance_changes (address, id)`,
    `CREATE INDEX balance_changes_block ON balance_changes (block_hash)`,
    `CREATE INDEX balance_changes_payment ON balance_changes (payment_id)`,
    `CREATE TABLE payments (
      id INTEGER PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN (${STATUSES})),
      total INTEGER NOT NULL,
      tx_ids TEXT NOT NULL,
      start_height INTEGER NOT NULL,
      confirmations INTEGER NOT NULL,
      error TEXT,
      owner TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    )`,
    `CREATE INDEX payments_status ON payments (status, id)`,
    `CREATE TABLE payment_items (
      payment_id INTEGER NOT NULL,
      address TEXT NOT NULL,
      amount INTEGER NOT NULL CHECK (amount > 0),
      PRIMARY KEY (payment_id, address)
    ) WITHOUT ROWID`,
    `CREATE INDEX payment_items_address ON payment_items (address, payment_id)`,
    `CREATE TABLE payout_lock (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    )`,
  ],
};

/** Migration 2 for PostgreSQL. */
export const POSTGRES_PAYOUTS_MIGRATION: Migration = {
  version: 2,
  name: NAME,
  statements: [
    `CREATE TABLE balances (
      address TEXT PRIMARY KEY,
      amount BIGINT NOT NULL CHECK (amount >= 0),
      threshold BIGINT CHECK (threshold > 0),
      updated_at BIGINT NOT NULL
    )`,
    `CREATE TABLE balance_changes (
      id BIGSERIAL PRIMARY KEY,
      address TEXT NOT NULL,
      amount BIGINT NOT NULL,
      reason TEXT NOT NULL CHECK (reason IN (${REASONS})),
      block_hash BYTEA,
      block_height INTEGER,
      payment_id BIGINT,
      details TEXT NOT NULL,
      time BIGINT NOT NULL
    )`,
    `CREATE INDEX balance_changes_address ON balance_changes (address, id)`,
    `CREATE INDEX balance_changes_block ON balance_changes (block_hash)`,
    `CREATE INDEX balance_changes_payment ON balance_changes (payment_id)`,
    `CREATE TABLE payments (
      id BIGSERIAL PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN (${STATUSES})),
      total BIGINT NOT NULL,
      tx_ids TEXT NOT NULL,
      start_height INTEGER NOT NULL,
      confirmations INTEGER NOT NULL,
      error TEXT,
      owner TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `CREATE INDEX payments_status ON payments (status, id)`,
    `CREATE TABLE payment_items (
      payment_id BIGINT NOT NULL,
      address TEXT NOT NULL,
      amount BIGINT NOT NULL CHECK (amount > 0),
      PRIMARY KEY (payment_id, address)
    )`,
    `CREATE INDEX payment_items_address ON payment_items (address, payment_id)`,
    `CREATE TABLE payout_lock (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      expires_at BIGINT NOT NULL
    )`,
  ],
};
