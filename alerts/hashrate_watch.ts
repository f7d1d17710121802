/**
 * The hash-rate drop alert: the pool's accepted work is summed per window (10 minutes by
 * default); when a window's rate falls below `dropPercent` under the mean of the windows before
 * it (the baseline), `hashrate_drop` is emitted once, and again only after the rate came back
 * above the threshold. The baseline holds while the rate is low, so a long drop does not
 * become the new normal.
 *
 * @module
 */
import { type AlertEvents, alertEvents } from "../log/mod.ts";

/** Options for {@linkcode HashrateWatch}. */
export interface HashrateWatchOptions {
  /** Length of a window, ms. @default 600000 */
  windowMs?: number;
  /** Windows averaged into the baseline (the first alert comes after as many full windows). @default 6 */
  baselineWindows?: number;
  /** Alert when a window is this many percent below the baseline (1..100). @default 50 */
  dropPercent?: number;
  /** Where to emit. @default the process's `alertEvents` */
  bus?: AlertEvents;
  /** Clock, ms. @default Date.now */
  now?: () => number;
}

/**
 * Watches the pool's hash rate for a drop.
 *
 * @example Usage
 * ```ts
 * import { HashrateWatch } from "./hashrate_watch.ts";
 * import { AlertEvents } from "../log/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const bus = new AlertEvents();
 * const seen: string[] = [];
 * bus.subscribe((e) => seen.push(e.type));
 * let now = 0;
 * const watch = new HashrateWatch({ windowMs: 1000, baselineWindows: 2, bus, now: () => now });
 * for (const work of [1000n, 1000n, 300n]) {
 *   watch.add(work);
 *   now += 1000;
 *   watch.check();
 * }
 * assert.deepEqual(seen, ["hashrate_drop"]);
 * ```
 */
export class HashrateWatch {
  #o: Required<Omit<HashrateWatchOptions, "bus" | "now">>;
  #bus: AlertEvents;
  #now: () => number;
  #work = 0n;
  #start: number;
  #history: number[] = [];
  #low = false;

  /**
   * @param options Window, baseline, threshold, bus, clock.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(options: HashrateWatchOptions = {}) {
    this.#o = { windowMs: 600_000, baselineWindows: 6, dropPercent: 50, ...options };
    const { windowMs, baselineWindows, dropPercent } = this.#o;
    if (!(windowMs > 0) || !(baselineWindows >= 1) || !(dropPercent > 0 && dropPercent <= 100)) {
      throw new RangeError(
        "Cannot watch the hash rate: need windowMs > 0, baselineWindows >= 1, 0 < dropPercent <= 100",
      );
    }
    this.#bus = options.bus ?? alertEvents;
    this.#now = options.now ?? Date.now;
    this.#start = this.#now();
  }

  /**
   * Count accepted work (a share's difficulty).
   *
   * @param difficulty The work.
   */
  add(difficulty: bigint): void {
    this.#work += difficulty;
  }

  /** Close the window when it is due: compare its rate with the baseline. */
  check(): void {
    const now = this.#now();
    const elapsed = now - this.#start;
    if (elapsed < this.#o.windowMs) return;
    const rate = Number(this.#work) / (elapsed / 1000);
    this.#work = 0n;
    this.#start = now;
    const n = this.#o.baselineWindows;
    if (this.#history.length < n) {
      this.#history.push(rate);
      return;
    }
    const baseline = this.#history.reduce((a, b) => a + b, 0) / n;
    const threshold = baseline * (1 - this.#o.dropPercent / 100);
    if (rate < threshold) {
      if (!this.#low) {
        this.#low = true;
        const percent = baseline > 0 ? Math.round((1 - rate / baseline) * 100) : 0;
        this.#bus.emit(
          "hashrate_drop",
          `Pool hash rate dropped ${percent} % (${rate.toExponential(2)} H/s, baseline ` +
            `${baseline.toExponential(2)} H/s)`,
          { rate, baseline, percent, window_seconds: this.#o.windowMs / 1000 },
        );
      }
      return;
    }
    this.#low = false;
    this.#history.push(rate);
    this.#history.shift();
  }
}
