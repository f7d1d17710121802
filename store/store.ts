/**
 * The store's face: one domain-level interface used by the pool server and the payout service,
 * whatever the database. No driver types cross it; each call is one domain action, and the store
 * owns its transactions.
 *
 * @module
 */
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
import type { PayoutStore } from "./payout_store.ts";
import type { StoreScan } from "./store_scan.ts";

/** Options for {@linkcode Store.leaseInstance}. */
export interface LeaseOptions {
  /** Who asks: unique per process (e.g. host, pid and a random part). */
  owner: string;
  /** How long the lease lasts unless renewed (ms). */
  ttlMs: number;
}

/** How much of an extranonce counter to reserve. */
export interface ReserveOptions {
  /** Counter values wanted (≥ 1). */
  count: bigint;
  /** The instance's counter space: reservations never go past it (exclusive). */
  limit: bigint;
  /**
   * Extranonce values per counter (the pool's range size). It is stored with the counter; when
   * it differs from the stored one, the counter first moves to where the values handed out
   * before end, so that a smaller range after a restart never hands out a value again.
   */
  rangeSize?: bigint;
}

/**
 * Durable pool state. Writes (shares, blocks, worker difficulty, extranonce reservations, IP
 * bans, pruning) go through group commit: each promise resolves only after the transaction
 * holding the write committed, and rejects with `StoreUnavailableError` when it did not (the
 * write may or may not have landed, but it was never acknowledged). Reads see every committed
 * write.
 *
 * The payout service's part (balances, block credits, payment intents, the global payer lock)
 * is {@linkcode Store.payouts}, implemented the same way (one transaction per domain action).
 */
export interface Store {
  /** `"sqlite"` or `"postgres"`. */
  readonly backend: "sqlite" | "postgres";

  /** Balances, block credits, payment intents and the payer lock (the payout service's part). */
  readonly payouts: PayoutStore;

  /** Whole-table walks in pages (the audit). */
  readonly scan: StoreScan;

  /**
   * Opened with `readOnly`: every write is refused, and every read sees the one snapshot taken
   * when the store opened.
   */
  readonly readOnly: boolean;

  /**
   * Record an accepted share; the pool answers the miner `true` only after this resolves.
   * Shares are stored as given: rejecting a duplicate header is the pool's check, before this
   * (server/jobs.ts keeps one duplicate set per header's work).
   *
   * @param share The share (validated here: a bad field throws TypeError/RangeError). It is
   *   copied before this returns, so the caller may reuse the object and its hash at once.
   * @returns Resolves once the transaction holding the share committed.
   */
  recordShare(share: Share): Promise<void>;

  /**
   * Record a found block. Its effort is the round's Σ share difficulty (all instances, since
   * the previous block) ÷ its network difficulty; the round then restarts.
   *
   * @param block The block.
   * @returns The stored row and whether it was new (blocks are keyed by hash).
   */
  recordBlock(block: NewBlock): Promise<BlockResult>;

  /**
   * Change a block's status, reward or confirmations.
   *
   * @param hash Block hash.
   * @param update The changes.
   * @returns The updated row, or undefined when no block has this hash.
   */
  updateBlock(hash: Uint8Array, update: BlockUpdate): Promise<Block | undefined>;

  /**
   * One block by hash.
   *
   * @param hash Block hash.
   * @returns The row, or undefined.
   */
  getBlock(hash: Uint8Array): Promise<Block | undefined>;

  /**
   * Blocks, newest first.
   *
   * @param query Status filter and limit.
   * @returns The rows.
   */
  listBlocks(query?: BlockQuery): Promise<Block[]>;

  /**
   * Shares, newest first (for payouts and tests).
   *
   * @param query Time range, address and limit.
   * @returns The rows.
   */
  listShares(query?: ShareQuery): Promise<StoredShare[]>;

  /**
   * Number of stored shares.
   *
   * @returns The count.
   */
  countShares(): Promise<number>;

  /**
   * Remember a worker's vardiff difficulty (restored when it reconnects, on any instance).
   *
   * @param address Payout address.
   * @param worker Worker name.
   * @param difficulty The difficulty.
   */
  setWorkerDifficulty(address: string, worker: string, difficulty: bigint): Promise<void>;

