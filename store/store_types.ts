/**
 * The records the store keeps, shared by every backend: accepted shares, found blocks, per-worker
 * difficulty, extranonce reservations, hash-rate rollups and IP bans. Times are milliseconds
 * since the Unix epoch; difficulties are exact `bigint`s; hashes are raw bytes (24-byte vBlake
 * output).
 *
 * @module
 */

/** One accepted share, as the pool validated it. */
export interface Share {
  /** Pool instance that accepted it (its extranonce prefix); 0 for a single instance. */
  instance: number;
  /** Payout address of the miner. */
  address: string;
  /** Worker name after the address (`""` when none). */
  worker: string;
  /** Pool job id the share was for. */
  jobId: string;
  /** Share difficulty the miner was credited with (1 … 2^63 − 1). */
  difficulty: bigint;
  /** Network difficulty of the job's block template (1 … 2^63 − 1). */
  networkDifficulty: bigint;
  /** Height of the block the job was building. */
  height: number;
  /** When the share was accepted (ms since the epoch). */
  time: number;
  /** The header's vBlake hash (24 bytes). */
  hash: Uint8Array;
  /**
   * Accepted on a SOLO port: it counts for hash rate but never enters a PPLNS window (its
   * finder's blocks are credited to the finder alone). @default false
   */
  solo?: boolean;
}

/** A stored share with its row id. */
export interface StoredShare extends Share {
  /** Row id (increasing in commit order within one database). */
  id: bigint;
}

/**
 * Where a found block stands:
 * - `submitted`: a candidate, stored before it was sent to NodeCore; whether the chain took it
 *   is not known yet (the payout service's reconciliation finds out);
 * - `pending`: NodeCore accepted it, or the chain holds it; waiting for confirmations;
 * - `confirmed`: final on the main chain and credited;
 * - `orphaned`: it was accepted, then another block took its height for good;
 * - `rejected`: it never made the main chain (NodeCore refused it and another block holds its
 *   height for good).
 */
export type BlockStatus = "submitted" | "pending" | "confirmed" | "orphaned" | "rejected";

/** The block statuses, in lifecycle order. */
export const BLOCK_STATUSES: readonly BlockStatus[] = [
  "submitted",
  "pending",
  "confirmed",
  "orphaned",
  "rejected",
];

/** How the store learnt of a block: a miner's share, or a scan of the chain for blocks paying the
 * pool address that the store did not know (a candidate lost before it was written). */
export type BlockSource = "share" | "chain";

/** A block the pool found (a candidate, or one NodeCore accepted). */
export interface NewBlock {
  /** Pool instance whose miner found it. */
  instance: number;
  /** Block height. */
  height: number;
  /** Block hash (24 bytes); blocks are keyed by it. */
  hash: Uint8Array;
  /** Finder's payout address. */
  address: string;
  /** Finder's worker name. */
  worker: string;
  /** Network difficulty of the block. */
  networkDifficulty: bigint;
  /** Reward in atomic units, when known. */
  reward?: bigint;
  /** When it was found (ms since the epoch). */
  time: number;
  /** `submitted` for a candidate written before it is sent, else `pending`. @default "pending" */
  status?: "submitted" | "pending";
  /** Found on a SOLO port: credited to its finder alone. @default false */
  solo?: boolean;
  /** How the store learnt of it. @default "share" */
  source?: BlockSource;
  /** A reason code (see {@linkcode Block.note}). @default "" */
  note?: string;
}

