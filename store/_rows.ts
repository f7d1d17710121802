/**
 * Row → record conversions shared by the SQLite and PostgreSQL backends. Both drivers hand rows
 * as plain objects keyed by column name; the values differ by backend (SQLite: `bigint` for
 * integers read with `setReadBigInts`, a `number` for REAL, `Uint8Array` for BLOB; PostgreSQL:
 * `bigint` for BIGINT, a `number` for INTEGER and float, a `string` for NUMERIC, a `Buffer` for
 * BYTEA), so every field goes through a converter that accepts all of them.
 *
 * @module
 */
import type { MinuteScore } from "./_driver.ts";
import type {
  Balance,
  BalanceChange,
  BalanceReason,
  Payment,
  PaymentItem,
  PaymentStatus,
  SignatureIndex,
} from "./payout_types.ts";
import type { BanListing, Block, BlockStatus, StoredBan, StoredShare } from "./store_types.ts";

type Row = Record<string, unknown>;

/**
 * A column as a bigint: a `bigint` as is, a `number` rounded (SQLite's REAL after an overflowing
 * sum), a decimal `string` (PostgreSQL NUMERIC) parsed; anything else (NULL) is `0n`.
 *
 * @example Usage
 * ```ts
 * import { toBigInt } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * assert.equal(toBigInt("18446744073709551616"), 18446744073709551616n);
 * assert.equal(toBigInt(7), 7n);
 * assert.equal(toBigInt(null), 0n);
 * ```
 *
 * @param value The column value.
 * @returns The value as a bigint.
 */
export function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(Math.round(value));
  if (typeof value === "string") return BigInt(value);
  return 0n;
}

/**
 * A column as a JavaScript number: a `number` as is, a `bigint` or a decimal `string` converted;
 * anything else (NULL) is 0.
 *
 * @example Usage
 * ```ts
 * import { toNumber } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * assert.equal(toNumber(12n), 12);
 * assert.equal(toNumber("12"), 12);
 * assert.equal(toNumber(null), 0);
 * ```
 *
 * @param value The column value.
 * @returns The value as a number.
 */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint" || typeof value === "string") return Number(value);
  return 0;
}

/**
 * A BLOB/BYTEA column as a fresh `Uint8Array` of its own (a `Buffer` or a view into a larger
 * buffer is copied out, so the record holds exactly its bytes).
 *
 * @example Usage
 * ```ts
 * import { toBytes } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const whole = new Uint8Array([1, 2, 3, 4]);
 * const out = toBytes(whole.subarray(1, 3));
 * assert.deepEqual(out, new Uint8Array([2, 3]));
 * assert.equal(out.buffer.byteLength, 2);
 * ```
 *
 * @param value The column value (a `Uint8Array` or a `Buffer`).
 * @returns A copy of its bytes.
 */
export function toBytes(value: unknown): Uint8Array {
  const b = value as Uint8Array;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
}

/**
 * A `blocks` row as a {@linkcode Block}.
 *
 * @example Usage
 * ```ts
 * import { blockFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const block = blockFromRow({
 *   id: 1n, instance: 0, height: 100, hash: new Uint8Array(24), address: "V", worker: "w",
 *   network_difficulty: "5", reward: null, status: "pending", confirmations: 0, effort: 0.5,
 *   time: 1000n, updated_at: 1000n,
 * });
 * assert.equal(block.networkDifficulty, 5n);
 * assert.equal(block.reward, undefined);
 * assert.equal(block.time, 1000);
 * ```
 *
 * @param value The row.
 * @returns The block.
 */
export function blockFromRow(value: unknown): Block {
  const r = value as Row;
  return {
    id: toBigInt(r.id),
    instance: toNumber(r.instance),
    height: toNumber(r.height),
    hash: toBytes(r.hash),
    address: r.address as string,
    worker: r.worker as string,
    networkDifficulty: toBigInt(r.network_difficulty),
    reward: r.reward === null || r.reward === undefined ? undefined : toBigInt(r.reward),
    status: r.status as BlockStatus,
    confirmations: toNumber(r.confirmations),
    effort: toNumber(r.effort),
    time: toNumber(r.time),
    updatedAt: toNumber(r.updated_at),
    solo: toFlag(r.solo),
    source: r.source === "chain" ? "chain" : "share",
    note: typeof r.note === "string" ? r.note : "",
    creditBasis: typeof r.credit_basis === "string" ? r.credit_basis : undefined,
  };
}

/**
 * A boolean column (SQLite: 0/1 as a number or bigint; PostgreSQL: a boolean); NULL is false.
 *
 * @example Usage
 * ```ts
 * import { toFlag } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * assert.equal(toFlag(1n), true);
 * assert.equal(toFlag(false), false);
 * assert.equal(toFlag(null), false);
 * ```
 *
 * @param value The column value.
 * @returns The value as a boolean.
 */
