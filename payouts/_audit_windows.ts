/**
 * The audit's `pplns_windows` check: each confirmed block in scope (newest first, up to the
 * limit) is credited again from its credit basis with the unlocker's own function
 * (`computeCredits`: same reward, window, fees and remainder address), and the stored credits
 * must be exactly those. For PPLNS blocks the newest share counted must be at or before the
 * block's time and no counted share may be a SOLO share; when the window's shares were pruned
 * the block is "not verifiable" (a note, not a failure). For SOLO blocks every credit but the
 * fees goes to the finder.
 *
 * @module
 */
import type { BalanceChange, Block, Store, StoredShare } from "../store/mod.ts";
import type { AuditScope, BlockEntry } from "./_audit_books.ts";
import { type CheckBuilder, creditKey, hex } from "./_audit_check.ts";
import { blockCredits } from "./_audit_credits.ts";
import { computeCredits, type CreditBasis, parseCreditBasis } from "./credit_basis.ts";
import type { RewardCredit } from "./pplns.ts";

/** Most shares with one time (ms) looked through to find one share by id. */
const SAME_MS = 100_000;

/** What the check did with each block. */
interface Tally {
  recomputed: number;
  notVerifiable: number;
  withoutBasis: number;
  skipped: number;
  beyondLimit: number;
}

/** A stored share by time and id, SOLO shares included; undefined when gone (pruned). */
async function findShare(
  store: Store,
  at: { time: number; id: string },
): Promise<StoredShare | undefined> {
  const same = await store.listShares({ since: at.time, before: at.time + 1, limit: SAME_MS });
  return same.find((s) => s.id.toString() === at.id);
}

function amounts(list: readonly { address: string; reason: string; amount: bigint }[]) {
  const out = new Map<string, bigint>();
  for (const c of list) {
    const k = creditKey(c.address, c.reason);
    out.set(k, (out.get(k) ?? 0n) + c.amount);
  }
  return out;
}

/** The differences between stored and recomputed credits, as text; empty when equal. */
function differences(stored: readonly BalanceChange[], computed: readonly RewardCredit[]) {
  const a = amounts(stored);
  const b = amounts(computed);
  const out: { address: string; text: string }[] = [];
  for (const k of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const have = a.get(k) ?? 0n;
    const want = b.get(k) ?? 0n;
    if (have === want) continue;
    const [address, reason] = k.split("\u0000") as [string, string];
    out.push({ address, text: `${address} ${reason} ${have} (recomputed ${want})` });
  }
  return out;
}

function bounds(basis: CreditBasis): string {
  return `${basis.shares} share(s), newest ${basis.newest?.id ?? "none"}, ` +
    `oldest ${basis.oldest?.id ?? "none"}`;
}

async function pplnsChecks(
  store: Store,
  block: Block,
  basis: CreditBasis,
  windows: CheckBuilder,
): Promise<boolean> {
  const key = hex(block.hash);
  const where = { block: key, height: block.height };
  if (basis.newest !== undefined && basis.newest.time > block.time) {
    windows.add({
      code: "window_after_block",
      message: `Block ${block.height} ${key} counted share ${basis.newest.id} of ` +
        `${new Date(basis.newest.time).toISOString()}, after the block's time ` +
        new Date(block.time).toISOString(),
      ...where,
    });
  }
  for (const end of [basis.newest, basis.oldest]) {
    if (end === undefined) continue;
    const share = await findShare(store, end);
    if (share === undefined) return false;
    if (share.solo) {
      windows.add({
        code: "window_solo_share",
        message: `Block ${block.height} ${key} counted SOLO share ${end.id} in its PPLNS window`,
        ...where,
        share: hex(share.hash),
      });
    }
  }
  return true;
}

