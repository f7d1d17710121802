/**
 * The error a store operation fails with while the database cannot be reached or cannot commit.
 *
 * @module
 */

/**
 * The database is failing (unreachable, locked, full, or a commit timed out): the operation was
 * not committed. The pool answers the miner with an error, never with `true`. The store keeps
 * probing in the background and accepts writes again once the database is back.
 *
 * @example Usage
 * ```ts
 * import { StoreUnavailableError } from "./store_unavailable_error.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new StoreUnavailableError("Cannot commit: database is locked");
 * assert.equal(err.name, "StoreUnavailableError");
 * assert.ok(err instanceof Error);
 * ```
 */
export class StoreUnavailableError extends Error {
  /**
   * @param message Complete message ("Cannot <action>: <reason>").
   * @param options The underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
