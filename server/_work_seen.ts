/**
 * The duplicate state of one header's work: every job whose header differs only in merkle root,
 * time and nonce shares one (see `JobManager` in jobs.ts), so a header is credited once whatever
 * job id it comes under. The keys can be forgotten to bound memory; what stays is an ntime floor
 * that still refuses every share they could match (ntime is part of the key), so forgetting never
 * lets a duplicate through, it only refuses shares at or below the floor as stale.
 *
 * Floors are kept per owner (the extranonce range of the connection that submitted the shares),
 * so one connection's ntime choice only ever makes its own shares stale: a miner that sends one
 * share timed minutes ahead and then floods the work cannot make anybody else's shares (or block
 * candidates) stale. Only when the floors themselves reach half the key budget (that many
 * connections submitting to one work) do they collapse into one floor for the work, and an idle
 * work whose state the job manager trims keeps just that one floor.
 *
 * The works of live jobs share one {@linkcode LiveKeys} budget: a round with many live jobs (up to
 * 64 mempool updates) cannot hold each job's cap of keys at once; beyond the budget the oldest live
 * works give way to their floors first, as idle ones do.
 *
 * @module
 */

/** What {@linkcode WorkSeen.check} found. */
export type SeenVerdict = "new" | "duplicate_share" | "stale_job";

/**
 * Accepted share keys of one header's work, and the floors left by forgotten ones.
 *
 * @example Usage
 * ```ts
 * import { WorkSeen } from "./_work_seen.ts";
 * import assert from "node:assert/strict";
 *
 * const seen = new WorkSeen("round");
 * assert.equal(seen.check("a:100:1", 100, { owner: 1n, cap: 10 }), "new");
 * seen.add("a:100:1", 100, 1n);
 * assert.equal(seen.check("a:100:1", 100, { owner: 1n, cap: 10 }), "duplicate_share");
 * seen.forget({ collapseAt: 10 }); // keeps a floor per owner
 * assert.equal(seen.check("a:100:2", 100, { owner: 1n, cap: 10 }), "stale_job"); // its floor
 * assert.equal(seen.check("a:101:1", 101, { owner: 1n, cap: 10 }), "new");
 * assert.equal(seen.check("b:100:1", 100, { owner: 2n, cap: 10 }), "new"); // another owner
 * ```
 */
export class WorkSeen {
  /** Keys (`extranonceHex:ntime:nonce`) of the shares accepted and not forgotten. */
  keys: Set<string> = new Set();
  /** Shares with an ntime at or below this may repeat forgotten ones (−1: nothing forgotten). */
  floor = -1;
  /** Per owner: shares of that owner at or below it may repeat its forgotten ones. */
  floors: Map<bigint, number> = new Map();
  /** Per owner, the highest ntime among its held keys. */
  #highest = new Map<bigint, number>();
  /** Live jobs using this work (kept by the job manager). */
  live = 0;
  /** The previous block hash (hex) of the work's round. */
  round: string;
  /** The budget this work's entries count against while a live job uses it. */
  budget: LiveKeys | undefined;

  /**
   * @param round The previous block hash (hex) of the work's round.
   */
  constructor(round: string) {
    this.round = round;
  }

  /** Entries held: keys plus per-owner floors (what the job manager budgets). */
  get size(): number {
    return this.keys.size + this.floors.size;
  }

