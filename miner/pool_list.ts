/**
 * The miner's pools in order of preference, each with its own backoff state: which pool to
 * try next, when, and which preferred pools are due for a fail-back probe.
 *
 * @module
 */
import { backoffDelay, type BackoffOptions } from "./backoff.ts";

/** One pool and its state. */
export interface PoolEntry {
  /** The pool address as configured, e.g. `stratum+tcp://127.0.0.1:3333`. */
  readonly url: string;
  /** Consecutive failures (connect, handshake, or a dead or dropped session). */
  failures: number;
  /** Earliest time (ms) at which the pool may be tried again. */
  nextAttemptAt: number;
}

/** What {@linkcode PoolList.pick} decided. */
export type PoolPick = { index: number } | { waitMs: number };

/**
 * Pools in order of preference with per-pool exponential backoff (+ jitter).
 *
 * @example Usage
 * ```ts
 * import { PoolList } from "./pool_list.ts";
 * import assert from "node:assert/strict";
 *
 * const pools = new PoolList(["a:1", "b:2"], { minMs: 1000, random: () => 0 });
 * assert.deepEqual(pools.pick(0), { index: 0 });
 * pools.failed(0, 0);
 * assert.deepEqual(pools.pick(0), { index: 1 }); // fail over
 * pools.failed(1, 0);
 * assert.deepEqual(pools.pick(0), { waitMs: 500 });
 * assert.deepEqual(pools.pick(500), { index: 0 }); // back to the preferred pool
 * ```
 */
export class PoolList {
  /** The pools, most preferred first. */
  readonly entries: readonly PoolEntry[];
  #backoff: BackoffOptions;

  /**
   * @param urls Pool addresses, most preferred first (at least one).
   * @param backoff Backoff bounds and random source.
   * @throws {RangeError} When `urls` is empty.
   */
  constructor(urls: readonly string[], backoff: BackoffOptions = {}) {
    if (urls.length === 0) throw new RangeError("Cannot create pool list: no pools given");
    this.entries = urls.map((url) => ({ url, failures: 0, nextAttemptAt: 0 }));
    this.#backoff = backoff;
  }

  /**
   * The most preferred pool that may be tried now, or how long to wait for the first one.
   *
   * @param now Current time in ms.
   * @returns `{ index }` or `{ waitMs }`.
   */
  pick(now: number): PoolPick {
    let soonest = Infinity;
    for (let i = 0; i < this.entries.length; i++) {
      const at = this.entries[i]!.nextAttemptAt;
      if (at <= now) return { index: i };
      soonest = Math.min(soonest, at);
    }
    return { waitMs: soonest - now };
  }

  /**
   * The most preferred pool before `active` that may be probed now (for fail-back).
   *
   * @param active Index of the pool in use.
   * @param now Current time in ms.
   * @returns An index below `active`, or undefined.
   */
  preferredDue(active: number, now: number): number | undefined {
    for (let i = 0; i < active && i < this.entries.length; i++) {
      if (this.entries[i]!.nextAttemptAt <= now) return i;
    }
    return undefined;
  }

  /**
   * Record a failed attempt (or a dead/dropped session): back off this pool.
   *
   * @param index Pool index.
   * @param now Current time in ms.
   * @returns The delay chosen, in ms.
   */
  failed(index: number, now: number): number {
    const entry = this.#entry(index);
    entry.failures++;
    const delay = backoffDelay(entry.failures, this.#backoff);
    entry.nextAttemptAt = now + delay;
    return delay;
  }

  /**
   * Record a working session: reset the pool's backoff.
   *
   * @param index Pool index.
   */
  succeeded(index: number): void {
    const entry = this.#entry(index);
    entry.failures = 0;
    entry.nextAttemptAt = 0;
  }

  #entry(index: number): PoolEntry {
    const entry = this.entries[index];
    if (entry === undefined) throw new RangeError(`Cannot update pool ${index}: no such pool`);
    return entry;
  }
}
