/**
 * The audit (`vbkpool audit`): checks the store's accounting invariants, reading only, and
 * reports each check with what it examined, the violations it found and what it could not
 * verify. Open the store with `readOnly: true` so that every read comes from one snapshot (a
 * running pool and payout service then cannot make the books look inconsistent mid-read).
 *
 * The checks, in order, with the codes of the violations each reports:
 *
 * 1. `block_credits`: every confirmed block has credit rows adding up to its reward
 *    (`credits_missing`, `credits_sum`); blocks of any other status (submitted, pending,
 *    orphaned, rejected) have none, and every credit row names a stored block
 *    (`credit_not_confirmed`, `credit_unknown_block`, `credit_amount` for a row ≤ 0). For each
 *    confirmed block in scope: one row per (address, reason) (`credit_twice`), at the block's
 *    height (`credit_height`), a readable credit basis naming the same reward and scheme
 *    (`basis_unreadable`, `basis_reward`, `basis_scheme`), and fee credits of exactly
 *    ⌊reward × percent / 100⌋ per fee of the basis and no other (`fee_mismatch`).
 * 2. `balances`: each stored balance equals the sum of its balance changes (credits − payments
 *    + refunds), none is negative, and the totals agree (`balance_mismatch`,
 *    `balance_negative`, `balance_total`).
 * 3. `payments`: every payment debit or refund names a stored payment (`payment_unknown`);
 *    each payment's items have distinct addresses and amounts > 0 and add up to its total
 *    (`payment_address_twice`, `payment_item_amount`, `payment_total`); a sent or confirmed
 *    payment has transaction ids, and no transaction id is in two payments
 *    (`payment_no_txid`, `payment_txid_twice`); for each payment in scope, one debit of
 *    exactly each item (`payment_debit`) and refunds of exactly the items when, and only when,
 *    it failed (`payment_refund`).
 * 4. `pplns_windows`: each confirmed block in scope is credited again from its credit basis
 *    with the unlocker's own `computeCredits` over the stored shares, and the stored credits
 *    must be exactly those (`window_credits`); the newest share counted is at or before the
 *    block's time (`window_after_block`) and no SOLO share was counted (`window_solo_share`);
 *    a SOLO block credits no one but its finder, fees aside (`solo_not_finder`). Blocks whose
 *    window shares were pruned, or credited before credit bases existed, are noted as not
 *    verifiable; blocks that failed `block_credits` are not recomputed.
 * 5. `share_keys`: no share hash is stored twice (`share_duplicate`), found by the database.
 * 6. `chain` (with NodeCore): each confirmed block in scope is NodeCore's main-chain block at
 *    its height (`block_not_main_chain`), no orphaned or rejected block is
 *    (`lost_block_on_main_chain`); each sent or confirmed payment's transactions are known to
 *    NodeCore, come from the pool address and pay exactly its items (`payment_tx_missing`,
 *    `payment_tx_source`, `payment_tx_outputs`); a failed payment's transactions are not
 *    known (`failed_payment_on_chain`).
 *
 * Memory is bounded by the number of blocks, payments and addresses (never by shares or
 * balance changes: tables are read in pages, duplicates are grouped by the database). The work
 * is bounded by `since` (blocks, payments and shares before it are only part of the totals)
 * and `limit` (windows recomputed, blocks and payments looked up on NodeCore, newest first).
 *
 * @module
 */
import type { Store } from "../store/mod.ts";
import {
  type AuditScope,
  type Books,
  scanBalances,
  scanBlocks,
  scanChanges,
} from "./_audit_books.ts";
import { CheckBuilder, hex } from "./_audit_check.ts";
import { checkBlockSums, checkCreditDetails, confirmedInScope } from "./_audit_credits.ts";
import { checkChain } from "./_audit_chain.ts";
import { checkPaymentDetails, scanPayments } from "./_audit_payments.ts";
import { checkWindows } from "./_audit_windows.ts";
import type { AuditCheckName, AuditReport } from "./audit_report.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";

export * from "./audit_report.ts";

/** Options for {@linkcode auditStore}. */
export interface AuditOptions {
  /** NodeCore's HTTP API: also check the store against the chain. @default none (skipped) */
  nodecore?: NodeCoreRpc;
  /** The pool's address: payments must come from it. @default not checked */
  poolAddress?: string;
  /**
   * Examine in detail only blocks found, payments written and shares accepted at or after this
   * time (ms); older rows still count in the totals. @default all
   */
  since?: number;
  /**
   * Most blocks whose credits are recomputed, and most blocks and payments looked up on
   * NodeCore, newest first; 0 for no limit. @default 1000
   */
  limit?: number;
  /** Violations listed per check (all are counted). @default 20 */
  maxViolations?: number;
  /** Rows read per page. @default 1000 */
  pageSize?: number;
}

