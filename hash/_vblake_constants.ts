/**
 * vBlake constants (spec §4.2): IV, round constants, sigma, the initial chaining value and the
 * initial working state. Shared by the TypeScript reference and the WebAssembly emitter.
 *
 * @module
 */

/** vBlake's "bias-free" IV (8 × 64-bit). */
export const IV: readonly bigint[] = [
  0x4BBF42C1F006AD9Dn,
  0x5D11A8C3B5AEB12En,
  0xA64AB78DC2774652n,
  0xC67595724658F253n,
  0xB8864E79CB891E56n,
  0x12ED593E29FB41A1n,
  0xB1DA3AB63C60BAA8n,
  0x6D20E50C1F954DEDn,
];

/** Round constants C[0..15], XORed onto the message words. */
export const C: readonly bigint[] = [
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
];

/** The 10 BLAKE2b sigma rows; round r uses row r mod 10. */
export const SIGMA: readonly (readonly number[])[] = [
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
];

/** Number of rounds. */
export const ROUNDS = 16;

/** G's rotations (right), in order. */
export const ROTATIONS: readonly number[] = [60, 43, 5, 18];

/** The (a, b, c, d) state indices of the 8 G calls of a round: 4 columns, then 4 diagonals. */
export const G_INDICES: readonly (readonly [number, number, number, number])[] = [
  [0, 4, 8, 12],
  [1, 5, 9, 13],
  [2, 6, 10, 14],
  [3, 7, 11, 15],
  [0, 5, 10, 15],
  [1, 6, 11, 12],
  [2, 7, 8, 13],
  [3, 4, 9, 14],
];

const MASK64 = (1n << 64n) - 1n;

/** Chaining value h[0..7]: IV with the parameter block (digest length 24, fanout 1, depth 1). */
export const H_INIT: readonly bigint[] = IV.map((x, i) => i === 0 ? x ^ 0x01010018n : x);

/** Initial working state v[0..15]: h, IV, counter 64 in v[12], final flag in v[14]. */
export const V_INIT: readonly bigint[] = [
  ...H_INIT,
  ...IV.map((x, i) => i === 4 ? x ^ 64n : i === 6 ? x ^ MASK64 : x),
];
