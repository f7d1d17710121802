/**
 * The host side of the shader's parameter block (layout in `_layout.ts`): the message words
 * m[i] ^ C[i], the round-0 midstate of the first three column G calls (they read only
 * m[0..5], spec §4.5), the target's big-endian words, the first nonce and the count. Pure.
 *
 * @module
 */

import { VBLAKE_C as C, VBLAKE_V_INIT as V_INIT } from "../../hash/mod.ts";
import { applyG, gSteps, HOST_G_CALLS } from "./_g_steps.ts";
import {
  MID_STATE_ORDER,
  PARAM_BASE,
  PARAM_COUNT,
  PARAM_MID,
  PARAM_MSG,
  PARAM_TARGET,
  PARAM_WORDS,
} from "./_layout.ts";

const MASK32 = 0xFFFFFFFFn;

/** The G calls whose result is the midstate. */
const HOST_STEPS = gSteps(0, HOST_G_CALLS);

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
  for (const step of HOST_STEPS) applyG(v, step, mc);
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
