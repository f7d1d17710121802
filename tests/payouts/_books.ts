/**
 * The books check money-path tests end with (until `vbkpool audit` exists): every balance is the
 * sum of its audited changes, and what the store says was paid (items of `sent` and `confirmed`
 * payments) is exactly what the devnet ledger shows: each payment's transaction is mined with
 * exactly its outputs, and each miner received exactly the sum of its items.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { DevnetLedger } from "../../devnet/mod.ts";
import type { Store } from "../../store/mod.ts";

/** Options for {@linkcode assertBooks}. */
export interface BooksOptions {
  /** The miners: addresses that receive coins only from the pool's payments. */
  recipients: readonly string[];
}

function key(outputs: readonly { address: string; amount: bigint }[]): string {
  return outputs.map((o) => `${o.address}=${o.amount}`).sort().join(",");
}

/**
 * Check the books against the store's audit trail and the devnet ledger.
 *
 * @param store The pool's store.
 * @param ledger The devnet's ledger.
 * @param options The miners.
 */
export async function assertBooks(
  store: Store,
  ledger: DevnetLedger,
  options: BooksOptions,
): Promise<void> {
  const changes = await store.payouts.listBalanceChanges({ limit: 1_000_000 });
  const sums = new Map<string, bigint>();
  for (const c of changes) sums.set(c.address, (sums.get(c.address) ?? 0n) + c.amount);
  for (const [address, sum] of sums) {
    assert.equal(await store.payouts.balance(address), sum, `${address}: balance = Σ changes`);
    assert.ok(sum >= 0n, `${address}: balance ${sum} >= 0`);
  }
  const paid = new Map<string, bigint>();
  const payments = await store.payouts.listPayments({
    status: ["sent", "confirmed"],
    limit: 1_000_000,
  });
  for (const p of payments) {
    assert.equal(p.txIds.length, 1, `payment ${p.id}: one transaction`);
    const status = ledger.transaction(p.txIds[0]!);
    assert.ok(status !== undefined, `payment ${p.id}: its transaction is on the ledger`);
    assert.ok(status.block !== undefined, `payment ${p.id}: its transaction is mined`);
    assert.equal(key(status.tx.outputs), key(p.items), `payment ${p.id}: exactly its outputs`);
    for (const i of p.items) paid.set(i.address, (paid.get(i.address) ?? 0n) + i.amount);
  }
  let total = 0n;
  let received = 0n;
  for (const address of new Set([...options.recipients, ...paid.keys()])) {
    const got = ledger.balance(address);
    assert.equal(got.pending, 0n, `${address}: nothing pending on the ledger`);
    assert.equal(got.confirmed, paid.get(address) ?? 0n, `${address}: received exactly its items`);
    total += paid.get(address) ?? 0n;
    received += got.confirmed;
  }
  assert.equal(received, total, "Σ items of sent and confirmed payments = Σ received");
}
