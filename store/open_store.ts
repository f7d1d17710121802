/**
 * Opening a store from one location string: a `postgres://` URL selects PostgreSQL, anything
 * else is a SQLite file path (an optional `sqlite:` prefix is removed).
 *
 * @module
 */
import { openPostgresStore, type PostgresStoreOptions } from "./postgres_store.ts";
import { openSqliteStore, type SqliteStoreOptions } from "./sqlite_store.ts";
import type { Store } from "./store.ts";

/** Settings of either backend (each uses its own). */
export type OpenStoreOptions = SqliteStoreOptions & PostgresStoreOptions;

/**
 * Open the store named by `location`.
 *
 * @example Usage
 * ```ts
 * import { openStore } from "./open_store.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`sqlite:${dir}/pool.sqlite`, { thread: false });
 * assert.equal(store.backend, "sqlite");
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param location `postgres://…`, `postgresql://…`, `sqlite:PATH` or a file path.
 * @param options Settings for the chosen backend.
 * @returns The store.
 */
export function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (typeof location !== "string" || location.trim() === "") {
    throw new TypeError("Cannot open store: the location must be a non-empty string");
  }
  if (/^postgres(ql)?:\/\//i.test(location)) return openPostgresStore(location, options);
  const path = location.startsWith("sqlite:") ? location.slice("sqlite:".length) : location;
  return openSqliteStore(path, options);
}

/**
 * Whether `location` names a PostgreSQL database.
 *
 * @example Usage
 * ```ts
 * import { isPostgresLocation } from "./open_store.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isPostgresLocation("postgres://db/pool"), true);
 * assert.equal(isPostgresLocation("vbkpool.sqlite"), false);
 * ```
 *
 * @param location Store location.
 * @returns True for a `postgres://` or `postgresql://` URL.
 */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}
