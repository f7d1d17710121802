/**
 * Linear-memory layout of the vBlake WebAssembly module, shared by the emitter
 * (`_wasm_gen/vblake_emitter.ts`) and the loader (`kernel.ts`). One 64 KiB page.
 *
 * @module
 */

/** 64-byte header input of `hash` and header template of `scan` (nonce bytes 60..63 ignored). */
export const HEADER_OFFSET = 0;
/** 24-byte big-endian share target read by `scan`. */
export const TARGET_OFFSET = 64;
/** 24-byte hash output written by `hash`. */
export const HASH_OFFSET = 96;
/** uint32: how many nonces the last `scan` tried, written by `scan`. */
export const TRIED_OFFSET = 128;
/** uint32 array of found nonces written by `scan`. */
export const RESULTS_OFFSET = 256;
/** Pages of linear memory (fixed; the module never grows it). */
export const MEMORY_PAGES = 1;
/** Capacity of the results area, in nonces. */
export const MAX_RESULTS = (MEMORY_PAGES * 65536 - RESULTS_OFFSET) / 4;