/** A stored block. */
export interface Block {
  /** Row id. */
  id: bigint;
  /** Pool instance whose miner found it. */
  instance: number;
  /** Block height. */
  height: number;
  /** Block hash (24 bytes). */
  hash: Uint8Array;
  /** Finder's payout address. */
  address: string;
  /** Finder's worker name. */
  worker: string;
  /** Network difficulty of the block. */
  networkDifficulty: bigint;
  /** Reward in atomic units, when known. */
  reward: bigint | undefined;
  /** Lifecycle status. */
  status: BlockStatus;
  /** Confirmations last seen by the payout service. */
  confirmations: number;
  /** Σ share difficulty since the previous block ÷ network difficulty (1.0 = expected work). */
  effort: number;
  /** When it was found (ms since the epoch). */
  time: number;
  /** When the row last changed (ms since the epoch). */
  updatedAt: number;
  /** Found on a SOLO port: credited to its finder alone. */
  solo: boolean;
  /** How the store learnt of it. */
  source: BlockSource;
  /**
   * A fixed reason code about its state, "" when there is nothing to say (e.g.
   * `submit_unknown`: NodeCore did not answer the submit; `coinbase_not_pool`: the chain shows no
   * payment to the pool address, so nothing is credited). Details are in the log.
   */
  note: string;
  /** How it was credited (set with the credits; see `payout_types.ts`), else undefined. */
  creditBasis: string | undefined;
}

/** Result of recording a block. */
export interface BlockResult {
  /** The stored row (the earlier one when the hash was already stored). */
  block: Block;
  /** False when a block with this hash was already stored. */
  inserted: boolean;
}

/** Changes to a stored block (the pool's and the payout service's view of the chain). */
export interface BlockUpdate {
  /** New status. */
  status?: BlockStatus;
  /** Only apply the update when the block's status is one of these. */
  ifStatus?: readonly BlockStatus[];
  /** New reason code ("" clears it). */
  note?: string;
  /** Reward in atomic units. */
  reward?: bigint;
  /** Confirmations seen. */
  confirmations?: number;
}

/** A reserved run of extranonce counter values (connection numbers, not extranonces): `start` inclusive, `end` exclusive. */
export interface CounterRange {
  /** First counter value reserved. */
  start: bigint;
  /** One past the last counter value reserved. */
  end: bigint;
}

/** Who holds an instance id's lease (see {@linkcode Store.leaseInstance}). */
export interface InstanceLease {
  /** Whether the caller holds it now (taken or renewed by this call). */
  acquired: boolean;
  /** The holder (the caller when `acquired`). */
  owner: string;
  /** When the holder's lease runs out unless renewed (ms since the epoch). */
  expiresAt: number;
}

/** One minute of accepted work, for one worker, one address or the whole pool. */
export interface RollupPoint {
  /** Start of the minute (ms since the epoch, a multiple of 60 000). */
  minute: number;
  /** Shares accepted. */
  shares: number;
  /** Σ share difficulty (hash rate = difficulty ÷ 60 s, in hashes per second). */
  difficulty: bigint;
  /** Σ share difficulty ÷ network difficulty (the PPLNS score of the minute). */
  score: number;
}

/** Work of one worker summed over a time range. */
export interface WorkerTotal {
  /** Payout address. */
  address: string;
  /** Worker name. */
  worker: string;
  /** Shares accepted. */
  shares: number;
  /** Σ share difficulty. */
  difficulty: bigint;
  /** Start of the last minute with a share (ms). */
  lastMinute: number;
}

/** Accepted work of every instance over a time range (see {@linkcode Store.activity}). */
export interface Activity {
  /** Shares accepted. */
  shares: number;
  /** Σ share difficulty. */
  difficulty: bigint;
  /** Distinct addresses with a share. */
  miners: number;
  /** Distinct workers (address and worker name) with a share. */
  workers: number;
}

/** Options for rollup queries. */
export interface RollupQuery {
  /** First minute included (ms; rounded down to the minute). */
  since: number;
  /** End of the range, exclusive (ms). @default Infinity */
  until?: number;
  /** Only this address (the whole pool when absent). */
  address?: string;
  /** Only this worker of `address`. */
  worker?: string;
}

