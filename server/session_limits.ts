/**
 * Per-connection protocol limits of a Stratum session (timeouts, offence counts, flood
 * control, share-check bounds, how long miners wait when the pool has no work). Byte-level
 * limits (line length, send queue, connection caps) belong to `net/`.
 *
 * @module
 */

/** Limits applied to every Stratum session. */
export interface SessionLimits {
  /** Time from connecting to `mining.subscribe`, ms. @default 15000 */
  subscribeTimeoutMs: number;
  /** Time from connecting to a successful `mining.authorize`, ms. @default 60000 */
  authorizeTimeoutMs: number;
  /** Time without any line once subscribed and authorized, ms. @default 600000 */
  idleTimeoutMs: number;
  /**
   * With vardiff, a subscribed and authorized miner that sends no line (no share, no request)
   * for this many target share times is closed as silent (at least `silentMinMs`, at most
   * `idleTimeoutMs`). Vardiff's timer lowers a slow miner's difficulty after ~11 share times
   * of silence, and every lower difficulty restarts the count, so only a miner that stays
   * silent at the lowest difficulty vardiff can give is closed. 0 = the idle timeout only.
   * @default 18
   */
  silentShareTimes: number;
  /** The least time a silent miner is given, ms (see `silentShareTimes`). @default 60000 */
  silentMinMs: number;
  /** Malformed or invalid requests (or flood refusals) before the connection is closed. @default 3 */
  maxProtocolErrors: number;
  /** Failed `mining.authorize` calls before the connection is closed. @default 3 */
  maxAuthFailures: number;
  /** Workers one connection may authorize. @default 16 */
  maxWorkers: number;
  /** Longest worker name accepted, in characters. @default 128 */
  maxWorkerLength: number;
  /** Submits awaiting their durable record before further submits are refused. @default 256 */
  maxPendingSubmits: number;
  /** Sustained requests per second (token bucket refill). @default 200 */
  requestsPerSecond: number;
  /** Request burst (token bucket size). @default 400 */
  requestBurst: number;
  /** How far ntime may be ahead of now, seconds. @default 300 */
  ntimeFutureSeconds: number;
  /** Accepted share keys held per work for duplicate checks (see `ShareFacts`). @default 262144 */
  maxSharesPerJob: number;
  /** Jobs (with their difficulty) remembered per connection. @default 64 */
  maxJobsPerSession: number;
  /**
   * While the pool has no job (its node unreachable or reset), how long a new miner may wait
   * for one, ms: a subscribe is answered while the pool has been without work for less (a
   * start or a short upstream restart), refused with "No work available" (Stratum error 20;
   * UCP MINING_SUBSCRIBE_FAILURE) and closed after it, and a connection that has not had a job
   * yet is closed when it passes. @default 5000
   */
  noWorkWaitMs: number;
  /**
   * How long miners that had work keep their connection while the pool has none, ms; then a
   * Stratum miner is sent `client.reconnect` and closed (a UCP miner is closed), so that it
   * fails over. @default 30000
   */
  noWorkGraceMs: number;
}

/**
 * The default limits.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_SESSION_LIMITS } from "./session_limits.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_SESSION_LIMITS.maxProtocolErrors, 3);
 * ```
 */
export const DEFAULT_SESSION_LIMITS: Readonly<SessionLimits> = {
  subscribeTimeoutMs: 15_000,
  authorizeTimeoutMs: 60_000,
  idleTimeoutMs: 600_000,
  silentShareTimes: 18,
  silentMinMs: 60_000,
  maxProtocolErrors: 3,
  maxAuthFailures: 3,
  maxWorkers: 16,
  maxWorkerLength: 128,
  maxPendingSubmits: 256,
  requestsPerSecond: 200,
  requestBurst: 400,
  ntimeFutureSeconds: 300,
  maxSharesPerJob: 262_144,
  maxJobsPerSession: 64,
  noWorkWaitMs: 5_000,
  noWorkGraceMs: 30_000,
};
