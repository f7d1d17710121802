/**
 * The audit's `block_credits` check after the walk: every confirmed block has credits adding up
 * to its reward; and for each confirmed block in scope, read with its credit rows: one row per
 * (address, reason), rows at the block's height, a readable credit basis naming the same
 * reward, and fee credits of exactly ⌊reward × percent / 100⌋ for each fee of the basis.
 *
 * @module
 */
import type { BalanceChange, Block, Store } from "../store/mod.ts";
import { decimalFraction } from "./_fraction.ts";
import type { BlockEntry, Books } from "./_audit_books.ts";
import { type CheckBuilder, creditKey, hex, newestFirst, units } from "./_audit_check.ts";
import { type CreditBasis, parseCreditBasis } from "./credit_basis.ts";

/** Most credit rows read for one block. */
const MAX_ROWS = 1_000_000;

/** Every confirmed block: credited, and Σ credits = reward (from the walk's sums). */
export function checkBlockSums(books: Books, credits: CheckBuilder): void {
  for (const [key, b] of books.blocks) {
    if (b.status !== "confirmed") continue;
    if (b.creditRows === 0 && b.reward !== 0n) {
      credits.add({
        code: "credits_missing",
        message: `Block ${b.height} ${key} is confirmed but has no credit rows`,
        block: key,
        height: b.height,
      });
    } else if (b.credited !== b.reward) {
      credits.add({
        code: "credits_sum",
        message: `The credits of block ${b.height} ${key} add up to ${units(b.credited)}, ` +
          (b.reward === undefined ? "but its reward is unknown" : `not its reward ${b.reward}`),
        block: key,
        height: b.height,
        amount: b.credited.toString(),
        ...(b.reward === undefined ? {} : { expected: b.reward.toString() }),
      });
    }
  }
}

/** The confirmed blocks found in scope, newest first. */
export function confirmedInScope(books: Books, since: number | undefined): BlockEntry[] {
  return [...books.blocks.values()]
    .filter((b) => b.status === "confirmed" && (since === undefined || b.time >= since))
    .sort(newestFirst);
}

/** A block's credit rows. */
export function blockCredits(store: Store, block: BlockEntry | Block): Promise<BalanceChange[]> {
  return store.payouts.listBalanceChanges({ blockHash: block.hash, limit: MAX_ROWS });
}

/**
 * Check each confirmed block in scope with its rows.
 *
 * @returns The hex hashes of the blocks found wrong (their windows are not recomputed).
 */
export async function checkCreditDetails(
  store: Store,
  blocks: readonly BlockEntry[],
  credits: CheckBuilder,
): Promise<Set<string>> {
  const wrong = new Set<string>();
  let withoutBasis = 0;
  credits.count("detailed", 0);
  for (const entry of blocks) {
    const before = credits.violationCount;
    // Already reported by checkBlockSums.
    if (entry.credited !== entry.reward) wrong.add(hex(entry.hash));
    const block = await store.getBlock(entry.hash);
    if (block === undefined) continue;
    credits.count("detailed");
    const rows = (await blockCredits(store, block)).filter((c) =>
      c.reason !== "payment" && c.reason !== "payment_failed"
    );
    checkRows(block, rows, credits);
    if (block.creditBasis === undefined) withoutBasis++;
    else checkBasis(block, rows, credits);
    if (credits.violationCount > before) wrong.add(hex(block.hash));
  }
  if (withoutBasis > 0) {
    credits.note(
      `${withoutBasis} block(s) credited without a credit basis (before schema 5): fees not checked`,
    );
  }
  return wrong;
}

function checkRows(block: Block, rows: readonly BalanceChange[], credits: CheckBuilder): void {
  const seen = new Map<string, BalanceChange>();
  const key = hex(block.hash);
  for (const c of rows) {
    const k = creditKey(c.address, c.reason);
    const first = seen.get(k);
    if (first !== undefined) {
      credits.add({
        code: "credit_twice",
        message: `Block ${block.height} ${key} credits ${c.address} twice for ${c.reason} ` +
          `(balance changes ${first.id} and ${c.id}: ${first.amount} and ${c.amount})`,
        block: key,
        height: block.height,
        address: c.address,
        change: c.id.toString(),
        amount: c.amount.toString(),
      });
    }
    seen.set(k, c);
    if (c.blockHeight !== block.height) {
      credits.add({
        code: "credit_height",
        message: `Balance change ${c.id} credits block ${key} at height ${c.blockHeight}, ` +
          `but the block is at ${block.height}`,
        block: key,
        height: block.height,
        change: c.id.toString(),
      });
    }
  }
}

function checkBasis(block: Block, rows: readonly BalanceChange[], credits: CheckBuilder): void {
  const key = hex(block.hash);
  const basis = parseCreditBasis(block.creditBasis);
  const where = { block: key, height: block.height };
  if (basis === undefined) {
    credits.add({
      code: "basis_unreadable",
      message: `The credit basis of block ${block.height} ${key} cannot be read`,
      ...where,
    });
    return;
  }
  if (block.reward === undefined || BigInt(basis.reward) !== block.reward) {
    credits.add({
      code: "basis_reward",
      message: `Block ${block.height} ${key} was credited for a reward of ${basis.reward}, ` +
        `but its reward is ${block.reward ?? "unknown"}`,
      ...where,
      amount: basis.reward,
      ...(block.reward === undefined ? {} : { expected: block.reward.toString() }),
    });
    return;
  }
  if ((basis.scheme === "solo") !== block.solo) {
    credits.add({
      code: "basis_scheme",
      message: `Block ${block.height} ${key} is ${block.solo ? "" : "not "}a SOLO block, ` +
        `but was credited by ${basis.scheme}`,
      ...where,
    });
  }
  checkFees(block, basis, rows, credits);
}

/** Fee rows: exactly ⌊reward × percent / 100⌋ to each fee address, none elsewhere. */
function checkFees(
  block: Block,
  basis: CreditBasis,
  rows: readonly BalanceChange[],
  credits: CheckBuilder,
): void {
  const key = hex(block.hash);
  const reward = block.reward!;
  const fees = new Map<string, bigint>();
  for (const f of basis.fees) {
    let share;
    try {
      share = decimalFraction(f.percent, `fee percent of ${f.address}`);
    } catch {
      credits.add({
        code: "basis_unreadable",
        message: `Block ${block.height} ${key}: fee ${JSON.stringify(f.percent)} is not a percent`,
        block: key,
        height: block.height,
      });
      return;
    }
    fees.set(f.address, reward * share.num / (100n * share.den));
  }
  const paid = new Map<string, bigint>();
  for (const c of rows) {
    if (c.reason === "fee") paid.set(c.address, (paid.get(c.address) ?? 0n) + c.amount);
  }
  for (const address of new Set([...fees.keys(), ...paid.keys()])) {
    const expected = fees.get(address) ?? 0n;
    const got = paid.get(address) ?? 0n;
    if (got === expected) continue;
    credits.add({
      code: "fee_mismatch",
      message: `Block ${block.height} ${key} pays ${address} a fee of ${units(got)}, ` +
        (fees.has(address)
          ? `its basis says ${expected}`
          : "but its basis names no fee for this address"),
      block: key,
      height: block.height,
      address,
      amount: got.toString(),
      expected: expected.toString(),
    });
  }
}
