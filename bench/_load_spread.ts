/**
 * How `bench/pool_load.ts` spreads simulated miners as production looks: over thousands of
 * payout addresses with several workers each, and over many loopback source addresses
 * (127.0.0.0/8) so that the pool's per-IP cap stays at its default. Pure.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { encodeBase58 } from "../hash/mod.ts";

const ASCII = new TextEncoder();

/**
 * A valid standard VeriBlock address made from an index (`V`, 24 Base58 characters, the
 * 5-character checksum of spec §7), different for every index.
 *
 * @example Usage
 * ```ts
 * import { benchAddress } from "./_load_spread.ts";
 * import { isValidAddress } from "../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isValidAddress(benchAddress(0)));
 * assert.notEqual(benchAddress(1), benchAddress(2));
 * ```
 *
 * @param index A non-negative integer.
 * @returns The address.
 */
export function benchAddress(index: number): string {
  const body = "V" + encodeBase58(sha256(ASCII.encode(`vbkpool-bench-${index}`))).slice(0, 24);
  return body + encodeBase58(sha256(ASCII.encode(body))).slice(0, 5);
}

/**
 * The loopback source address of source number `index`: 127.B.C.D counted from 127.1.0.1,
 * with D in 1..254 (no .0 or .255 host part).
 *
 * @example Usage
 * ```ts
 * import { sourceAddress } from "./_load_spread.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(sourceAddress(0), "127.1.0.1");
 * assert.equal(sourceAddress(254), "127.1.1.1");
 * ```
 *
 * @param index A non-negative integer below 254 · 256 · 254.
 * @returns A dotted IPv4 address in 127.0.0.0/8.
 * @throws {RangeError} When the index is out of range.
 */
export function sourceAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 254 * 256 * 254) {
    throw new RangeError(`Cannot pick a source address: index ${index} is out of range`);
  }
  const d = index % 254 + 1;
  const rest = Math.floor(index / 254);
  return `127.${Math.floor(rest / 256) + 1}.${rest % 256}.${d}`;
}

/** Options for {@linkcode minerIdentity}. */
export interface SpreadOptions {
  /** Workers per address (miners i·w … i·w + w − 1 share address i). */
  workersPerAddress: number;
  /** Miners per source address (consecutive addresses share an IP, as farms do). */
  minersPerSource: number;
}

/** Who a simulated miner is. */
export interface MinerIdentity {
  /** Index of its payout address. */
  address: number;
  /** Its worker name (after the dot). */
  worker: string;
  /** Index of its loopback source address. */
  source: number;
}

/**
 * The address, worker and source of miner `index`.
 *
 * @example Usage
 * ```ts
 * import { minerIdentity } from "./_load_spread.ts";
 * import assert from "node:assert/strict";
 *
 * const spread = { workersPerAddress: 4, minersPerSource: 100 };
 * assert.deepEqual(minerIdentity(5, spread), { address: 1, worker: "rig1", source: 0 });
 * assert.deepEqual(minerIdentity(100, spread), { address: 25, worker: "rig0", source: 1 });
 * ```
 *
 * @param index Miner number, from 0.
 * @param options The spread.
 * @returns Its identity.
 * @throws {RangeError} When a count is not a positive integer.
 */
export function minerIdentity(index: number, options: SpreadOptions): MinerIdentity {
  const { workersPerAddress: w, minersPerSource: m } = options;
  if (!(Number.isInteger(w) && w >= 1 && Number.isInteger(m) && m >= 1)) {
    throw new RangeError("Cannot spread miners: counts must be positive integers");
  }
  return {
    address: Math.floor(index / w),
    worker: `rig${index % w}`,
    source: Math.floor(index / m),
  };
}

/**
 * The time to the next share of a simulated miner: exponentially distributed (shares of a
 * miner hashing at a steady rate arrive as a Poisson process) with mean `difficulty /
 * hashrate` seconds.
 *
 * @example Usage
 * ```ts
 * import { nextShareSeconds } from "./_load_spread.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(nextShareSeconds(100, 10, () => 1 - Math.exp(-1)), 10);
 * ```
 *
 * @param difficulty Share difficulty (difficulty-1 hashes per share).
 * @param hashrate Difficulty-1 hashes per second.
 * @param random Uniform numbers in [0, 1).
 * @returns Seconds.
 */
export function nextShareSeconds(
  difficulty: number,
  hashrate: number,
  random: () => number = Math.random,
): number {
  return -Math.log(1 - random()) * difficulty / hashrate;
}
