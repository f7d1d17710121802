/**
 * Opening the PostgreSQL store, for several pool instances sharing one database.
 *
 * @module
 */
import { type CommitOptions, DriverStore } from "./_driver_store.ts";
import { PostgresDriver, redactUrl } from "./_postgres_driver.ts";

export { redactUrl };
import type { Store } from "./store.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** Settings of the PostgreSQL store. */
export interface PostgresStoreOptions extends CommitOptions {
  /** Seconds to wait for a connection. @default 5 */
  connectTimeoutS?: number;
  /** Connections used for reads (one more is used for commits). @default 4 */
  readers?: number;
  /**
   * Open for reading only (the audit): no migration (the schema must be current), one
   * connection whose reads all run in one REPEATABLE READ READ ONLY transaction (one snapshot,
   * taken when the store opened), every write refused. @default false
   */
  readOnly?: boolean;
}

/**
 * Connect to PostgreSQL, apply pending migrations and return the store.
 *
 * @example Usage
 * ```ts ignore
 * import { openPostgresStore } from "./postgres_store.ts";
 *
 * const store = await openPostgresStore("postgres://vbkpool@127.0.0.1:5432/vbkpool");
 * await store.close();
 * ```
 *
 * @param url `postgres://user:password@host:port/database`.
 * @param options Connection and group-commit settings.
 * @returns The store.
 * @throws {StoreUnavailableError} When the database cannot be reached or migrated.
 * @throws {RangeError} When the database was migrated by a newer vbkpool, or an option is out of
 *   range; read-only, also when its schema is not the current one.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError("Cannot open store: a postgres:// or postgresql:// URL is required");
  }
  const connectTimeoutS = options.connectTimeoutS ?? 5;
  const readers = options.readers ?? 4;
  if (!(connectTimeoutS > 0) || !Number.isInteger(readers) || readers < 1 || readers > 100) {
    throw new RangeError(
      "Cannot open store: connectTimeoutS must be > 0 and readers from 1 to 100",
    );
  }
  let driver: PostgresDriver;
  try {
    driver = await PostgresDriver.open(url, {
      connectTimeoutS,
      readers,
      readOnly: options.readOnly === true,
    });
  } catch (err) {
    if (err instanceof RangeError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new StoreUnavailableError(`Cannot open store ${redactUrl(url)}: ${why}`, { cause: err });
  }
  try {
    return new DriverStore(driver, options);
  } catch (err) {
    await driver.close();
    throw err;
  }
}
