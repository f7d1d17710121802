/**
 * The G calls of vBlake's 16 rounds as one list, and one G call on a BigInt state: shared by
 * the host's midstate (`_params.ts`, the first {@linkcode HOST_G_CALLS} calls) and the WGSL
 * emitter (`vblake_wgsl.ts`, every call after them), so both split the work at the same place.
 *
 * @module
 */

import {
  VBLAKE_G_INDICES as G_INDICES,
  VBLAKE_ROTATIONS as ROTATIONS,
  VBLAKE_ROUNDS as ROUNDS,
  VBLAKE_SIGMA as SIGMA,
} from "../../hash/mod.ts";

/**
 * How many G calls the host runs (the first three column G calls of round 0: they read only
 * m[0..5], spec §4.5); the shader starts at the next one. Their state words are
 * `MID_STATE_ORDER` in `_layout.ts`.
 */
export const HOST_G_CALLS = 3;

/** All G calls of a hash. */
export const G_CALLS: number = ROUNDS * 8;

/** One G call: its round, its place in the round, its state indices and message words. */
export interface GStep {
  /** Round, 0..15. */
  round: number;
  /** Index within the round, 0..7 (columns, then diagonals). */
  j: number;
  /** State indices a, b, c, d. */
  a: number;
  b: number;
  c: number;
  d: number;
  /** Index of the message word added first (sigma[2j + 1]). */
  x: number;
  /** Index of the message word added second (sigma[2j]). */
  y: number;
}

/**
 * The G calls `first .. end - 1` of a hash, in order (call k is G number k mod 8 of round
 * k / 8).
 *
 * @param first First call.
 * @param end One past the last call.
 * @returns The calls.
 */
export function gSteps(first: number, end: number = G_CALLS): GStep[] {
  const steps: GStep[] = [];
  for (let k = first; k < end; k++) {
    const round = Math.floor(k / 8), j = k % 8;
    const sigma = SIGMA[round % 10]!;
    const [a, b, c, d] = G_INDICES[j]!;
    steps.push({ round, j, a, b, c, d, x: sigma[2 * j + 1]!, y: sigma[2 * j]! });
  }
  return steps;
}

const MASK64 = (1n << 64n) - 1n;

function rotr(x: bigint, n: number): bigint {
  const b = BigInt(n);
  return ((x >> b) | (x << (64n - b))) & MASK64;
}

/**
 * Run one G call on a BigInt state (the same steps as the shader and `hash/vblake.ts`).
 *
 * @param v The 16 state words, updated.
 * @param step The call.
 * @param mc The 16 message words m[i] ^ C[i].
 */
export function applyG(v: bigint[], step: GStep, mc: readonly bigint[]): void {
  const { a, b, c, d } = step;
  const [r1, r2, r3, r4] = ROTATIONS;
  v[a] = (v[a]! + v[b]! + mc[step.x]!) & MASK64;
  v[d] = rotr(v[d]! ^ v[a]!, r1);
  v[c] = (v[c]! + v[d]!) & MASK64;
  v[b] = rotr(v[b]! ^ v[c]!, r2);
  v[a] = (v[a]! + v[b]! + mc[step.y]!) & MASK64;
  v[d] = rotr(v[d]! ^ v[a]!, r3);
  v[c] = (v[c]! + v[d]!) & MASK64;
  v[b] = rotr(v[b]! ^ v[c]!, r4);
  v[d] = ~v[d]! & MASK64;
}
