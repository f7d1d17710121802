/**
 * Whole-table walks of the store ({@linkcode Store.scan}), for the audit (`vbkpool audit`): each
 * call returns one page in a stable row order, continuing after the last row of the previous
 * page, so a reader goes through any number of rows in bounded memory. On a store opened with
 * `readOnly`, every page comes from the same snapshot.
 *
 * @module
 */
import type { Balance, BalanceChange, Payment } from "./payout_types.ts";
import type { Block } from "./store_types.ts";

/** Where a walk by row id continues. */
export interface IdPage {
  /** Only rows with an id above this (the last id of the previous page). @default 0n */
  after?: bigint;
  /** Most rows returned (1 … 100000). @default 1000 */
  limit?: number;
}

/** Where a walk by address continues. */
export interface AddressPage {
  /** Only addresses after this one (byte order; the last of the previous page). */
  after?: string;
  /** Most rows returned (1 … 100000). @default 1000 */
  limit?: number;
}

/** Options for {@linkcode StoreScan.duplicateShares}. */
export interface DuplicateShareQuery {
  /** Only shares at or after this time (ms). @default all */
  since?: number;
  /** Most hashes returned (1 … 100000). @default 100 */
  limit?: number;
}

/** A share hash stored more than once. */
export interface DuplicateShareHash {
  /** The header's vBlake hash (24 bytes). */
  hash: Uint8Array;
  /** Rows holding it (≥ 2). */
  count: number;
  /** The first and the last row id holding it. */
  firstId: bigint;
  /** The last row id holding it. */
  lastId: bigint;
  /** The smallest address among those rows. */
  address: string;
  /** The earliest time among those rows (ms). */
  time: number;
}

/** What {@linkcode StoreScan.duplicateShares} found. */
export interface DuplicateShares {
  /** Shares examined (in the time range). */
  shares: number;
  /** Distinct hashes stored more than once (all of them, not only those returned). */
  hashes: number;
  /** The first `limit` of them, by first row id. */
  duplicates: DuplicateShareHash[];
}

/** Reads that walk whole tables, one page at a time. */
export interface StoreScan {
  /**
   * Blocks of every status, by row id.
   *
   * @param page Where to continue and how many.
   * @returns Up to `limit` blocks.
   */
  blocks(page?: IdPage): Promise<Block[]>;

  /**
   * The balance audit trail, oldest first (by id).
   *
   * @param page Where to continue and how many.
   * @returns Up to `limit` balance changes.
   */
  balanceChanges(page?: IdPage): Promise<BalanceChange[]>;

  /**
   * Every balance row (zero balances included), by address in byte order.
   *
   * @param page Where to continue and how many.
   * @returns Up to `limit` balances.
   */
  balances(page?: AddressPage): Promise<Balance[]>;

  /**
   * Payments of every status with their items, by id.
   *
   * @param page Where to continue and how many.
   * @returns Up to `limit` payments.
   */
  payments(page?: IdPage): Promise<Payment[]>;

  /**
   * Share hashes stored more than once (the database groups the shares by hash; nothing is
   * held in memory here).
   *
   * @param query Time range and how many hashes to return.
   * @returns The count of shares examined and the duplicated hashes.
   */
  duplicateShares(query?: DuplicateShareQuery): Promise<DuplicateShares>;
}
