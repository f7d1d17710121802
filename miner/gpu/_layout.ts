/**
 * The parameter block shared by the WGSL emitter (`vblake_wgsl.ts`) and the host
 * (`_params.ts`, `gpu_kernel.ts`): one uniform buffer of u32 words, declared in WGSL as
 * `array<vec4<u32>, PARAM_VEC4S>`.
 *
 * @module
 */

/**
 * The state words v[s] the host precomputes (the first three column G calls of round 0 read
 * only m[0..5], spec §4.5), in parameter order; each is two words (low, high).
 */
export const MID_STATE_ORDER: readonly number[] = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14];

/** Word offset of the midstate (24 words). */
export const PARAM_MID = 0;
/** Word offset of mc[0..7] = m[i] ^ C[i] (16 words, low then high); mc[7].high lacks the nonce. */
export const PARAM_MSG = 24;
/** Word offset of the share target as 6 big-endian u32 words, most significant first. */
export const PARAM_TARGET = 40;
/** Word offset of the first nonce of the dispatch. */
export const PARAM_BASE = 46;
/** Word offset of the number of nonces in the dispatch. */
export const PARAM_COUNT = 47;
/** Total u32 words of the parameter block (a multiple of 4). */
export const PARAM_WORDS = 48;
/** The parameter block as vec4s. */
export const PARAM_VEC4S: number = PARAM_WORDS / 4;

/** Results buffer: word 0 counts finds (atomic; may pass the capacity), then the nonces. */
export const RESULT_CAPACITY = 1024;
/** Bytes of the results buffer. */
export const RESULT_BYTES: number = 4 * (1 + RESULT_CAPACITY);
/** u32 words per hash written by the debug entry point (LE words of h0, h1, h2). */
export const HASH_WORDS = 6;
