/**
 * A sliding window of share counts in fixed time buckets (a ring), for hash rates and share
 * rates over the last few minutes. Time is passed in.
 *
 * @module
 */

/** Totals over a window. */
export interface WindowTotals {
  /** Accepted shares. */
  accepted: number;
  /** Rejected submits. */
  rejected: number;
  /** Σ credited difficulty of the accepted shares (a float: hash rates are estimates). */
  difficulty: number;
}

/** Counts per time bucket over `buckets × bucketMs`. */
export class RateWindow {
  #bucketMs: number;
  #accepted: Float64Array;
  #rejected: Float64Array;
  #difficulty: Float64Array;
  /** Index (time / bucketMs) of the newest bucket written. */
  #head = -1;
  /** Time of the last accepted share (ms), 0 when none. */
  lastShareAt = 0;
  /** Time of the last activity (ms). */
  lastActivityAt = 0;

  /**
   * @param buckets Number of buckets.
   * @param bucketMs Bucket length in ms.
   */
  constructor(buckets: number, bucketMs: number) {
    this.#bucketMs = bucketMs;
    this.#accepted = new Float64Array(buckets);
    this.#rejected = new Float64Array(buckets);
    this.#difficulty = new Float64Array(buckets);
  }

  #advance(now: number): number {
    const index = Math.floor(now / this.#bucketMs);
    const n = this.#accepted.length;
    if (this.#head < 0 || index - this.#head >= n) {
      this.#accepted.fill(0);
      this.#rejected.fill(0);
      this.#difficulty.fill(0);
    } else {
      for (let i = this.#head + 1; i <= index; i++) {
        const slot = i % n;
        this.#accepted[slot] = 0;
        this.#rejected[slot] = 0;
        this.#difficulty[slot] = 0;
      }
    }
    if (index > this.#head) this.#head = index;
    return index;
  }

  /**
   * Count an accepted share.
   *
   * @param now Time (ms).
   * @param difficulty Credited difficulty.
   */
  accept(now: number, difficulty: number): void {
    const index = this.#advance(now);
    if (index < this.#head - this.#accepted.length + 1) return;
    const slot = index % this.#accepted.length;
    this.#accepted[slot]! += 1;
    this.#difficulty[slot]! += difficulty;
    this.lastShareAt = Math.max(this.lastShareAt, now);
    this.lastActivityAt = Math.max(this.lastActivityAt, now);
  }

  /**
   * Count a rejected submit.
   *
   * @param now Time (ms).
   */
  reject(now: number): void {
    const index = this.#advance(now);
    if (index < this.#head - this.#rejected.length + 1) return;
    this.#rejected[index % this.#rejected.length]! += 1;
    this.lastActivityAt = Math.max(this.lastActivityAt, now);
  }

  /**
   * Totals of every bucket still in the window at `now`.
   *
   * @param now Time (ms).
   * @returns The totals.
   */
  totals(now: number): WindowTotals {
    this.#advance(now);
    let accepted = 0;
    let rejected = 0;
    let difficulty = 0;
    for (let i = 0; i < this.#accepted.length; i++) {
      accepted += this.#accepted[i]!;
      rejected += this.#rejected[i]!;
      difficulty += this.#difficulty[i]!;
    }
    return { accepted, rejected, difficulty };
  }

  /**
   * Start of the oldest bucket still in the window at `now` (ms).
   *
   * @param now Time (ms).
   * @returns The window's start.
   */
  windowStart(now: number): number {
    const index = Math.floor(now / this.#bucketMs);
    return (index - this.#accepted.length + 1) * this.#bucketMs;
  }
}
