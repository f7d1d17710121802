/**
 * Hex text <-> bytes, strict: even length, hex digits only, either case.
 *
 * @module
 */

const HEX_RE = /^[0-9a-fA-F]*$/;
const LOWER = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const UPPER = LOWER.map((s) => s.toUpperCase());

/** Options for {@linkcode hexToBytes}. */
export interface HexToBytesOptions {
  /** Required byte length; any other length throws. */
  length?: number;
  /** Field name used in error messages. @default "hex" */
  name?: string;
}

/**
 * Whether `text` is hex (either case) of exactly `bytes` bytes.
 *
 * @example Usage
 * ```ts
 * import { isHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isHex("0aFF", 2), true);
 * assert.equal(isHex("0aF", 2), false);
 * ```
 *
 * @param text Candidate text.
 * @param bytes Required byte length, or omit to accept any even length.
 * @returns `true` when the text is valid hex of that length.
 */
export function isHex(text: unknown, bytes?: number): text is string {
  if (typeof text !== "string" || text.length % 2 !== 0) return false;
  if (bytes !== undefined && text.length !== bytes * 2) return false;
  return HEX_RE.test(text);
}

/**
 * Decode hex text (either case) into bytes.
 *
 * @example Usage
 * ```ts
 * import { hexToBytes } from "./hex.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(hexToBytes("00ff"), new Uint8Array([0, 255]));
 * ```
 *
 * @param text Hex text.
 * @param options Optional required length and field name.
 * @returns The decoded bytes.
 * @throws {SyntaxError} When the text is not hex.
 * @throws {RangeError} When the length is odd or not the required one.
 */
export function hexToBytes(text: string, options: HexToBytesOptions = {}): Uint8Array {
  const { length, name = "hex" } = options;
  if (typeof text !== "string" || !HEX_RE.test(text)) {
    throw new SyntaxError(`Cannot decode ${name}: not hex`);
  }
  if (text.length % 2 !== 0) {
    throw new RangeError(`Cannot decode ${name}: odd length (${text.length})`);
  }
  if (length !== undefined && text.length !== length * 2) {
    throw new RangeError(
      `Cannot decode ${name}: expected ${length * 2} hex chars, got ${text.length}`,
    );
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.substr(i * 2, 2), 16);
  }
  return out;
}

/** Options for {@linkcode bytesToHex}. */
export interface BytesToHexOptions {
  /** Emit upper-case digits (NodeCore's style). @default false */
  upper?: boolean;
}

/**
 * Encode bytes as hex text.
 *
 * @example Usage
 * ```ts
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 * assert.equal(bytesToHex(new Uint8Array([0, 255]), { upper: true }), "00FF");
 * ```
 *
 * @param bytes Bytes to encode.
 * @param options Letter case.
 * @returns Hex text, two digits per byte.
 */
export function bytesToHex(bytes: Uint8Array, options: BytesToHexOptions = {}): string {
  const table = options.upper ? UPPER : LOWER;
  let s = "";
  for (const b of bytes) s += table[b];
  return s;
}
