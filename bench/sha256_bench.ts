/**
 * SHA-256 of the merkle root's short messages: `@noble/hashes` (the previous implementation)
 * against the generated WebAssembly module of `hash/sha256.ts`, on 40 bytes (intermediate
 * metapackage hash ‖ extranonce) and 64 bytes (metapackage hash ‖ tx root), and
 * `merkleRootFromTxRoot()` against a copy of its previous, noble-based computation. The pool
 * computes one merkle root per miner per new job. Allocating a small `ArrayBuffer` (every
 * digest, every concatenation) costs more than the SHA-256 itself here, so the `{ out }`
 * variants write into a caller's array, and a merkle root allocates only itself.
 *
 * ```sh
 * deno bench -A bench/sha256_bench.ts
 * ```
 *
 * @module
 */

import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { merkleRootFromTxRoot, type TxRootParts } from "../hash/merkle.ts";
import { sha256, sha256Concat } from "../hash/sha256.ts";

const message40 = new Uint8Array(40).fill(0x33);
const message64 = new Uint8Array(64).fill(0x44);
const out = new Uint8Array(32);
const first32 = message64.subarray(0, 32), second32 = message64.subarray(32);
const job: TxRootParts = {
  txRoot: new Uint8Array(32).fill(0x11),
  metapackageHash: new Uint8Array(32).fill(0x22),
};
let extranonce = 0x7c000000000f4240n;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `merkleRootFromTxRoot()` as it was with `@noble/hashes` (without the argument checks). */
function nobleMerkleRoot(parts: TxRootParts, x: bigint): Uint8Array {
  const be = new Uint8Array(8);
  new DataView(be.buffer).setBigInt64(0, x);
  const meta = nobleSha256(concat(parts.metapackageHash, be));
  return nobleSha256(concat(meta, parts.txRoot));
}

Deno.bench({
  group: "40 bytes",
  name: "noble sha256, 40 B",
  baseline: true,
  fn() {
    nobleSha256(message40);
  },
});

Deno.bench({
  group: "40 bytes",
  name: "wasm sha256, 40 B",
  fn() {
    sha256(message40);
  },
});

Deno.bench({
  group: "40 bytes",
  name: "wasm sha256, 40 B, { out }",
  fn() {
    sha256(message40, { out });
  },
});

Deno.bench({
  group: "64 bytes",
  name: "noble sha256, 64 B",
  baseline: true,
  fn() {
    nobleSha256(message64);
  },
});

Deno.bench({
  group: "64 bytes",
  name: "wasm sha256, 64 B",
  fn() {
    sha256(message64);
  },
});

Deno.bench({
  group: "64 bytes",
  name: "wasm sha256, 64 B, { out }",
  fn() {
    sha256(message64, { out });
  },
});

Deno.bench({
  group: "64 bytes",
  name: "wasm sha256Concat, 32 B + 32 B",
  fn() {
    sha256Concat(first32, second32);
  },
});

Deno.bench({
  group: "merkle root",
  name: "merkleRootFromTxRoot, noble (before)",
  baseline: true,
  fn() {
    nobleMerkleRoot(job, extranonce++);
  },
});

Deno.bench({
  group: "merkle root",
  name: "merkleRootFromTxRoot, wasm (after)",
  fn() {
    merkleRootFromTxRoot(job, extranonce++);
  },
});

Deno.bench({
  group: "allocation",
  name: "new Uint8Array(32) (for scale)",
  fn() {
    new Uint8Array(32);
  },
});
