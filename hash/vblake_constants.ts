/**
 * vBlake constants (spec §4.2): the IV, the round constants C, the sigma schedule, the G
 * rotations and state indices, the initial chaining value and the initial working state.
 * Shared by the TypeScript reference, the WebAssembly emitters and the miner's WGSL shader
 * generator. Every array is frozen.
 *
 * @module
 */

/** Freeze an array of rows and every row. */
function freezeRows<Row extends readonly unknown[]>(rows: Row[]): readonly Readonly<Row>[] {
  for (const row of rows) Object.freeze(row);
  return Object.freeze(rows);
}

/**
 * vBlake's "bias-free" IV (8 × 64-bit).
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_IV } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(VBLAKE_IV.length, 8);
 * assert.equal(VBLAKE_IV[0], 0x4BBF42C1F006AD9Dn);
 * ```
 */
export const VBLAKE_IV: readonly bigint[] = Object.freeze([
  0x4BBF42C1F006AD9Dn,
  0x5D11A8C3B5AEB12En,
  0xA64AB78DC2774652n,
  0xC67595724658F253n,
  0xB8864E79CB891E56n,
  0x12ED593E29FB41A1n,
  0xB1DA3AB63C60BAA8n,
  0x6D20E50C1F954DEDn,
]);

/**
 * Round constants C[0..15], XORed onto the message words (the message word of index i in a
 * G call is m[i] ^ C[i]; a header's m[8..15] are zero, so those words are C[8..15] itself).
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_C } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(VBLAKE_C.length, 16);
 * assert.equal(VBLAKE_C[8], 0x531655D90C59EB1Bn);
 * ```
 */
export const VBLAKE_C: readonly bigint[] = Object.freeze([
  0xA51B6A89D489E800n,
  0xD35B2E0E0B723800n,
  0xA47B39A2AE9F9000n,
  0x0C0EFA33E77E6488n,
  0x4F452FEC309911EBn,
  0x3CFCC66F74E1022Cn,
  0x4606AD364DC879DDn,
  0xBBA055B53D47C800n,
  0x531655D90C59EB1Bn,
  0xD1A00BA6DAE5B800n,
  0x2FE452DA9632463En,
  0x98A7B5496226F800n,
  0xBAFCD004F92CA000n,
  0x64A39957839525E7n,
  0xD859E6F081AAE000n,
  0x63D980597B560E6Bn,
]);

/**
 * The 10 BLAKE2b sigma rows; round r uses row r mod 10, and G call j of a round takes the
 * message words of indices row[2j] and row[2j + 1].
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_ROUNDS, VBLAKE_SIGMA } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const lastRound = VBLAKE_SIGMA[(VBLAKE_ROUNDS - 1) % 10]!;
 * assert.deepEqual(lastRound.slice(0, 4), [2, 12, 6, 10]);
 * ```
 */
export const VBLAKE_SIGMA: readonly (readonly number[])[] = freezeRows([
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
]);

/**
 * Number of rounds.
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_ROUNDS } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(VBLAKE_ROUNDS, 16);
 * ```
 */
export const VBLAKE_ROUNDS = 16;

/**
 * G's right rotations, in order.
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_ROTATIONS } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(VBLAKE_ROTATIONS, [60, 43, 5, 18]);
 * ```
 */
export const VBLAKE_ROTATIONS: readonly [number, number, number, number] = Object.freeze(
  [60, 43, 5, 18] as const,
);

/**
 * The (a, b, c, d) state indices of the 8 G calls of a round: 4 columns, then 4 diagonals.
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_G_INDICES } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(VBLAKE_G_INDICES[4], [0, 5, 10, 15]); // the first diagonal
 * ```
 */
export const VBLAKE_G_INDICES: readonly (readonly [number, number, number, number])[] = freezeRows<
  [number, number, number, number]
>([
  [0, 4, 8, 12],
  [1, 5, 9, 13],
  [2, 6, 10, 14],
  [3, 7, 11, 15],
  [0, 5, 10, 15],
  [1, 6, 11, 12],
  [2, 7, 8, 13],
  [3, 4, 9, 14],
]);

const MASK64 = (1n << 64n) - 1n;

/**
 * Chaining value h[0..7]: the IV with the parameter block (digest length 24, fanout 1,
 * depth 1) XORed into h[0].
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_H_INIT, VBLAKE_IV } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(VBLAKE_H_INIT[0], VBLAKE_IV[0]! ^ 0x01010018n);
 * assert.deepEqual(VBLAKE_H_INIT.slice(1), VBLAKE_IV.slice(1));
 * ```
 */
export const VBLAKE_H_INIT: readonly bigint[] = Object.freeze(
  VBLAKE_IV.map((x, i) => i === 0 ? x ^ 0x01010018n : x),
);

/**
 * Initial working state v[0..15]: h[0..7], then the IV with the byte counter 64 in v[12]
 * and the final-block flag in v[14].
 *
 * @example Usage
 * ```ts
 * import { VBLAKE_IV, VBLAKE_V_INIT } from "./vblake_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(VBLAKE_V_INIT.length, 16);
 * assert.equal(VBLAKE_V_INIT[12], VBLAKE_IV[4]! ^ 64n);
 * assert.equal(VBLAKE_V_INIT[14], ~VBLAKE_IV[6]! & (2n ** 64n - 1n));
 * ```
 */
export const VBLAKE_V_INIT: readonly bigint[] = Object.freeze([
  ...VBLAKE_H_INIT,
  ...VBLAKE_IV.map((x, i) => i === 4 ? x ^ 64n : i === 6 ? x ^ MASK64 : x),
]);
