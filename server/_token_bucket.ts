/**
 * A token bucket for per-connection flood control. Time is passed in.
 *
 * @module
 */

/** Allows `rate` events per second on average and bursts of `burst`. */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #at: number;

  /**
   * @param rate Tokens added per second.
   * @param burst Bucket size (the bucket starts full).
   * @param now Current time in ms.
   */
  constructor(rate: number, burst: number, now: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /**
   * Take one token.
   *
   * @param now Current time in ms.
   * @returns False when the bucket is empty.
   */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed * this.#rate) / 1000);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