  /**
   * Whether a share is new; with `cap` entries held, the keys are forgotten first.
   *
   * @param key The share's key.
   * @param ntime The share's ntime (uint32).
   * @param options The owner (start of the submitting connection's extranonce range) and the
   *   most entries held.
   * @returns "new", "duplicate_share", or "stale_job" (at or below a floor).
   */
  check(key: string, ntime: number, options: { owner: bigint; cap: number }): SeenVerdict {
    if (this.#belowFloor(ntime, options.owner)) return "stale_job";
    if (this.keys.has(key)) return "duplicate_share";
    if (this.size >= options.cap) {
      this.forget({ collapseAt: Math.max(1, options.cap >> 1) });
      if (this.#belowFloor(ntime, options.owner)) return "stale_job";
    }
    return "new";
  }

  /**
   * Note an accepted share.
   *
   * @param key The share's key.
   * @param ntime The share's ntime.
   * @param owner The submitting connection's extranonce range start.
   */
  add(key: string, ntime: number, owner: bigint): void {
    const before = this.keys.size;
    this.keys.add(key);
    const highest = this.#highest.get(owner);
    if (highest === undefined || ntime > highest) this.#highest.set(owner, ntime);
    const budget = this.budget;
    if (budget !== undefined && this.keys.size > before && ++budget.held > budget.max) {
      budget.shed();
    }
  }

  /**
   * Drop the keys, raising each owner's floor to the highest ntime it had accepted. With
   * `collapseAt` floors or more (by default: any), the floors collapse into one for the work.
   *
   * @param options When to collapse the floors. @default { collapseAt: 0 }
   * @returns How many entries (keys and floors) were dropped.
   */
  forget(options: { collapseAt?: number } = {}): number {
    const before = this.size;
    for (const [owner, ntime] of this.#highest) {
      const floor = this.floors.get(owner);
      if (floor === undefined || ntime > floor) this.floors.set(owner, ntime);
    }
    this.#highest.clear();
    if (this.keys.size > 0) this.keys = new Set();
    if (this.floors.size >= (options.collapseAt ?? 0)) {
      for (const ntime of this.floors.values()) if (ntime > this.floor) this.floor = ntime;
      this.floors.clear();
    }
    const dropped = before - this.size;
    if (this.budget !== undefined) this.budget.held -= dropped;
    return dropped;
  }

  #belowFloor(ntime: number, owner: bigint): boolean {
    if (ntime <= this.floor) return true;
    const floor = this.floors.size === 0 ? undefined : this.floors.get(owner);
    return floor !== undefined && ntime <= floor;
  }
}

/**
 * The entries (keys and floors) held by the works of live jobs, with one cap over all of them:
 * beyond it the oldest live works forget their keys into per-owner floors (then, if the floors
 * alone are too many, into one floor each), down to three quarters of the cap; the newest work
 * (the one the last job uses: where the miners are) goes last. A duplicate is never let through;
 * only a share at or below its own connection's floor on a forgotten work is refused as stale.
 *
 * @example Usage
 * ```ts
 * import { LiveKeys, WorkSeen } from "./_work_seen.ts";
 * import assert from "node:assert/strict";
 *
 * const budget = new LiveKeys(4);
 * const old = new WorkSeen("round");
 * const current = new WorkSeen("round");
 * budget.join(old);
 * budget.join(current);
 * old.add("a:100:1", 100, 1n);
 * old.add("a:100:2", 100, 1n);
 * current.add("a:101:1", 101, 1n);
 * current.add("a:101:2", 101, 1n);
 * current.add("a:101:3", 101, 1n); // over 4: the old work keeps only its floor
 * assert.equal(old.keys.size, 0);
 * assert.equal(current.keys.size, 3);
 * assert.equal(budget.held, 3); // down to three quarters of the cap
 * assert.equal(old.check("a:100:1", 100, { owner: 1n, cap: 10 }), "stale_job");
 * ```
 */
export class LiveKeys {
  /** Entries held by the works that joined (kept up to date by {@linkcode WorkSeen}). */
  held = 0;
  /** Most entries held before the oldest works forget. */
  readonly max: number;
  /** Works counted, oldest first. */
  #works = new Set<WorkSeen>();

  /**
   * @param max Most entries held by live works at once (at least 1).
   */
  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  /** Works counted. */
  get works(): number {
    return this.#works.size;
  }

  /**
   * Count a work's entries (it became live), or mark it the newest again (a new job uses it):
   * the newest work gives way last.
   *
   * @param seen The work.
   */
  join(seen: WorkSeen): void {
    if (seen.budget === this) {
      this.#works.delete(seen);
      this.#works.add(seen);
      return;
    }
    seen.budget?.leave(seen);
    seen.budget = this;
    this.#works.add(seen);
    this.held += seen.size;
    if (this.held > this.max) this.shed();
  }

  /**
   * Stop counting a work's entries (no live job uses it any more).
   *
   * @param seen The work.
   */
  leave(seen: WorkSeen): void {
    if (seen.budget !== this) return;
    this.#works.delete(seen);
    this.held -= seen.size;
    seen.budget = undefined;
  }

  /**
   * Down to three quarters of the cap: the older works forget their keys (oldest first, a floor
   * per owner), then collapse their floors into one each; only then does the newest work forget.
   */
  shed(): void {
    const target = this.max - (this.max >> 2);
    const collapseAt = Math.max(1, this.max >> 2);
    const older = [...this.#works]; // only when over the cap: rare
    const newest = older.pop();
    for (const seen of older) {
      if (this.held <= target) return;
      if (seen.keys.size > 0) seen.forget({ collapseAt });
    }
    for (const seen of older) {
      if (this.held <= target) return;
      if (seen.floors.size > 0) seen.forget();
    }
    if (newest === undefined || this.held <= target) return;
    newest.forget({ collapseAt });
    if (this.held > target) newest.forget();
  }
}
