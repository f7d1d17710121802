/**
 * VBK amounts: atomic units (1 VBK = 10^8) held as `bigint`, parsed from and formatted to
 * decimal VBK text exactly (never through a floating-point number).
 *
 * @module
 */

/** Atomic units in one VBK (NodeCore's `Coin.COIN_VALUE`). */
export const ATOMIC_PER_VBK = 100_000_000n;

/** Largest amount a NodeCore int64 field holds. */
export const MAX_ATOMIC = (1n << 63n) - 1n;

/**
 * Parse a VBK amount written in decimal ("12", "0.5", "1.00000001") into atomic units.
 *
 * @example Usage
 * ```ts
 * import { parseVbk } from "./amount.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseVbk("1.5"), 150_000_000n);
 * assert.equal(parseVbk("0.00000001"), 1n);
 * assert.throws(() => parseVbk("0.000000001"), RangeError);
 * ```
 *
 * @param text Decimal VBK, at most 8 fractional digits, not negative.
 * @returns Atomic units.
 * @throws {SyntaxError} When the text is not a plain decimal number.
 * @throws {RangeError} When it has more than 8 decimals or does not fit in 63 bits.
 */
export function parseVbk(text: string): bigint {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot parse VBK amount: expected a string, got ${typeof text}`);
  }
  const m = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(text);
  if (m === null || (m[1] === undefined)) {
    throw new SyntaxError(
      `Cannot parse VBK amount: ${JSON.stringify(text)} is not a decimal number`,
    );
  }
  const fraction = m[2] ?? "";
  if (fraction.length > 8) {
    throw new RangeError(
      `Cannot parse VBK amount: ${JSON.stringify(text)} has more than 8 decimals`,
    );
  }
  const atomic = BigInt(m[1]) * ATOMIC_PER_VBK + BigInt(fraction.padEnd(8, "0"));
  if (atomic > MAX_ATOMIC) {
    throw new RangeError(`Cannot parse VBK amount: ${JSON.stringify(text)} is too large`);
  }
  return atomic;
}

/**
 * Format atomic units as decimal VBK, without trailing zeros.
 *
 * @example Usage
 * ```ts
 * import { formatVbk } from "./amount.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatVbk(150_000_000n), "1.5");
 * assert.equal(formatVbk(-1n), "-0.00000001");
 * assert.equal(formatVbk(0n), "0");
 * ```
 *
 * @param atomic Atomic units.
 * @returns Decimal VBK text.
 */
export function formatVbk(atomic: bigint): string {
  const negative = atomic < 0n;
  const abs = negative ? -atomic : atomic;
  const whole = abs / ATOMIC_PER_VBK;
  const fraction = (abs % ATOMIC_PER_VBK).toString().padStart(8, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction === "" ? "" : "." + fraction}`;
}
