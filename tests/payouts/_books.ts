/**
 * The books of a store, checked the way `vbkpool audit` will check them (that command is written
 * elsewhere; until it lands, money-path tests end with this): every confirmed block's credits
 * add up to its reward; open, rejected and orphaned blocks have no credits; each address's
 * balance is the sum of its audited balance changes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { bytesToHex } from "../../hash/hex.ts";
import type { Store } from "../../store/mod.ts";

const ALL = 1_000_000;

/**
 * Check the books; returns Σ credits per address (block credits only).
 *
 * @param store The pool's store.
 * @returns Credits per address.
 */
export async function assertBooks(store: Store): Promise<Map<string, bigint>> {
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
  const changed = new Map<string, bigint>();
  for (const c of await store.payouts.listBalanceChanges({ limit: ALL })) {
    changed.set(c.address, (changed.get(c.address) ?? 0n) + c.amount);
  }
  for (const [address, amount] of changed) {
    assert.equal(await store.payouts.balance(address), amount, `balance of ${address}`);
  }
  for (const b of await store.payouts.listBalances({ limit: ALL })) {
    assert.equal(b.amount, changed.get(b.address) ?? 0n, `balance row of ${b.address}`);
  }
  return credited;
}
