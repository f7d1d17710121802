/**
 * The database {@linkcode WorkerDifficultyStore}: a worker's last vardiff difficulty is kept in
 * the store, so it is restored when the worker reconnects, on any instance, after a restart.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import type { Store } from "../store/mod.ts";
import type { WorkerDifficultyStore } from "./worker_difficulty.ts";

const log = getLogger(["vbkpool", "server", "store"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Split `address.worker` at the first dot. */
function split(worker: string): [string, string] {
  const dot = worker.indexOf(".");
  return dot < 0 ? [worker, ""] : [worker.slice(0, dot), worker.slice(dot + 1)];
}

/**
 * Remembers worker difficulties in a {@linkcode Store}.
 *
 * @example Usage
 * ```ts
 * import { StoreWorkerDifficulty } from "./store_worker_difficulty.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const difficulties = new StoreWorkerDifficulty(store);
 * difficulties.save("V1.rig", 4096n);
 * await store.flush();
 * assert.equal(await difficulties.load("V1.rig"), 4096n);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class StoreWorkerDifficulty implements WorkerDifficultyStore {
  #store: Store;

  /**
   * @param store Where difficulties are kept.
   */
  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * The difficulty a worker last had.
   *
   * @param worker `address` or `address.worker`.
   * @returns The difficulty, or undefined when unknown.
   */
  load(worker: string): Promise<bigint | undefined> {
    const [address, name] = split(worker);
    return this.#store.getWorkerDifficulty(address, name);
  }

  /**
   * Remember a worker's difficulty (committed in the next batch; a failure is logged).
   *
   * @param worker `address` or `address.worker`.
   * @param difficulty The difficulty.
   */
  save(worker: string, difficulty: bigint): void {
    const [address, name] = split(worker);
    this.#store.setWorkerDifficulty(address, name, difficulty).catch((err) => {
      episodes.warn("save", "cannot save the difficulty of {worker}: {error}", {
        worker,
        error: err instanceof Error ? err.message : String(err),
      });
    });
  }
}
