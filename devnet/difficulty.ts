/**
 * VeriBlock's difficulty retarget (an LWMA, spec §6.2), parameterised so the devnet can run it
 * with its own block time and floor. The arithmetic reproduces NodeCore's
 * `VeriBlockDifficultyCalculator` exactly, including its 8-decimal BigDecimal rounding.
 *
 * @module
 */

/** One block as the retarget sees it. */
export interface LwmaBlock {
  /** Block height. */
  height: number;
  /** Header timestamp, Unix seconds. */
  timestamp: number;
  /** The block's decoded difficulty (decode its bits). */
  difficulty: bigint;
}

/** Parameters of {@linkcode lwmaNextDifficulty}. */
export interface LwmaOptions {
  /** N, the number of blocks in the window. @default 100 */
  window?: number;
  /** T, the target block time in seconds. @default 30 */
  blockTime?: number;
  /** Floor of the result. @default 1n */
  minimum?: bigint;
}

const SCALE = 100_000_000n; // BigDecimal scale 8

function checkPositiveInt(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`Cannot compute difficulty: ${name} must be an integer`);
  }
  if (value < min) throw new RangeError(`Cannot compute difficulty: ${name} must be >= ${min}`);
  return value;
}

/** a / b rounded half up at scale 8, as a scaled integer (a, b > 0). */
function divideScaled(a: bigint, b: bigint): bigint {
  return (2n * a * SCALE + b) / (2n * b);
}

/**
 * The difficulty of the block after the newest of `blocks`.
 *
 * Like NodeCore: with the newest block below height N the newest block's difficulty is kept.
 * Otherwise, over the N newest blocks: each of the N−1 solve times (timestamp minus the
 * previous block's) is clamped to ±6T and weighted 1 (oldest) … N−1 (newest), their weighted
 * sum t is floored at K/10 with K = N(N−1)T/2, and the result is
 * avg · K / t, where avg is the mean difficulty of the N−1 blocks before the newest; both
 * divisions round half up to 8 decimals and the product is truncated. The result is floored
 * at `minimum`.
 *
 * @example Usage
 * ```ts
 * import { lwmaNextDifficulty } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * // 101 blocks 60 s apart, T = 30: the difficulty halves.
 * const blocks = Array.from({ length: 101 }, (_, i) => ({
 *   height: i,
 *   timestamp: 1_600_000_000 + 60 * i,
 *   difficulty: 1_000_000n,
 * }));
 * assert.equal(lwmaNextDifficulty(blocks, { window: 100, blockTime: 30 }), 500_000n);
 * ```
 *
 * @param blocks The chain up to and including the newest block, oldest first (only the last
 *   `window` are read).
 * @param options N, T and the floor.
 * @returns The next difficulty.
 * @throws {TypeError} When an argument has the wrong type.
 * @throws {RangeError} When `blocks` is empty or a parameter is out of range.
 */
export function lwmaNextDifficulty(
  blocks: readonly LwmaBlock[],
  options: LwmaOptions = {},
): bigint {
  if (!Array.isArray(blocks)) throw new TypeError("Cannot compute difficulty: blocks not an array");
  const n = checkPositiveInt(options.window ?? 100, "window", 2);
  const blockTime = checkPositiveInt(options.blockTime ?? 30, "blockTime", 1);
  const minimum = options.minimum ?? 1n;
  if (typeof minimum !== "bigint") {
    throw new TypeError("Cannot compute difficulty: minimum must be a bigint");
  }
  const last = blocks[blocks.length - 1];
  if (last === undefined) throw new RangeError("Cannot compute difficulty: no blocks");
  if (last.height < n) return last.difficulty;

  // NodeCore's context is newest first; walk it from the oldest of the window.
  const context = blocks.slice(-n).reverse();
  const limit = 6 * blockTime;
  let t = 0n;
  let sum = 0n;
  let weight = 0n;
  for (let i = context.length - 1; i >= 1; i--) {
    const older = context[i]!;
    const newer = context[i - 1]!;
    const solve = Math.max(-limit, Math.min(limit, newer.timestamp - older.timestamp));
    weight++;
    t += BigInt(solve) * weight;
    sum += older.difficulty;
  }
  const bigN = BigInt(n);
  const k = bigN * (bigN - 1n) * BigInt(blockTime) / 2n;
  if (t < k / 10n) t = k / 10n;
  const average = divideScaled(sum, bigN - 1n);
  const ratio = divideScaled(k, t);
  const next = average * ratio / (SCALE * SCALE);
  return next < minimum ? minimum : next;
}
