/**
 * The host side of the shader's parameter block (layout in `_layout.ts`): the message words
 * m[i] ^ C[i], the round-0 midstate of the first three column G calls (they read only
 * m[0..5], spec §4.5), the target's big-endian words, the first nonce and the count. Pure.
 *
 * @module
 */

import {
  VBLAKE_C as C,
  VBLAKE_G_INDICES as G_INDICES,
  VBLAKE_ROTATIONS as ROTATIONS,
  VBLAKE_SIGMA as SIGMA,
  VBLAKE_V_INIT as V_INIT,
} from "../../hash/mod.ts";
import {
  MID_STATE_ORDER,
  PARAM_BASE,
  PARAM_COUNT,
  PARAM_MID,
  PARAM_MSG,
  PARAM_TARGET,
  PARAM_WORDS,
} from "./_layout.ts";

const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xFFFFFFFFn;

function rotr(x: bigint, n: number): bigint {
  const b = BigInt(n);
  return ((x >> b) | (x << (64n - b))) & MASK64;
}

/** One G call on a BigInt state (the same steps as the shader and hash/vblake.ts). */
function g(v: bigint[], j: number, x: bigint, y: bigint): void {
  const [a, b, c, d] = G_INDICES[j]!;
  const [r1, r2, r3, r4] = ROTATIONS;
  v[a] = (v[a]! + v[b]! + x) & MASK64;
  v[d] = rotr(v[d]! ^ v[a]!, r1);
  v[c] = (v[c]! + v[d]!) & MASK64;
  v[b] = rotr(v[b]! ^ v[c]!, r2);
  v[a] = (v[a]! + v[b]! + y) & MASK64;
  v[d] = rotr(v[d]! ^ v[a]!, r3);
  v[c] = (v[c]! + v[d]!) & MASK64;
  v[b] = rotr(v[b]! ^ v[c]!, r4);
  v[d] = ~v[d]! & MASK64;
}

/**
 * Fill the parameter block for a header template (bytes 60..63, the nonce, are ignored).
 *
 * @param out PARAM_WORDS words, overwritten.
 * @param header 64-byte header template.
 * @param target 24-byte big-endian target.
 * @param range First nonce and count of the dispatch.
 */
export function encodeParams(
  out: Uint32Array,
  header: Uint8Array,
  target: Uint8Array,
  range: { base: number; count: number },
): void {
  if (out.length !== PARAM_WORDS) throw new RangeError("Cannot encode params: wrong length");
  const view = new DataView(header.buffer, header.byteOffset, 64);
  const mc: bigint[] = [];
  for (let i = 0; i < 8; i++) {
    const lo = BigInt(view.getUint32(8 * i, true));
    const hi = i === 7 ? 0n : BigInt(view.getUint32(8 * i + 4, true));
    mc.push(((hi << 32n) | lo) ^ C[i]!);
  }
  const v = [...V_INIT];
  const sigma = SIGMA[0]!;
  for (let j = 0; j < 3; j++) g(v, j, mc[sigma[2 * j + 1]!]!, mc[sigma[2 * j]!]!);
  MID_STATE_ORDER.forEach((s, k) => {
    out[PARAM_MID + 2 * k] = Number(v[s]! & MASK32);
    out[PARAM_MID + 2 * k + 1] = Number(v[s]! >> 32n);
  });
  mc.forEach((w, i) => {
    out[PARAM_MSG + 2 * i] = Number(w & MASK32);
    out[PARAM_MSG + 2 * i + 1] = Number(w >> 32n);
  });
  const t = new DataView(target.buffer, target.byteOffset, 24);
  for (let j = 0; j < 6; j++) out[PARAM_TARGET + j] = t.getUint32(4 * j, false);
  out[PARAM_BASE] = range.base >>> 0;
  out[PARAM_COUNT] = range.count >>> 0;
}
