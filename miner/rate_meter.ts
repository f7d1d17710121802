/**
 * A moving-average rate over a sliding time window, fed with cumulative counts; one meter also
 * answers shorter windows (the miner's 10 s / 60 s / 15 min rates come from one meter).
 *
 * @module
 */

/** Options for {@linkcode RateMeter}. */
export interface RateMeterOptions {
  /** Window of {@linkcode RateMeter.rate}, in ms. @default 30000 */
  windowMs?: number;
  /** How far back samples are kept, in ms (the longest window {@linkcode RateMeter.rateOver}
   * can answer). @default windowMs */
  keepMs?: number;
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
  #keepMs: number;
  #times: number[] = [];
  #counts: number[] = [];
  /** Index of the first live sample (older ones are dropped in batches, not one by one). */
  #head = 0;

  /** @param options Window length and retention. */
  constructor(options: RateMeterOptions = {}) {
    this.#windowMs = options.windowMs ?? 30000;
    this.#keepMs = Math.max(this.#windowMs, options.keepMs ?? this.#windowMs);
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
    // Keep one sample at or before the retention start, so the longest window is covered.
    while (
      this.#times.length - this.#head > 2 && this.#times[this.#head + 1]! <= time - this.#keepMs
    ) {
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#counts = this.#counts.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * The rate per second over the window (0 before two samples).
   *
   * @returns Count per second.
   */
  rate(): number {
    return this.rateOver(this.#windowMs);
  }

  /**
   * The rate per second over the last `windowMs` (at most the retention; over the time so
   * far while less has passed; 0 before two samples).
   *
   * @example Usage
   * ```ts
   * import { RateMeter } from "./rate_meter.ts";
   * import assert from "node:assert/strict";
   *
   * const meter = new RateMeter({ keepMs: 60_000 });
   * meter.sample(0, 0);
   * meter.sample(50_000, 50_000); // 1000/s for 50 s
   * meter.sample(60_000, 80_000); // then 3000/s for 10 s
   * assert.equal(meter.rateOver(10_000), 3000);
   * assert.equal(meter.rateOver(60_000), 80_000 / 60);
   * ```
   *
   * @param windowMs Window length in ms.
   * @returns Count per second.
   */
  rateOver(windowMs: number): number {
    const last = this.#times.length - 1;
    if (last - this.#head < 1) return 0;
    const start = this.#times[last]! - windowMs;
    // The latest sample at or before the window start (the oldest kept one if none is).
    let lo = this.#head, hi = last;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#times[mid]! <= start) lo = mid;
      else hi = mid - 1;
    }
    const first = Math.min(lo, last - 1);
    const dt = this.#times[last]! - this.#times[first]!;
    return dt > 0 ? ((this.#counts[last]! - this.#counts[first]!) * 1000) / dt : 0;
  }

  /** Forget all samples. */
  reset(): void {
    this.#times = [];
    this.#counts = [];
    this.#head = 0;
  }
}
