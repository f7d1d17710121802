/**
 * The duplicate state of one header's work: every job whose header differs only in merkle root,
 * time and nonce shares one (see `JobManager` in jobs.ts), so a header is credited once whatever
 * job id it comes under. The keys can be forgotten to bound memory; what stays is an ntime floor
 * that still refuses every share they could match (ntime is part of the key), so forgetting never
 * lets a duplicate through, it only refuses shares at or below the floor as stale.
 *
 * @module
 */

/** What {@linkcode WorkSeen.check} found. */
export type SeenVerdict = "new" | "duplicate_share" | "stale_job";

/**
 * Accepted share keys of one header's work, and the floor left by forgotten ones.
 *
 * @example Usage
 * ```ts
 * import { WorkSeen } from "./_work_seen.ts";
 * import assert from "node:assert/strict";
 *
 * const seen = new WorkSeen("round");
 * assert.equal(seen.check("a:100:1", 100, 10), "new");
 * seen.add("a:100:1", 100);
 * assert.equal(seen.check("a:100:1", 100, 10), "duplicate_share");
 * seen.forget();
 * assert.equal(seen.check("a:100:2", 100, 10), "stale_job"); // at or below the floor
 * assert.equal(seen.check("a:101:1", 101, 10), "new");
 * ```
 */
export class WorkSeen {
  /** Keys (`extranonceHex:ntime:nonce`) of the shares accepted and not forgotten. */
  keys: Set<string> = new Set();
  /** Shares with an ntime at or below this may repeat forgotten ones (−1: nothing forgotten). */
  floor = -1;
  /** Highest ntime among the accepted shares. */
  maxNtime = -1;
  /** Live jobs using this work (kept by the job manager). */
  live = 0;
  /** The previous block hash (hex) of the work's round. */
  round: string;

  /**
   * @param round The previous block hash (hex) of the work's round.
   */
  constructor(round: string) {
    this.round = round;
  }

  /**
   * Whether a share is new; with `cap` keys held, the keys are forgotten first.
   *
   * @param key The share's key.
   * @param ntime The share's ntime (uint32).
   * @param cap Most keys held.
   * @returns "new", "duplicate_share", or "stale_job" (at or below the floor).
   */
  check(key: string, ntime: number, cap: number): SeenVerdict {
    if (ntime <= this.floor) return "stale_job";
    if (this.keys.has(key)) return "duplicate_share";
    if (this.keys.size >= cap) {
      this.forget();
      if (ntime <= this.floor) return "stale_job";
    }
    return "new";
  }

  /**
   * Note an accepted share.
   *
   * @param key The share's key.
   * @param ntime The share's ntime.
   */
  add(key: string, ntime: number): void {
    this.keys.add(key);
    if (ntime > this.maxNtime) this.maxNtime = ntime;
  }

  /**
   * Drop the keys, raising the floor to the highest ntime accepted.
   *
   * @returns How many keys were dropped.
   */
  forget(): number {
    const dropped = this.keys.size;
    if (dropped > 0) {
      if (this.maxNtime > this.floor) this.floor = this.maxNtime;
      this.keys = new Set();
    }
    return dropped;
  }
}
