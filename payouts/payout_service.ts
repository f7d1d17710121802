/**
 * The payout service: runs the unlocker (confirm, credit or orphan found blocks) and the payer
 * (pay balances above their threshold) one after the other, on an interval, while it holds the
 * global payer lock, so one pool runs one payout service however many processes start one.
 * `vbkpool payouts` runs it alone; `vbkpool server` can run it in-process.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Store } from "../store/mod.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import { Payer, type PayerOptions, type PayReport } from "./payer.ts";
import { Unlocker, type UnlockerOptions, type UnlockReport } from "./unlocker.ts";

const log = getLogger(["vbkpool", "payouts"]);

/** Options for {@linkcode PayoutService}. */
export interface PayoutServiceOptions {
  /** Time between passes, ms. @default 60000 */
  intervalMs?: number;
  /** The unlocker's settings. */
  unlocker: UnlockerOptions;
  /** The payer's settings (its `owner` also owns the lock for the unlocker). */
  payer: PayerOptions;
}

/** What one pass did. */
export interface PayoutPass {
  /** Why nothing ran, when nothing ran. */
  skipped?: string;
  /** The unlocker's report. */
  unlock?: UnlockReport;
  /** The payer's report. */
  pay?: PayReport;
  /** The error that ended the pass early. */
  error?: string;
}

/**
 * Unlocker + payer on an interval, under the payer lock.
 *
 * @example Usage
 * ```ts
 * import { PayoutService } from "./payout_service.ts";
 * import { NodeCoreRpc } from "./nodecore_rpc.ts";
 * import { startDevnet } from "../devnet/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, rpcPort: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const rpc = new NodeCoreRpc({ url: `http://127.0.0.1:${devnet.rpcAddr!.port}/api` });
 * const pool = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
 * const service = new PayoutService(store, rpc, {
 *   unlocker: { poolAddress: pool, confirmations: 20 },
 *   payer: { owner: `payouts-${Deno.pid}`, poolAddress: pool, minimumPayment: 10n ** 9n },
 * });
 * const pass = await service.runOnce();
 * assert.equal(pass.error, undefined);
 * await service.stop();
 * await store.close();
 * await devnet.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class PayoutService {
  /** The unlocker. */
  readonly unlocker: Unlocker;
  /** The payer. */
  readonly payer: Payer;
  #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<PayoutPass> | undefined;
  #stopped = false;

  /**
   * @param store The pool's store.
   * @param rpc NodeCore's HTTP API.
   * @param options Interval, unlocker and payer settings.
   */
  constructor(store: Store, rpc: NodeCoreRpc, options: PayoutServiceOptions) {
    this.unlocker = new Unlocker(store, rpc, options.unlocker);
    this.payer = new Payer(store, rpc, options.payer);
    this.#intervalMs = options.intervalMs ?? 60_000;
    if (!(this.#intervalMs > 0)) {
      throw new RangeError(`Cannot create payout service: intervalMs must be > 0`);
    }
  }

  /**
   * One pass now (waits for a pass already running instead of starting another).
   *
   * @returns What it did; failures are reported in `error`, never thrown.
   */
  runOnce(): Promise<PayoutPass> {
    this.#running ??= this.#pass().finally(() => this.#running = undefined);
    return this.#running;
  }

  async #pass(): Promise<PayoutPass> {
    const pass: PayoutPass = {};
    try {
      if (!await this.payer.lock()) {
        pass.skipped = "another payout process holds the payer lock";
        log.debug("Payout pass skipped: {why}", { why: pass.skipped });
        return pass;
      }
      pass.unlock = await this.unlocker.run();
      pass.pay = await this.payer.run();
    } catch (err) {
      pass.error = err instanceof Error ? err.message : String(err);
      log.error("Payout pass failed (retried in the next pass): {error}", { error: pass.error });
    }
    return pass;
  }

  /** Run a pass now and then every interval until {@linkcode PayoutService.stop}. */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const tick = async () => {
      await this.runOnce();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stop the timer, wait for a pass in progress, and release the lock. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    await this.payer.unlock().catch((err) => {
      log.warn("Cannot release the payer lock: {error}", { error: String(err) });
    });
  }
}
