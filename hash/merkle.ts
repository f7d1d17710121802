/**
 * The top-level merkle root and the extranonce (spec §3.4). All SHA-256 are single:
 *
 * ```
 * txRoot          = SHA256(popRoot ‖ normalRoot)
 * metapackageHash = SHA256(intermediateMetapackageHash ‖ extranonce as 8-byte BE int64)
 * root            = SHA256(metapackageHash ‖ txRoot)          (32 bytes)
 * ```
 *
 * Functions here return the FULL 32-byte root. Callers truncate: the header keeps the first
 * 16 bytes ({@linkcode merkle16}), UCP's `merkle_root` carries the first 24. Miners compute
 * {@linkcode txRoot} once per job, then {@linkcode merkleRootFromTxRoot} costs two SHA-256
 * calls per extranonce (by the WebAssembly SHA-256 of `sha256.ts`) and one allocation.
 *
 * @module
 */

import { sha256Concat } from "./sha256.ts";

/** Smallest extranonce, −2^63. */
export const EXTRANONCE_MIN: bigint = -(1n << 63n);
/** Largest extranonce, 2^63 − 1. */
export const EXTRANONCE_MAX: bigint = (1n << 63n) - 1n;

/** The three 32-byte intermediate roots of a job (UCP / Stratum notify order: pop, normal, meta). */
export interface MerkleParts {
  /** `pop_transaction_merkle_root`, 32 bytes. */
  popRoot: Uint8Array;
  /** `normal_transaction_merkle_root`, 32 bytes. */
  normalRoot: Uint8Array;
  /** `intermediate_metapackage_hash`, 32 bytes. */
  metapackageHash: Uint8Array;
}

