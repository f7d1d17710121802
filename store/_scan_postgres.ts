/**
 * The whole-table walks on PostgreSQL, on the reader pool (the snapshot's one connection when the
 * store is read-only). Duplicate share hashes are found by the database (GROUP BY over the
 * shares, which have no index on the hash: one hash aggregate, spilled to disk when large).
 *
 * @module
 */
import type postgres from "postgres";
import {
  balanceFromRow,
  blockFromRow,
  changeFromRow,
  paymentFromRow,
  toBigInt,
  toBytes,
  toNumber,
} from "./_rows.ts";
import type { ScanRead } from "./_scan_read.ts";
import type { Payment, PaymentItem } from "./payout_types.ts";
import type { DuplicateShareHash, DuplicateShares } from "./store_scan.ts";

// deno-lint-ignore no-explicit-any
type Sql = postgres.Sql<any>;

async function payments(sql: Sql, after: bigint, limit: number): Promise<Payment[]> {
  const rows = await sql`SELECT * FROM payments WHERE id > ${after.toString()}::bigint
    ORDER BY id LIMIT ${limit}`;
  if (rows.length === 0) return [];
  const first = toBigInt(rows[0]!.id).toString();
  const last = toBigInt(rows.at(-1)!.id).toString();
  const itemRows = await sql`SELECT payment_id, address, amount FROM payment_items
    WHERE payment_id BETWEEN ${first}::bigint AND ${last}::bigint
    ORDER BY payment_id, address COLLATE "C"`;
  const items = new Map<bigint, PaymentItem[]>();
  for (const r of itemRows) {
    const id = toBigInt(r.payment_id);
    let list = items.get(id);
    if (list === undefined) items.set(id, list = []);
    list.push({ address: r.address as string, amount: toBigInt(r.amount) });
  }
  return rows.map((r) => paymentFromRow(r, items.get(toBigInt(r.id)) ?? []));
}

async function duplicateShares(
  sql: Sql,
  since: number | undefined,
  limit: number,
): Promise<DuplicateShares> {
  const where = since === undefined ? sql`` : sql`WHERE time >= ${since}`;
  const [count] = await sql`SELECT COUNT(*) AS n FROM shares ${where}`;
  const rows = await sql`SELECT hash, n, first_id, last_id, address, time,
      COUNT(*) OVER () AS hashes FROM (
        SELECT hash, COUNT(*) AS n, MIN(id) AS first_id, MAX(id) AS last_id,
          MIN(address COLLATE "C") AS address, MIN(time) AS time
        FROM shares ${where} GROUP BY hash HAVING COUNT(*) > 1) AS d
    ORDER BY first_id LIMIT ${limit}`;
  return {
    shares: toNumber(count!.n),
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
 * @param sql The reader pool.
 * @param q The page.
 * @returns Its rows.
 */
export async function runScanReadPostgres(sql: Sql, q: ScanRead): Promise<unknown> {
  switch (q.kind) {
    case "blocks": {
      const rows = await sql`SELECT * FROM blocks WHERE id > ${q.after.toString()}::bigint
        ORDER BY id LIMIT ${q.limit}`;
      return rows.map(blockFromRow);
    }
    case "changes": {
      const rows = await sql`SELECT * FROM balance_changes
        WHERE id > ${q.after.toString()}::bigint ORDER BY id LIMIT ${q.limit}`;
      return rows.map(changeFromRow);
    }
    case "balances": {
      const rows = await sql`SELECT * FROM balances
        WHERE address COLLATE "C" > ${q.after ?? ""} ORDER BY address COLLATE "C"
        LIMIT ${q.limit}`;
      return rows.map(balanceFromRow);
    }
    case "payments":
      return await payments(sql, q.after, q.limit);
    case "duplicateShares":
      return await duplicateShares(sql, q.since, q.limit);
  }
}