export function toFlag(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  return value !== null && value !== undefined && toNumber(value) !== 0;
}

/**
 * A `bans` row as a {@linkcode StoredBan}.
 *
 * @example Usage
 * ```ts
 * import { banFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const ban = banFromRow({
 *   ip: "192.0.2.7", since: 1000n, until: 2000n, reason: "manual", offences: 0n, lifted: 1n,
 *   updated_at: 1500n, instance: 2n,
 * });
 * assert.equal(ban.lifted, true);
 * assert.equal(ban.until, 2000);
 * ```
 *
 * @param value The row.
 * @returns The ban.
 */
export function banFromRow(value: unknown): StoredBan {
  const r = value as Row;
  return {
    ip: r.ip as string,
    since: toNumber(r.since),
    until: toNumber(r.until),
    reason: r.reason as string,
    offences: toNumber(r.offences),
    lifted: toFlag(r.lifted),
    updatedAt: toNumber(r.updated_at),
    instance: toNumber(r.instance),
  };
}

/**
 * `bans` rows as a {@linkcode BanListing}: the bans, the newest `written_at` among them, and the
 * store's clock at the read.
 *
 * @example Usage
 * ```ts
 * import { banListing } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const row = {
 *   ip: "192.0.2.7", since: 1000n, until: 2000n, reason: "manual", offences: 0n, lifted: 0n,
 *   updated_at: 1000n, instance: 2n, written_at: 1003n,
 * };
 * assert.deepEqual(banListing([row], 1010).cursor, 1003);
 * assert.deepEqual(banListing([], 1010), { bans: [], cursor: 0, storeNow: 1010 });
 * ```
 *
 * @param rows The rows.
 * @param storeNow The store's clock at the read, ms.
 * @returns The listing.
 */
export function banListing(rows: readonly unknown[], storeNow: number): BanListing {
  let cursor = 0;
  for (const row of rows) cursor = Math.max(cursor, toNumber((row as Row).written_at));
  return { bans: rows.map(banFromRow), cursor, storeNow };
}

/**
 * A `shares` row as a {@linkcode StoredShare}.
 *
 * @example Usage
 * ```ts
 * import { shareFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const share = shareFromRow({
 *   id: 7n, instance: 0, address: "V", worker: "w", job_id: "1", difficulty: 2n,
 *   network_difficulty: 9n, height: 100, time: 1000n, hash: new Uint8Array(24),
 * });
 * assert.equal(share.jobId, "1");
 * assert.equal(share.difficulty, 2n);
 * ```
 *
 * @param value The row.
 * @returns The share.
 */
export function shareFromRow(value: unknown): StoredShare {
  const r = value as Row;
  return {
    id: toBigInt(r.id),
    instance: toNumber(r.instance),
    address: r.address as string,
    worker: r.worker as string,
    jobId: r.job_id as string,
    difficulty: toBigInt(r.difficulty),
    networkDifficulty: toBigInt(r.network_difficulty),
    height: toNumber(r.height),
    time: toNumber(r.time),
    hash: toBytes(r.hash),
    solo: toFlag(r.solo),
  };
}

/**
 * A `payments` row and its items as a {@linkcode Payment}.
 *
 * @example Usage
 * ```ts
 * import { paymentFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const payment = paymentFromRow({
 *   id: 3n, status: "sent", total: 10n, tx_ids: "a,b", start_height: 5, confirmations: 0,
 *   error: null, owner: "payer", created_at: 1n, updated_at: 2n,
 * }, [{ address: "V", amount: 10n }]);
 * assert.deepEqual(payment.txIds, ["a", "b"]);
 * assert.equal(payment.error, undefined);
 * ```
 *
 * @param value The row.
 * @param items Its items (see {@linkcode paymentItemFromRow}).
 * @returns The payment.
 */
export function paymentFromRow(value: unknown, items: PaymentItem[]): Payment {
  const r = value as Row;
  const txIds = r.tx_ids as string;
  const payment: Payment = {
    id: toBigInt(r.id),
    status: r.status as PaymentStatus,
    items,
    total: toBigInt(r.total),
    txIds: txIds === "" ? [] : txIds.split(","),
    startHeight: toNumber(r.start_height),
    confirmations: toNumber(r.confirmations),
    error: r.error === null || r.error === undefined ? undefined : r.error as string,
    owner: r.owner as string,
    createdAt: toNumber(r.created_at),
    updatedAt: toNumber(r.updated_at),
  };
  const index = signatureIndexFromText(r.signature_index);
  if (index !== undefined) payment.signatureIndex = index;
  return payment;
}

