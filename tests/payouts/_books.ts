/**
 * The books check money-path tests end with: the audit (`auditStore`, what `vbkpool audit` runs)
 * finds no violation, and, independently of it, every confirmed block's credits add up to its
 * reward; open, rejected and orphaned blocks have no credits; each address's balance is the sum
 * of its audited changes; and, given the devnet's ledger, what the store says was paid (items of
 * `sent` and `confirmed` payments) is exactly what the ledger shows: each payment's transaction is
 * mined with exactly its outputs, and each miner received exactly the sum of its items.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { DevnetLedger } from "../../devnet/mod.ts";
import { bytesToHex } from "../../hash/hex.ts";
import { auditStore } from "../../payouts/mod.ts";
import type { Store } from "../../store/mod.ts";

const ALL = 1_000_000;

/** Options for {@linkcode assertBooks}. */
export interface BooksOptions {
  /** The miners: addresses that receive coins only from the pool's payments. */
  recipients: readonly string[];
}

function key(outputs: readonly { address: string; amount: bigint }[]): string {
  return outputs.map((o) => `${o.address}=${o.amount}`).sort().join(",");
}

/**
 * Check the books against the store's audit trail (and the devnet ledger, when given).
 *
 * @param store The pool's store.
 * @param ledger The devnet's ledger, to check payments against.
 * @param options The miners (with a ledger).
 * @returns Σ block credits per address.
 */
export async function assertBooks(
  store: Store,
  ledger?: DevnetLedger,
  options: BooksOptions = { recipients: [] },
): Promise<Map<string, bigint>> {
  const credited = await assertBlockCredits(store);
  const changes = await store.payouts.listBalanceChanges({ limit: ALL });
  const sums = new Map<string, bigint>();
  for (const c of changes) sums.set(c.address, (sums.get(c.address) ?? 0n) + c.amount);
  for (const [address, sum] of sums) {
    assert.equal(await store.payouts.balance(address), sum, `${address}: balance = Σ changes`);
    assert.ok(sum >= 0n, `${address}: balance ${sum} >= 0`);
  }
  for (const b of await store.payouts.listBalances({ limit: ALL })) {
    assert.equal(b.amount, sums.get(b.address) ?? 0n, `balance row of ${b.address}`);
  }
  if (ledger !== undefined) await assertPaid(store, ledger, options);
  const report = await auditStore(store, { limit: 0 });
  const failed = report.checks.filter((c) => !c.ok);
  assert.ok(
    report.ok,
    `the audit fails: ${
      JSON.stringify(failed, (_k, v) => typeof v === "bigint" ? v.toString() : v)
    }`,
  );
  return credited;
}

/** Confirmed blocks' credits add up to their rewards; other blocks have none. */
async function assertBlockCredits(store: Store): Promise<Map<string, bigint>> {
  const credited = new Map<string, bigint>();
  for (const block of await store.listBlocks({ limit: ALL })) {
    const what = `block ${block.height} ${bytesToHex(block.hash)} (${block.status})`;
    const changes = await store.payouts.listBalanceChanges({ blockHash: block.hash, limit: ALL });
    if (block.status !== "confirmed") {
      assert.deepEqual(changes, [], `${what} has no credits`);
      continue;
    }
    assert.ok(block.reward !== undefined && block.reward > 0n, `${what} has a reward`);
    assert.equal(changes.reduce((sum, c) => sum + c.amount, 0n), block.reward, `${what} credits`);
    for (const c of changes) credited.set(c.address, (credited.get(c.address) ?? 0n) + c.amount);
  }
  return credited;
}

/** Sent and confirmed payments are on the ledger, exactly. */
async function assertPaid(store: Store, ledger: DevnetLedger, options: BooksOptions) {
  const paid = new Map<string, bigint>();
  const payments = await store.payouts.listPayments({
    status: ["sent", "confirmed"],
    limit: ALL,
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
