/**
 * A write pacer for legacy UCP miners: every message is its own write, and the next one is
 * written only once the previous one has left the send queue and a gap has passed, so a miner
 * that handles one message per `recv()` sees each message on its own.
 *
 * @module
 */

/** The connection a {@linkcode PacedLink} writes to (a `LineConnection` fits). */
export interface PacedTarget {
  /** Whether it has closed. */
  readonly closed: boolean;
  /** Bytes handed to `send` and not yet written. */
  readonly queuedBytes: number;
  /** Queue one line (one write); false when closed or too slow. */
  send(line: string): boolean;
  /** Close at once. */
  close(reason: string): void;
  /** Send what is queued, then close (reading stops at once). */
  closeAfterFlush(reason: string): void;
  /** Read and deliver no more lines; writes go on. */
  stopReading?(): void;
}

/** Options for {@linkcode PacedLink}. */
export interface PacedLinkOptions {
  /** Least time between two writes, ms (0 = write at once). */
  gapMs: number;
  /** Messages waiting before the peer counts as too slow and is closed. */
  maxQueued: number;
  /** Clock, ms. @default Date.now */
  now?: () => number;
}

/** Writes lines to a connection one at a time, at least `gapMs` apart. */
export class PacedLink {
  #target: PacedTarget;
  #gapMs: number;
  #maxQueued: number;
  #now: () => number;
  #queue: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastAt = -Infinity;
  #closeReason: string | undefined;

  /**
   * @param target The connection.
   * @param options Gap and queue bound.
   */
  constructor(target: PacedTarget, options: PacedLinkOptions) {
    this.#target = target;
    this.#gapMs = Math.max(0, options.gapMs);
    this.#maxQueued = Math.max(1, options.maxQueued);
    this.#now = options.now ?? Date.now;
  }

  /** Messages waiting for their turn. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Send one line now if its turn has come, else queue it.
   *
   * @param line Text without "\n".
   * @returns False when the connection is closed or too slow (it is then closed).
   */
  send(line: string): boolean {
    const target = this.#target;
    if (target.closed) return this.#dispose();
    if (this.#queue.length === 0 && this.#timer === undefined && this.#ready()) {
      return this.#write(line);
    }
    if (this.#queue.length >= this.#maxQueued) {
      target.close("send queue full (slow reader)");
      return this.#dispose();
    }
    this.#queue.push(line);
    this.#schedule();
    return true;
  }

  /**
   * Send every queued line (paced), then close. The connection stops reading at once.
   *
   * @param reason Close reason.
   */
  closeAfterFlush(reason: string): void {
    if (this.#target.closed) return void this.#dispose();
    this.#target.stopReading?.();
    if (this.#queue.length === 0) {
      this.#target.closeAfterFlush(reason);
      return;
    }
    this.#closeReason ??= reason;
  }

  /** Drop what is queued and stop the timer (the connection closed). */
  dispose(): void {
    this.#dispose();
  }

  #ready(): boolean {
    return this.#target.queuedBytes === 0 && this.#now() - this.#lastAt >= this.#gapMs;
  }

  #write(line: string): boolean {
    this.#lastAt = this.#now();
    return this.#target.send(line);
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(1, Math.ceil(this.#lastAt + this.#gapMs - this.#now()));
    this.#timer = setTimeout(() => this.#tick(), wait);
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#target.closed) return void this.#dispose();
    if (!this.#ready()) {
      // The previous write is still in the send queue: wait a full gap after it leaves.
      if (this.#target.queuedBytes > 0) this.#lastAt = this.#now();
      this.#schedule();
      return;
    }
    const line = this.#queue.shift();
    if (line !== undefined && !this.#write(line)) return void this.#dispose();
    if (this.#queue.length > 0) {
      this.#schedule();
    } else if (this.#closeReason !== undefined) {
      this.#target.closeAfterFlush(this.#closeReason);
    }
  }

  #dispose(): false {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    return false;
  }
}
