/**
 * The audit's walk over the books: every block, payment, balance change and balance, in pages
 * (`store.scan`), kept in memory only as small per-block, per-payment and per-address entries.
 * On the way it checks what needs every row (credit rows only on confirmed blocks, payment rows
 * only for known payments, each balance equal to the sum of its changes); the per-block and
 * per-payment details are checked afterwards (`_audit_credits.ts`, `_audit_payments.ts`).
 *
 * @module
 */
import type { BalanceChange, BlockStatus, Store } from "../store/mod.ts";
import { type CheckBuilder, hex, units } from "./_audit_check.ts";

/** What the audit examines in detail, and how much. */
export interface AuditScope {
  /** Blocks found, payments written and shares accepted at or after this (ms); all when undefined. */
  since: number | undefined;
  /** Most blocks recomputed, and blocks and payments looked up on NodeCore (0: all). */
  limit: number;
  /** Rows per page. */
  pageSize: number;
}

/** One block, as the audit keeps it. */
export interface BlockEntry {
  /** Row id. */
  id: bigint;
  /** Its hash. */
  hash: Uint8Array;
  /** Height. */
  height: number;
  /** Status. */
  status: BlockStatus;
  /** Found (ms). */
  time: number;
  /** Stored reward, when known. */
  reward: bigint | undefined;
  /** Σ of its credit rows. */
  credited: bigint;
  /** Its credit rows. */
  creditRows: number;
}

/** One payment, as the audit keeps it. */
export interface PaymentEntry {
  /** Status. */
  status: string;
  /** Written (ms). */
  createdAt: number;
  /** Whether it has transaction ids. */
  hasTx: boolean;
}

/** What the walk gathered. */
export interface Books {
  /** Every block by hex hash. */
  blocks: Map<string, BlockEntry>;
  /** Every payment by id. */
  payments: Map<bigint, PaymentEntry>;
  /** Σ balance changes per address. */
  sums: Map<string, bigint>;
}

/** The checks the walk reports to. */
export interface BookChecks {
  /** `block_credits`. */
  credits: CheckBuilder;
  /** `balances`. */
  balances: CheckBuilder;
  /** `payments`. */
  payments: CheckBuilder;
}

/** True when `time` is inside the scope. */
export function inScope(scope: AuditScope, time: number): boolean {
  return scope.since === undefined || time >= scope.since;
}

/** Every page of an id-ordered walk. */
export async function* pages<T extends { id: bigint }>(
  read: (page: { after: bigint; limit: number }) => Promise<T[]>,
  pageSize: number,
): AsyncGenerator<T[]> {
  let after = 0n;
  for (;;) {
    const rows = await read({ after, limit: pageSize });
    if (rows.length > 0) yield rows;
    if (rows.length < pageSize) return;
    after = rows.at(-1)!.id;
  }
}

/** Every block, kept as a {@linkcode BlockEntry}. */
export async function scanBlocks(
  store: Store,
  scope: AuditScope,
  credits: CheckBuilder,
): Promise<Map<string, BlockEntry>> {
  const blocks = new Map<string, BlockEntry>();
  credits.count("blocks", 0);
  for await (const page of pages((p) => store.scan.blocks(p), scope.pageSize)) {
    for (const b of page) {
      credits.count("blocks");
      credits.count(b.status);
      blocks.set(hex(b.hash), {
        id: b.id,
        hash: b.hash,
        height: b.height,
        status: b.status,
        time: b.time,
        reward: b.reward,
        credited: 0n,
        creditRows: 0,
      });
    }
  }
  return blocks;
}

/** Credit rows (share, fee, rounding) of blocks that are not confirmed, by block. */
interface StrayCredits {
  status: BlockStatus | undefined;
  height: number | undefined;
  rows: number;
  sum: bigint;
  firstChange: bigint;
}

function creditRow(
  c: BalanceChange,
  books: Books,
  stray: Map<string, StrayCredits>,
  credits: CheckBuilder,
): void {
  credits.count("creditRows");
  if (c.amount <= 0n) {
    credits.add({
      code: "credit_amount",
      message: `Balance change ${c.id} credits ${units(c.amount)} to ${c.address} (${c.reason})`,
      change: c.id.toString(),
      address: c.address,
      amount: c.amount.toString(),
    });
  }
  const key = c.blockHash === undefined ? "" : hex(c.blockHash);
  const block = books.blocks.get(key);
  if (block?.status === "confirmed") {
    block.credited += c.amount;
    block.creditRows++;
    return;
  }
  let s = stray.get(key);
  if (s === undefined) {
    stray.set(
      key,
      s = {
        status: block?.status,
        height: block?.height ?? c.blockHeight,
        rows: 0,
        sum: 0n,
        firstChange: c.id,
      },
    );
  }
  s.rows++;
  s.sum += c.amount;
}

