/**
 * Persistence behind one domain-level interface ({@linkcode Store}): accepted shares, found
 * blocks, worker difficulty, extranonce reservations, hash-rate rollups and IP bans, in SQLite
 * (WAL, the default) or PostgreSQL (several pool instances). Writes are group-committed; a
 * write's promise resolves only after its transaction committed. For the audit, a store opens
 * `readOnly` (one snapshot, no writes) and walks whole tables in pages (`store.scan`). Imports
 * only `hash/` of ours; used by `server/`, `payouts/` and `cli/`.
 *
 * @example Usage
 * ```ts
 * import { openStore } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * await store.recordShare({
 *   instance: 0, address: "V1abc", worker: "rig1", jobId: "1",
 *   difficulty: 1000n, networkDifficulty: 1_000_000n, height: 10, time: Date.now(),
 *   hash: new Uint8Array(24).fill(7),
 * });
 * assert.equal(await store.countShares(), 1);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./store.ts";
export * from "./store_types.ts";
export * from "./payout_store.ts";
export * from "./payout_types.ts";
export * from "./store_scan.ts";
export * from "./store_unavailable_error.ts";
export * from "./group_commit.ts";
export * from "./open_store.ts";
export * from "./sqlite_store.ts";
export * from "./postgres_store.ts";
