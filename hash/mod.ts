/**
 * vBlake-era VeriBlock hashing: the vBlake hash (TypeScript reference and a generated
 * WebAssembly kernel) and its constants, the 64-byte header, the merkle root with its
 * extranonce and its SHA-256 (a generated WebAssembly module), compact difficulty and targets,
 * addresses, and chain-file verification.
 *
 * Import rule: pure. No I/O, no timers, no `Deno.*`; imports nothing of ours (only
 * `@noble/hashes`). `protocol/` may import it. The build tool `_wasm_gen/build.ts` is not
 * part of this face.
 *
 * @example Usage
 * ```ts
 * import { createBestKernel, decodeBits, difficultyToTarget, hexToBytes, meetsTarget } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const header = hexToBytes(
 *   "00030D6A0002DA149D19CF02C44F1F38B6B42C6AC30C4A2397F20808E72F55ED46C78547DEF69BF95287C722964606EFFAF0C24B5CFC92AD0702388D458EA6E0",
 * );
 * const hash = createBestKernel().hash(header);
 * assert.equal(meetsTarget(hash, difficultyToTarget(decodeBits(0x0702388D))), true);
 * ```
 *
 * @module
 */

export * from "./address.ts";
export * from "./base58.ts";
export * from "./chain.ts";
export * from "./difficulty.ts";
export * from "./header.ts";
export * from "./hex.ts";
export * from "./kernel.ts";
export * from "./merkle.ts";
export * from "./sha256.ts";
export * from "./vblake.ts";
export * from "./vblake_constants.ts";
