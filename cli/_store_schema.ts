/**
 * The `[store]` configuration section: where the pool keeps shares, blocks and worker state
 * (see `config_schema.ts` and `store/`).
 *
 * @module
 */
import { ConfigError, type ConfigValues, type SectionSpec } from "./config.ts";
import type { OpenStoreOptions } from "../store/mod.ts";

/** Keys of `[store]`. */
export const STORE_SCHEMA: SectionSpec = {
  url: {
    kind: "string",
    default: "vbkpool.sqlite",
    doc: "A SQLite file (the default; WAL mode) or postgres://user:password@host:port/database " +
      "(several pool instances, each with its own stratum.instance_id, share one PostgreSQL).",
    check: (
      value,
    ) => (String(value).trim() === "" ? "a file path or a postgres:// URL" : undefined),
  },
  batch_delay_ms: {
    kind: "integer",
    default: 5,
    min: 0,
    max: 1000,
    doc: "Group commit: a batch of shares closes this long after its first share (ms).",
  },
  batch_max_rows: {
    kind: "integer",
    default: 1000,
    min: 1,
    max: 100000,
    doc: "Group commit: a batch closes at once when it holds this many writes.",
  },
  max_queue: {
    kind: "integer",
    default: 100000,
    min: 1,
    max: 10000000,
    doc: "Writes waiting for a commit at most; beyond that shares are answered with an error.",
  },
  pause_reads_at: {
    kind: "integer",
    default: 10000,
    min: 0,
    max: 10000000,
    doc: "Accepted shares waiting for their commit at which the server stops reading from " +
      "miners until half of them are committed (answers come late instead of as errors); " +
      "0 never pauses; keep it well below max_queue.",
  },
  commit_timeout_seconds: {
    kind: "number",
    default: 10,
    min: 0.1,
    max: 600,
    doc: "A commit slower than this fails its batch (miners get an error, not true).",
  },
  sqlite_synchronous: {
    kind: "string",
    default: "full",
    choices: ["full", "normal"],
    doc: "SQLite fsync: full survives a power loss, normal only a process crash.",
  },
  sqlite_busy_timeout_ms: {
    kind: "integer",
    default: 5000,
    min: 0,
    max: 600000,
    doc: "How long a SQLite write waits for a lock held by another process (the payout service).",
  },
  postgres_connect_timeout_seconds: {
    kind: "number",
    default: 5,
    min: 0.1,
    max: 600,
    doc: "Seconds to wait for a PostgreSQL connection.",
  },
  keep_shares_days: {
    kind: "number",
    default: 7,
    min: 0,
    max: 36500,
    doc: "Shares older than this are pruned, unless a PPLNS window still needs them.",
  },
  pplns_window: {
    kind: "number",
    default: 2,
    min: 0,
    max: 1000,
    doc: "Never prune shares inside this many network difficulties of work before the oldest " +
      "pending block (or now); keep it at least the payout service's PPLNS window.",
  },
  keep_rollups_days: {
    kind: "number",
    default: 30,
    min: 0,
    max: 36500,
    doc: "Per-minute hash-rate rollups older than this are pruned (keep >= keep_shares_days).",
  },
  prune_interval_minutes: {
    kind: "number",
    default: 60,
    min: 0,
    max: 100000,
    doc: "Minutes between pruning runs; 0 never prunes.",
  },
};

/** The `[store]` keys only the server reads: it alone prunes and pauses reads. */
export const STORE_PRUNE_KEYS: readonly string[] = [
  "pause_reads_at",
  "keep_shares_days",
  "pplns_window",
  "keep_rollups_days",
  "prune_interval_minutes",
];

/** The `[store]` keys a read-only opening (the audit) uses: nothing about writes. */
export const STORE_READER_KEYS: readonly string[] = [
  "url",
  "sqlite_busy_timeout_ms",
  "postgres_connect_timeout_seconds",
];

/**
 * The store location and open options of a loaded `[store]` section (the server and the payout
 * service open the same store the same way). Keys missing from the section (a command that
 * reads only some) keep the store's defaults.
 *
 * @example Usage
 * ```ts
 * import { storeOptions } from "./_store_schema.ts";
 * import assert from "node:assert/strict";
 *
 * const { url, options } = storeOptions({
 *   url: " pool.sqlite ", batch_delay_ms: 5, batch_max_rows: 1000, max_queue: 100000,
 *   commit_timeout_seconds: 10, sqlite_synchronous: "full", sqlite_busy_timeout_ms: 5000,
 *   postgres_connect_timeout_seconds: 10,
 * });
 * assert.equal(url, "pool.sqlite");
 * assert.equal(options.commitTimeoutMs, 10_000);
 * ```
 *
 * @param s The section's values.
 * @returns The trimmed URL and the options for `openStore`.
 */
export function storeOptions(
  s: Record<string, unknown>,
): { url: string; options: OpenStoreOptions } {
  return {
    url: (s.url as string).trim(),
    options: {
      batchDelayMs: s.batch_delay_ms as number,
      batchMaxRows: s.batch_max_rows as number,
      maxQueue: s.max_queue as number,
      commitTimeoutMs: s.commit_timeout_seconds === undefined
        ? undefined
        : Math.round((s.commit_timeout_seconds as number) * 1000),
      synchronous: s.sqlite_synchronous as "full" | "normal",
      busyTimeoutMs: s.sqlite_busy_timeout_ms as number,
      connectTimeoutS: s.postgres_connect_timeout_seconds as number,
    },
  };
}

/**
 * The server's read-pause threshold (`[store] pause_reads_at`), checked against the commit
 * queue: a threshold at or above `max_queue` would let the queue refuse shares first.
 *
 * @example Usage
 * ```ts
 * import { pauseReadsAt } from "./_store_schema.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(pauseReadsAt({ store: { pause_reads_at: 10000, max_queue: 100000 } }), 10000);
 * assert.throws(() => pauseReadsAt({ store: { pause_reads_at: 10, max_queue: 10 } }));
 * ```
 *
 * @param values The loaded configuration.
 * @returns The threshold (0: never pause).
 * @throws {ConfigError} When it is not below `max_queue`.
 */
export function pauseReadsAt(values: ConfigValues): number {
  const s = values.store ?? {};
  const at = (s.pause_reads_at as number | undefined) ?? 10000;
  const queue = (s.max_queue as number | undefined) ?? 100000;
  if (at > 0 && at >= queue) {
    throw new ConfigError(
      `Invalid configuration: store.pause_reads_at (${at}) must be below store.max_queue ` +
        `(${queue}), or 0`,
      "store.pause_reads_at",
    );
  }
  return at;
}