async function recompute(
  store: Store,
  block: Block,
  basis: CreditBasis,
  windows: CheckBuilder,
): Promise<void> {
  const key = hex(block.hash);
  const stored = (await blockCredits(store, block)).filter((c) =>
    c.reason === "share" || c.reason === "fee" || c.reason === "rounding"
  );
  const remainder = basis.remainderAddress === undefined
    ? {}
    : { remainderAddress: basis.remainderAddress };
  const { split, basis: again } = await computeCredits(store, block, {
    reward: BigInt(basis.reward),
    window: basis.window ?? "1",
    fees: basis.fees,
    soloFees: basis.fees,
    ...remainder,
  });
  if (basis.scheme === "solo") {
    for (const c of stored) {
      if (c.reason === "fee" || c.address === block.address) continue;
      windows.add({
        code: "solo_not_finder",
        message: `SOLO block ${block.height} ${key} credits ${c.address} (${c.reason}), ` +
          `not its finder ${block.address}`,
        block: key,
        height: block.height,
        address: c.address,
        amount: c.amount.toString(),
      });
    }
  }
  const diff = differences(stored, split.credits);
  const boundsDiffer = bounds(basis) !== bounds(again);
  if (diff.length === 0) {
    if (boundsDiffer) {
      windows.note(
        `block ${block.height} ${key}: the credits match, but the window now holds ` +
          `${bounds(again)} (credited with ${bounds(basis)})`,
      );
    }
    return;
  }
  windows.add({
    code: "window_credits",
    message: `The credits of block ${block.height} ${key} differ from its ${basis.scheme} ` +
      `recomputation: ${diff.slice(0, 4).map((d) => d.text).join("; ")}` +
      (diff.length > 4 ? `; and ${diff.length - 4} more` : "") +
      (boundsDiffer ? ` (window credited: ${bounds(basis)}; now: ${bounds(again)})` : ""),
    block: key,
    height: block.height,
    address: diff[0]!.address,
  });
}

async function checkBlock(
  store: Store,
  entry: BlockEntry,
  tally: Tally,
  windows: CheckBuilder,
): Promise<void> {
  const block = await store.getBlock(entry.hash);
  const basis = parseCreditBasis(block?.creditBasis);
  if (block === undefined || basis === undefined) {
    tally.withoutBasis++;
    return;
  }
  if (basis.scheme === "pplns" && !await pplnsChecks(store, block, basis, windows)) {
    tally.notVerifiable++;
    return;
  }
  tally.recomputed++;
  windows.count(basis.scheme);
  await recompute(store, block, basis, windows);
}

/**
 * Recompute the credits of the confirmed blocks in scope.
 *
 * @param store The store.
 * @param blocks Confirmed blocks in scope, newest first.
 * @param wrong Blocks whose credit rows already failed `block_credits` (skipped here).
 * @param scope The limit.
 * @param windows The check.
 */
export async function checkWindows(
  store: Store,
  blocks: readonly BlockEntry[],
  wrong: ReadonlySet<string>,
  scope: AuditScope,
  windows: CheckBuilder,
): Promise<void> {
  const tally: Tally = {
    recomputed: 0,
    notVerifiable: 0,
    withoutBasis: 0,
    skipped: 0,
    beyondLimit: 0,
  };
  windows.count("blocks", blocks.length);
  for (const entry of blocks) {
    if (wrong.has(hex(entry.hash))) tally.skipped++;
    else if (scope.limit > 0 && tally.recomputed >= scope.limit) tally.beyondLimit++;
    else await checkBlock(store, entry, tally, windows);
  }
  windows.count("recomputed", tally.recomputed);
  windows.count("notVerifiable", tally.notVerifiable);
  if (tally.notVerifiable > 0) {
    windows.note(
      `${tally.notVerifiable} block(s) not verifiable: the shares of their window were pruned`,
    );
  }
  if (tally.withoutBasis > 0) {
    windows.note(
      `${tally.withoutBasis} block(s) not verifiable: no credit basis (before schema 5)`,
    );
  }
  if (tally.skipped > 0) {
    windows.note(
      `${tally.skipped} block(s) not recomputed: their credit rows failed block_credits`,
    );
  }
  if (tally.beyondLimit > 0) {
    windows.note(`${tally.beyondLimit} older block(s) not recomputed (limit ${scope.limit})`);
  }
}
