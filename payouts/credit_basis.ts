/**
 * How a block's reward is turned into credits, written down with the credits (the block's
 * `creditBasis`) so that anyone can recompute them later (`vbkpool audit`):
 *
 * - PPLNS: the newest shares at or before the block's time, SOLO shares left out, up to a score
 *   of X network difficulties; the basis names X, the fees, the remainder address and the
 *   newest and oldest share counted;
 * - SOLO: the whole reward to the finder, after the SOLO fees.
 *
 * The same functions compute the credits for the unlocker and recompute them for the audit.
 *
 * @module
 */
import type { Block, Store } from "../store/mod.ts";
import type { ShareCursor } from "../store/payout_types.ts";
import { type PoolFee, PplnsWindow, type RewardSplit } from "./pplns.ts";

/** The recorded basis of a block's credits (stored as JSON; bigints and ids as strings). */
export interface CreditBasis {
  /** `pplns` (the pool's window) or `solo` (the finder alone). */
  scheme: "pplns" | "solo";
  /** The reward split, atomic units. */
  reward: string;
  /** PPLNS window X in network-difficulty units (PPLNS only). */
  window?: string;
  /** Fees taken first. */
  fees: { address: string; percent: string }[];
  /** Where the rounding remainder went, when set. */
  remainderAddress?: string;
  /** Shares counted (1 for SOLO: the finder). */
  shares: number;
  /** Whether the shares filled the window (always true for SOLO). */
  filled: boolean;
  /** The newest share counted (PPLNS, when any). */
  newest?: { time: number; id: string };
  /** The oldest share counted, maybe in part (PPLNS, when any). */
  oldest?: { time: number; id: string };
  /** The finder credited (SOLO). */
  finder?: string;
}

/** The credits of a block and their basis. */
export interface ComputedCredits {
  /** The split (credits add up to the reward). */
  split: RewardSplit;
  /** How it was computed. */
  basis: CreditBasis;
}

/** Options for {@linkcode computeCredits}. */
export interface ComputeCreditsOptions {
  /** Atomic units to distribute. */
  reward: bigint;
  /** PPLNS window X. */
  window: number | string;
  /** Fees of PPLNS blocks. @default [] */
  fees?: readonly PoolFee[];
  /** Fees of SOLO blocks. @default [] */
  soloFees?: readonly PoolFee[];
  /** Where rounding remainders go. @default see {@linkcode PplnsWindow.split} */
  remainderAddress?: string;
  /** Shares read per store page. @default 5000 */
  pageSize?: number;
}

/**
 * Compute a block's credits: by PPLNS over the stored shares, or all to the finder for a SOLO
 * block.
 *
 * @example Usage
 * ```ts
 * import { computeCredits } from "./credit_basis.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const hash = new Uint8Array(24).fill(7);
 * await store.recordShare({
 *   instance: 0, address: "VA", worker: "", jobId: "1", difficulty: 5n, networkDifficulty: 10n,
 *   height: 3, time: 1000, hash,
 * });
 * const { block } = await store.recordBlock({
 *   instance: 0, height: 3, hash, address: "VA", worker: "", networkDifficulty: 10n, time: 1001,
 * });
 * const { split, basis } = await computeCredits(store, block, { reward: 100n, window: 1 });
 * assert.deepEqual(split.credits.map((c) => [c.address, c.amount]), [["VA", 100n]]);
 * assert.equal(basis.scheme, "pplns");
 * assert.equal(basis.filled, false);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param store The pool's store.
 * @param block The block.
 * @param options Reward, window, fees.
 * @returns The split and its basis.
 * @throws {RangeError} When the fees are malformed.
 */
export async function computeCredits(
  store: Store,
  block: Block,
  options: ComputeCreditsOptions,
): Promise<ComputedCredits> {
  const remainder = options.remainderAddress === undefined
    ? {}
    : { remainderAddress: options.remainderAddress };
  if (block.solo) {
    const fees = options.soloFees ?? [];
    const window = new PplnsWindow(1);
    window.add({ address: block.address, difficulty: 1n, networkDifficulty: 1n });
    const split = window.split(options.reward, { fees, ...remainder });
    return {
      split,
      basis: {
        scheme: "solo",
        reward: options.reward.toString(),
        fees: fees.map(feeJson),
        ...remainder,
        shares: 1,
        filled: true,
        finder: block.address,
      },
    };
  }
  const fees = options.fees ?? [];
  const pageSize = options.pageSize ?? 5000;
  const window = new PplnsWindow(options.window);
  let cursor: ShareCursor | undefined;
  let newest: ShareCursor | undefined;
  let oldest: ShareCursor | undefined;
  for (;;) {
    const page = await store.payouts.windowShares(block.time, {
      ...(cursor === undefined ? {} : { cursor }),
      limit: pageSize,
    });
    let more = true;
    for (const share of page) {
      newest ??= { time: share.time, id: share.id };
      oldest = { time: share.time, id: share.id };
      if (!window.add(share)) {
        more = false;
        break;
      }
    }
    const last = page.at(-1);
    if (!more || last === undefined || page.length < pageSize) break;
    cursor = { time: last.time, id: last.id };
  }
  const split = window.split(options.reward, { fees, ...remainder });
  return {
    split,
    basis: {
      scheme: "pplns",
      reward: options.reward.toString(),
      window: String(options.window),
      fees: fees.map(feeJson),
      ...remainder,
      shares: split.shares,
      filled: split.filled,
      ...(newest === undefined ? {} : { newest: cursorJson(newest) }),
      ...(oldest === undefined ? {} : { oldest: cursorJson(oldest) }),
    },
  };
}

function feeJson(fee: PoolFee): { address: string; percent: string } {
  return { address: fee.address, percent: String(fee.percent) };
}

function cursorJson(cursor: ShareCursor): { time: number; id: string } {
  return { time: cursor.time, id: cursor.id.toString() };
}

/**
 * Parse a stored credit basis.
 *
 * @example Usage
 * ```ts
 * import { parseCreditBasis } from "./credit_basis.ts";
 * import assert from "node:assert/strict";
 *
 * const basis = parseCreditBasis('{"scheme":"solo","reward":"5","fees":[],"shares":1,' +
 *   '"filled":true,"finder":"VA"}');
 * assert.equal(basis?.finder, "VA");
 * assert.equal(parseCreditBasis("not json"), undefined);
 * ```
 *
 * @param text The JSON text (a block's `creditBasis`).
 * @returns The basis, or undefined when the text is not a well-formed basis.
 */
export function parseCreditBasis(text: string | undefined): CreditBasis | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const b = value as Partial<CreditBasis>;
  if (b.scheme !== "pplns" && b.scheme !== "solo") return undefined;
  if (typeof b.reward !== "string" || !/^\d+$/.test(b.reward)) return undefined;
  if (!Array.isArray(b.fees) || typeof b.shares !== "number" || typeof b.filled !== "boolean") {
    return undefined;
  }
  if (b.scheme === "pplns" && typeof b.window !== "string") return undefined;
  if (b.scheme === "solo" && typeof b.finder !== "string") return undefined;
  return b as CreditBasis;
}
