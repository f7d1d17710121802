/**
 * Private: JSON parsing that keeps the source text of every number, and exact integer reading
 * of that text (for 64-bit values that must never pass through a JS `number`).
 *
 * Uses V8's JSON.parse source text access (`context.source` in the reviver). If a runtime
 * lacked it, numbers that are safe integers still work and all others are reported as lossy.
 *
 * @module
 */

/** A JSON number together with its exact source text. */
export class JsonNumber {
  /** The number as JS parsed it (may be rounded). */
  readonly value: number;
  /** The exact source text, or `undefined` when the runtime did not provide it. */
  readonly source: string | undefined;

  /**
   * Wrap a parsed number.
   *
   * @param value Parsed value.
   * @param source Raw text.
   */
  constructor(value: number, source: string | undefined) {
    this.value = value;
    this.source = source;
  }
}

type SourceReviver = (
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
) => unknown;

const parseWithReviver = JSON.parse as unknown as (text: string, reviver: SourceReviver) => unknown;

function keepSource(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number") return value;
  return new JsonNumber(value, context?.source);
}

/**
 * Parse JSON text, replacing every number with a {@linkcode JsonNumber}.
 *
 * @param text JSON text.
 * @returns The parsed value.
 * @throws {SyntaxError} When the text is not JSON.
 */
export function parseJsonKeepingNumbers(text: string): unknown {
  return parseWithReviver(text, keepSource);
}

const LEADING_ZEROS_RE = /^0+/;

/** Largest exponent magnitude considered; larger values are out of any range we accept. */
const MAX_EXPONENT = 400;

/**
 * The exact integer a JSON number denotes, or `undefined` when it is not an integer.
 *
 * Accepts any JSON number syntax ("-12", "1.0", "8.9e18"); "1.5" is not an integer. Numbers
 * of more than ~400 digits of magnitude are reported as `undefined` (callers range-check far
 * below that).
 *
 * @param num A parsed number.
 * @returns The exact integer, or `undefined`.
 */
export function jsonInteger(num: JsonNumber): bigint | undefined {
  const src = num.source;
  if (src === undefined) {
    return Number.isSafeInteger(num.value) ? BigInt(num.value) : undefined;
  }
  // Fast path: plain integer text.
  let i = src.charCodeAt(0) === 0x2d ? 1 : 0;
  let plain = src.length > i;
  for (let j = i; j < src.length; j++) {
    const c = src.charCodeAt(j);
    if (c < 0x30 || c > 0x39) {
      plain = false;
      break;
    }
  }
  if (plain) return BigInt(src);
  // General form: -?int(.frac)?([eE][+-]?exp)?
  const negative = i === 1;
  let intDigits = "";
  while (i < src.length && isDigit(src.charCodeAt(i))) intDigits += src[i++];
  let fracDigits = "";
  if (src[i] === ".") {
    i++;
    while (i < src.length && isDigit(src.charCodeAt(i))) fracDigits += src[i++];
  }
  let exponent = 0;
  if (src[i] === "e" || src[i] === "E") {
    i++;
    let expSign = 1;
    if (src[i] === "+" || src[i] === "-") expSign = src[i++] === "-" ? -1 : 1;
    let expDigits = "";
    while (i < src.length && isDigit(src.charCodeAt(i))) expDigits += src[i++];
    if (expDigits.length === 0 || expDigits.length > 6) return undefined;
    exponent = expSign * Number(expDigits);
  }
  if (i !== src.length || intDigits.length === 0) return undefined;
  const digits = (intDigits + fracDigits).replace(LEADING_ZEROS_RE, "");
  if (digits.length === 0) return 0n;
  const scale = exponent - fracDigits.length;
  if (digits.length + scale > MAX_EXPONENT) return undefined;
  let mantissa = BigInt(digits);
  if (scale >= 0) {
    mantissa *= 10n ** BigInt(scale);
  } else {
    if (-scale > MAX_EXPONENT + digits.length) return undefined;
    const div = 10n ** BigInt(-scale);
    if (mantissa % div !== 0n) return undefined;
    mantissa /= div;
  }
  return negative ? -mantissa : mantissa;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
