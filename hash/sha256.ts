/**
 * SHA-256 (FIPS 180-4) by a generated WebAssembly module (`_wasm_gen/sha256_emitter.ts`),
 * for the short messages of the merkle root: several times faster than `@noble/hashes` on
 * 40- and 64-byte inputs, mostly from less per-call overhead (see `bench/sha256_bench.ts`).
 * The module is compiled and instantiated once per thread, lazily and synchronously; where
 * WebAssembly is unavailable or fails, `@noble/hashes` computes the same digest.
 *
 * @module
 */

import { decodeBase64 } from "./_base64.ts";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import {
  CHUNK_BYTES,
  DIGEST_OFFSET,
  INPUT_OFFSET,
  ONESHOT_MAX_BYTES,
  SHA256_WASM_BASE64,
} from "./_sha256_wasm.ts";

/** Bytes of a SHA-256 digest. */
export const SHA256_SIZE = 32;

interface Sha256Exports {
  memory: WebAssembly.Memory;
  init(): void;
  update(blocks: number): void;
  final(len: number, bitsHi: number, bitsLo: number): void;
  hash(len: number): void;
}

interface Sha256Wasm {
  exports: Sha256Exports;
  /** The whole linear memory (fixed: one page, never grown, so the views stay valid). */
  memory: Uint8Array;
  /** The digest bytes in it. */
  digest: Uint8Array;
}

/** The instance, `null` once it failed (then noble hashes), `undefined` before the first use. */
let wasm: Sha256Wasm | null | undefined;

function load(): Sha256Wasm | null {
  try {
    if (typeof WebAssembly !== "object" || typeof WebAssembly.Module !== "function") return null;
    const module = new WebAssembly.Module(decodeBase64(SHA256_WASM_BASE64));
    const exports = new WebAssembly.Instance(module, {}).exports as unknown as Sha256Exports;
    const memory = new Uint8Array(exports.memory.buffer);
    return { exports, memory, digest: memory.subarray(DIGEST_OFFSET, DIGEST_OFFSET + SHA256_SIZE) };
  } catch {
    return null;
  }
}

function checkBytes(value: unknown, name: string): void {
  if (!(value instanceof Uint8Array)) {
    const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    throw new TypeError(`Cannot hash: ${name} must be a Uint8Array, got ${got}`);
  }
}

function hashLong(w: Sha256Wasm, data: Uint8Array): void {
  const { exports, memory } = w;
  const n = data.length;
  let offset = 0;
  exports.init();
  while (n - offset > ONESHOT_MAX_BYTES) {
    memory.set(data.subarray(offset, offset + CHUNK_BYTES), INPUT_OFFSET);
    exports.update(CHUNK_BYTES / 64);
    offset += CHUNK_BYTES;
  }
  memory.set(data.subarray(offset), INPUT_OFFSET);
  // The message length in bits as two uint32 halves (exact: n < 2^53).
  exports.final(n - offset, Math.floor(n / 2 ** 29), (n * 8) >>> 0);
}

/** Options of {@linkcode sha256} and {@linkcode sha256Concat}. */
export interface Sha256Options {
  /**
   * Exactly 32 bytes to write the digest into (and return) instead of a new array: allocating
   * a small `ArrayBuffer` costs more than hashing a short message.
   */
  out?: Uint8Array;
}

function output(digest: Uint8Array, out: Uint8Array | undefined): Uint8Array {
  if (out === undefined) return digest.slice();
  out.set(digest);
  return out;
}

function checkOut(options: Sha256Options | undefined): Uint8Array | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot hash: options must be an object");
  }
  const { out } = options;
  if (out === undefined) return undefined;
  checkBytes(out, "out");
  if (out.length !== SHA256_SIZE) {
    throw new RangeError(`Cannot hash: out must be ${SHA256_SIZE} bytes, got ${out.length}`);
  }
  return out;
}

/**
 * SHA-256 of a message of any length.
 *
 * @example Usage
 * ```ts
 * import { sha256 } from "./sha256.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const digest = sha256(new TextEncoder().encode("abc"));
 * assert.equal(
 *   bytesToHex(digest),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * const out = new Uint8Array(32);
 * assert.equal(sha256(new TextEncoder().encode("abc"), { out }), out);
 * assert.deepEqual(out, digest);
 * ```
 *
 * @param data The message.
 * @param options `out`: a 32-byte array to write the digest into.
 * @returns The 32-byte digest: a new array, or `options.out`.
 * @throws {TypeError} When `data` or `options.out` is not a `Uint8Array`.
 * @throws {RangeError} When `options.out` is not 32 bytes.
 */
export function sha256(data: Uint8Array, options?: Sha256Options): Uint8Array {
  checkBytes(data, "data");
  const out = checkOut(options);
  if (wasm === undefined) wasm = load();
  if (wasm === null) return output(nobleSha256(data), out);
  if (data.length <= ONESHOT_MAX_BYTES) {
    wasm.memory.set(data, INPUT_OFFSET);
    wasm.exports.hash(data.length);
  } else {
    hashLong(wasm, data);
  }
  return output(wasm.digest, out);
}

/**
 * SHA-256 of `first ‖ second`, without building the concatenation (a merkle node from its
 * two children, a hash of a prefix and a suffix).
 *
 * @example Usage
 * ```ts
 * import { sha256, sha256Concat } from "./sha256.ts";
 * import assert from "node:assert/strict";
 *
 * const a = new Uint8Array(32).fill(1);
 * const b = new Uint8Array(8).fill(2);
 * assert.deepEqual(sha256Concat(a, b), sha256(Uint8Array.of(...a, ...b)));
 * ```
 *
 * @param first The first part of the message.
 * @param second The second part of the message.
 * @param options `out`: a 32-byte array to write the digest into.
 * @returns The 32-byte digest: a new array, or `options.out`.
 * @throws {TypeError} When a part or `options.out` is not a `Uint8Array`.
 * @throws {RangeError} When `options.out` is not 32 bytes.
 */
export function sha256Concat(
  first: Uint8Array,
  second: Uint8Array,
  options?: Sha256Options,
): Uint8Array {
  checkBytes(first, "first");
  checkBytes(second, "second");
  const out = checkOut(options);
  const n = first.length + second.length;
  if (wasm === undefined) wasm = load();
  if (wasm === null || n > ONESHOT_MAX_BYTES) {
    const data = new Uint8Array(n);
    data.set(first);
    data.set(second, first.length);
    return sha256(data, options);
  }
  wasm.memory.set(first, INPUT_OFFSET);
  wasm.memory.set(second, INPUT_OFFSET + first.length);
  wasm.exports.hash(n);
  return output(wasm.digest, out);
}
