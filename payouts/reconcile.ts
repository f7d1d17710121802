/**
 * What becomes of a block the pool found, decided from what the chain says and nothing else
 * (issue 15, defect 4): what NodeCore answered the submit (or whether it answered) does not
 * count. A pure function of the facts: the block's status and hash and height, NodeCore's tip,
 * and the hash of NodeCore's main-chain block at that height (`getblocks` by index, spec §4.2;
 * `getblocks` by hash is not used, since whether NodeCore returns side-chain blocks for it is
 * unknown). With depth = tip − height + 1 (1 for the tip itself) and N confirmations, a height
 * is settled when depth > N. The rules, in the order the code applies them:
 *
 * 1. no main-chain block at the height yet (above the tip, or NodeCore lists none) → `wait`;
 * 2. the main-chain block at the height has the block's hash:
 *    - `submitted` → `on_chain` (it becomes `pending` and is judged again as such);
 *    - `pending` and settled → `credit`; `pending` and not settled → `wait` with its depth;
 * 3. another hash holds the height:
 *    - settled → `reject` a `submitted` candidate (it never made the main chain), `orphan` a
 *      `pending` block;
 *    - not settled → `wait` with 0 confirmations (a shallow competitor may still be reorganised
 *      away).
 *
 * Two candidates at one height: only the one whose hash the chain holds goes on; the other is
 * rejected (or orphaned) once the height is settled.
 *
 * @module
 */

/** The facts one decision rests on. */
export interface BlockFacts {
  /** The stored status (only these two are open). */
  status: "submitted" | "pending";
  /** The block's hash, hex (any case). */
  hash: string;
  /** The block's height. */
  height: number;
  /** NodeCore's tip height. */
  tip: number;
  /** Hash (hex, any case) of NodeCore's main-chain block at `height`, if it has one. */
  chainHash: string | undefined;
  /** Confirmations N: the tip must be N blocks past a height before it is settled. */
  confirmations: number;
}

/** What to do with a block. */
export type BlockVerdict =
  | { action: "wait"; confirmations: number }
  | { action: "on_chain"; confirmations: number }
  | { action: "credit"; confirmations: number }
  | { action: "reject" }
  | { action: "orphan" };

/**
 * Decide what becomes of a found block (the rules are in the module doc).
 *
 * @example Usage
 * ```ts
 * import { judgeBlock } from "./reconcile.ts";
 * import assert from "node:assert/strict";
 *
 * const facts = { height: 10, hash: "AB", confirmations: 2 } as const;
 * // A candidate whose submit timed out, on the chain: pending, whatever NodeCore answered.
 * assert.deepEqual(
 *   judgeBlock({ ...facts, status: "submitted", tip: 10, chainHash: "ab" }),
 *   { action: "on_chain", confirmations: 1 },
 * );
 * assert.deepEqual(
 *   judgeBlock({ ...facts, status: "pending", tip: 12, chainHash: "AB" }),
 *   { action: "credit", confirmations: 3 },
 * );
 * // Another block holds the height: wait until it is settled, then reject.
 * assert.deepEqual(
 *   judgeBlock({ ...facts, status: "submitted", tip: 11, chainHash: "CD" }),
 *   { action: "wait", confirmations: 0 },
 * );
 * assert.deepEqual(
 *   judgeBlock({ ...facts, status: "submitted", tip: 12, chainHash: "CD" }),
 *   { action: "reject" },
 * );
 * ```
 *
 * @param facts The block, the tip and the main-chain hash at the block's height.
 * @returns The verdict.
 */
export function judgeBlock(facts: BlockFacts): BlockVerdict {
  const depth = facts.tip - facts.height + 1;
  if (depth < 1 || facts.chainHash === undefined) return { action: "wait", confirmations: 0 };
  const settled = depth > facts.confirmations;
  if (facts.chainHash.toUpperCase() === facts.hash.toUpperCase()) {
    if (facts.status === "submitted") return { action: "on_chain", confirmations: depth };
    return settled
      ? { action: "credit", confirmations: depth }
      : { action: "wait", confirmations: depth };
  }
  if (!settled) return { action: "wait", confirmations: 0 };
  return facts.status === "submitted" ? { action: "reject" } : { action: "orphan" };
}
