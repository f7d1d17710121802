/**
 * Exact non-negative fractions of `bigint`s for PPLNS scores, windows and fee percentages.
 *
 * @module
 */

/** A fraction `num / den` with `den > 0`. */
export interface Fraction {
  /** Numerator. */
  num: bigint;
  /** Denominator (> 0). */
  den: bigint;
}

/** Greatest common divisor of two non-negative integers. */
export function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Least common multiple of two positive integers. */
export function lcm(a: bigint, b: bigint): bigint {
  return a / gcd(a, b) * b;
}

/**
 * The exact value of a decimal written as text or as a JavaScript number (read through its
 * shortest decimal form, so 2.1 means 21/10).
 *
 * @param value "1.5", 2, 0.25 …
 * @param what Name for messages.
 * @returns The reduced fraction.
 * @throws {RangeError} When negative, not finite or not a plain decimal.
 */
export function decimalFraction(value: string | number, what: string): Fraction {
  const text = typeof value === "number" ? numberText(value) : value.trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null) {
    throw new RangeError(
      `Cannot read ${what}: ${JSON.stringify(String(value))} is not a decimal >= 0`,
    );
  }
  const decimals = m[2] ?? "";
  const num = BigInt(m[1]! + decimals);
  const den = 10n ** BigInt(decimals.length);
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

function numberText(n: number): string {
  if (!Number.isFinite(n) || n < 0) return String(n);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  // Exponent form (tiny or huge): expand exactly from the shortest round-trip digits.
  const [mant, exp] = s.toLowerCase().split("e") as [string, string];
  const [int, frac = ""] = mant.split(".") as [string, string?];
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return "0." + "0".repeat(-point) + digits;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return digits.slice(0, point) + "." + digits.slice(point);
}
