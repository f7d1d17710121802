/**
 * Paces mempool updates (templates of the block already being mined, with a new transaction
 * set) on their way to the miners: each one costs a send to every connected miner, and how
 * often NodeCore sends them is up to NodeCore (a busy mempool, or a node gone wrong, may send
 * several a second). At most one goes out per interval; an update that comes sooner is held,
 * a newer one replaces it, and the one still held when the interval ends goes out then. A new
 * block is never held: it goes out at once and drops the held update, as does a reset.
 *
 * @module
 */

/** Options for {@linkcode UpdatePacer}. */
export interface UpdatePacerOptions<T> {
  /** Least time between two sends of updates, ms (0 = none held). */
  intervalMs: number;
  /**
   * Sends a held update when its time comes (one offered for now is the caller's to send).
   * Called from a timer: it must not throw.
   */
  send(template: T): void;
  /** The clock, ms. @default performance.now */
  now?: () => number;
}

/** Holds mempool updates that come sooner than the interval after the previous send. */
export class UpdatePacer<T> {
  #intervalMs: number;
  readonly #send: (template: T) => void;
  readonly #now: () => number;
  #lastSentAt = -Infinity;
  #held: T | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #merged = 0;

  /** @param options Interval, sender and clock. */
  constructor(options: UpdatePacerOptions<T>) {
    this.#intervalMs = Math.max(0, options.intervalMs);
    this.#send = options.send;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Updates never sent: replaced by a newer one while held, or dropped (new block, cancel). */
  get merged(): number {
    return this.#merged;
  }

  /** Whether an update is waiting for its time. */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /**
   * A template from upstream: to send now, or held when it is an update that comes too soon.
   *
   * @param template The template.
   * @param update Whether it is a mempool update of the block being mined (not a new block).
   * @returns True when the caller is to send it now (a held one is dropped), false when held.
   */
  offer(template: T, update: boolean): boolean {
    const now = this.#now();
    const wait = this.#lastSentAt + this.#intervalMs - now;
    if (!update || wait <= 0) {
      this.cancel();
      this.#lastSentAt = now;
      return true;
    }
    if (this.#held !== undefined) this.#merged++;
    this.#held = template;
    this.#timer ??= setTimeout(() => this.#release(), wait);
    return false;
  }

  /**
   * A new interval (a configuration reload); a held update keeps its time.
   *
   * @param intervalMs Least time between two sends of updates, ms.
   */
  setInterval(intervalMs: number): void {
    this.#intervalMs = Math.max(0, intervalMs);
  }

  /** Drop the held update (a reset, a stop): it is never sent. */
  cancel(): void {
    if (this.#held !== undefined) this.#merged++;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held = undefined;
  }

  #release(): void {
    this.#timer = undefined;
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) return;
    this.#lastSentAt = this.#now();
    this.#send(held);
  }
}
