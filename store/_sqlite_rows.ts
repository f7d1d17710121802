/**
 * SQLite statements whose integer columns are read as `bigint`; the rows they return become
 * records through `_rows.ts`.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Prepare a statement whose integer columns are read as `bigint` (exact 64-bit values). */
export function prepareBig(db: DatabaseSync, sql: string): StatementSync {
  const statement = db.prepare(sql);
  statement.setReadBigInts(true);
  return statement;
}
