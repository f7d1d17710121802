/**
 * Bitcoin Base58 (bitcoinj semantics): each leading zero byte becomes a leading '1'.
 * Used by VeriBlock addresses (spec §7).
 *
 * @module
 */

/** The Base58 alphabet; a digit's value is its index. */
export const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

const DIGIT = new Map<string, number>([...BASE58_ALPHABET].map((c, i) => [c, i]));

/**
 * The value (0..57) of one Base58 character, or -1 when it is not in the alphabet.
 *
 * @example Usage
 * ```ts
 * import { base58Digit } from "./base58.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(base58Digit("1"), 0);
 * assert.equal(base58Digit("z"), 57);
 * assert.equal(base58Digit("0"), -1);
 * ```
 *
 * @param char One character.
 * @returns Its digit value, or -1.
 */
export function base58Digit(char: string): number {
  return DIGIT.get(char) ?? -1;
}

/**
 * Encode bytes as Base58.
 *
 * @example Usage
 * ```ts
 * import { encodeBase58 } from "./base58.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeBase58(new Uint8Array([0, 0, 1])), "112");
 * assert.equal(encodeBase58(new TextEncoder().encode("hello world")), "StV1DL6CwTryKyV");
 * ```
 *
 * @param bytes Bytes to encode.
 * @returns Base58 text.
 * @throws {TypeError} When `bytes` is not a `Uint8Array`.
 */
export function encodeBase58(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("Cannot encode base58: not a Uint8Array");
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Repeated division of a base-256 number by 58, digits collected little-end first.
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    for (let k = 0; k < digits.length; k++) {
      carry += digits[k]! << 8;
      digits[k] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = "1".repeat(zeros);
  for (let k = digits.length - 1; k >= 0; k--) out += BASE58_ALPHABET[digits[k]!];
  return out;
}

/**
 * Decode Base58 text into bytes.
 *
 * @example Usage
 * ```ts
 * import { decodeBase58 } from "./base58.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeBase58("112"), new Uint8Array([0, 0, 1]));
 * ```
 *
 * @param text Base58 text.
 * @returns The bytes.
 * @throws {TypeError} When `text` is not a string.
 * @throws {SyntaxError} When `text` has a character outside the alphabet.
 */
export function decodeBase58(text: string): Uint8Array {
  if (typeof text !== "string") throw new TypeError("Cannot decode base58: not a string");
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  const bytes: number[] = []; // little-end first
  for (let i = zeros; i < text.length; i++) {
    let carry = base58Digit(text[i]!);
    if (carry < 0) {
      throw new SyntaxError(`Cannot decode base58: invalid character at ${i}`);
    }
    for (let k = 0; k < bytes.length; k++) {
      carry += bytes[k]! * 58;
      bytes[k] = carry & 0xFF;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xFF);
      carry >>= 8;
    }
  }
  const out = new Uint8Array(zeros + bytes.length);
  for (let k = 0; k < bytes.length; k++) out[out.length - 1 - k] = bytes[k]!;
  return out;
}
