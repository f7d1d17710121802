/**
 * A switch shared by many connections: while it is shut, their read loops take nothing more
 * from their sockets (the kernel's buffers fill and TCP slows the senders), so a process that
 * cannot keep up answers late instead of queueing without bound or failing requests.
 *
 * @module
 */

/**
 * Pauses the reads of every connection given it (see `LineConnectionOptions.readGate`).
 *
 * @example Usage
 * ```ts
 * import { ReadGate } from "./read_gate.ts";
 * import assert from "node:assert/strict";
 *
 * const gate = new ReadGate();
 * assert.equal(gate.open, true);
 * gate.shut();
 * let passed = false;
 * const waiting = gate.wait().then(() => passed = true);
 * assert.equal(passed, false);
 * gate.reopen();
 * await waiting;
 * assert.equal(passed, true);
 * ```
 */
export class ReadGate {
  #opened: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #clock: () => number;
  /** Time shut in the pauses that ended, ms. */
  #shutMs = 0;
  #shutSince = 0;

  /**
   * @param options The clock (ms, any origin) that times the pauses. @default performance.now
   */
  constructor(options: { clock?: () => number } = {}) {
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Whether reads may go on. */
  get open(): boolean {
    return this.#opened === undefined;
  }

  /**
   * Time the gate has been shut in all, the current pause included: a deadline that waits for
   * a peer's line is pushed back by what this grew (nothing was read meanwhile).
   *
   * @returns Milliseconds.
   */
  shutMs(): number {
    return this.#shutMs + (this.#opened === undefined ? 0 : this.#clock() - this.#shutSince);
  }

  /** Pause reads (no effect when already shut). */
  shut(): void {
    if (this.#opened !== undefined) return;
    this.#shutSince = this.#clock();
    this.#opened = new Promise((resolve) => this.#release = resolve);
  }

  /** Let reads go on again (no effect when open). */
  reopen(): void {
    if (this.#opened === undefined) return;
    this.#shutMs += this.#clock() - this.#shutSince;
    const release = this.#release;
    this.#opened = undefined;
    this.#release = undefined;
    release?.();
  }

  /**
   * Wait until the gate is open.
   *
   * @returns Resolves at once when open, else when reopened.
   */
  wait(): Promise<void> {
    return this.#opened ?? Promise.resolve();
  }
}
