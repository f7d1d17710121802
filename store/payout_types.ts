/**
 * The records of the payout service: miner balances (atomic units, `bigint`), the audit trail of
 * every balance change, payment intents with their recipients, and the global payer lock.
 *
 * @module
 */

/** Why a balance changed. */
export type BalanceReason = "share" | "fee" | "rounding" | "payment" | "payment_failed";

/** The balance-change reasons. */
export const BALANCE_REASONS: readonly BalanceReason[] = [
  "share",
  "fee",
  "rounding",
  "payment",
  "payment_failed",
];

/** One credit of a confirmed block. */
export interface BlockCreditItem {
  /** Who is credited. */
  address: string;
  /** Atomic units (> 0). */
  amount: bigint;
  /** `share` (PPLNS), `fee` (pool fee) or `rounding` (the remainder of integer division). */
  reason: "share" | "fee" | "rounding";
  /** Free text for the audit row, e.g. "PPLNS score 0.25 of 2". */
  details?: string;
}

/** What crediting a confirmed block writes. */
export interface BlockCredit {
  /** The block's reward in atomic units; the credits must add up to exactly this. */
  reward: bigint;
  /** Confirmations seen when it was credited. */
  confirmations: number;
  /** Credits, at most one per (address, reason). */
  credits: readonly BlockCreditItem[];
  /**
   * How the credits were computed (JSON text of a `CreditBasis`, kept on the block so that the
   * audit can recompute them). @default none
   */
  basis?: string;
}

/** A miner's balance. */
export interface Balance {
  /** Payout address. */
  address: string;
  /** Owed atomic units, not yet in a payment. */
  amount: bigint;
  /** The miner's own payment threshold, when set. */
  threshold: bigint | undefined;
  /** Last change (ms). */
  updatedAt: number;
}

/** One audited balance change. */
export interface BalanceChange {
  /** Row id (increasing). */
  id: bigint;
  /** Whose balance. */
  address: string;
  /** Signed atomic units. */
  amount: bigint;
  /** Why. */
  reason: BalanceReason;
  /** The credited block's hash, for block credits. */
  blockHash: Uint8Array | undefined;
  /** The credited block's height, for block credits. */
  blockHeight: number | undefined;
  /** The payment, for payment debits and refunds. */
  paymentId: bigint | undefined;
  /** Free text. */
  details: string;
  /** When (ms). */
  time: number;
}

/** Where a payment stands. */
export type PaymentStatus = "pending" | "sent" | "confirmed" | "failed";

/** The payment statuses, in lifecycle order. */
export const PAYMENT_STATUSES: readonly PaymentStatus[] = [
  "pending",
  "sent",
  "confirmed",
  "failed",
];

/** One recipient of a payment. */
export interface PaymentItem {
  /** Recipient. */
  address: string;
  /** Atomic units (> 0). */
  amount: bigint;
}

/**
 * An address's signature index as NodeCore reports it (`getsignatureindex`): the index of the
 * last transaction it signed in the main chain (`blockchainIndex`) and counting the mempool
 * (`poolIndex`). Every transaction an address signs takes the next index, so an index that has
 * not moved past the one read before a payment proves no transaction was signed since.
 */
export interface SignatureIndex {
  /** Last index used in the main chain. */
  blockchainIndex: bigint;
  /** Last index used, mempool included. */
  poolIndex: bigint;
}

/** A payment intent and its outcome. */
export interface Payment {
  /** Id (increasing). */
  id: bigint;
  /**
   * `pending`: written, maybe sent (the outcome is unknown until reconciled); `sent`: NodeCore
   * returned its transaction ids; `confirmed`: the transaction is confirmed deep enough;
   * `failed`: certainly not paid, the amounts are back in the balances.
   */
  status: PaymentStatus;
  /** Recipients, by address. */
  items: PaymentItem[];
  /** Σ item amounts. */
  total: bigint;
  /** NodeCore transaction ids (upper-case hex), once known. */
  txIds: string[];
  /** Chain height when the intent was written (reconciliation searches from here). */
  startHeight: number;
  /**
   * The pool address's signature index read just before the intent was written; absent for
   * intents written by versions that did not read it (their outcome can only be settled by hand).
   */
  signatureIndex?: SignatureIndex;
  /** Confirmations last seen. */
  confirmations: number;
  /** Why it failed, or the last problem seen. */
  error: string | undefined;
  /** The payer that wrote it. */
  owner: string;
  /** Written (ms). */
  createdAt: number;
  /** Last change (ms). */
  updatedAt: number;
}

/** A payment to write. */
export interface NewPayment {
  /** Recipients: distinct addresses, amounts > 0, each ≤ the recipient's balance. */
  items: readonly PaymentItem[];
  /** Chain height now. */
  startHeight: number;
  /** The pool address's signature index now (read before anything is sent). */
  signatureIndex?: SignatureIndex;
}

/** Options for listing payments, newest first. */
export interface PaymentQuery {
  /** Only these statuses. */
  status?: PaymentStatus | readonly PaymentStatus[];
  /** Only payments to this address. */
  address?: string;
  /** Most rows. @default 100 */
  limit?: number;
}

/** Options for listing balances. */
export interface BalanceQuery {
  /** Only balances of at least this many atomic units. @default 1n */
  minimum?: bigint;
  /** Most rows. @default 1000 */
  limit?: number;
}

/** Options for listing balance changes, newest first. */
export interface BalanceChangeQuery {
  /** Only this address. */
  address?: string;
  /** Only credits of this block. */
  blockHash?: Uint8Array;
  /** Only changes of this payment. */
  paymentId?: bigint;
  /** Most rows. @default 1000 */
  limit?: number;
}

/** Options for {@linkcode PayoutStore.acquireLock}. */
export interface LockOptions {
  /** How long the lock is held without renewal (ms). */
  ttlMs: number;
  /** Current time (ms). @default Date.now() */
  now?: number;
}

/** Where a PPLNS walk continues: the last share seen (newest first). */
export interface ShareCursor {
  /** Its time (ms). */
  time: number;
  /** Its row id. */
  id: bigint;
}
