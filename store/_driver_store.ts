/**
 * The {@linkcode Store} implementation shared by both backends: checks every input, sends writes
 * through {@linkcode GroupCommit}, turns per-operation outcomes into results or errors, wraps
 * read failures, and computes the pruning cutoff.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { alertEvents, EpisodeLog } from "../log/mod.ts";
import type { StoreDriver } from "./_driver.ts";
import {
  BAN_KEEP_MS,
  checkBan,
  checkBanListQuery,
  checkBig,
  checkBlockQuery,
  checkBlockUpdate,
  checkHash,
  checkInt,
  checkName,
  checkNewBlock,
  checkRollupQuery,
  checkShare,
  checkShareQuery,
  checkTime,
  minuteOf,
  type OpOutcome,
  type WriteOp,
} from "./_ops.ts";
import { StoreFileLostError } from "./_file_identity.ts";
import { GroupCommit } from "./group_commit.ts";
import { DriverPayoutStore } from "./_payouts_store.ts";
import { DriverStoreScan } from "./_store_scan.ts";
import type { PayoutStore } from "./payout_store.ts";
import type { StoreScan } from "./store_scan.ts";
import type { LeaseOptions, ReserveOptions, Store } from "./store.ts";
import type {
  Activity,
  BanListing,
  BanListQuery,
  Block,
  BlockQuery,
  BlockResult,
  BlockUpdate,
  CounterRange,
  InstanceLease,
  NewBlock,
  PruneOptions,
  PruneResult,
  RollupPoint,
  RollupQuery,
  Share,
  ShareQuery,
  StoredBan,
  StoredShare,
  StoreStats,
  WorkerTotal,
} from "./store_types.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

const log = getLogger(["vbkpool", "store"]);
/** Lines a failing database can repeat (a flapping connection): once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Rows deleted per pruning transaction (kept small so share batches are not held up). */
const PRUNE_CHUNK = 5000;

/** Settings shared by both backends. */
export interface CommitOptions {
  /** Longest wait before a batch closes (ms). @default 5 */
  batchDelayMs?: number;
  /** Operations per transaction at most. @default 1000 */
  batchMaxRows?: number;
  /** Operations waiting at most; beyond that writes are refused. @default 100000 */
  maxQueue?: number;
  /** A commit slower than this fails its batch (ms). @default 10000 */
  commitTimeoutMs?: number;
  /** Probe interval while the database is failing (ms). @default 1000 */
  probeIntervalMs?: number;
}

function errorFrom(e: { name: string; message: string }): Error {
  if (e.name === "RangeError") return new RangeError(e.message);
  if (e.name === "TypeError") return new TypeError(e.message);
  return new Error(e.message);
}

/** The value of a successful outcome; throws the operation's error otherwise. */
function outcomeValue(outcome: OpOutcome): unknown {
  if (!outcome.ok) throw errorFrom(outcome.error);
  return outcome.value;
}

/**
 * Say loudly that the store starts on a new, empty database: when that is a mistake (a wrong
 * path or working directory, a deleted file), miners' history and balances seem gone and
 * extranonces are handed out from the start again.
 */
function announceNewDatabase(driver: StoreDriver): void {
  const rule = "*".repeat(78);
  const what = driver.backend === "sqlite" ? "file" : "database";
  for (
    const line of [
      rule,
      `NEW DATABASE: ${driver.where} had no vbkpool data, so a NEW, EMPTY one was created.`,
      "Share history, blocks, balances, payments, worker difficulties and IP bans start empty,",
      "and the extranonce counters start over.",
      `If you expected an existing pool database: stop the pool now, check [store] url${
        driver.backend === "sqlite" ? " (and the working directory of a relative path)" : ""
      }`,
      `and restore the ${what} from a backup. On a first run this is expected.`,
      rule,
    ]
  ) log.warn(line);
}

/** The database file was removed or replaced: said once (the driver never recovers from it). */
function logLost(driver: StoreDriver, error: StoreFileLostError): void {
  log.error("Store {where} is LOST: {error}", { where: driver.where, error: error.message });
}

/** The store's health changed (called on transitions only): the alert for operators. */
function storeAlert(where: string, healthy: boolean, error: unknown): void {
  if (healthy) {
    alertEvents.emit("store_recovered", `Store ${where} is accepting writes again`, { where });
    return;
  }
  const why = error instanceof Error ? error.message : String(error);
  alertEvents.emit("store_failing", `Store ${where} is failing: ${why}`, { where, error: why });
}

/** A {@linkcode Store} over a {@linkcode StoreDriver}. */
export class DriverStore implements Store {
  readonly backend: "sqlite" | "postgres";
  readonly payouts: PayoutStore;
  readonly scan: StoreScan;
  readonly readOnly: boolean;
  #driver: StoreDriver;
  #commit: GroupCommit<WriteOp, OpOutcome>;
  #commitListeners = new Set<(durationMs: number, operations: number) => void>();
  #closed = false;

