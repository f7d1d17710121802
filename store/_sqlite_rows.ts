/**
 * Row → record conversions for SQLite (integers are read as `bigint`).
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Block, BlockStatus, StoredShare } from "./store_types.ts";

/** Prepare a statement whose integer columns are read as `bigint` (exact 64-bit values). */
export function prepareBig(db: DatabaseSync, sql: string): StatementSync {
  const statement = db.prepare(sql);
  statement.setReadBigInts(true);
  return statement;
}

/** An integer column read as bigint, or a REAL after an overflowing sum, as a bigint. */
export function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(Math.round(value));
  if (typeof value === "string") return BigInt(value);
  return 0n;
}

/** A column as a JavaScript number. */
export function toNumber(value: unknown): number {
  return typeof value === "bigint" ? Number(value) : typeof value === "number" ? value : 0;
}

/** A `blocks` row as a {@linkcode Block}. */
export function blockFromSqlite(value: unknown): Block {
  const r = value as Record<string, unknown>;
  return {
    id: toBigInt(r.id),
    instance: toNumber(r.instance),
    height: toNumber(r.height),
    hash: r.hash as Uint8Array,
    address: r.address as string,
    worker: r.worker as string,
    networkDifficulty: toBigInt(r.network_difficulty),
    reward: r.reward === null || r.reward === undefined ? undefined : toBigInt(r.reward),
    status: r.status as BlockStatus,
    confirmations: toNumber(r.confirmations),
    effort: toNumber(r.effort),
    time: toNumber(r.time),
    updatedAt: toNumber(r.updated_at),
  };
}

/** A `shares` row as a {@linkcode StoredShare}. */
export function shareFromSqlite(value: unknown): StoredShare {
  const r = value as Record<string, unknown>;
  return {
    id: toBigInt(r.id),
    instance: toNumber(r.instance),
    address: r.address as string,
    worker: r.worker as string,
    jobId: r.job_id as string,
    difficulty: toBigInt(r.difficulty),
    networkDifficulty: toBigInt(r.network_difficulty),
    height: toNumber(r.height),
    time: toNumber(r.time),
    hash: r.hash as Uint8Array,
  };
}
