/**
 * Test-only fault injection for the devnet's NodeCore HTTP API: make the next `sendcoins` behave
 * as a real node sometimes does, so that the payer's handling of an unknown outcome is tested
 * against a real HTTP API instead of a mock. A fault is armed from the test's own process (the
 * devnet runs in-process there: {@linkcode Devnet.faults}); `vbkpool devnet` never arms one and
 * has no option to.
 *
 * - `replyDelayMs`: the HTTP reply waits this long (a client with a shorter timeout gives up
 *   and cannot know what happened);
 * - `executeAfterMs`, or `executeWhen` (a promise the test resolves): the transaction is created
 *   only this long after the request arrived, or only then (NodeCore still executing it, or
 *   propagation): until then nothing shows it, not the mempool, `gettransactions`,
 *   `getpendingtransactions` nor `getsignatureindex`;
 * - `execute: false`: the node does nothing at all, and answers HTTP 500 (after `replyDelayMs`).
 *
 * @module
 */

/** What the next `sendcoins` does. Test-only. */
export interface SendFault {
  /** Create the transaction; false: the node does nothing and answers HTTP 500. @default true */
  execute?: boolean;
  /** Create it this long after the request arrived, ms (invisible until then). @default 0 */
  executeAfterMs?: number;
  /** Create it when this resolves (after `executeAfterMs`), so a test decides when. */
  executeWhen?: Promise<unknown>;
  /** Answer this long after the request arrived, ms (at the earliest when it is created). @default 0 */
  replyDelayMs?: number;
}

/** What an armed fault did, once the `sendcoins` it applied to ran. */
export interface SendFaultOutcome {
  /** The transaction ids created (none when `execute` was false or the send was refused). */
  txIds: string[];
  /** The reply message the method produced (undefined when nothing was executed). */
  reply: Record<string, unknown> | undefined;
}

interface Armed {
  fault: SendFault;
  resolve: (outcome: SendFaultOutcome) => void;
}

/**
 * Faults armed for the devnet's HTTP API. Test-only.
 *
 * @example Usage
 * ```ts
 * import { DevnetFaults } from "./fault_injection.ts";
 * import assert from "node:assert/strict";
 *
 * const faults = new DevnetFaults();
 * const outcome = faults.nextSend({ executeAfterMs: 10 });
 * assert.equal(faults.armed, true);
 * const reply = await faults.sendcoins(() => ({ success: true, txIds: ["AB"] }));
 * assert.deepEqual(reply, { success: true, txIds: ["AB"] });
 * assert.deepEqual((await outcome).txIds, ["AB"]);
 * faults.close();
 * ```
 */
export class DevnetFaults {
  #queue: Armed[] = [];
  #wakers = new Set<() => void>();
  #closed = false;

  /** True when a fault waits for the next `sendcoins`. */
  get armed(): boolean {
    return this.#queue.length > 0;
  }

  /**
   * Arm a fault for the next `sendcoins` (faults apply in the order they were armed).
   *
   * @param fault What it does.
   * @returns Resolves once that `sendcoins` ran (or was skipped), with what it created.
   * @throws {RangeError} When a delay is negative or not finite.
   */
  nextSend(fault: SendFault): Promise<SendFaultOutcome> {
    for (const key of ["executeAfterMs", "replyDelayMs"] as const) {
      const v = fault[key];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
        throw new RangeError(`Cannot arm devnet fault: ${key} must be >= 0, got ${v}`);
      }
    }
    return new Promise((resolve) => this.#queue.push({ fault: { ...fault }, resolve }));
  }

  /**
   * Run a `sendcoins` under the next armed fault (called by the HTTP API).
   *
   * @param run Executes the method and returns its reply.
   * @returns The reply to send, or undefined when nothing was executed (answer HTTP 500).
   */
  async sendcoins(
    run: () => Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    const armed = this.#queue.shift();
    if (armed === undefined) return run();
    const { execute = true, executeAfterMs = 0, replyDelayMs = 0, executeWhen } = armed.fault;
    const start = Date.now();
    let reply: Record<string, unknown> | undefined;
    const act = () => {
      if (execute && !this.#closed) reply = run();
      const ids = Array.isArray(reply?.txIds) ? reply.txIds.map(String) : [];
      armed.resolve({ txIds: ids, reply });
    };
    if (executeAfterMs === 0 && executeWhen === undefined) act();
    else {
      await this.#sleep(executeAfterMs);
      if (executeWhen !== undefined) await this.#until(executeWhen);
      act();
    }
    await this.#sleep(replyDelayMs - (Date.now() - start));
    return reply;
  }

  /** Cancel pending executions and release held replies (the devnet is stopping). */
  close(): void {
    this.#closed = true;
    for (const wake of [...this.#wakers]) wake();
    for (const armed of this.#queue.splice(0)) armed.resolve({ txIds: [], reply: undefined });
  }

  /** Resolves when `promise` settles, or at once when closing. */
  #until(promise: Promise<unknown>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#wakers.delete(wake);
        resolve();
      };
      this.#wakers.add(wake);
      promise.then(wake, wake);
    });
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#wakers.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }
}
