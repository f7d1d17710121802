/**
 * VeriBlock address validation (spec §7), for worker usernames.
 *
 * - Standard: 30 chars, `V` + 24 Base58 chars + a 5-char checksum, the first 5 Base58 chars
 *   of SHA-256 over the ASCII text of the first 25 chars.
 * - Multisig: 30 chars, `V`, the Base58 digits of m−1 and n−1 (2 ≤ n ≤ 58, 1 ≤ m ≤ n),
 *   22 chars, a 4-char checksum (same rule), then `0`. As '0' is not Base58 the two kinds never
 *   overlap. Unlike NodeCore's multisig check, the leading `V` is required here.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { base58Digit, encodeBase58 } from "./base58.ts";

/** Length of every VeriBlock address. */
export const ADDRESS_LENGTH = 30;

/** The result of {@linkcode validateAddress}. */
export type AddressValidation =
  | { valid: true; kind: "standard" | "multisig" }
  | { valid: false; reason: string };

function invalid(reason: string): AddressValidation {
  return { valid: false, reason };
}

function checksum(text: string, length: number): string {
  const ascii = new TextEncoder().encode(text.slice(0, 25));
  return encodeBase58(sha256(ascii)).slice(0, length);
}

/**
 * Validate a standard or multisig VeriBlock address.
 *
 * @example Usage
 * ```ts
 * import { validateAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(validateAddress("VFFDWUMLJwLRuNzH4NX8Rm32E59n6d"), {
 *   valid: true,
 *   kind: "standard",
 * });
 * assert.deepEqual(validateAddress("V23Cuyc34u5rdk9psJ86aFcwhB1md0"), {
 *   valid: true,
 *   kind: "multisig",
 * });
 * assert.equal(validateAddress("VFFDWUMLJwLRuNzH4NX8Rm32E59n6e").valid, false);
 * ```
 *
 * @param text Candidate address (any value is accepted; non-strings are invalid).
 * @returns `{ valid: true, kind }` or `{ valid: false, reason }`.
 */
export function validateAddress(text: string): AddressValidation {
  if (typeof text !== "string") return invalid("not a string");
  if (text.length !== ADDRESS_LENGTH) {
    return invalid(`length must be ${ADDRESS_LENGTH}, got ${text.length}`);
  }
  if (text[0] !== "V") return invalid("must start with 'V'");
  const multisig = text[ADDRESS_LENGTH - 1] === "0";
  const body = multisig ? text.slice(0, ADDRESS_LENGTH - 1) : text;
  for (let i = 0; i < body.length; i++) {
    if (base58Digit(body[i]!) < 0) {
      return invalid(`invalid character ${JSON.stringify(body[i])} at ${i}`);
    }
  }
  if (multisig) {
    const m = base58Digit(text[1]!) + 1;
    const n = base58Digit(text[2]!) + 1;
    if (n < 2) return invalid(`multisig n must be 2..58, got ${n}`);
    if (m > n) return invalid(`multisig m (${m}) exceeds n (${n})`);
    if (text.slice(25, 29) !== checksum(text, 4)) return invalid("checksum mismatch");
    return { valid: true, kind: "multisig" };
  }
  if (text.slice(25, 30) !== checksum(text, 5)) return invalid("checksum mismatch");
  return { valid: true, kind: "standard" };
}

/**
 * Whether `text` is a valid standard or multisig VeriBlock address.
 *
 * @example Usage
 * ```ts
 * import { isValidAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidAddress("V5Ujv72h4jEBcKnALGc4fKqs6CDAPX"), true);
 * assert.equal(isValidAddress("vFFDWUMLJwLRuNzH4NX8Rm32E59n6d"), false);
 * ```
 *
 * @param text Candidate address.
 * @returns `true` when valid.
 */
export function isValidAddress(text: string): boolean {
  return validateAddress(text).valid;
}
