/**
 * The shapes of the payout service's store operations: writes (a `{ kind: "payout" }` WriteOp
 * carries one) and reads, and the lock row name. `_ops.ts` imports only types from here, so there
 * is no import cycle.
 *
 * @module
 */
import type { BlockCredit, PaymentItem, PaymentStatus, ShareCursor } from "./payout_types.ts";

/** Name of the payer lock's row. */
export const PAYER_LOCK = "payer";

/** A payout write (the `op` of a `{ kind: "payout" }` WriteOp). */
export type PayoutWriteOp =
  | { kind: "creditBlock"; hash: Uint8Array; credit: BlockCredit; time: number }
  | { kind: "setThreshold"; address: string; threshold: bigint | null; time: number }
  | {
    kind: "createPayment";
    owner: string;
    items: PaymentItem[];
    startHeight: number;
    /** `payments.signature_index` text (see `_rows.ts`), or null. */
    signatureIndex: string | null;
    time: number;
  }
  | { kind: "markSent"; owner: string; id: bigint; txIds: string[]; time: number }
  | {
    kind: "confirmPayment";
    owner: string;
    id: bigint;
    confirmations: number;
    final: boolean;
    time: number;
  }
  | { kind: "failPayment"; owner: string; id: bigint; reason: string; time: number }
  | { kind: "notePayment"; id: bigint; problem: string; time: number }
  | { kind: "acquireLock"; owner: string; ttlMs: number; now: number }
  | { kind: "releaseLock"; owner: string };

/** A payout read. */
export type PayoutRead =
  | { kind: "balance"; address: string }
  | { kind: "balances"; minimum: bigint; limit: number }
  | {
    kind: "changes";
    address?: string;
    blockHash?: Uint8Array;
    paymentId?: bigint;
    limit: number;
  }
  | { kind: "payable"; minimum: bigint; limit: number }
  | { kind: "payment"; id: bigint }
  | { kind: "payments"; statuses?: PaymentStatus[]; address?: string; limit: number }
  | { kind: "windowShares"; until: number; cursor?: ShareCursor; limit: number };
