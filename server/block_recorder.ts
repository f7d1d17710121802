/**
 * Records found blocks in the store: listens to the pool's events, keeps each block candidate
 * (`block_found`) until NodeCore answers, and stores the block when NodeCore accepted it
 * (`block_result`). A failed write is retried in the background, since a lost block row would
 * cost the miners their reward.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { hexToBytes } from "../hash/hex.ts";
import type { NewBlock, Store } from "../store/mod.ts";
import type { PoolEvents } from "./events.ts";
import type { AcceptedShare } from "./share_recorder.ts";

const log = getLogger(["vbkpool", "server", "blocks"]);

/** Options for {@linkcode BlockRecorder}. */
export interface BlockRecorderOptions {
  /** This pool instance's id. */
  instance: number;
  /** Delays between retries of a failed write (ms). @default [1000, 5000, 15000, 60000, 300000] */
  retryMs?: readonly number[];
  /** Candidates remembered while waiting for NodeCore's answer. @default 256 */
  maxPending?: number;
}

/**
 * Stores every block NodeCore accepted.
 *
 * @example Usage
 * ```ts
 * import { BlockRecorder } from "./block_recorder.ts";
 * import { PoolEvents } from "./events.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const events = new PoolEvents();
 * const recorder = new BlockRecorder(store, events, { instance: 31 });
 * const hash = "00".repeat(4) + "ab".repeat(20);
 * events.emit({ type: "block_found", at: 5, share: {
 *   at: 5, connectionId: 1, ip: "127.0.0.1", port: 3333, worker: "V1.rig", address: "V1",
 *   workerName: "rig", jobId: "1", upstreamJobId: 7, height: 10, extranonce: 1n, ntime: 0,
 *   nonce: 0, hash, difficulty: 64n, achievedDifficulty: 2000n, networkDifficulty: 1000n,
 *   block: true,
 * } });
 * events.emit({ type: "block_result", at: 6, hash, height: 10, accepted: true });
 * await recorder.settled();
 * assert.equal((await store.listBlocks())[0]?.height, 10);
 * await recorder.close();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class BlockRecorder {
  #store: Store;
  #instance: number;
  #retryMs: readonly number[];
  #maxPending: number;
  #candidates = new Map<string, AcceptedShare>();
  #writes = new Set<Promise<void>>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #unsubscribe: () => void;
  #closed = false;

  /**
   * Start listening.
   *
   * @param store Where blocks go.
   * @param events The pool's event bus.
   * @param options Instance id and retry policy.
   */
  constructor(store: Store, events: PoolEvents, options: BlockRecorderOptions) {
    this.#store = store;
    this.#instance = options.instance;
    this.#retryMs = options.retryMs ?? [1000, 5000, 15_000, 60_000, 300_000];
    this.#maxPending = options.maxPending ?? 256;
    this.#unsubscribe = events.subscribe((event) => {
      if (event.type === "block_found") {
        this.#candidates.set(event.share.hash, event.share);
        while (this.#candidates.size > this.#maxPending) {
          this.#candidates.delete(this.#candidates.keys().next().value!);
        }
      } else if (event.type === "block_result") {
        const share = this.#candidates.get(event.hash);
        this.#candidates.delete(event.hash);
        if (share !== undefined && event.accepted) this.#write(this.#block(share), 0);
      }
    });
  }

  #block(share: AcceptedShare): NewBlock {
    return {
      instance: this.#instance,
      height: share.height,
      hash: hexToBytes(share.hash),
      address: share.address,
      worker: share.workerName,
      networkDifficulty: share.networkDifficulty,
      time: share.at,
    };
  }

  #write(block: NewBlock, attempt: number): void {
    const write = this.#store.recordBlock(block).then((result) => {
      log.info("block {height} stored (effort {effort})", {
        height: block.height,
        effort: result.block.effort.toFixed(3),
      });
    }, (err) => {
      const delay = this.#retryMs[attempt];
      const why = err instanceof Error ? err.message : String(err);
      if (delay === undefined || this.#closed) {
        log.fatal("block {height} was accepted but cannot be stored: {error}", {
          height: block.height,
          error: why,
        });
        return;
      }
      log.error("cannot store block {height}, retrying in {delay} ms: {error}", {
        height: block.height,
        delay,
        error: why,
      });
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#write(block, attempt + 1);
      }, delay);
      this.#timers.add(timer);
    });
    this.#writes.add(write);
    write.finally(() => this.#writes.delete(write));
  }

  /** Resolves when no write is in flight (retries waiting on a timer do not count). */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /** Stop listening, wait for writes in flight, and drop pending retries (logged). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    await this.settled();
    for (const timer of this.#timers) clearTimeout(timer);
    if (this.#timers.size > 0) {
      log.fatal("{n} accepted block(s) could not be stored before shutdown", {
        n: this.#timers.size,
      });
    }
    this.#timers.clear();
  }
}
