/**
 * Block tracking without payments: the unlocker alone on an interval, which `vbkpool server`
 * runs by default so that its blocks show their confirmations and end confirmed (credited) or
 * orphaned even when no payout service runs. It takes no lock: the unlocker's store updates are
 * conditional on the block's status (`creditBlock` passes only a `pending` block, once), so a
 * tracker and a payout service, in this process or another, never credit a block twice.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import type { Store } from "../store/mod.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import { Unlocker, type UnlockerOptions, type UnlockReport } from "./unlocker.ts";

const log = getLogger(["vbkpool", "payouts", "tracker"]);
const episodes = new EpisodeLog(log);

/** Options for {@linkcode BlockTracker}. */
export interface BlockTrackerOptions {
  /** Time between passes, ms. @default 60000 */
  intervalMs?: number;
  /** The unlocker's settings. */
  unlocker: UnlockerOptions;
}

/**
 * The unlocker on an interval.
 *
 * @example Usage
 * ```ts
 * import { BlockTracker } from "./block_tracker.ts";
 * import { NodeCoreRpc } from "./nodecore_rpc.ts";
 * import { startDevnet } from "../devnet/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, rpcPort: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const rpc = new NodeCoreRpc({ url: `http://127.0.0.1:${devnet.rpcAddr!.port}/api` });
 * const tracker = new BlockTracker(store, rpc, {
 *   unlocker: { poolAddress: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX", confirmations: 5 },
 * });
 * const report = await tracker.runOnce();
 * assert.equal(report?.confirmed.length, 0);
 * await tracker.stop();
 * await store.close();
 * await devnet.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class BlockTracker {
  /** The unlocker. */
  readonly unlocker: Unlocker;
  #intervalMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<UnlockReport | undefined> | undefined;
  #stopped = false;

  /**
   * @param store The pool's store.
   * @param rpc NodeCore's HTTP API.
   * @param options Interval and unlocker settings.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(store: Store, rpc: NodeCoreRpc, options: BlockTrackerOptions) {
    this.unlocker = new Unlocker(store, rpc, options.unlocker);
    this.#intervalMs = options.intervalMs ?? 60_000;
    if (!(this.#intervalMs > 0)) {
      throw new RangeError("Cannot create block tracker: intervalMs must be > 0");
    }
  }

  /**
   * One pass now (or the one running).
   *
   * @returns The unlocker's report, or undefined when the pass failed (logged once per episode).
   */
  runOnce(): Promise<UnlockReport | undefined> {
    this.#running ??= this.unlocker.run().then((report) => {
      episodes.end("failed");
      return report;
    }, (err) => {
      episodes.warn("failed", "Block tracking pass failed (retried every {s} s): {error}", {
        s: this.#intervalMs / 1000,
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }).finally(() => this.#running = undefined);
    return this.#running;
  }

  /** Run a pass now and then every interval until {@linkcode BlockTracker.stop}. */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    const tick = async () => {
      await this.runOnce();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stop the timer and wait for a pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
