/**
 * The jobs sent to one connection, by the id the miner was given, kept without allocating per
 * job sent. A `Map` did the same job, but every new block cleared it (`Map.prototype.clear`
 * allocates a new hash table) and the next job added an entry object; both live for the whole
 * block, so V8 moves them to its old space, where they become garbage at the next block: with
 * 5,000 miners, ~180 bytes per miner per block were most of what the pool left in its old space
 * (bench/RESULTS.md, "Memory under load"), and old-space garbage is what grows the heap between
 * full collections. Here the entries live in four arrays that keep their capacity (at most the
 * per-session cap), and clearing only drops the references.
 *
 * @module
 */

import type { Job } from "./jobs.ts";
import type { SentJob, SentJobLookup } from "./shares.ts";

/**
 * Sent jobs in the order they were sent, at most `max` (the oldest, stale ones first, give way).
 *
 * @example Usage
 * ```ts
 * import { SentJobs } from "./_sent_jobs.ts";
 * import { JobManager } from "./jobs.ts";
 * import assert from "node:assert/strict";
 *
 * const job = new JobManager().add({
 *   upstreamJobId: 1, kind: "job", height: 1, version: 2,
 *   previousBlockHash: new Uint8Array(24), previousKeystoneHash: new Uint8Array(24),
 *   secondKeystoneHash: new Uint8Array(24), popRoot: new Uint8Array(32),
 *   normalRoot: new Uint8Array(32), metapackageHash: new Uint8Array(32),
 *   timestamp: 0, bits: 0x0600e8d4, poolAddress: "", extraNonceStart: 0n, extraNonceEnd: 0n,
 *   endpoint: "", receivedAt: 0,
 * });
 * const sent = new SentJobs();
 * sent.set(job.id, job, 64n, 1000n, 4);
 * assert.deepEqual(sent.get(job.id), { job, difficulty: 64n, target: 1000n });
 * sent.clear();
 * assert.equal(sent.get(job.id), undefined);
 * ```
 */
export class SentJobs implements SentJobLookup {
  #ids: string[] = [];
  #jobs: (Job | undefined)[] = [];
  #difficulties: bigint[] = [];
  #targets: bigint[] = [];
  #count = 0;

  /** Jobs held. */
  get size(): number {
    return this.#count;
  }

  /**
   * The job sent under an id (a new small object: it lives only as long as the share check).
   *
   * @param id The job id the miner was given.
   * @returns The job and the difficulty it was sent with, or undefined.
   */
  get(id: string): SentJob | undefined {
    const i = this.#indexOf(id);
    if (i < 0) return undefined;
    return { job: this.#jobs[i]!, difficulty: this.#difficulties[i]!, target: this.#targets[i]! };
  }

  /**
   * Note a job sent under an id. An id already held is updated in place (as `Map.set`); when
   * `max` are held, the stale ones go, then the oldest.
   *
   * @param id The job id the miner was given.
   * @param job The job.
   * @param difficulty The share difficulty in force when it was sent.
   * @param target The target of that difficulty.
   * @param max The most jobs held (≥ 1).
   */
  set(id: string, job: Job, difficulty: bigint, target: bigint, max: number): void {
    let i = this.#indexOf(id);
    if (i < 0) {
      if (this.#count >= max) this.#evict(Math.max(1, max));
      i = this.#count++;
    }
    this.#ids[i] = id;
    this.#jobs[i] = job;
    this.#difficulties[i] = difficulty;
    this.#targets[i] = target;
  }

  /** Forget every job (the arrays keep their capacity; the jobs are no longer referenced). */
  clear(): void {
    const jobs = this.#jobs;
    for (let i = 0; i < this.#count; i++) jobs[i] = undefined;
    this.#count = 0;
  }

  #indexOf(id: string): number {
    const ids = this.#ids;
    // Newest first: shares are mostly for the job sent last.
    for (let i = this.#count - 1; i >= 0; i--) if (ids[i] === id) return i;
    return -1;
  }

  /** Make room for one: drop the stale jobs, then the oldest, until fewer than `max` are held. */
  #evict(max: number): void {
    let kept = 0;
    for (let i = 0; i < this.#count; i++) {
      if (this.#jobs[i]!.stale) continue;
      this.#move(i, kept++);
    }
    const drop = kept - (max - 1);
    if (drop > 0) {
      for (let i = drop; i < kept; i++) this.#move(i, i - drop);
      kept -= drop;
    }
    for (let i = kept; i < this.#count; i++) this.#jobs[i] = undefined;
    this.#count = kept;
  }

  #move(from: number, to: number): void {
    if (from === to) return;
    this.#ids[to] = this.#ids[from]!;
    this.#jobs[to] = this.#jobs[from];
    this.#difficulties[to] = this.#difficulties[from]!;
    this.#targets[to] = this.#targets[from]!;
  }
}
