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

const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/**
 * A statement prepared with {@linkcode prepareBig} once per connection and SQL text, then reused.
 *
 * @param db The connection.
 * @param sql The statement's text.
 * @returns The prepared statement.
 */
export function cachedStatement(db: DatabaseSync, sql: string): StatementSync {
  let byText = statements.get(db);
  if (byText === undefined) statements.set(db, byText = new Map());
  let statement = byText.get(sql);
  if (statement === undefined) byText.set(sql, statement = prepareBig(db, sql));
  return statement;
}
