/**
 * The payout service's write operations (batched like every other write, each in a savepoint
 * of its own so a refused one never fails its batch) and read queries, with the checks every
 * input passes before it is queued.
 *
 * @module
 */
import { checkBig, checkHash, checkInt, checkName, checkTime, INT64_MAX } from "./_ops.ts";
import {
  type BalanceChangeQuery,
  type BalanceQuery,
  type BlockCredit,
  type BlockCreditItem,
  type NewPayment,
  PAYMENT_STATUSES,
  type PaymentItem,
  type PaymentQuery,
  type ShareCursor,
  type SignatureIndex,
} from "./payout_types.ts";

export { PAYER_LOCK, type PayoutRead, type PayoutWriteOp } from "./_payouts_op_types.ts";
import type { PayoutRead } from "./_payouts_op_types.ts";

/** Longest free text kept (details, errors). */
const MAX_TEXT = 2000;

function checkText(value: unknown, what: string, action: string): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot ${action}: ${what} must be a string`);
  }
  return value.slice(0, MAX_TEXT);
}

function checkObject(value: unknown, what: string, action: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot ${action}: ${what} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** Checks a payment id. */
export function checkId(value: unknown, action: string): bigint {
  return checkBig(value, "id", action, 1n, INT64_MAX);
}

/** Validates a block credit: amounts > 0, one row per (address, reason), Σ = reward. */
export function checkBlockCredit(value: unknown): BlockCredit {
  const action = "credit block";
  const c = checkObject(value, "credit", action);
  const reward = checkBig(c.reward, "reward", action, 0n);
  const confirmations = checkInt(c.confirmations, "confirmations", action);
  if (!Array.isArray(c.credits)) throw new TypeError(`Cannot ${action}: credits must be an array`);
  const seen = new Set<string>();
  let sum = 0n;
  const credits: BlockCreditItem[] = c.credits.map((raw, i) => {
    const x = checkObject(raw, `credits[${i}]`, action);
    const reason = x.reason;
    if (reason !== "share" && reason !== "fee" && reason !== "rounding") {
      throw new RangeError(`Cannot ${action}: credits[${i}].reason must be share, fee or rounding`);
    }
    const item: BlockCreditItem = {
      address: checkName(x.address, `credits[${i}].address`, action, false),
      amount: checkBig(x.amount, `credits[${i}].amount`, action, 1n),
      reason,
    };
    if (x.details !== undefined) item.details = checkText(x.details, "details", action);
    const key = `${item.address}\u0000${reason}`;
    if (seen.has(key)) {
      throw new RangeError(`Cannot ${action}: ${item.address} is credited twice for ${reason}`);
    }
    seen.add(key);
    sum += item.amount;
    return item;
  });
  if (sum !== reward) {
    throw new RangeError(
      `Cannot ${action}: the credits add up to ${sum}, not the reward ${reward}`,
    );
  }
  const out: BlockCredit = { reward, confirmations, credits };
  if (c.basis !== undefined) {
    if (typeof c.basis !== "string" || c.basis.length > 100_000) {
      throw new TypeError(`Cannot ${action}: basis must be a string of at most 100000 characters`);
    }
    out.basis = c.basis;
  }
  return out;
}

/** Smallest int64. */
const INT64_MIN = -(1n << 63n);

/** Validates a signature index: two int64 values (NodeCore reports -1 for an unused address). */
function checkSignatureIndex(value: unknown, action: string): SignatureIndex {
  const x = checkObject(value, "signatureIndex", action);
  const blockchainIndex = checkBig(
    x.blockchainIndex,
    "signatureIndex.blockchainIndex",
    action,
    INT64_MIN,
  );
  const poolIndex = checkBig(x.poolIndex, "signatureIndex.poolIndex", action, INT64_MIN);
  return { blockchainIndex, poolIndex };
}

/** Validates a new payment: distinct recipients, amounts > 0, an optional signature index. */
export function checkNewPayment(value: unknown): NewPayment & { items: PaymentItem[] } {
  const action = "create payment";
  const p = checkObject(value, "payment", action);
  if (!Array.isArray(p.items) || p.items.length === 0) {
    throw new RangeError(`Cannot ${action}: items must be a non-empty array`);
  }
  const seen = new Set<string>();
  let total = 0n;
  const items = p.items.map((raw, i) => {
    const x = checkObject(raw, `items[${i}]`, action);
    const item = {
      address: checkName(x.address, `items[${i}].address`, action, false),
      amount: checkBig(x.amount, `items[${i}].amount`, action, 1n),
    };
    if (seen.has(item.address)) {
      throw new RangeError(`Cannot ${action}: ${item.address} appears twice`);
    }
    seen.add(item.address);
    total += item.amount;
    return item;
  });
  if (total > INT64_MAX) throw new RangeError(`Cannot ${action}: the total exceeds 2^63 - 1`);
  const out: NewPayment & { items: PaymentItem[] } = {
    items,
    startHeight: checkInt(p.startHeight, "startHeight", action),
  };
  if (p.signatureIndex !== undefined) {
    out.signatureIndex = checkSignatureIndex(p.signatureIndex, action);
  }
  return out;
}

/** Validates transaction ids (hex), returned upper case. */
export function checkTxIds(value: unknown, action: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RangeError(`Cannot ${action}: txIds must be a non-empty array`);
  }
  return value.map((t, i) => {
    if (typeof t !== "string" || !/^[0-9a-fA-F]{2,128}$/.test(t)) {
      throw new TypeError(`Cannot ${action}: txIds[${i}] must be hex`);
    }
    return t.toUpperCase();
  });
}

/** Validates an owner id. */
export function checkOwner(value: unknown, action: string): string {
  return checkName(value, "owner", action, false);
}

/** Validates a balance query, filling defaults. */
export function checkBalanceQuery(value: unknown = {}): { minimum: bigint; limit: number } {
  const action = "list balances";
  const q = checkObject(value, "query", action) as BalanceQuery;
  return {
    minimum: q.minimum === undefined ? 1n : checkBig(q.minimum, "minimum", action, 0n),
    limit: q.limit === undefined ? 1000 : checkInt(q.limit, "limit", action, 1, 1_000_000),
  };
}

/** Validates a balance-change query, filling defaults. */
export function checkChangeQuery(value: unknown = {}): Extract<PayoutRead, { kind: "changes" }> {
  const action = "list balance changes";
  const q = checkObject(value, "query", action) as BalanceChangeQuery;
  const out: Extract<PayoutRead, { kind: "changes" }> = {
    kind: "changes",
    limit: q.limit === undefined ? 1000 : checkInt(q.limit, "limit", action, 1, 1_000_000),
  };
  if (q.address !== undefined) out.address = checkName(q.address, "address", action, false);
  if (q.blockHash !== undefined) out.blockHash = checkHash(q.blockHash, "blockHash", action);
  if (q.paymentId !== undefined) out.paymentId = checkId(q.paymentId, action);
  return out;
}

/** Validates a payment query, filling defaults. */
export function checkPaymentQuery(value: unknown = {}): Extract<PayoutRead, { kind: "payments" }> {
  const action = "list payments";
  const q = checkObject(value, "query", action) as PaymentQuery;
  const out: Extract<PayoutRead, { kind: "payments" }> = {
    kind: "payments",
    limit: q.limit === undefined ? 100 : checkInt(q.limit, "limit", action, 1, 1_000_000),
  };
  if (q.status !== undefined) {
    const list = typeof q.status === "string" ? [q.status] : [...q.status];
    for (const s of list) {
      if (!PAYMENT_STATUSES.includes(s)) {
        throw new RangeError(
          `Cannot ${action}: status must be one of ${PAYMENT_STATUSES.join(", ")}, got ${
            String(s)
          }`,
        );
      }
    }
    out.statuses = list;
  }
  if (q.address !== undefined) out.address = checkName(q.address, "address", action, false);
  return out;
}

/** Validates a share-window read. */
export function checkWindowRead(
  until: unknown,
  options: { cursor?: ShareCursor; limit?: number } = {},
): Extract<PayoutRead, { kind: "windowShares" }> {
  const action = "list window shares";
  const out: Extract<PayoutRead, { kind: "windowShares" }> = {
    kind: "windowShares",
    until: checkTime(until, "until", action),
    limit: options.limit === undefined
      ? 5000
      : checkInt(options.limit, "limit", action, 1, 1_000_000),
  };
  if (options.cursor !== undefined) {
    const c = checkObject(options.cursor, "cursor", action);
    out.cursor = {
      time: checkTime(c.time, "cursor.time", action),
      id: checkBig(c.id, "cursor.id", action, 0n),
    };
  }
  return out;
}

/** An operation's refusal, as an outcome. */
export function refused(name: "Error" | "RangeError" | "TypeError", message: string) {
  return { ok: false as const, error: { name, message } };
}