  /**
   * @param driver The backend.
   * @param options Group-commit settings.
   */
  constructor(driver: StoreDriver, options: CommitOptions = {}) {
    this.backend = driver.backend;
    this.readOnly = driver.readOnly;
    this.#driver = driver;
    this.payouts = new DriverPayoutStore({
      write: (op) => this.#write(op),
      read: (action, fn) => this.#read(action, fn),
      driver,
    });
    this.scan = new DriverStoreScan({ read: (action, fn) => this.#read(action, fn), driver });
    if (driver.fresh) announceNewDatabase(driver);
    this.#commit = new GroupCommit<WriteOp, OpOutcome>({
      commit: (ops) => driver.commit(ops),
      probe: () => driver.probe(),
      reset: () => driver.reset(),
      ...(driver.watch === undefined ? {} : { watch: () => driver.watch!() }),
    }, {
      delayMs: checkInt(options.batchDelayMs ?? 5, "batchDelayMs", "open store", 0, 10_000),
      maxBatch: checkInt(options.batchMaxRows ?? 1000, "batchMaxRows", "open store", 1, 100_000),
      maxQueue: checkInt(options.maxQueue ?? 100_000, "maxQueue", "open store", 1, 10_000_000),
      timeoutMs: checkInt(options.commitTimeoutMs ?? 10_000, "commitTimeoutMs", "open store", 1),
      probeMs: checkInt(options.probeIntervalMs ?? 1000, "probeIntervalMs", "open store", 1),
      where: driver.where,
      onCommit: (ms, operations) => {
        for (const listener of this.#commitListeners) {
          try {
            listener(ms, operations);
          } catch (err) {
            episodes.warn("listener", "A commit listener failed: {error}", {
              error: String(err),
            });
          }
        }
      },
      onHealth: (healthy, error) => {
        storeAlert(driver.where, healthy, error);
        if (healthy) {
          episodes.info("back", "Store {where} is accepting writes again", {
            where: driver.where,
          });
        } else if (error instanceof StoreFileLostError) {
          logLost(driver, error);
        } else {
          episodes.error(
            "failing",
            "Store {where} is failing, writes are refused until it is back: {error}",
            {
              where: driver.where,
              error: error instanceof Error ? error.message : String(error),
            },
          );
        }
      },
      onProbeError: (message, error) => {
        if (error instanceof StoreFileLostError) return logLost(driver, error);
        episodes.warn("probe", "Store {where} is still failing: {error}", {
          where: driver.where,
          error: message,
        });
      },
    });
  }

  onCommit(listener: (durationMs: number, operations: number) => void): () => void {
    this.#commitListeners.add(listener);
    return () => this.#commitListeners.delete(listener);
  }

