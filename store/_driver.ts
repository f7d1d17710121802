/**
 * What each backend (SQLite, PostgreSQL) provides to the shared store logic: a batch commit, a
 * probe, and the read queries. Drivers never see unchecked input.
 *
 * @module
 */
import type { CheckedBlockQuery, OpOutcome, WriteOp } from "./_ops.ts";
import type { PayoutRead } from "./_payouts_ops.ts";
import type { ScanRead } from "./_scan_read.ts";
import type {
  Activity,
  BanListing,
  BanListQuery,
  Block,
  RollupPoint,
  RollupQuery,
  ShareQuery,
  StoredShare,
  WorkerTotal,
} from "./store_types.ts";

/** A pool row's PPLNS score for one minute (all instances together). */
export interface MinuteScore {
  /** Start of the minute (ms). */
  minute: number;
  /** Σ share difficulty ÷ network difficulty. */
  score: number;
}

/** A database backend. */
export interface StoreDriver {
  /** Which backend. */
  readonly backend: "sqlite" | "postgres";
  /** Where the database is, for messages (no password). */
  readonly where: string;
  /** Opened read-only: writes are refused, reads see one snapshot. */
  readonly readOnly: boolean;
  /** The database had no vbkpool schema when this driver opened it: it is new and empty. */
  readonly fresh: boolean;
  /** Commit `ops` in one transaction. */
  commit(ops: WriteOp[]): Promise<OpOutcome[]>;
  /** Resolve when the database takes writes. */
  probe(): Promise<void>;
  /**
   * Throw when the database is no longer the one opened (its file removed or replaced), for
   * good; called about once a second while the store is healthy, so that an idle store notices
   * too. Optional: a server database has no such check.
   */
  watch?(): void;
  /** Drop connections after a failure. */
  reset(): Promise<void>;
  /** Close everything. */
  close(): Promise<void>;
  /** Last difficulty of a worker. */
  workerDifficulty(address: string, worker: string): Promise<bigint | undefined>;
  /** One block by hash. */
  block(hash: Uint8Array): Promise<Block | undefined>;
  /** Blocks, newest first. */
  blocks(query: CheckedBlockQuery): Promise<Block[]>;
  /** Shares, newest first. */
  shares(query: ShareQuery & { limit: number }): Promise<StoredShare[]>;
  /** Number of stored shares. */
  shareCount(): Promise<number>;
  /** Rollup series by minute. */
  rollups(query: RollupQuery & { since: number; until: number }): Promise<RollupPoint[]>;
  /** Per-worker sums. */
  workerTotals(query: RollupQuery & { since: number; until: number }): Promise<WorkerTotal[]>;
  /** Totals of every worker over a range. */
  activity(query: { since: number; until: number }): Promise<Activity>;
  /**
   * Bans not lifted that end after `now`; with `writtenSince`, only rows written since then, and
   * lifts too; by write time then ip, at most `BAN_LIST_LIMIT` rows.
   */
  bans(query: BanListQuery): Promise<BanListing>;
  /** Time of the oldest pending block. */
  oldestPendingTime(): Promise<number | undefined>;
  /** Pool scores of the minutes before `beforeMinute`, newest first. */
  minuteScores(beforeMinute: number, limit: number): Promise<MinuteScore[]>;
  /** A payout read (balances, payments, window shares). */
  payoutRead(query: PayoutRead): Promise<unknown>;
  /** A page of a whole-table walk (the audit). */
  scanRead(query: ScanRead): Promise<unknown>;
}