/** Options for listing shares, newest first. */
export interface ShareQuery {
  /** Only shares strictly before this time (ms). */
  before?: number;
  /** Only shares at or after this time (ms). */
  since?: number;
  /** Only this address. */
  address?: string;
  /** Most rows returned. @default 1000 */
  limit?: number;
}

/** Options for listing blocks, newest first. */
export interface BlockQuery {
  /** Only blocks with this status (or one of these). */
  status?: BlockStatus | readonly BlockStatus[];
  /** Only blocks at this height. */
  height?: number;
  /** Most rows returned. @default 100 */
  limit?: number;
}

/** Retention rules for {@linkcode Store.prune}. */
export interface PruneOptions {
  /** Shares older than this (ms) may go, unless a PPLNS window still needs them. */
  sharesBefore: number;
  /**
   * PPLNS window as a multiple of the network difficulty: shares inside the window that ends at
   * the oldest pending block (or now, when none is pending) are kept. 0 protects nothing.
   */
  pplnsWindow: number;
  /** Rollup minutes older than this (ms) go. */
  rollupsBefore: number;
  /** Current time (ms). @default Date.now() */
  now?: number;
}

/** What {@linkcode Store.prune} removed. */
export interface PruneResult {
  /** Share rows deleted. */
  shares: number;
  /** Rollup rows deleted. */
  rollups: number;
  /** IP ban rows deleted: bans that ended, and lifts, more than a day before `now`. */
  bans: number;
  /** Shares before this time (ms) were eligible; `-Infinity` when the window protected all. */
  shareCutoff: number;
}

/** Counters of the store's commit stage (exported as metrics). */
export interface StoreStats {
  /** `"sqlite"` or `"postgres"`. */
  backend: "sqlite" | "postgres";
  /** False while the database is failing (writes are refused until it is back). */
  healthy: boolean;
  /** Operations waiting for a commit (queued and in flight). */
  queueDepth: number;
  /** Transactions committed. */
  batches: number;
  /** Operations committed. */
  committed: number;
  /** Operations refused or failed. */
  failed: number;
  /** Duration of the last commit (ms). */
  lastCommitMs: number;
  /** Message of the last database error, if any. */
  lastError: string | undefined;
  /** Probes of the database made while it was failing. @default 0 */
  probes?: number;
}

/** An IP ban as kept in the store, shared by every pool process on it. */
export interface StoredBan {
  /** The address (as the pool saw it; IPv4 or IPv6 text, at most MAX_NAME chars). */
  ip: string;
  /** When the ban began, ms since epoch. */
  since: number;
  /** When it ends, ms since epoch. */
  until: number;
  /** Why ("manual" or an offence kind), at most MAX_NAME chars. */
  reason: string;
  /** Offending connections that led to it (integer >= 0). */
  offences: number;
  /** Lifted by the operator at `updatedAt` (the ban no longer applies). */
  lifted: boolean;
  /** When this state was decided, ms since epoch (a ban: its start; a lift: when it was lifted). */
  updatedAt: number;
  /** The instance id of the pool process that decided it (integer >= 0). */
  instance: number;
}

/** Most rows one listing of bans returns (`Store.listBans`): a full page means more follow. */
export const BAN_LIST_LIMIT = 100_000;

/** Options for Store.listBans. */
export interface BanListQuery {
  /** Current time, ms: bans that are not lifted and end after it are listed. */
  now: number;
  /**
   * Only rows the store took at or after this (the store's clock, ms: a previous listing's
   * `cursor`, less a margin), and then lifts too. Without it: every ban in force.
   */
  writtenSince?: number;
}

/** What Store.listBans returns. */
export interface BanListing {
  /** The rows, in the order the store took them (then by ip). */
  bans: StoredBan[];
  /** When the store took the newest of them, by its clock, ms (0 when none is listed). */
  cursor: number;
  /**
   * The store's clock at the read, ms: a cursor kept past it (the clock was set back, or a
   * failover to a server whose clock is behind) would hide the rows written from now on.
   */
  storeNow: number;
}
