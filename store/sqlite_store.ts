/**
 * Opening the SQLite store (the default): one database file in WAL mode, written by a dedicated
 * thread, read on the calling thread.
 *
 * @module
 */
import { type CommitOptions, DriverStore } from "./_driver_store.ts";
import { SqliteDriver } from "./_sqlite_driver.ts";
import type { Store } from "./store.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** Settings of the SQLite store. */
export interface SqliteStoreOptions extends CommitOptions {
  /**
   * `"full"` fsyncs the WAL at every commit (an acknowledged share survives a power loss);
   * `"normal"` survives a process crash only. @default "full"
   */
  synchronous?: "full" | "normal";
  /** How long a write waits for a lock held by another process (ms). @default 5000 */
  busyTimeoutMs?: number;
  /** Write from a worker thread, so fsyncs never block the event loop. @default true */
  thread?: boolean;
  /**
   * Open for reading only (the audit): the file must exist with the current schema (nothing is
   * created or migrated), every write is refused, and every read sees one snapshot taken when
   * the store opened (a read transaction held until close). @default false
   */
  readOnly?: boolean;
}

/**
 * Open (creating and migrating when needed) a SQLite store.
 *
 * @example Usage
 * ```ts
 * import { openSqliteStore } from "./sqlite_store.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openSqliteStore(`${dir}/pool.sqlite`, { thread: false });
 * await store.setWorkerDifficulty("V1abc", "rig1", 4096n);
 * assert.equal(await store.getWorkerDifficulty("V1abc", "rig1"), 4096n);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param path Database file (created when missing; `-wal` and `-shm` files appear beside it).
 * @param options Durability, thread and group-commit settings.
 * @returns The store.
 * @throws {StoreUnavailableError} When the file cannot be opened or migrated.
 * @throws {RangeError} When the file was migrated by a newer vbkpool, or an option is out of range;
 *   read-only, also when its schema is not the current one.
 */
export async function openSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Promise<Store> {
  if (typeof path !== "string" || path === "" || path === ":memory:" || path.includes("\0")) {
    throw new TypeError(
      `Cannot open store: a database file path is required, got ${JSON.stringify(path)}`,
    );
  }
  const synchronous = options.synchronous ?? "full";
  if (synchronous !== "full" && synchronous !== "normal") {
    throw new RangeError(
      `Cannot open store: synchronous must be "full" or "normal", got ${synchronous}`,
    );
  }
  let driver: SqliteDriver;
  try {
    driver = await SqliteDriver.open(path, {
      synchronous,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      thread: options.thread ?? true,
      readOnly: options.readOnly === true,
    });
  } catch (err) {
    if (err instanceof RangeError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new StoreUnavailableError(`Cannot open store ${path}: ${why}`, { cause: err });
  }
  try {
    return new DriverStore(driver, options);
  } catch (err) {
    await driver.close();
    throw err;
  }
}
