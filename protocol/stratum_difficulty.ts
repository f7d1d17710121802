/**
 * Client side: read the `mining.set_difficulty` value leniently into an exact integer.
 *
 * @module
 */

/**
 * Largest share difficulty accepted: 2^192 - 1 (share target = floor((2^192-1)/D) = 1).
 *
 * @example Usage
 * ```ts
 * import { MAX_STRATUM_DIFFICULTY } from "./stratum_difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_STRATUM_DIFFICULTY, 2n ** 192n - 1n);
 * ```
 */
export const MAX_STRATUM_DIFFICULTY: bigint = (1n << 192n) - 1n;

/** Result of {@linkcode parseDifficulty}. */
export type ParseDifficultyResult =
  | {
    ok: true;
    /** The difficulty, an integer in 1..{@linkcode MAX_STRATUM_DIFFICULTY}. */
    difficulty: bigint;
    /** True when the value was not an integer and was rounded up. */
    rounded: boolean;
  }
  | { ok: false; reason: string };

const DECIMAL_RE = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,6}))?$/;
const LEADING_ZEROS_RE = /^0+/;
const MAX_DIGITS = 58; // 2^192 has 58 decimal digits

/**
 * Read a difficulty sent as a JSON number or a decimal string: `1048576`, `"1048576"`,
 * `"524288.0"` (what the original server sends after vardiff), `"1.5e3"`.
 *
 * A fractional value is rounded **up** to the next integer (and at least 1), and `rounded` is
 * set: with the harder target every share the miner finds also meets the server's easier
 * one, so nothing is submitted that the server would reject. Zero, negative, non-numeric and
 * values above 2^192 - 1 are refused.
 *
 * @example Usage
 * ```ts
 * import { parseDifficulty } from "./stratum_difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseDifficulty("524288.0"), { ok: true, difficulty: 524288n, rounded: false });
 * assert.deepEqual(parseDifficulty("1234.7"), { ok: true, difficulty: 1235n, rounded: true });
 * assert.deepEqual(parseDifficulty(0.5), { ok: true, difficulty: 1n, rounded: true });
 * assert.equal(parseDifficulty("0").ok, false);
 * ```
 *
 * @param value The first param of `mining.set_difficulty`.
 * @returns The exact integer difficulty, or why it was refused.
 */
export function parseDifficulty(value: unknown): ParseDifficultyResult {
  if (typeof value === "number") return fromNumber(value);
  if (typeof value === "string") return fromString(value.trim());
  return { ok: false, reason: "difficulty must be a number or a decimal string" };
}

function fromNumber(n: number): ParseDifficultyResult {
  if (!Number.isFinite(n) || n <= 0) {
    return { ok: false, reason: "difficulty must be a positive finite number" };
  }
  const rounded = !Number.isInteger(n);
  return checkMax(BigInt(rounded ? Math.ceil(n) : n), rounded);
}

function fromString(text: string): ParseDifficultyResult {
  const m = DECIMAL_RE.exec(text);
  const intPart = m?.[1] ?? "";
  const fracPart = m?.[2] ?? "";
  if (m === null || (intPart.length === 0 && fracPart.length === 0)) {
    return { ok: false, reason: "difficulty must be a decimal number" };
  }
  const digits = (intPart + fracPart).replace(LEADING_ZEROS_RE, "");
  if (digits.length === 0) return { ok: false, reason: "difficulty must be positive" };
  const scale = Number(m[3] ?? "0") - fracPart.length;
  if (digits.length + scale > MAX_DIGITS) {
    return { ok: false, reason: "difficulty is above 2^192 - 1" };
  }
  const mantissa = BigInt(digits);
  if (scale >= 0) return checkMax(mantissa * 10n ** BigInt(scale), false);
  if (-scale > digits.length) return { ok: true, difficulty: 1n, rounded: true };
  const div = 10n ** BigInt(-scale);
  const quotient = mantissa / div;
  if (mantissa % div === 0n) return checkMax(quotient, false);
  return checkMax(quotient + 1n, true);
}

function checkMax(difficulty: bigint, rounded: boolean): ParseDifficultyResult {
  if (difficulty > MAX_STRATUM_DIFFICULTY) {
    return { ok: false, reason: "difficulty is above 2^192 - 1" };
  }
  return { ok: true, difficulty: difficulty < 1n ? 1n : difficulty, rounded };
}
