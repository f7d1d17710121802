/**
 * The worker-difficulty seam: the last vardiff difficulty of each worker, so a reconnecting
 * miner starts near its steady state. {@linkcode MemoryWorkerDifficulty} remembers it for the
 * life of the process; a store-backed implementation persists it.
 *
 * @module
 */

/** Remembers each worker's last difficulty. */
export interface WorkerDifficultyStore {
  /**
   * The difficulty a worker last had.
   *
   * @param worker Worker name as authorized.
   * @returns The difficulty, or undefined when unknown.
   */
  load(worker: string): Promise<bigint | undefined>;
  /**
   * Remember a worker's difficulty (fire and forget; failures are the store's to log).
   *
   * @param worker Worker name as authorized.
   * @param difficulty The difficulty.
   */
  save(worker: string, difficulty: bigint): void;
}

/** Options for {@linkcode MemoryWorkerDifficulty}. */
export interface MemoryWorkerDifficultyOptions {
  /** Most workers remembered; the least recently saved are forgotten first. @default 100000 */
  maxWorkers?: number;
}

/**
 * An in-memory, bounded {@linkcode WorkerDifficultyStore}.
 *
 * @example Usage
 * ```ts
 * import { MemoryWorkerDifficulty } from "./worker_difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * const store = new MemoryWorkerDifficulty({ maxWorkers: 1 });
 * store.save("V1", 4096n);
 * assert.equal(await store.load("V1"), 4096n);
 * store.save("V2", 8192n);
 * assert.equal(await store.load("V1"), undefined);
 * ```
 */
export class MemoryWorkerDifficulty implements WorkerDifficultyStore {
  #map = new Map<string, bigint>();
  #max: number;

  /**
   * Make an empty store.
   *
   * @param options The size bound.
   */
  constructor(options: MemoryWorkerDifficultyOptions = {}) {
    this.#max = options.maxWorkers ?? 100_000;
  }

  /**
   * The difficulty a worker last had.
   *
   * @param worker Worker name.
   * @returns The difficulty, or undefined.
   */
  load(worker: string): Promise<bigint | undefined> {
    return Promise.resolve(this.#map.get(worker));
  }

  /**
   * Remember a worker's difficulty.
   *
   * @param worker Worker name.
   * @param difficulty The difficulty.
   */
  save(worker: string, difficulty: bigint): void {
    this.#map.delete(worker);
    this.#map.set(worker, difficulty);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }
}
