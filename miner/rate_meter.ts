/**
 * A moving-average rate over a sliding time window, fed with cumulative counts.
 *
 * @module
 */

/** Options for {@linkcode RateMeter}. */
export interface RateMeterOptions {
  /** Window length in ms. @default 30000 */
  windowMs?: number;
}

/**
 * Rate of a growing counter (e.g. hashes) over the last `windowMs`: feed it
 * `(time, cumulative count)` samples, read the per-second rate.
 *
 * @example Usage
 * ```ts
 * import { RateMeter } from "./rate_meter.ts";
 * import assert from "node:assert/strict";
 *
 * const meter = new RateMeter({ windowMs: 10_000 });
 * meter.sample(0, 0);
 * meter.sample(1000, 500);
 * meter.sample(2000, 1500);
 * assert.equal(meter.rate(), 750); // 1500 hashes in 2 s
 * meter.sample(20_000, 19_500);
 * assert.equal(meter.rate(), 1000); // only the last 10 s (+ one sample) count
 * ```
 */
export class RateMeter {
  #windowMs: number;
  #times: number[] = [];
  #counts: number[] = [];

  /** @param options Window length. */
  constructor(options: RateMeterOptions = {}) {
    this.#windowMs = options.windowMs ?? 30000;
  }

  /**
   * Add a sample.
   *
   * @param time Time in ms (non-decreasing).
   * @param count Cumulative count at that time.
   */
  sample(time: number, count: number): void {
    this.#times.push(time);
    this.#counts.push(count);
    // Keep one sample at or before the window start, so the window is always covered.
    while (this.#times.length > 2 && this.#times[1]! <= time - this.#windowMs) {
      this.#times.shift();
      this.#counts.shift();
    }
  }

  /**
   * The rate per second over the window (0 before two samples).
   *
   * @returns Count per second.
   */
  rate(): number {
    const n = this.#times.length;
    if (n < 2) return 0;
    const dt = this.#times[n - 1]! - this.#times[0]!;
    return dt > 0 ? ((this.#counts[n - 1]! - this.#counts[0]!) * 1000) / dt : 0;
  }

  /** Forget all samples. */
  reset(): void {
    this.#times = [];
    this.#counts = [];
  }
}
