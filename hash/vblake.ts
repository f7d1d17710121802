/**
 * vBlake, the VeriBlock PoW hash (spec §4): a one-block modified BLAKE2b with 16 rounds,
 * round constants, rotations 60/43/5/18, a final `d = ~d` per G and a 3-way fold to 24 bytes.
 *
 * This is the readable reference in plain TypeScript. 64-bit words are kept as pairs of
 * 32-bit limbs (low, high) in an `Int32Array`; the 16 rounds run as a loop over an unrolled
 * G. It is fast enough for share verification (about 0.2–0.3 MH/s); miners use the
 * WebAssembly kernel in `kernel.ts`.
 *
 * @module
 */

import {
  VBLAKE_C as C,
  VBLAKE_H_INIT as H_INIT,
  VBLAKE_SIGMA as SIGMA,
  VBLAKE_V_INIT as V_INIT,
} from "./vblake_constants.ts";

/** vBlake's output length in bytes. */
export const VBLAKE_SIZE = 24;

/** vBlake's block (and header) length in bytes. */
export const VBLAKE_BLOCK_SIZE = 64;

const MASK32 = 0xFFFFFFFFn;
const TWO32 = 4294967296;

function limbs(words: readonly bigint[]): Int32Array {
  const out = new Int32Array(words.length * 2);
  words.forEach((w, i) => {
    out[2 * i] = Number(w & MASK32) | 0;
    out[2 * i + 1] = Number((w >> 32n) & MASK32) | 0;
  });
  return out;
}

const C_LIMBS = limbs(C);
const H_LIMBS = limbs(H_INIT);
const V_LIMBS = limbs(V_INIT);

/** Sigma for all 16 rounds, flattened, as limb offsets (word index × 2). */
const SIGMA_OFFSETS = Uint8Array.from(
  { length: 16 * 16 },
  (_, i) => SIGMA[Math.floor(i / 16) % 10]![i % 16]! * 2,
);

// Scratch state, reused by every call (the function is synchronous and not re-entrant).
const v = new Int32Array(32);
const mc = new Int32Array(32);

/**
 * One G call on limb offsets a, b, c, d, with message words x (used first) and y.
 * Rotations: rotr 60 = rotl 4; rotr 43 = swap halves then rotr 11; rotr 5; rotr 18.
 */
function g(
  a: number,
  b: number,
  c: number,
  d: number,
  xl: number,
  xh: number,
  yl: number,
  yh: number,
): void {
  let al = v[a]!, ah = v[a + 1]!;
  let bl = v[b]!, bh = v[b + 1]!;
  let cl = v[c]!, ch = v[c + 1]!;
  let dl = v[d]!, dh = v[d + 1]!;
  let lo: number, tl: number, th: number;

  // a = a + b + x
  lo = (al >>> 0) + (bl >>> 0) + (xl >>> 0);
  ah = (ah + bh + xh + ((lo / TWO32) | 0)) | 0;
  al = lo | 0;
  // d = rotr(d ^ a, 60)
  tl = dl ^ al;
  th = dh ^ ah;
  dl = (tl << 4) | (th >>> 28);
  dh = (th << 4) | (tl >>> 28);
  // c = c + d
  lo = (cl >>> 0) + (dl >>> 0);
  ch = (ch + dh + ((lo / TWO32) | 0)) | 0;
  cl = lo | 0;
  // b = rotr(b ^ c, 43)
  tl = bl ^ cl;
  th = bh ^ ch;
  bl = (th >>> 11) | (tl << 21);
  bh = (tl >>> 11) | (th << 21);
  // a = a + b + y
  lo = (al >>> 0) + (bl >>> 0) + (yl >>> 0);
  ah = (ah + bh + yh + ((lo / TWO32) | 0)) | 0;
  al = lo | 0;
  // d = rotr(d ^ a, 5)
  tl = dl ^ al;
  th = dh ^ ah;
  dl = (tl >>> 5) | (th << 27);
  dh = (th >>> 5) | (tl << 27);
  // c = c + d
  lo = (cl >>> 0) + (dl >>> 0);
  ch = (ch + dh + ((lo / TWO32) | 0)) | 0;
  cl = lo | 0;
  // b = rotr(b ^ c, 18)
  tl = bl ^ cl;
  th = bh ^ ch;
  bl = (tl >>> 18) | (th << 14);
  bh = (th >>> 18) | (tl << 14);
  // d ^= XNOR3(a, b, c) ^ XOR3(a, b, c), which is d = ~d
  v[a] = al;
  v[a + 1] = ah;
  v[b] = bl;
  v[b + 1] = bh;
  v[c] = cl;
  v[c + 1] = ch;
  v[d] = ~dl;
  v[d + 1] = ~dh;
}