function check32Bytes(value: unknown, name: string, action: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: ${name} must be a Uint8Array`);
  }
  if (value.length !== 32) {
    throw new RangeError(`Cannot ${action}: ${name} must be 32 bytes, got ${value.length}`);
  }
  return value;
}

/**
 * Encode an extranonce as 8 big-endian bytes of a signed int64 (Java `long`).
 *
 * @example Usage
 * ```ts
 * import { encodeExtranonce } from "./merkle.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(bytesToHex(encodeExtranonce((31n << 58n) + 1_000_000n)), "7c000000000f4240");
 * assert.equal(bytesToHex(encodeExtranonce(-1n)), "ffffffffffffffff");
 * ```
 *
 * @param extranonce A bigint in −2^63 .. 2^63 − 1.
 * @returns 8 bytes.
 * @throws {TypeError} When `extranonce` is not a bigint.
 * @throws {RangeError} When `extranonce` is out of the int64 range.
 */
export function encodeExtranonce(extranonce: bigint): Uint8Array {
  checkExtranonce(extranonce);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, extranonce);
  return out;
}

function checkExtranonce(extranonce: bigint): void {
  if (typeof extranonce !== "bigint") {
    throw new TypeError(`Cannot encode extranonce: expected a bigint, got ${typeof extranonce}`);
  }
  if (extranonce < EXTRANONCE_MIN || extranonce > EXTRANONCE_MAX) {
    throw new RangeError(`Cannot encode extranonce: ${extranonce} is not a signed 64-bit integer`);
  }
}

/*
 * Scratch for the extranonce bytes and the metapackage hash inside merkleRootFromTxRoot():
 * both are hashed at once and never escape, so a root allocates only itself (allocating a
 * small `ArrayBuffer` costs more than the SHA-256 of a short message).
 */
const extranonceScratch = new Uint8Array(8);
const extranonceView = new DataView(extranonceScratch.buffer);
const metapackageScratch = new Uint8Array(32);

/**
 * Decode 8 big-endian bytes as a signed int64 extranonce.
 *
 * @example Usage
 * ```ts
 * import { decodeExtranonce } from "./merkle.ts";
 * import { hexToBytes } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(decodeExtranonce(hexToBytes("ffffffffffffffff")), -1n);
 * ```
 *
 * @param bytes Exactly 8 bytes.
 * @returns The extranonce.
 * @throws {TypeError} When `bytes` is not a `Uint8Array`.
 * @throws {RangeError} When `bytes` is not 8 bytes.
 */
export function decodeExtranonce(bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("Cannot decode extranonce: not a Uint8Array");
  }
  if (bytes.length !== 8) {
    throw new RangeError(`Cannot decode extranonce: expected 8 bytes, got ${bytes.length}`);
  }
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0);
}

/**
 * The transaction half of the tree, SHA256(popRoot ‖ normalRoot): fixed per job.
 *
 * @example Usage
 * ```ts
 * import { txRoot } from "./merkle.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   bytesToHex(txRoot(new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x22))),
 *   "5189c77d29fe5d546a045ec46986852785fea5c13ac7da9c115ff5fb6edf817c",
 * );
 * ```
 *
 * @param popRoot 32 bytes.
 * @param normalRoot 32 bytes.
 * @returns 32 bytes.
 * @throws {TypeError} When an argument is not a `Uint8Array`.
 * @throws {RangeError} When an argument is not 32 bytes.
 */
export function txRoot(popRoot: Uint8Array, normalRoot: Uint8Array): Uint8Array {
  const action = "compute tx root";
  return sha256Concat(
    check32Bytes(popRoot, "popRoot", action),
    check32Bytes(normalRoot, "normalRoot", action),
  );
}

/**
 * The metapackage half of the tree, SHA256(intermediateMetapackageHash ‖ extranonce BE8).
 *
 * @example Usage
 * ```ts
 * import { metapackageHash } from "./merkle.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   bytesToHex(metapackageHash(new Uint8Array(32).fill(0x33), 0x7c000000000f4240n)),
 *   "167e1e35ef014890ecab7f6813488cbb1c2eb9c5599bb266be4c83fbfbc92764",
 * );
 * ```
 *
 * @param intermediate The job's `intermediate_metapackage_hash`, 32 bytes.
 * @param extranonce A signed 64-bit bigint.
 * @returns 32 bytes.
 * @throws {TypeError} When an argument has the wrong type.
 * @throws {RangeError} When `intermediate` is not 32 bytes or `extranonce` is out of range.
 */
export function metapackageHash(intermediate: Uint8Array, extranonce: bigint): Uint8Array {
  return hashMetapackage(intermediate, extranonce, undefined);
}

function hashMetapackage(
  intermediate: Uint8Array,
  extranonce: bigint,
  out: Uint8Array | undefined,
): Uint8Array {
  const meta = check32Bytes(intermediate, "metapackageHash", "compute metapackage hash");
  checkExtranonce(extranonce);
  extranonceView.setBigInt64(0, extranonce);
  return sha256Concat(meta, extranonceScratch, { out });
}

/** A job's precomputed halves for {@linkcode merkleRootFromTxRoot}. */
export interface TxRootParts {
  /** {@linkcode txRoot} of the job, 32 bytes. */
  txRoot: Uint8Array;
  /** The job's `intermediate_metapackage_hash`, 32 bytes. */
  metapackageHash: Uint8Array;
}

/**
 * The full 32-byte top-level root from a precomputed {@linkcode txRoot}: two SHA-256 calls
 * per extranonce.
 *
 * @example Usage
 * ```ts
 * import { merkle16, merkleRootFromTxRoot, txRoot } from "./merkle.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const job = {
 *   txRoot: txRoot(new Uint8Array(32).fill(0x11), new Uint8Array(32).fill(0x22)),
 *   metapackageHash: new Uint8Array(32).fill(0x33),
 * };
 * const root = merkleRootFromTxRoot(job, 0x7c000000000f4240n);
 * assert.equal(bytesToHex(merkle16(root)), "7b50fd797320002e6fe7263b0fa86b51");
 * ```
 *
 * @param parts The job's tx root and intermediate metapackage hash.
 * @param extranonce A signed 64-bit bigint.
 * @returns 32 bytes.
 * @throws {TypeError} When an argument has the wrong type.
 * @throws {RangeError} When a length or the extranonce is out of range.
 */
export function merkleRootFromTxRoot(parts: TxRootParts, extranonce: bigint): Uint8Array {
  const action = "compute merkle root";
  if (typeof parts !== "object" || parts === null) {
    throw new TypeError(`Cannot ${action}: parts must be an object`);
  }
  const tx = check32Bytes(parts.txRoot, "txRoot", action);
  const meta = hashMetapackage(parts.metapackageHash, extranonce, metapackageScratch);
  return sha256Concat(meta, tx);
}

/**
 * The full 32-byte top-level merkle root for a job and an extranonce.
 *
 * @example Usage
 * ```ts
 * import { headerMerkleRoot, merkle16 } from "./merkle.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const root = headerMerkleRoot({
 *   popRoot: new Uint8Array(32).fill(0x11),
 *   normalRoot: new Uint8Array(32).fill(0x22),
 *   metapackageHash: new Uint8Array(32).fill(0x33),
 * }, 0x7c000000000f4240n);
 * assert.equal(root.length, 32);
 * assert.equal(bytesToHex(merkle16(root)), "7b50fd797320002e6fe7263b0fa86b51");
 * ```
 *
 * @param parts The three 32-byte intermediate roots.
 * @param extranonce A signed 64-bit bigint.
 * @returns 32 bytes (header: first 16; UCP `merkle_root`: first 24).
 * @throws {TypeError} When an argument has the wrong type.
 * @throws {RangeError} When a length or the extranonce is out of range.
 */
export function headerMerkleRoot(parts: MerkleParts, extranonce: bigint): Uint8Array {
  if (typeof parts !== "object" || parts === null) {
    throw new TypeError("Cannot compute merkle root: parts must be an object");
  }
  const tx = txRoot(parts.popRoot, parts.normalRoot);
  return merkleRootFromTxRoot({ txRoot: tx, metapackageHash: parts.metapackageHash }, extranonce);
}

/**
 * The first 16 bytes of a top-level root: the header's merkle field.
 *
 * @example Usage
 * ```ts
 * import { merkle16 } from "./merkle.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(merkle16(new Uint8Array(32)).length, 16);
 * ```
 *
 * @param root 16..32 bytes (a 32-byte SHA-256 root or a 24-byte UCP root).
 * @returns A 16-byte copy of the head.
 * @throws {TypeError} When `root` is not a `Uint8Array`.
 * @throws {RangeError} When `root` is shorter than 16 bytes or longer than 32.
 */
export function merkle16(root: Uint8Array): Uint8Array {
  if (!(root instanceof Uint8Array)) throw new TypeError("Cannot truncate root: not a Uint8Array");
  if (root.length < 16 || root.length > 32) {
    throw new RangeError(`Cannot truncate root: expected 16..32 bytes, got ${root.length}`);
  }
  return root.slice(0, 16);
}
