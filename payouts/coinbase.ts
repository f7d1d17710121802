/**
 * What a block's coinbase paid the pool: the only proof a credit may rest on (issue 15, defect
 * 6). NodeCore lists the PoW coinbase's outputs in `getblocks`
 * (`blockContentMetapackage.coinbaseTransaction.powOutputs`, spec §1.4); the pool earned the sum
 * of the outputs whose address is the pool's. `powCoinbaseReward` alone proves nothing: it says
 * what the block paid, not to whom. A block whose output list is empty, or pays only other
 * addresses, earned the pool nothing that the chain shows, so nothing is credited for it.
 *
 * Pure: no I/O.
 *
 * @module
 */
import { decodeBits } from "../hash/difficulty.ts";
import type { ChainBlock } from "./nodecore_types.ts";

/**
 * Why a block's coinbase proves no payment to the pool (a block's `note`):
 * `coinbase_missing` when NodeCore lists no coinbase outputs at all, `coinbase_not_pool` when
 * they pay only other addresses.
 */
export type CoinbaseNote = "coinbase_missing" | "coinbase_not_pool";

/** What the chain shows a block paid the pool. */
export interface PoolPayment {
  /** Σ of the coinbase outputs paying the pool address (atomic units; 0n when none). */
  amount: bigint;
  /** "" when `amount` > 0, else why nothing is proven. */
  note: "" | CoinbaseNote;
}

/**
 * Sum what a block's PoW coinbase pays the pool address.
 *
 * @example Usage
 * ```ts
 * import { poolPayment } from "./coinbase.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
 * const other = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
 * assert.deepEqual(
 *   poolPayment({ coinbaseOutputs: [{ address: pool, amount: 30n }, { address: other, amount: 20n }] }, pool),
 *   { amount: 30n, note: "" },
 * );
 * assert.deepEqual(poolPayment({ coinbaseOutputs: [] }, pool), { amount: 0n, note: "coinbase_missing" });
 * assert.deepEqual(
 *   poolPayment({ coinbaseOutputs: [{ address: other, amount: 50n }] }, pool),
 *   { amount: 0n, note: "coinbase_not_pool" },
 * );
 * ```
 *
 * @param block The block as NodeCore returned it.
 * @param poolAddress The pool's address.
 * @returns The amount, or why there is none.
 */
export function poolPayment(
  block: Pick<ChainBlock, "coinbaseOutputs">,
  poolAddress: string,
): PoolPayment {
  if (block.coinbaseOutputs.length === 0) return { amount: 0n, note: "coinbase_missing" };
  let amount = 0n;
  for (const output of block.coinbaseOutputs) {
    if (output.address === poolAddress && output.amount > 0n) amount += output.amount;
  }
  return { amount, note: amount > 0n ? "" : "coinbase_not_pool" };
}

/**
 * A block's difficulty from its `encodedDifficulty` (compact bits, spec §1.4 field 7), or 1n
 * when NodeCore sent none or a value that does not decode.
 *
 * @example Usage
 * ```ts
 * import { chainDifficulty } from "./coinbase.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(chainDifficulty({ encodedDifficulty: 0x0405F5E1 }), 100_000_000n);
 * assert.equal(chainDifficulty({ encodedDifficulty: 0 }), 1n);
 * ```
 *
 * @param block The block as NodeCore returned it.
 * @returns The difficulty, ≥ 1.
 */
export function chainDifficulty(block: Pick<ChainBlock, "encodedDifficulty">): bigint {
  try {
    return decodeBits(block.encodedDifficulty >>> 0);
  } catch {
    return 1n;
  }
}