  #write(op: WriteOp): Promise<unknown> {
    if (this.readOnly) {
      return Promise.reject(
        new Error(`Cannot write to store ${this.#driver.where}: it is open read-only`),
      );
    }
    // A plain `then` rather than an async function: one promise fewer per share.
    return this.#commit.submit(op).then(outcomeValue);
  }

  async #read<T>(action: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError(`Cannot ${action}: the store is closed`);
    try {
      return await fn();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new StoreUnavailableError(`Cannot ${action} from ${this.#driver.where}: ${why}`, {
        cause: err,
      });
    }
  }

  recordShare(share: Share): Promise<void> {
    let op: WriteOp;
    try {
      op = { kind: "share", share: checkShare(share) };
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#write(op) as Promise<void>;
  }

  async recordBlock(block: NewBlock): Promise<BlockResult> {
    return await this.#write({ kind: "block", block: checkNewBlock(block) }) as BlockResult;
  }

  async updateBlock(hash: Uint8Array, update: BlockUpdate): Promise<Block | undefined> {
    const op: WriteOp = {
      kind: "updateBlock",
      hash: checkHash(hash, "hash", "update block").slice(),
      update: checkBlockUpdate(update),
      time: Date.now(),
    };
    return await this.#write(op) as Block | undefined;
  }

  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    const h = checkHash(hash, "hash", "get block");
    return await this.#read("get block", () => this.#driver.block(h));
  }

  async listBlocks(query?: BlockQuery): Promise<Block[]> {
    const q = checkBlockQuery(query);
    return await this.#read("list blocks", () => this.#driver.blocks(q));
  }

  async listShares(query?: ShareQuery): Promise<StoredShare[]> {
    const q = checkShareQuery(query);
    return await this.#read("list shares", () => this.#driver.shares(q));
  }

  async countShares(): Promise<number> {
    return await this.#read("count shares", () => this.#driver.shareCount());
  }

  async setWorkerDifficulty(address: string, worker: string, difficulty: bigint): Promise<void> {
    const action = "set worker difficulty";
    await this.#write({
      kind: "difficulty",
      address: checkName(address, "address", action, false),
      worker: checkName(worker, "worker", action),
      difficulty: checkBig(difficulty, "difficulty", action),
      time: Date.now(),
    });
  }

  async getWorkerDifficulty(address: string, worker: string): Promise<bigint | undefined> {
    const action = "get worker difficulty";
    const a = checkName(address, "address", action, false);
    const w = checkName(worker, "worker", action);
    return await this.#read(action, () => this.#driver.workerDifficulty(a, w));
  }

  async reserveExtranonces(instance: number, options: ReserveOptions): Promise<CounterRange> {
    const action = "reserve extranonces";
    const limit = checkBig(options?.limit, "limit", action, 1n, 1n << 64n);
    const op: WriteOp = {
      kind: "reserve",
      instance: checkInt(instance, "instance", action),
      count: checkBig(options?.count, "count", action, 1n, limit),
      limit,
    };
    if (options?.rangeSize !== undefined) {
      op.rangeSize = checkBig(options.rangeSize, "rangeSize", action, 1n, 1n << 64n);
    }
    return await this.#write(op) as CounterRange;
  }

  async leaseInstance(instance: number, options: LeaseOptions): Promise<InstanceLease> {
    const action = "lease instance";
    return await this.#write({
      kind: "lease",
      instance: checkInt(instance, "instance", action),
      owner: checkName(options?.owner, "owner", action, false),
      ttlMs: checkInt(options?.ttlMs, "ttlMs", action, 1),
      now: Date.now(),
    }) as InstanceLease;
  }

  async releaseInstance(instance: number, owner: string): Promise<void> {
    const action = "release instance";
    await this.#write({
      kind: "unlease",
      instance: checkInt(instance, "instance", action),
      owner: checkName(owner, "owner", action, false),
    });
  }

  async recordBan(ban: StoredBan): Promise<void> {
    await this.#write({ kind: "ban", ban: checkBan(ban) });
  }

  async listBans(query: BanListQuery): Promise<BanListing> {
    const q = checkBanListQuery(query);
    return await this.#read("list bans", () => this.#driver.bans(q));
  }

  async rollups(query: RollupQuery): Promise<RollupPoint[]> {
    const q = checkRollupQuery(query);
    return await this.#read("query rollups", () => this.#driver.rollups(q));
  }

  async workerTotals(query: RollupQuery): Promise<WorkerTotal[]> {
    const q = checkRollupQuery(query);
    return await this.#read("query worker totals", () => this.#driver.workerTotals(q));
  }

  async activity(query: RollupQuery): Promise<Activity> {
    const q = checkRollupQuery(query);
    return await this.#read("query activity", () => this.#driver.activity(q));
  }

  /** Start of the PPLNS window ending at `anchor`; -Infinity when the shares do not fill it. */
  async #windowStart(anchor: number, window: number): Promise<number> {
    let before = minuteOf(anchor);
    let sum = 0;
    for (;;) {
      const rows = await this.#driver.minuteScores(before, 1440);
      if (rows.length === 0) return -Infinity;
      for (const r of rows) {
        sum += r.score;
        if (sum >= window) return r.minute;
      }
      before = rows.at(-1)!.minute;
    }
  }

  async #deleteAll(
    kind: "pruneShares" | "pruneRollups" | "pruneBans",
    before: number,
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.#write({ kind, before, limit: PRUNE_CHUNK }) as number;
      total += n;
      if (n < PRUNE_CHUNK) return total;
    }
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    const action = "prune store";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Cannot ${action}: options must be an object`);
    }
    const sharesBefore = checkTime(options.sharesBefore, "sharesBefore", action);
    const rollupsBefore = checkTime(options.rollupsBefore, "rollupsBefore", action);
    const window = options.pplnsWindow;
    if (typeof window !== "number" || !Number.isFinite(window) || window < 0) {
      throw new RangeError(`Cannot ${action}: pplnsWindow must be a number >= 0, got ${window}`);
    }
    const now = options.now === undefined ? Date.now() : checkTime(options.now, "now", action);
    let shareCutoff = sharesBefore;
    if (window > 0) {
      const anchor = await this.#read(action, () => this.#driver.oldestPendingTime()) ?? now;
      const start = await this.#read(action, () => this.#windowStart(anchor, window));
      shareCutoff = Math.min(shareCutoff, start);
    }
    const shares = shareCutoff === -Infinity
      ? 0
      : await this.#deleteAll("pruneShares", shareCutoff);
    const rollups = await this.#deleteAll("pruneRollups", minuteOf(rollupsBefore));
    const bans = await this.#deleteAll("pruneBans", Math.max(0, now - BAN_KEEP_MS));
    if (shares > 0 || rollups > 0 || bans > 0) {
      log.info("Pruned {shares} shares, {rollups} rollup rows and {bans} ended IP bans", {
        shares,
        rollups,
        bans,
      });
    }
    return { shares, rollups, bans, shareCutoff };
  }

  stats(): StoreStats {
    return { backend: this.backend, ...this.#commit.stats() };
  }

  flush(): Promise<void> {
    return this.#commit.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#commit.close();
    } finally {
      await this.#driver.close();
    }
  }
}
