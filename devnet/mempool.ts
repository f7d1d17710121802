/**
 * Simulated transactions for the devnet: random transaction ids arrive over time, and the
 * pending set gives the intermediate merkle roots of the next block's template. A mined block
 * takes them out.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";

/** Options for {@linkcode SimulatedMempool}. */
export interface SimulatedMempoolOptions {
  /** Source of random transaction ids. @default crypto.getRandomValues */
  randomBytes?: (length: number) => Uint8Array;
}

/** The two transaction roots of a template (32 bytes each). */
export interface MempoolRoots {
  /** Merkle root of the PoP transactions. */
  popRoot: Uint8Array;
  /** Merkle root of the normal transactions. */
  normalRoot: Uint8Array;
}

function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/**
 * A SHA-256 binary merkle root (an odd node is paired with itself); 32 zero bytes when empty.
 *
 * @example Usage
 * ```ts
 * import { merkleOf } from "./mempool.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(merkleOf([]), new Uint8Array(32));
 * const one = new Uint8Array(32).fill(7);
 * assert.deepEqual(merkleOf([one]), one);
 * ```
 *
 * @param leaves 32-byte leaves.
 * @returns The 32-byte root.
 */
export function merkleOf(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return new Uint8Array(32);
  let level = [...leaves];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1] ?? left;
      const pair = new Uint8Array(64);
      pair.set(left);
      pair.set(right, 32);
      next.push(sha256(pair));
    }
    level = next;
  }
  return level[0]!.slice();
}

/**
 * Pending simulated transactions.
 *
 * @example Usage
 * ```ts
 * import { SimulatedMempool } from "./mempool.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = new SimulatedMempool();
 * const empty = pool.roots();
 * pool.add(3, 1);
 * assert.equal(pool.size, 4);
 * assert.notDeepEqual(pool.roots().normalRoot, empty.normalRoot);
 * pool.clear();
 * assert.deepEqual(pool.roots(), empty);
 * ```
 */
export class SimulatedMempool {
  #normal: Uint8Array[] = [];
  #pop: Uint8Array[] = [];
  #random: (length: number) => Uint8Array;

  /**
   * @param options Random source.
   */
  constructor(options: SimulatedMempoolOptions = {}) {
    this.#random = options.randomBytes ?? randomBytes;
  }

  /** Pending transactions. */
  get size(): number {
    return this.#normal.length + this.#pop.length;
  }

  /**
   * Add random transactions.
   *
   * @param normal Normal transactions to add.
   * @param pop PoP transactions to add.
   */
  add(normal: number, pop = 0): void {
    for (let i = 0; i < normal; i++) this.#normal.push(this.#random(32));
    for (let i = 0; i < pop; i++) this.#pop.push(this.#random(32));
  }

  /** Drop every pending transaction (they went into a block). */
  clear(): void {
    this.#normal = [];
    this.#pop = [];
  }

  /**
   * The roots of the pending set.
   *
   * @returns PoP and normal transaction roots.
   */
  roots(): MempoolRoots {
    return { popRoot: merkleOf(this.#pop), normalRoot: merkleOf(this.#normal) };
  }
}
