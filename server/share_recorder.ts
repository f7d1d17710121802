/**
 * The share-recording seam: where an accepted share becomes durable. The session answers the
 * miner `true` only after {@linkcode ShareRecorder.record} resolves, and an error if it
 * rejects. {@linkcode MemoryShareRecorder} keeps per-worker totals in memory; a database
 * recorder (group commit) plugs into the same interface.
 *
 * @module
 */

/** One accepted share, as recorded and reported. */
export interface AcceptedShare {
  /** When it was validated (ms since epoch). */
  at: number;
  /** Connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** Local Stratum port. */
  port: number;
  /** Worker name as authorized: "address" or "address.worker". */
  worker: string;
  /** The VeriBlock address part (credited). */
  address: string;
  /** The part after the first ".", or "". */
  workerName: string;
  /** Our job id as submitted. */
  jobId: string;
  /** NodeCore's job id. */
  upstreamJobId: number;
  /** Block height of the job. */
  height: number;
  /** The extranonce (within the connection's range). */
  extranonce: bigint;
  /** Header timestamp. */
  ntime: number;
  /** Header nonce. */
  nonce: number;
  /** vBlake hash, 48 lower-case hex chars. */
  hash: string;
  /** Difficulty credited: the difficulty in force for the job when it was sent to the miner,
   * capped at the job's network difficulty. */
  difficulty: bigint;
  /** Difficulty the hash achieves, floor((2^192 − 1) / hash). */
  achievedDifficulty: bigint;
  /** Network difficulty of the job. */
  networkDifficulty: bigint;
  /** Whether the hash met the network target (a block candidate). */
  block: boolean;
  /** Accepted on a SOLO port (its blocks are credited to the finder alone). */
  solo: boolean;
}

/** Makes accepted shares durable. */
export interface ShareRecorder {
  /**
   * Record a share.
   *
   * @param share The share.
   * @returns Resolves when the share is durable; rejects when it cannot be stored.
   */
  record(share: AcceptedShare): Promise<void>;
}

/** Per-worker totals kept by {@linkcode MemoryShareRecorder}. */
export interface WorkerTotals {
  /** Accepted shares. */
  shares: number;
  /** Sum of credited difficulty. */
  work: bigint;
  /** Block candidates found. */
  blocks: number;
  /** Time of the last share (ms since epoch). */
  lastShareAt: number;
}

/**
 * Accounts accepted shares per worker, in memory (lost on exit).
 *
 * @example Usage
 * ```ts
 * import { MemoryShareRecorder } from "./share_recorder.ts";
 * import assert from "node:assert/strict";
 *
 * const recorder = new MemoryShareRecorder();
 * const share = {
 *   at: 1, connectionId: 1, ip: "127.0.0.1", port: 3333, worker: "V.rig", address: "V",
 *   workerName: "rig", jobId: "1", upstreamJobId: 7, height: 10, extranonce: 1n, ntime: 0,
 *   nonce: 0, hash: "00", difficulty: 64n, achievedDifficulty: 100n, networkDifficulty: 1000n,
 *   block: false, solo: false,
 * };
 * await recorder.record(share);
 * await recorder.record({ ...share, block: true });
 * assert.deepEqual(recorder.totals("V.rig"), { shares: 2, work: 128n, blocks: 1, lastShareAt: 1 });
 * assert.equal(recorder.shares, 2);
 * ```
 */
export class MemoryShareRecorder implements ShareRecorder {
  #workers = new Map<string, WorkerTotals>();
  #shares = 0;
  #work = 0n;

  /** Accepted shares in all. */
  get shares(): number {
    return this.#shares;
  }

  /** Credited difficulty in all. */
  get work(): bigint {
    return this.#work;
  }

  /**
   * Add a share to its worker's totals.
   *
   * @param share The share.
   * @returns Resolves at once.
   */
  record(share: AcceptedShare): Promise<void> {
    let totals = this.#workers.get(share.worker);
    if (totals === undefined) {
      totals = { shares: 0, work: 0n, blocks: 0, lastShareAt: 0 };
      this.#workers.set(share.worker, totals);
    }
    totals.shares++;
    totals.work += share.difficulty;
    if (share.block) totals.blocks++;
    totals.lastShareAt = share.at;
    this.#shares++;
    this.#work += share.difficulty;
    return Promise.resolve();
  }

  /**
   * One worker's totals.
   *
   * @param worker Worker name as authorized.
   * @returns A copy of the totals, or undefined when it has no shares.
   */
  totals(worker: string): WorkerTotals | undefined {
    const totals = this.#workers.get(worker);
    return totals === undefined ? undefined : { ...totals };
  }

  /**
   * Every worker with shares.
   *
   * @returns Worker names.
   */
  workers(): string[] {
    return [...this.#workers.keys()];
  }
}
