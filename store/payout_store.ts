/**
 * The payout service's part of the store ({@linkcode Store.payouts}): block credits with an
 * audit row per balance change, balances, payment intents written before anything is sent, and
 * a global lock so only one payer runs (also across processes and hosts sharing a database).
 * Each method is one transaction.
 *
 * @module
 */
import type { StoredShare } from "./store_types.ts";
import type {
  Balance,
  BalanceChange,
  BalanceChangeQuery,
  BalanceQuery,
  BlockCredit,
  LockOptions,
  NewPayment,
  Payment,
  PaymentItem,
  PaymentQuery,
  ShareCursor,
} from "./payout_types.ts";

/** Balances, credits, payments and the payer lock. */
export interface PayoutStore {
  /**
   * Credit a confirmed block: one transaction sets the block `confirmed` with its reward and
   * confirmations, adds every credit to its balance and writes one audit row per credit.
   *
   * @param hash Block hash.
   * @param credit Reward, confirmations and credits (Σ credits = reward exactly).
   * @returns True when credited now; false when the block is not pending (already credited,
   *   orphaned or unknown), in which case nothing changed.
   * @throws {RangeError} (as a rejection) When the credits do not add up to the reward.
   */
  creditBlock(hash: Uint8Array, credit: BlockCredit): Promise<boolean>;

  /**
   * One miner's balance.
   *
   * @param address Payout address.
   * @returns The owed atomic units (0n when none).
   */
  balance(address: string): Promise<bigint>;

  /**
   * Balances, largest first.
   *
   * @param query Minimum and limit.
   * @returns The rows.
   */
  listBalances(query?: BalanceQuery): Promise<Balance[]>;

  /**
   * The audit trail, newest first.
   *
   * @param query Address, block or payment filter, and limit.
   * @returns The rows.
   */
  listBalanceChanges(query?: BalanceChangeQuery): Promise<BalanceChange[]>;

  /**
   * Set (or with `undefined` clear) a miner's own payment threshold.
   *
   * @param address Payout address.
   * @param threshold Atomic units (> 0), or undefined for the pool minimum.
   */
  setPaymentThreshold(address: string, threshold: bigint | undefined): Promise<void>;

  /**
   * Miners whose balance reaches their threshold (their own, else `minimum`), by address.
   *
   * @param minimum The pool's minimum payment (atomic units).
   * @param limit Most rows.
   * @returns Address and the whole balance of each.
   */
  listPayable(minimum: bigint, limit: number): Promise<PaymentItem[]>;

  /**
   * Write a payment intent before anything is sent: in one transaction, check that `owner`
   * holds the payer lock, debit each recipient's balance (audited) and store the intent as
   * `pending`, with the pool address's signature index when given (the proof, later, of whether
   * it was executed).
   *
   * @param owner The payer (lock owner).
   * @param payment Recipients, the chain height and the pool address's signature index now.
   * @returns The stored intent.
   * @throws {Error} (as a rejection) When `owner` does not hold the lock, or a balance is short.
   */
  createPayment(owner: string, payment: NewPayment): Promise<Payment>;

  /**
   * Record the transaction ids NodeCore returned (`pending` → `sent`).
   *
   * @param owner The payer (must hold the lock).
   * @param id Payment id.
   * @param txIds Transaction ids.
   * @returns The updated intent.
   */
  markPaymentSent(owner: string, id: bigint, txIds: readonly string[]): Promise<Payment>;

  /**
   * Record confirmations of a sent payment; at `final` it becomes `confirmed`.
   *
   * @param owner The payer (must hold the lock).
   * @param id Payment id.
   * @param options Confirmations seen, and whether that is final.
   * @returns The updated intent.
   */
  confirmPayment(
    owner: string,
    id: bigint,
    options: { confirmations: number; final: boolean },
  ): Promise<Payment>;

  /**
   * A payment that certainly did not happen: `failed`, and every amount back in its balance
   * (audited). Only a `pending` or `sent` payment can fail.
   *
   * @param owner The payer (must hold the lock).
   * @param id Payment id.
   * @param reason Why (kept on the intent and the audit rows).
   * @returns The updated intent.
   */
  failPayment(owner: string, id: bigint, reason: string): Promise<Payment>;

  /**
   * Note a problem on an open payment without changing its status.
   *
   * @param id Payment id.
   * @param problem Text ("" clears it).
   */
  notePayment(id: bigint, problem: string): Promise<void>;

  /**
   * One payment.
   *
   * @param id Payment id.
   * @returns The intent, or undefined.
   */
  getPayment(id: bigint): Promise<Payment | undefined>;

  /**
   * Payments, newest first.
   *
   * @param query Status, address, limit.
   * @returns The intents.
   */
  listPayments(query?: PaymentQuery): Promise<Payment[]>;

  /**
   * Take or renew the payer lock: succeeds when nobody holds it, its holder let it expire, or
   * `owner` already holds it.
   *
   * @param owner A unique payer id (host, pid, random).
   * @param options Time to live.
   * @returns True when `owner` now holds the lock.
   */
  acquireLock(owner: string, options: LockOptions): Promise<boolean>;

  /**
   * Give the lock up (no-op when `owner` does not hold it).
   *
   * @param owner The payer.
   */
  releaseLock(owner: string): Promise<void>;

  /**
   * Shares at or before `until`, newest first (time, then row id), continuing after `cursor`.
   *
   * @param until Latest share time included (ms).
   * @param options Cursor (the last share of the previous page) and page size.
   * @returns Up to `limit` shares.
   */
  windowShares(
    until: number,
    options?: { cursor?: ShareCursor; limit?: number },
  ): Promise<StoredShare[]>;
}
