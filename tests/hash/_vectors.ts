/**
 * Test helpers for `hash/`: the shared vectors and chain fixtures, and a seeded PRNG.
 *
 * @module
 */

import vectorsJson from "../fixtures/vectors.json" with { type: "json" };

/** The parsed `tests/fixtures/vectors.json`. */
export const vectors = vectorsJson;

/**
 * Read a chain fixture file from `tests/fixtures/`.
 *
 * @param name File name.
 * @returns Its text.
 */
export function readChainFixture(name: string): Promise<string> {
  return Deno.readTextFile(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * A small seeded PRNG (mulberry32) so random tests are reproducible.
 *
 * @param seed 32-bit seed.
 * @returns A function returning uint32 values.
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6D2B79F5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * Fill `length` bytes from a PRNG.
 *
 * @param next The PRNG.
 * @param length Byte count.
 * @returns Random bytes.
 */
export function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xFF;
  return out;
}