/** Hash the 64-byte block `block` (already padded) into `out` at offset 0. */
function compress(block: Uint8Array, out: Uint8Array): void {
  // m[i] = LE uint64 of bytes 8i..8i+7; m[8..15] = 0, so mc = m ^ C.
  for (let i = 0; i < 16; i++) {
    const p = i * 4;
    const word = block[p]! | (block[p + 1]! << 8) | (block[p + 2]! << 16) | (block[p + 3]! << 24);
    mc[i] = word ^ C_LIMBS[i]!;
  }
  for (let i = 16; i < 32; i++) mc[i] = C_LIMBS[i]!;
  v.set(V_LIMBS);
  for (let r = 0; r < 16; r++) {
    const s = r * 16;
    let x = SIGMA_OFFSETS[s + 1]!, y = SIGMA_OFFSETS[s]!;
    g(0, 8, 16, 24, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
    x = SIGMA_OFFSETS[s + 3]!, y = SIGMA_OFFSETS[s + 2]!;
    g(2, 10, 18, 26, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
    x = SIGMA_OFFSETS[s + 5]!, y = SIGMA_OFFSETS[s + 4]!;
    g(4, 12, 20, 28, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
    x = SIGMA_OFFSETS[s + 7]!, y = SIGMA_OFFSETS[s + 6]!;
    g(6, 14, 22, 30, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
    x = SIGMA_OFFSETS[s + 9]!, y = SIGMA_OFFSETS[s + 8]!;
    g(0, 10, 20, 30, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
    x = SIGMA_OFFSETS[s + 11]!, y = SIGMA_OFFSETS[s + 10]!;
    g(2, 12, 22, 24, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
    x = SIGMA_OFFSETS[s + 13]!, y = SIGMA_OFFSETS[s + 12]!;
    g(4, 14, 16, 26, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
    x = SIGMA_OFFSETS[s + 15]!, y = SIGMA_OFFSETS[s + 14]!;
    g(6, 8, 18, 28, mc[x]!, mc[x + 1]!, mc[y]!, mc[y + 1]!);
  }
  // h[i] = H[i] ^ v[i] ^ v[i + 8] (limb offsets: i, i + 16), then fold to three words.
  for (let word = 0; word < 3; word++) {
    for (let half = 0; half < 2; half++) {
      let acc = 0;
      for (let i = word; i < 8; i += 3) {
        const k = 2 * i + half;
        acc ^= H_LIMBS[k]! ^ v[k]! ^ v[k + 16]!;
      }
      const p = word * 8 + half * 4;
      out[p] = acc;
      out[p + 1] = acc >>> 8;
      out[p + 2] = acc >>> 16;
      out[p + 3] = acc >>> 24;
    }
  }
}

/**
 * Hash a 64-byte block header with vBlake.
 *
 * @example Usage
 * ```ts
 * import { vblake } from "./vblake.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   bytesToHex(vblake(new Uint8Array(64)), { upper: true }),
 *   "235FCE01D9434261188E046AE97ACA9EDC8530AE042B586C",
 * );
 * ```
 *
 * @param header Exactly 64 bytes.
 * @returns The 24-byte hash, in output byte order (compare it big-endian).
 * @throws {TypeError} When `header` is not a `Uint8Array`.
 * @throws {RangeError} When `header` is not 64 bytes long.
 */
export function vblake(header: Uint8Array): Uint8Array {
  if (!(header instanceof Uint8Array)) {
    throw new TypeError("Cannot hash header: not a Uint8Array");
  }
  if (header.length !== VBLAKE_BLOCK_SIZE) {
    throw new RangeError(`Cannot hash header: expected 64 bytes, got ${header.length}`);
  }
  const out = new Uint8Array(VBLAKE_SIZE);
  compress(header, out);
  return out;
}

/**
 * Hash up to 64 bytes with vBlake after zero-padding them to 64 (the Java/C++ reference
 * behaviour: "", "00" and 64 zero bytes all hash the same). Block headers should use
 * {@linkcode vblake}, which demands exactly 64 bytes.
 *
 * @example Usage
 * ```ts
 * import { vblakePadded } from "./vblake.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   bytesToHex(vblakePadded(new TextEncoder().encode("a")), { upper: true }),
 *   "A2EEF086BF12745D3938C6B38AEFCB70AECF84AB79213851",
 * );
 * ```
 *
 * @param input At most 64 bytes.
 * @returns The 24-byte hash.
 * @throws {TypeError} When `input` is not a `Uint8Array`.
 * @throws {RangeError} When `input` is longer than 64 bytes.
 */
export function vblakePadded(input: Uint8Array): Uint8Array {
  if (!(input instanceof Uint8Array)) {
    throw new TypeError("Cannot hash input: not a Uint8Array");
  }
  if (input.length > VBLAKE_BLOCK_SIZE) {
    throw new RangeError(`Cannot hash input: at most 64 bytes, got ${input.length}`);
  }
  const block = new Uint8Array(VBLAKE_BLOCK_SIZE);
  block.set(input);
  const out = new Uint8Array(VBLAKE_SIZE);
  compress(block, out);
  return out;
}
