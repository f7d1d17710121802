/**
 * The audit's `payments` check: while walking every payment, its items (distinct addresses,
 * amounts > 0, adding up to its total), its transaction ids (present once it is sent or
 * confirmed, never in two payments); afterwards, for each payment in scope read with its
 * balance changes: one debit of exactly each item's amount, and refunds of exactly the same
 * amounts when (and only when) it failed.
 *
 * @module
 */
import type { BalanceChange, Payment, Store } from "../store/mod.ts";
import { type AuditScope, inScope, pages, type PaymentEntry } from "./_audit_books.ts";
import { type CheckBuilder, units } from "./_audit_check.ts";

/** Most balance changes read for one payment. */
const MAX_ROWS = 1_000_000;

function itemChecks(p: Payment, payments: CheckBuilder): void {
  const id = p.id.toString();
  const seen = new Set<string>();
  let sum = 0n;
  for (const item of p.items) {
    sum += item.amount;
    if (seen.has(item.address)) {
      payments.add({
        code: "payment_address_twice",
        message: `Payment ${id} pays ${item.address} twice`,
        payment: id,
        address: item.address,
      });
    }
    seen.add(item.address);
    if (item.amount <= 0n) {
      payments.add({
        code: "payment_item_amount",
        message: `Payment ${id} pays ${item.address} ${units(item.amount)}`,
        payment: id,
        address: item.address,
        amount: item.amount.toString(),
      });
    }
  }
  if (p.items.length === 0 || sum !== p.total) {
    payments.add({
      code: "payment_total",
      message: `The ${p.items.length} item(s) of payment ${id} add up to ${units(sum)}, ` +
        `not its total ${p.total}`,
      payment: id,
      amount: sum.toString(),
      expected: p.total.toString(),
    });
  }
}

function txChecks(p: Payment, txOwners: Map<string, bigint>, payments: CheckBuilder): void {
  const id = p.id.toString();
  if ((p.status === "sent" || p.status === "confirmed") && p.txIds.length === 0) {
    payments.add({
      code: "payment_no_txid",
      message: `Payment ${id} is ${p.status} but has no transaction id`,
      payment: id,
    });
  }
  for (const txId of new Set(p.txIds)) {
    payments.count("transactions");
    const owner = txOwners.get(txId);
    if (owner === undefined) {
      txOwners.set(txId, p.id);
      continue;
    }
    payments.add({
      code: "payment_txid_twice",
      message: `Transaction ${txId.toLowerCase()} is recorded for payments ${owner} and ${id}`,
      payment: id,
      txId: txId.toLowerCase(),
    });
  }
}

/** Walk every payment, checking its items and transaction ids. */
export async function scanPayments(
  store: Store,
  scope: AuditScope,
  payments: CheckBuilder,
): Promise<Map<bigint, PaymentEntry>> {
  const out = new Map<bigint, PaymentEntry>();
  const txOwners = new Map<string, bigint>();
  payments.count("payments", 0);
  for await (const page of pages((p) => store.scan.payments(p), scope.pageSize)) {
    for (const p of page) {
      payments.count("payments");
      payments.count(p.status);
      itemChecks(p, payments);
      txChecks(p, txOwners, payments);
      out.set(p.id, { status: p.status, createdAt: p.createdAt, hasTx: p.txIds.length > 0 });
    }
  }
  return out;
}

/** Σ amount per address of some rows. */
function byAddress(rows: readonly BalanceChange[]): Map<string, { sum: bigint; rows: number }> {
  const out = new Map<string, { sum: bigint; rows: number }>();
  for (const c of rows) {
    const x = out.get(c.address) ?? { sum: 0n, rows: 0 };
    x.sum += c.amount;
    x.rows++;
    out.set(c.address, x);
  }
  return out;
}

/** Rows of `kind` must be exactly one per item, of `sign × amount`. */
function matchItems(
  p: Payment,
  rows: readonly BalanceChange[],
  kind: "debit" | "refund",
  payments: CheckBuilder,
): void {
  const sign = kind === "debit" ? -1n : 1n;
  const got = byAddress(rows);
  const id = p.id.toString();
  const expected = new Map(p.items.map((i) => [i.address, sign * i.amount]));
  for (const address of new Set([...expected.keys(), ...got.keys()])) {
    const want = expected.get(address);
    const have = got.get(address);
    if (want !== undefined && have?.rows === 1 && have.sum === want) continue;
    payments.add({
      code: kind === "debit" ? "payment_debit" : "payment_refund",
      message: `Payment ${id} (${p.status}): ${address} has ${have?.rows ?? 0} ${kind} row(s) ` +
        `of ${units(have?.sum ?? 0n)} in all, ` +
        (want === undefined ? "but is not in the payment" : `expected one of ${want}`),
      payment: id,
      address,
      amount: (have?.sum ?? 0n).toString(),
      expected: (want ?? 0n).toString(),
    });
  }
}

/** The payments in scope: debits equal to the items; refunds exactly when failed. */
export async function checkPaymentDetails(
  store: Store,
  entries: Map<bigint, PaymentEntry>,
  scope: AuditScope,
  payments: CheckBuilder,
): Promise<void> {
  payments.count("detailed", 0);
  for (const [id, entry] of entries) {
    if (!inScope(scope, entry.createdAt)) continue;
    const p = await store.payouts.getPayment(id);
    if (p === undefined) continue;
    payments.count("detailed");
    const rows = await store.payouts.listBalanceChanges({ paymentId: id, limit: MAX_ROWS });
    matchItems(p, rows.filter((c) => c.reason === "payment"), "debit", payments);
    const refunds = rows.filter((c) => c.reason === "payment_failed");
    if (p.status === "failed") {
      matchItems(p, refunds, "refund", payments);
    } else if (refunds.length > 0) {
      payments.add({
        code: "payment_refund",
        message: `Payment ${id} is ${p.status} but ${refunds.length} refund row(s) return ` +
          `${units(refunds.reduce((s, c) => s + c.amount, 0n))} to its recipients`,
        payment: id.toString(),
        amount: refunds.reduce((s, c) => s + c.amount, 0n).toString(),
        expected: "0",
      });
    }
  }
}
