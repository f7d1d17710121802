/**
 * The whole-table walks on SQLite, on the read connection (inside its snapshot when the store is
 * read-only). Duplicate share hashes are found by the database (GROUP BY over the shares, which
 * have no index on the hash: one pass, sorted in SQLite's temporary storage).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  balanceFromRow,
  blockFromRow,
  changeFromRow,
  paymentFromRow,
  toBigInt,
  toBytes,
  toNumber,
} from "./_rows.ts";
import { cachedStatement } from "./_sqlite_rows.ts";
import type { ScanRead } from "./_scan_read.ts";
import type { Payment, PaymentItem } from "./payout_types.ts";
import type { DuplicateShareHash, DuplicateShares } from "./store_scan.ts";

type Row = Record<string, unknown>;

const st = cachedStatement;

function payments(db: DatabaseSync, after: bigint, limit: number): Payment[] {
  const rows = st(db, "SELECT * FROM payments WHERE id > ? ORDER BY id LIMIT ?")
    .all(after, limit) as Row[];
  if (rows.length === 0) return [];
  const items = new Map<bigint, PaymentItem[]>();
  const first = toBigInt(rows[0]!.id);
  const last = toBigInt(rows.at(-1)!.id);
  const itemRows = st(
    db,
    `SELECT payment_id, address, amount FROM payment_items WHERE payment_id BETWEEN ? AND ?
     ORDER BY payment_id, address`,
  ).all(first, last) as Row[];
  for (const r of itemRows) {
    const id = toBigInt(r.payment_id);
    let list = items.get(id);
    if (list === undefined) items.set(id, list = []);
    list.push({ address: r.address as string, amount: toBigInt(r.amount) });
  }
  return rows.map((r) => paymentFromRow(r, items.get(toBigInt(r.id)) ?? []));
}

function duplicateShares(
  db: DatabaseSync,
  since: number | undefined,
  limit: number,
): DuplicateShares {
  // Without a time range no WHERE: a scan of the table beats a walk of the time index.
  const where = since === undefined ? "" : "WHERE time >= ?";
  const args = since === undefined ? [] : [since];
  const count = st(db, `SELECT COUNT(*) AS n FROM shares ${where}`).get(...args) as Row;
  const rows = st(
    db,
    `SELECT hash, n, first_id, last_id, address, time, COUNT(*) OVER () AS hashes FROM (
       SELECT hash, COUNT(*) AS n, MIN(id) AS first_id, MAX(id) AS last_id,
         MIN(address) AS address, MIN(time) AS time
       FROM shares ${where} GROUP BY hash HAVING COUNT(*) > 1)
     ORDER BY first_id LIMIT ?`,
  ).all(...args, limit) as Row[];
  return {
    shares: toNumber(count.n),
    hashes: rows.length === 0 ? 0 : toNumber(rows[0]!.hashes),
    duplicates: rows.map((r): DuplicateShareHash => ({
      hash: toBytes(r.hash),
      count: toNumber(r.n),
      firstId: toBigInt(r.first_id),
      lastId: toBigInt(r.last_id),
      address: r.address as string,
      time: toNumber(r.time),
    })),
  };
}

/**
 * Run one page of a whole-table walk.
 *
 * @param db The read connection.
 * @param q The page.
 * @returns Its rows.
 */
export function runScanReadSqlite(db: DatabaseSync, q: ScanRead): unknown {
  switch (q.kind) {
    case "blocks":
      return st(db, "SELECT * FROM blocks WHERE id > ? ORDER BY id LIMIT ?")
        .all(q.after, q.limit).map(blockFromRow);
    case "changes":
      return st(db, "SELECT * FROM balance_changes WHERE id > ? ORDER BY id LIMIT ?")
        .all(q.after, q.limit).map(changeFromRow);
    case "balances":
      return st(db, "SELECT * FROM balances WHERE address > ? ORDER BY address LIMIT ?")
        .all(q.after ?? "", q.limit).map(balanceFromRow);
    case "payments":
      return payments(db, q.after, q.limit);
    case "duplicateShares":
      return duplicateShares(db, q.since, q.limit);
  }
}
