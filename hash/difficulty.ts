/**
 * Difficulty and targets (spec §6). The header's 4-byte "bits" field is a Bitcoin-style
 * compact number that encodes the DIFFICULTY (not the target), with NodeCore's bitcoinj
 * MPI semantics. target = floor((2^192 − 1) / difficulty); a hash (read big-endian) meets a
 * target when hash < target. All values are BigInt.
 *
 * @module
 */

import { VBLAKE_SIZE } from "./vblake.ts";

/** The difficulty-1 target, 2^192 − 1 (24 bytes of 0xFF). */
export const MAX_TARGET: bigint = (1n << 192n) - 1n;

function checkUint32(value: unknown, action: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: bits must be an integer, got ${String(value)}`);
  }
  if (value < 0 || value > 0xFFFFFFFF) {
    throw new RangeError(`Cannot ${action}: bits ${value} is not a uint32`);
  }
  return value;
}

function checkBigInt(value: unknown, name: string, action: string): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`Cannot ${action}: ${name} must be a bigint, got ${typeof value}`);
  }
  return value;
}

function hex32(bits: number): string {
  return "0x" + bits.toString(16).padStart(8, "0").toUpperCase();
}

/**
 * Decode compact bits into a difficulty (bitcoinj `decodeCompactBits`): size = bits >> 24,
 * the next `size` bytes (at most three taken from the field, the rest zero) form a
 * big-endian magnitude whose top bit is a sign. Sizes below 3 drop low mantissa bytes; large
 * sizes give huge difficulties (their target is 0, which no hash meets).
 *
 * @example Usage
 * ```ts
 * import { decodeBits } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeBits(0x0405F5E1), 100_000_000n);
 * assert.throws(() => decodeBits(0x04923456), RangeError);
 * ```
 *
 * @param bits The header field as a uint32.
 * @returns The difficulty, ≥ 1.
 * @throws {TypeError} When `bits` is not an integer.
 * @throws {RangeError} When `bits` is not a uint32, is negative (sign bit set) or decodes to
 *   zero.
 */
export function decodeBits(bits: number): bigint {
  checkUint32(bits, "decode bits");
  const size = bits >>> 24;
  const mantissa = bits & 0x00FFFFFF;
  if (size === 0) throw new RangeError(`Cannot decode bits ${hex32(bits)}: zero difficulty`);
  // The magnitude bytes are the first min(size, 3) bytes of the mantissa, then zeros.
  const taken = Math.min(size, 3);
  // The sign is the top bit of the first magnitude byte, i.e. bit 0x00800000 for any size.
  if ((mantissa & 0x00800000) !== 0) {
    throw new RangeError(`Cannot decode bits ${hex32(bits)}: negative difficulty`);
  }
  const value = BigInt(mantissa >>> (8 * (3 - taken))) << BigInt(8 * (size - taken));
  if (value === 0n) throw new RangeError(`Cannot decode bits ${hex32(bits)}: zero difficulty`);
  return value;
}

/**
 * Encode a difficulty as compact bits (bitcoinj `encodeCompactBits`). Lossy: only the top
 * three significant bytes survive, e.g. 90,000,000,000 encodes to 0x0514F46B, which decodes
 * to 89,999,998,976.
 *
 * @example Usage
 * ```ts
 * import { encodeBits } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeBits(1_000_000_000_000n), 0x0600E8D4);
 * ```
 *
 * @param difficulty Difficulty ≥ 1.
 * @returns The uint32 bits.
 * @throws {TypeError} When `difficulty` is not a bigint.
 * @throws {RangeError} When `difficulty` < 1 or too large for a one-byte size.
 */
export function encodeBits(difficulty: bigint): number {
  checkBigInt(difficulty, "difficulty", "encode bits");
  if (difficulty < 1n) {
    throw new RangeError(`Cannot encode bits: difficulty ${difficulty} is below 1`);
  }
  // Byte length of the two's-complement big-endian form (Java BigInteger.toByteArray).
  let size = Math.floor(difficulty.toString(2).length / 8) + 1;
  let result = size <= 3
    ? Number(difficulty) * 2 ** (8 * (3 - size))
    : Number(difficulty >> BigInt(8 * (size - 3)));
  if ((result & 0x00800000) !== 0) {
    result >>>= 8;
    size++;
  }
  if (size > 0xFF) {
    throw new RangeError(`Cannot encode bits: difficulty ${difficulty} is too large`);
  }
  return (size * 0x1000000 + result) >>> 0;
}

/**
 * The target for a difficulty: floor((2^192 − 1) / difficulty).
 *
 * @example Usage
 * ```ts
 * import { difficultyToTarget } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(difficultyToTarget(256n), (1n << 184n) - 1n);
 * ```
 *
 * @param difficulty Difficulty ≥ 1.
 * @returns The target (0 when difficulty > 2^192 − 1).
 * @throws {TypeError} When `difficulty` is not a bigint.
 * @throws {RangeError} When `difficulty` < 1.
 */
export function difficultyToTarget(difficulty: bigint): bigint {
  checkBigInt(difficulty, "difficulty", "compute target");
  if (difficulty < 1n) {
    throw new RangeError(`Cannot compute target: difficulty ${difficulty} is below 1`);
  }
  return MAX_TARGET / difficulty;
}

/**
 * The difficulty a target corresponds to: floor((2^192 − 1) / target).
 *
 * @example Usage
 * ```ts
 * import { targetToDifficulty } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(targetToDifficulty((1n << 168n) - 1n), 1n << 24n);
 * ```
 *
 * @param target Target in 1 .. 2^192 − 1.
 * @returns The difficulty.
 * @throws {TypeError} When `target` is not a bigint.
 * @throws {RangeError} When `target` is out of range.
 */
export function targetToDifficulty(target: bigint): bigint {
  checkBigInt(target, "target", "compute difficulty");
  if (target < 1n || target > MAX_TARGET) {
    throw new RangeError(`Cannot compute difficulty: target ${target} is not in 1..2^192-1`);
  }
  return MAX_TARGET / target;
}

/**
 * Read a hash as a big-endian unsigned integer (NodeCore's `new BigInteger(hex, 16)`).
 *
 * @example Usage
 * ```ts
 * import { hashToBigInt } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(hashToBigInt(new Uint8Array([1, 0])), 256n);
 * ```
 *
 * @param hash Bytes of any length.
 * @returns The big-endian value.
 * @throws {TypeError} When `hash` is not a `Uint8Array`.
 */
export function hashToBigInt(hash: Uint8Array): bigint {
  if (!(hash instanceof Uint8Array)) {
    throw new TypeError("Cannot read hash: not a Uint8Array");
  }
  // Whole 8-byte words through DataView (a few bigint operations per word instead of a few per
  // byte: this runs once per submitted share), then the remaining bytes one by one.
  const view = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  const words = hash.length >> 3;
  let value = 0n;
  for (let i = 0; i < words; i++) value = (value << 64n) | view.getBigUint64(8 * i);
  for (let k = 8 * words; k < hash.length; k++) value = (value << 8n) | BigInt(hash[k]!);
  return value;
}

/**
 * The difficulty a hash achieves: floor((2^192 − 1) / hash), or 2^192 − 1 for a zero hash.
 * For statistics (best share, luck); share and block decisions use {@linkcode meetsTarget}.
 *
 * @example Usage
 * ```ts
 * import { hashDifficulty } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * const hash = new Uint8Array(24);
 * hash[1] = 1; // 0x0001 followed by zeros = 2^176
 * assert.equal(hashDifficulty(hash), 65535n);
 * ```
 *
 * @param hash The 24-byte vBlake hash.
 * @returns The achieved difficulty.
 * @throws {TypeError} When `hash` is not a `Uint8Array`.
 * @throws {RangeError} When `hash` is not 24 bytes.
 */
export function hashDifficulty(hash: Uint8Array): bigint {
  checkHash(hash, "compute hash difficulty");
  const value = hashToBigInt(hash);
  return value === 0n ? MAX_TARGET : MAX_TARGET / value;
}

function checkHash(hash: unknown, action: string): asserts hash is Uint8Array {
  if (!(hash instanceof Uint8Array)) throw new TypeError(`Cannot ${action}: not a Uint8Array`);
  if (hash.length !== VBLAKE_SIZE) {
    throw new RangeError(`Cannot ${action}: expected 24 bytes, got ${hash.length}`);
  }
}

/**
 * Encode a target as 24 big-endian bytes (UCP `mining_target`).
 *
 * @example Usage
 * ```ts
 * import { targetToBytes } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(targetToBytes(255n)[23], 255);
 * ```
 *
 * @param target Target in 0 .. 2^192 − 1.
 * @returns 24 bytes.
 * @throws {TypeError} When `target` is not a bigint.
 * @throws {RangeError} When `target` is out of range.
 */
export function targetToBytes(target: bigint): Uint8Array {
  checkBigInt(target, "target", "encode target");
  if (target < 0n || target > MAX_TARGET) {
    throw new RangeError(`Cannot encode target: ${target} is not in 0..2^192-1`);
  }
  const out = new Uint8Array(24);
  let rest = target;
  for (let i = 23; i >= 0 && rest > 0n; i--) {
    out[i] = Number(rest & 0xFFn);
    rest >>= 8n;
  }
  return out;
}

/**
 * Decode 24 big-endian bytes into a target.
 *
 * @example Usage
 * ```ts
 * import { bytesToTarget, MAX_TARGET } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(bytesToTarget(new Uint8Array(24).fill(255)), MAX_TARGET);
 * ```
 *
 * @param bytes 24 bytes.
 * @returns The target.
 * @throws {TypeError} When `bytes` is not a `Uint8Array`.
 * @throws {RangeError} When `bytes` is not 24 bytes.
 */
export function bytesToTarget(bytes: Uint8Array): bigint {
  checkHash(bytes, "decode target");
  return hashToBigInt(bytes);
}

/**
 * Whether a hash meets a target: hash (big-endian) < target, strictly (NodeCore semantics).
 *
 * @example Usage
 * ```ts
 * import { difficultyToTarget, meetsTarget } from "./difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * const hash = new Uint8Array(24).fill(0x11);
 * hash[0] = 0;
 * assert.equal(meetsTarget(hash, difficultyToTarget(256n)), true);
 * assert.equal(meetsTarget(hash, difficultyToTarget(65536n)), false);
 * ```
 *
 * @param hash The 24-byte vBlake hash.
 * @param target The target (any bigint; ≤ 0 is never met).
 * @returns `true` when hash < target.
 * @throws {TypeError} When the arguments have the wrong types.
 * @throws {RangeError} When `hash` is not 24 bytes.
 */
export function meetsTarget(hash: Uint8Array, target: bigint): boolean {
  checkHash(hash, "compare hash");
  checkBigInt(target, "target", "compare hash");
  return hashToBigInt(hash) < target;
}
