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

/** Pages of linear memory of the SIMD module (fixed): the scan areas above, then the batch. */
export const SIMD_MEMORY_PAGES = 2;
/** Most headers one SIMD `hash()` call hashes (one per lane of an iteration). */
export const SIMD_MAX_LANES = 8;
/** SIMD module: 64-byte headers hashed together by `hash()`, one per lane. */
export const BATCH_HEADERS_OFFSET = 65536;
/** SIMD module: 24-byte hashes written by `hash()`, one per lane, 32 bytes apart. */
export const BATCH_HASHES_OFFSET = BATCH_HEADERS_OFFSET + 64 * SIMD_MAX_LANES;
/** Stride of the batch hash slots. */
export const BATCH_HASH_STRIDE = 32;