/**
 * A {@linkcode SignatureIndex} as the text of the `payments.signature_index` column: JSON with
 * the two 64-bit values as decimal strings (as NodeCore sends them).
 *
 * @example Usage
 * ```ts
 * import { signatureIndexToText } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   signatureIndexToText({ blockchainIndex: 3n, poolIndex: 9007199254740993n }),
 *   '{"blockchainIndex":"3","poolIndex":"9007199254740993"}',
 * );
 * ```
 *
 * @param index The index.
 * @returns The column text.
 */
export function signatureIndexToText(index: SignatureIndex): string {
  return JSON.stringify({
    blockchainIndex: index.blockchainIndex.toString(),
    poolIndex: index.poolIndex.toString(),
  });
}

/**
 * The `payments.signature_index` column as a {@linkcode SignatureIndex}. NULL, and text that is
 * not what {@linkcode signatureIndexToText} writes, read as none: no proof can rest on it.
 *
 * @example Usage
 * ```ts
 * import { signatureIndexFromText } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(signatureIndexFromText('{"blockchainIndex":"-1","poolIndex":"0"}'), {
 *   blockchainIndex: -1n,
 *   poolIndex: 0n,
 * });
 * assert.equal(signatureIndexFromText(null), undefined);
 * assert.equal(signatureIndexFromText("7"), undefined);
 * ```
 *
 * @param value The column value.
 * @returns The index, or undefined.
 */
export function signatureIndexFromText(value: unknown): SignatureIndex | undefined {
  if (typeof value !== "string") return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const { blockchainIndex, poolIndex } = doc as Record<string, unknown>;
  const int = (v: unknown) =>
    typeof v === "string" && /^-?\d{1,19}$/.test(v) ? BigInt(v) : undefined;
  const b = int(blockchainIndex);
  const p = int(poolIndex);
  return b === undefined || p === undefined ? undefined : { blockchainIndex: b, poolIndex: p };
}

/**
 * An `address, amount` row (a payment item, or a payable balance) as a {@linkcode PaymentItem}.
 *
 * @example Usage
 * ```ts
 * import { paymentItemFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(paymentItemFromRow({ address: "V", amount: 4n }), { address: "V", amount: 4n });
 * ```
 *
 * @param value The row.
 * @returns The address and amount.
 */
export function paymentItemFromRow(value: unknown): PaymentItem {
  const r = value as Row;
  return { address: r.address as string, amount: toBigInt(r.amount) };
}

/**
 * A `balances` row as a {@linkcode Balance}.
 *
 * @example Usage
 * ```ts
 * import { balanceFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const balance = balanceFromRow({ address: "V", amount: 4n, threshold: null, updated_at: 9n });
 * assert.deepEqual(balance, { address: "V", amount: 4n, threshold: undefined, updatedAt: 9 });
 * ```
 *
 * @param value The row.
 * @returns The balance.
 */
export function balanceFromRow(value: unknown): Balance {
  const r = value as Row;
  return {
    address: r.address as string,
    amount: toBigInt(r.amount),
    threshold: r.threshold === null ? undefined : toBigInt(r.threshold),
    updatedAt: toNumber(r.updated_at),
  };
}

/**
 * A `balance_changes` row as a {@linkcode BalanceChange}.
 *
 * @example Usage
 * ```ts
 * import { changeFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * const change = changeFromRow({
 *   id: 1n, address: "V", amount: -4n, reason: "payment", block_hash: null, block_height: null,
 *   payment_id: 2n, details: "payment 2", time: 9n,
 * });
 * assert.equal(change.blockHash, undefined);
 * assert.equal(change.paymentId, 2n);
 * ```
 *
 * @param value The row.
 * @returns The balance change.
 */
export function changeFromRow(value: unknown): BalanceChange {
  const r = value as Row;
  return {
    id: toBigInt(r.id),
    address: r.address as string,
    amount: toBigInt(r.amount),
    reason: r.reason as BalanceReason,
    blockHash: r.block_hash === null ? undefined : toBytes(r.block_hash),
    blockHeight: r.block_height === null ? undefined : toNumber(r.block_height),
    paymentId: r.payment_id === null ? undefined : toBigInt(r.payment_id),
    details: r.details as string,
    time: toNumber(r.time),
  };
}

/**
 * A `minute, score` row as a {@linkcode MinuteScore}.
 *
 * @example Usage
 * ```ts
 * import { minuteScoreFromRow } from "./_rows.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(minuteScoreFromRow({ minute: 60000n, score: 0.5 }), {
 *   minute: 60000,
 *   score: 0.5,
 * });
 * ```
 *
 * @param value The row.
 * @returns The minute and its score.
 */
export function minuteScoreFromRow(value: unknown): MinuteScore {
  const r = value as Row;
  return { minute: toNumber(r.minute), score: toNumber(r.score) };
}
