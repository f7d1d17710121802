/**
 * Per-connection protocol limits of a Stratum session (timeouts, offence counts, flood
 * control, share-check bounds). Byte-level limits (line length, send queue, connection caps)
 * belong to `net/`.
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
};
