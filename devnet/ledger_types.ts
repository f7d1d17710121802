/**
 * The devnet ledger's transaction records (shared by the ledger, its file and its HTTP API).
 *
 * @module
 */

/** One transfer output. */
export interface LedgerOutput {
  /** Recipient address. */
  address: string;
  /** Atomic units (> 0). */
  amount: bigint;
}

/** A devnet transaction. */
export interface LedgerTransaction {
  /** 64 upper-case hex chars. */
  txId: string;
  /** Paying address. */
  sourceAddress: string;
  /** Outputs. */
  outputs: LedgerOutput[];
  /** Fee in atomic units. */
  fee: bigint;
  /** Size in bytes (the fee is per byte). */
  size: number;
  /** Creation time, Unix seconds. */
  timestamp: number;
}
