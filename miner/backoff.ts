/**
 * Reconnect delays: exponential backoff with jitter.
 *
 * @module
 */

/** Options for {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /** Delay after the first failure, in milliseconds. @default 1000 */
  minMs?: number;
  /** Largest delay, in milliseconds. @default 60000 */
  maxMs?: number;
  /** Random source in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * The delay before retrying after `failures` consecutive failures: `minMs · 2^(failures−1)`,
 * capped at `maxMs`, then scaled by a random factor in [0.5, 1) so that many miners
 * restarting at once do not reconnect in lockstep.
 *
 * @example Usage
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * import assert from "node:assert/strict";
 *
 * const low = { minMs: 1000, maxMs: 8000, random: () => 0 }; // the smallest jitter factor, 0.5
 * assert.equal(backoffDelay(1, low), 500);
 * assert.equal(backoffDelay(3, low), 2000);
 * assert.equal(backoffDelay(10, low), 4000);
 * assert.equal(backoffDelay(0, low), 0);
 * ```
 *
 * @param failures Consecutive failures so far (0 means no delay).
 * @param options Bounds and random source.
 * @returns Milliseconds to wait.
 */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const { minMs = 1000, maxMs = 60000, random = Math.random } = options;
  if (!(failures >= 1)) return 0;
  const exponent = Math.min(failures - 1, 40);
  const base = Math.min(maxMs, minMs * 2 ** exponent);
  return base * (0.5 + 0.5 * random());
}