  /**
   * A worker's last difficulty.
   *
   * @param address Payout address.
   * @param worker Worker name.
   * @returns The difficulty, or undefined for a worker never seen.
   */
  getWorkerDifficulty(address: string, worker: string): Promise<bigint | undefined>;

  /**
   * Reserve counter values for an instance's extranonce allocator. Reservations of one instance
   * never overlap, also across restarts and concurrent processes.
   *
   * @param instance Pool instance.
   * @param options How many values, and the instance's limit.
   * @returns The reserved range.
   * @throws {RangeError} (as a rejection) when the instance's space is used up.
   */
  reserveExtranonces(instance: number, options: ReserveOptions): Promise<CounterRange>;

  /**
   * Take or renew the lease of a pool instance id: succeeds when nobody holds it, its holder
   * let it expire, or `owner` already holds it. Two servers configured with one instance id on
   * one database cannot both hold it, so the second can be refused.
   *
   * @param instance Pool instance.
   * @param options Who asks, and for how long.
   * @returns Whether the caller holds the lease, and who does.
   */
  leaseInstance(instance: number, options: LeaseOptions): Promise<InstanceLease>;

  /**
   * Give an instance id's lease back (nothing happens unless `owner` holds it).
   *
   * @param instance Pool instance.
   * @param owner Who holds it.
   */
  releaseInstance(instance: number, owner: string): Promise<void>;

  /**
   * Record a ban or the lift of one (one row per IP): kept only when its `updatedAt` is at least
   * the stored row's (a later decision wins, whichever process writes last), except that a ban
   * never shortens a ban in force (as `BanList.adopt` keeps the later end). The store stamps the
   * row with its own clock (`written_at`, see {@linkcode Store.listBans}). Nothing is deleted
   * here: ended rows go with {@linkcode Store.prune}.
   *
   * @param ban The ban or lift (validated here: a bad field rejects with TypeError/RangeError,
   *   and only this call). It is copied before this returns.
   * @returns Resolves once the transaction holding it committed (also when a later decision
   *   already stored for the IP kept it from replacing that one).
   */
  recordBan(ban: StoredBan): Promise<void>;

  /**
   * The bans in force at `now`; with `writtenSince`, only the rows the store took since then
   * (by the store's clock: one clock for every process on the database, whatever their own),
   * bans in force and lifts, so that a process that polls reads each change about once. In the
   * order the store took them (then by ip); at most 100,000 rows.
   *
   * @param query The current time, and since when.
   * @returns The rows and the cursor for the next listing.
   */
  listBans(query: BanListQuery): Promise<BanListing>;

  /**
   * Accepted work per minute, for the pool, an address or one worker.
   *
   * @param query Time range and filter.
   * @returns One point per minute that has work, oldest first.
   */
  rollups(query: RollupQuery): Promise<RollupPoint[]>;

  /**
   * Accepted work per worker over a time range.
   *
   * @param query Time range and optional address (and worker).
   * @returns One row per worker, by address then worker.
   */
  workerTotals(query: RollupQuery): Promise<WorkerTotal[]>;

  /**
   * Accepted work of every instance from the minute of `query.since` on (one aggregate over
   * the per-minute rollups, by the minute index: its cost grows with the active workers times
   * the minutes, not with the shares).
   *
   * @param query Time range (`address` and `worker` are not used).
   * @returns Shares, Σ difficulty, distinct miners and workers.
   */
  activity(query: RollupQuery): Promise<Activity>;

  /**
   * Delete shares, rollups and IP ban rows that nothing needs any more (bans that ended, and
   * lifts, more than a day before `now`).
   *
   * @param options Retention rules.
   * @returns What was deleted.
   */
  prune(options: PruneOptions): Promise<PruneResult>;

  /**
   * Be told of every commit (for a latency histogram). The listener runs on the committing
   * thread's event loop right after the batch's callers were settled; it must not throw or block.
   *
   * @param listener Called with the commit's duration (ms) and its number of operations.
   * @returns A function that stops the calls.
   */
  onCommit?(listener: (durationMs: number, operations: number) => void): () => void;

  /**
   * The commit stage's counters.
   *
   * @returns A snapshot.
   */
  stats(): StoreStats;

  /** Commit everything queued now. */
  flush(): Promise<void>;

  /** Commit everything queued, then close the database. */
  close(): Promise<void>;
}
