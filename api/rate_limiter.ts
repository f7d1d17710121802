/**
 * Per-IP request rate limiting for the HTTP API: one token bucket per client address, the
 * least recently seen addresses forgotten first when too many are tracked. Time is passed in.
 *
 * @module
 */

/** Options for {@linkcode IpRateLimiter}. */
export interface IpRateLimiterOptions {
  /** Requests per second per IP on average; 0 turns limiting off. */
  perSecond: number;
  /** Burst per IP (the bucket size). */
  burst: number;
  /** Addresses tracked at most. @default 10000 */
  maxIps?: number;
}

/** The outcome of {@linkcode IpRateLimiter.take}. */
export interface RateDecision {
  /** Whether the request may go ahead. */
  allowed: boolean;
  /** When refused: seconds until a token is back (whole seconds, ≥ 1). */
  retryAfterSeconds: number;
}

/**
 * Token buckets by IP.
 *
 * @example Usage
 * ```ts
 * import { IpRateLimiter } from "./rate_limiter.ts";
 * import assert from "node:assert/strict";
 *
 * const limiter = new IpRateLimiter({ perSecond: 1, burst: 2 });
 * assert.equal(limiter.take("10.0.0.1", 0).allowed, true);
 * assert.equal(limiter.take("10.0.0.1", 0).allowed, true);
 * assert.deepEqual(limiter.take("10.0.0.1", 0), { allowed: false, retryAfterSeconds: 1 });
 * assert.equal(limiter.take("10.0.0.2", 0).allowed, true);
 * assert.equal(limiter.take("10.0.0.1", 1000).allowed, true);
 * ```
 */
export class IpRateLimiter {
  #perSecond: number;
  #burst: number;
  #maxIps: number;
  #buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * @param options Rate, burst and the tracking limit.
   * @throws {RangeError} When the rate is negative or the burst is below 1 while limiting.
   */
  constructor(options: IpRateLimiterOptions) {
    if (!(options.perSecond >= 0) || (options.perSecond > 0 && !(options.burst >= 1))) {
      throw new RangeError("Cannot limit requests: the rate must be >= 0 and the burst >= 1");
    }
    this.#perSecond = options.perSecond;
    this.#burst = options.burst;
    this.#maxIps = Math.max(1, options.maxIps ?? 10_000);
  }

  /** Whether limiting is on. */
  get enabled(): boolean {
    return this.#perSecond > 0;
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Take a token for a request from `ip`.
   *
   * @param ip Client address.
   * @param now Current time (ms).
   * @returns Whether the request may go ahead, and when to retry if not.
   */
  take(ip: string, now: number): RateDecision {
    if (this.#perSecond <= 0) return { allowed: true, retryAfterSeconds: 0 };
    let bucket = this.#buckets.get(ip);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, at: now };
      if (this.#buckets.size >= this.#maxIps) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    } else {
      // Re-insert: the map's order is least recently seen first.
      this.#buckets.delete(ip);
      const elapsed = Math.max(0, now - bucket.at);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (elapsed * this.#perSecond) / 1000);
      bucket.at = now;
    }
    this.#buckets.set(ip, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    const wait = (1 - bucket.tokens) / this.#perSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)) };
  }
}
