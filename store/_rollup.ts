/**
 * Per-batch aggregation shared by the backends: the hash-rate rollup rows (per worker and for the
 * pool) and the round work (Σ share difficulty since the last block) that a batch adds.
 *
 * @module
 */
import { minuteOf } from "./_ops.ts";
import type { Share } from "./store_types.ts";

/** What a batch adds to one rollup row. */
export interface RollupDelta {
  /** Start of the minute (ms). */
  minute: number;
  /** Pool instance. */
  instance: number;
  /** Address; `""` for the pool row. */
  address: string;
  /** Worker; `""` for the pool row. */
  worker: string;
  /** Shares added. */
  shares: number;
  /** Σ share difficulty added. */
  difficulty: bigint;
  /** Σ share difficulty ÷ network difficulty added. */
  score: number;
}

/** Sums inserted shares into rollup rows (one per worker per minute, plus the pool's). */
export class RollupAccumulator {
  #rows = new Map<string, RollupDelta>();

  #bump(share: Share, address: string, worker: string, score: number): void {
    const minute = minuteOf(share.time);
    const key = `${minute}\u0000${share.instance}\u0000${address}\u0000${worker}`;
    let row = this.#rows.get(key);
    if (row === undefined) {
      row = {
        minute,
        instance: share.instance,
        address,
        worker,
        shares: 0,
        difficulty: 0n,
        score: 0,
      };
      this.#rows.set(key, row);
    }
    row.shares += 1;
    row.difficulty += share.difficulty;
    row.score += score;
  }

  /** Count one inserted share. */
  add(share: Share): void {
    const score = Number(share.difficulty) / Number(share.networkDifficulty);
    this.#bump(share, share.address, share.worker, score);
    this.#bump(share, "", "", score);
  }

  /** The rows, sorted by key (a stable lock order across instances). */
  rows(): RollupDelta[] {
    return [...this.#rows.values()].sort((a, b) =>
      a.minute - b.minute || a.instance - b.instance ||
      (a.address < b.address ? -1 : a.address > b.address ? 1 : 0) ||
      (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0)
    );
  }
}