const TITLES: Record<AuditCheckName, string> = {
  block_credits: "confirmed blocks credited exactly once (credits = reward, fees as recorded); " +
    "no credits on other blocks",
  balances: "balances = credits - payments + refunds, per address and in total; none negative",
  payments: "every payment debit has its intent and equals its items; failed payments refunded " +
    "exactly; no transaction in two payments",
  pplns_windows: "credits recomputed from the stored shares (PPLNS window, fees, remainder; " +
    "SOLO: the finder)",
  share_keys: "no share hash stored twice",
  chain: "confirmed blocks on NodeCore's main chain; sent payments in its ledger",
};

function checkOptions(options: AuditOptions): AuditScope & { maxViolations: number } {
  const int = (value: number | undefined, name: string, fallback: number, min: number) => {
    const v = value ?? fallback;
    if (!Number.isSafeInteger(v) || v < min) {
      throw new RangeError(`Cannot audit: ${name} must be an integer >= ${min}, got ${v}`);
    }
    return v;
  };
  if (options.since !== undefined && !(Number.isFinite(options.since) && options.since >= 0)) {
    throw new RangeError(`Cannot audit: since must be a time in ms >= 0, got ${options.since}`);
  }
  return {
    since: options.since,
    limit: int(options.limit, "limit", 1000, 0),
    pageSize: int(options.pageSize, "pageSize", 1000, 1),
    maxViolations: int(options.maxViolations, "maxViolations", 20, 0),
  };
}

async function checkShareKeys(
  store: Store,
  scope: AuditScope,
  maxViolations: number,
  shares: CheckBuilder,
): Promise<void> {
  const found = await store.scan.duplicateShares({
    ...(scope.since === undefined ? {} : { since: scope.since }),
    limit: Math.max(1, maxViolations),
  });
  shares.count("shares", found.shares);
  shares.count("duplicatedHashes", found.hashes);
  for (const d of found.duplicates) {
    shares.add({
      code: "share_duplicate",
      message: `Share hash ${hex(d.hash)} is stored ${d.count} times (rows ${d.firstId} to ` +
        `${d.lastId}, ${d.address})`,
      share: hex(d.hash),
      address: d.address,
    });
  }
  shares.addUnlisted(found.hashes - found.duplicates.length);
}

/**
 * Check the store's accounting invariants (see the module documentation for each check).
 * Reads only; never writes.
 *
 * @example Usage
 * ```ts
 * import { auditStore } from "./audit.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * await (await openStore(`${dir}/pool.sqlite`, { thread: false })).close();
 * const store = await openStore(`${dir}/pool.sqlite`, { readOnly: true });
 * const report = await auditStore(store);
 * assert.equal(report.ok, true);
 * assert.equal(report.snapshot, true);
 * assert.equal(report.checks.find((c) => c.name === "chain")?.skipped, "no NodeCore given");
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param store The store (opened `readOnly` for one consistent snapshot).
 * @param options NodeCore, pool address, since, limits.
 * @returns The report; `ok` is true only when every check holds.
 * @throws {RangeError} When an option is out of range.
 * @throws {StoreUnavailableError} When the store cannot be read.
 */
export async function auditStore(store: Store, options: AuditOptions = {}): Promise<AuditReport> {
  const startedAt = Date.now();
  const scope = checkOptions(options);
  const check = (name: AuditCheckName) => new CheckBuilder(name, TITLES[name], scope.maxViolations);
  const credits = check("block_credits");
  const balances = check("balances");
  const payments = check("payments");
  const windows = check("pplns_windows");
  const shares = check("share_keys");
  const chain = check("chain");

  const books: Books = {
    blocks: await scanBlocks(store, scope, credits),
    payments: await scanPayments(store, scope, payments),
    sums: new Map(),
  };
  await scanChanges(store, books, scope, { credits, balances, payments });
  await scanBalances(store, books, scope, balances);
  checkBlockSums(books, credits);
  const detailed = confirmedInScope(books, scope.since);
  const wrong = await checkCreditDetails(store, detailed, credits);
  await checkPaymentDetails(store, books.payments, scope, payments);
  await checkWindows(store, detailed, wrong, scope, windows);
  await checkShareKeys(store, scope, scope.maxViolations, shares);
  if (options.nodecore === undefined) {
    chain.skip("no NodeCore given");
  } else {
    await checkChain(store, books, scope, {
      rpc: options.nodecore,
      poolAddress: options.poolAddress,
    }, chain);
  }
  const checks = [credits, balances, payments, windows, shares, chain].map((c) => c.build());
  return {
    ok: checks.every((c) => c.ok),
    backend: store.backend,
    snapshot: store.readOnly,
    ...(scope.since === undefined ? {} : { since: scope.since }),
    limit: scope.limit,
    startedAt,
    durationMs: Date.now() - startedAt,
    checks,
  };
}