function reportStray(stray: Map<string, StrayCredits>, credits: CheckBuilder): void {
  for (const [key, s] of stray) {
    const what = key === ""
      ? `${s.rows} credit row(s) name no block (first: balance change ${s.firstChange})`
      : s.status === undefined
      ? `${s.rows} credit row(s) name block ${key}, which is not stored`
      : `Block ${s.height} ${key} is ${s.status} but has ${s.rows} credit row(s)`;
    credits.add({
      code: key === "" || s.status === undefined ? "credit_unknown_block" : "credit_not_confirmed",
      message: `${what} (${units(s.sum)})`,
      ...(key === "" ? {} : { block: key }),
      ...(s.height === undefined ? {} : { height: s.height }),
      change: s.firstChange.toString(),
      amount: s.sum.toString(),
    });
  }
}

function paymentRow(c: BalanceChange, books: Books, payments: CheckBuilder): void {
  payments.count(c.reason === "payment" ? "debitRows" : "refundRows");
  if (c.paymentId !== undefined && books.payments.has(c.paymentId)) return;
  payments.add({
    code: "payment_unknown",
    message: c.paymentId === undefined
      ? `Balance change ${c.id} (${c.reason} of ${c.address}, ${units(c.amount)}) names no payment`
      : `Balance change ${c.id} (${c.reason} of ${c.address}, ${units(c.amount)}) names ` +
        `payment ${c.paymentId}, which is not stored`,
    change: c.id.toString(),
    address: c.address,
    amount: c.amount.toString(),
    ...(c.paymentId === undefined ? {} : { payment: c.paymentId.toString() }),
  });
}

/**
 * Walk every balance change: Σ per address, credit rows onto their (confirmed) block, payment
 * rows onto a known payment.
 */
export async function scanChanges(
  store: Store,
  books: Books,
  scope: AuditScope,
  checks: BookChecks,
): Promise<void> {
  const stray = new Map<string, StrayCredits>();
  checks.balances.count("changes", 0);
  checks.credits.count("creditRows", 0);
  for await (const page of pages((p) => store.scan.balanceChanges(p), scope.pageSize)) {
    for (const c of page) {
      checks.balances.count("changes");
      books.sums.set(c.address, (books.sums.get(c.address) ?? 0n) + c.amount);
      if (c.reason === "payment" || c.reason === "payment_failed") {
        paymentRow(c, books, checks.payments);
      } else {
        creditRow(c, books, stray, checks.credits);
      }
    }
  }
  reportStray(stray, checks.credits);
}

/** Walk every balance: each must equal the Σ of its changes, and none may be negative. */
export async function scanBalances(
  store: Store,
  books: Books,
  scope: AuditScope,
  balances: CheckBuilder,
): Promise<void> {
  const left = new Map(books.sums);
  let stored = 0n;
  let changed = 0n;
  for (const s of books.sums.values()) changed += s;
  let after: string | undefined;
  balances.count("addresses", 0);
  for (;;) {
    const page = await store.scan.balances({
      ...(after === undefined ? {} : { after }),
      limit: scope.pageSize,
    });
    for (const b of page) {
      balances.count("addresses");
      stored += b.amount;
      const sum = left.get(b.address) ?? 0n;
      left.delete(b.address);
      if (b.amount < 0n) {
        balances.add({
          code: "balance_negative",
          message: `The balance of ${b.address} is ${units(b.amount)}`,
          address: b.address,
          amount: b.amount.toString(),
        });
      }
      if (b.amount !== sum) mismatch(balances, b.address, b.amount, sum);
    }
    if (page.length < scope.pageSize) break;
    after = page.at(-1)!.address;
  }
  for (const [address, sum] of left) {
    if (sum !== 0n) mismatch(balances, address, undefined, sum);
  }
  if (stored !== changed) {
    balances.add({
      code: "balance_total",
      message: `The balances add up to ${units(stored)}, the balance changes to ${units(changed)}`,
      amount: stored.toString(),
      expected: changed.toString(),
    });
  }
  balances.note(`owed in all: ${units(stored)}`);
}

function mismatch(
  balances: CheckBuilder,
  address: string,
  stored: bigint | undefined,
  sum: bigint,
): void {
  balances.add({
    code: "balance_mismatch",
    message: stored === undefined
      ? `${address} has no balance row, but its balance changes add up to ${units(sum)}`
      : `The balance of ${address} is ${units(stored)}, but its balance changes add up to ` +
        `${units(sum)} (off by ${stored - sum})`,
    address,
    amount: (stored ?? 0n).toString(),
    expected: sum.toString(),
  });
}
