/**
 * Private: fixed-width hex <-> unsigned integers without regexes or intermediate arrays, for
 * the per-share paths (submit parsing, notify encoding).
 *
 * @module
 */

/** Nibble value per char code (0..127); -1 for non-hex. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[0x30 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[0x41 + i] = 10 + i;
  NIBBLE[0x61 + i] = 10 + i;
}

/**
 * Parse `text.slice(start, start + 8)` as a big-endian uint32.
 *
 * @param text Hex text (either case).
 * @param start First char index.
 * @returns The value, or -1 when a char is not hex or the text is too short.
 */
export function hex8ToUint32(text: string, start = 0): number {
  if (text.length < start + 8) return -1;
  let v = 0;
  for (let i = start; i < start + 8; i++) {
    const c = text.charCodeAt(i);
    const n = c < 128 ? NIBBLE[c]! : -1;
    if (n < 0) return -1;
    v = (v << 4) | n;
  }
  return v >>> 0;
}

/**
 * Parse hex text of at most 8 chars (any length 1..8) as an unsigned integer.
 *
 * @param text Hex text (either case).
 * @returns The value, or -1 when empty, too long or not hex.
 */
export function hexToUint(text: string): number {
  if (text.length === 0 || text.length > 8) return -1;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const n = c < 128 ? NIBBLE[c]! : -1;
    if (n < 0) return -1;
    v = v * 16 + n;
  }
  return v;
}

/**
 * Parse exactly 16 hex chars as a big-endian unsigned 64-bit integer.
 *
 * @param text Hex text (either case) of length 16.
 * @returns The value, or `undefined` when not 16 hex chars.
 */
export function hex16ToUint64(text: string): bigint | undefined {
  if (text.length !== 16) return undefined;
  const hi = hex8ToUint32(text, 0);
  const lo = hex8ToUint32(text, 8);
  if (hi < 0 || lo < 0) return undefined;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * Format an unsigned integer as lower-case hex, zero-padded to `width` chars.
 *
 * @param value Integer in 0..16^width-1 (width at most 8).
 * @param width Number of hex chars.
 * @returns The padded hex text.
 */
export function uintToHex(value: number, width: number): string {
  return value.toString(16).padStart(width, "0");
}
