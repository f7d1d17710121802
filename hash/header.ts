/**
 * The 64-byte vBlake-era VeriBlock block header (spec §3.1), all integers big-endian:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | height |
 * | 4 | 2 | version |
 * | 6 | 12 | previous block hash: the LAST 12 bytes of the parent's 24-byte hash |
 * | 18 | 9 | previous keystone: the LAST 9 bytes of a keystone hash |
 * | 27 | 9 | second previous keystone: the LAST 9 bytes |
 * | 36 | 16 | merkle root: the FIRST 16 bytes of the top-level merkle root |
 * | 52 | 4 | timestamp (uint32, Unix seconds) |
 * | 56 | 4 | bits: compact-encoded difficulty |
 * | 60 | 4 | nonce (uint32) |
 *
 * @module
 */

/** Header length in bytes. */
export const HEADER_SIZE = 64;

/** Keystone interval (spec §3.3). */
export const KEYSTONE_INTERVAL = 20;

/** A decoded header. Byte fields are the truncated forms stored in the header. */
export interface BlockHeader {
  /** Block height, 0 .. 2^31 − 1. */
  height: number;
  /** Header version, 0 .. 65535 (2 on mainnet/testnet, 1 on alpha and early testnet). */
  version: number;
  /** Last 12 bytes of the previous block's hash. */
  previousHash: Uint8Array;
  /** Last 9 bytes of the previous keystone's hash. */
  previousKeystone: Uint8Array;
  /** Last 9 bytes of the second previous keystone's hash. */
  secondKeystone: Uint8Array;
  /** First 16 bytes of the top-level merkle root. */
  merkleRoot: Uint8Array;
  /** Unix seconds, uint32. */
  timestamp: number;
  /** Compact difficulty, uint32. */
  bits: number;
  /** Nonce, uint32. */
  nonce: number;
}

/** Full-length inputs for {@linkcode assembleHeader} (as in a UCP `MINING_JOB`). */
export interface HeaderFields {
  /** Block height, 0 .. 2^31 − 1. */
  height: number;
  /** Header version, 0 .. 65535. */
  version: number;
  /** The previous block's full 24-byte hash; the header keeps the last 12 bytes. */
  previousBlockHash: Uint8Array;
  /** The previous keystone's full 24-byte hash (zeros when none); the last 9 bytes are kept. */
  previousKeystoneHash: Uint8Array;
  /** The second previous keystone's full 24-byte hash (zeros when none); last 9 kept. */
  secondKeystoneHash: Uint8Array;
  /** The top-level merkle root, 16..32 bytes (UCP sends 24, SHA-256 gives 32); first 16 kept. */
  merkleRoot: Uint8Array;
  /** Unix seconds, uint32. */
  timestamp: number;
  /** Compact difficulty, uint32. */
  bits: number;
  /** Nonce, uint32. */
  nonce: number;
}

/** Heights of the two keystones a header references; `null` where none exists. */
export interface KeystoneHeights {
  /** Height of the previous keystone. */
  first: number | null;
  /** Height of the second previous keystone. */
  second: number | null;
}

function checkInt(value: unknown, name: string, max: number, action: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: ${name} must be an integer, got ${String(value)}`);
  }
  if (value < 0 || value > max) {
    throw new RangeError(`Cannot ${action}: ${name} ${value} is not in 0..${max}`);
  }
  return value;
}

function checkBytes(
  value: unknown,
  name: string,
  min: number,
  max: number,
  action: string,
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: ${name} must be a Uint8Array`);
  }
  if (value.length < min || value.length > max) {
    const want = min === max ? `${min}` : `${min}..${max}`;
    throw new RangeError(
      `Cannot ${action}: ${name} must be ${want} bytes, got ${value.length}`,
    );
  }
  return value;
}

function checkObject(value: unknown, action: string): void {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`Cannot ${action}: expected an object`);
  }
}

function writeHeader(
  out: Uint8Array,
  h: {
    height: number;
    version: number;
    timestamp: number;
    bits: number;
    nonce: number;
  },
  prev: Uint8Array,
  ks1: Uint8Array,
  ks2: Uint8Array,
  merkle: Uint8Array,
): Uint8Array {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, h.height);
  view.setUint16(4, h.version);
  out.set(prev, 6);
  out.set(ks1, 18);
  out.set(ks2, 27);
  out.set(merkle, 36);
  view.setUint32(52, h.timestamp);
  view.setUint32(56, h.bits);
  view.setUint32(60, h.nonce);
  return out;
}

function checkNumbers(h: HeaderFields | BlockHeader, action: string): void {
  checkInt(h.height, "height", 0x7FFFFFFF, action);
  checkInt(h.version, "version", 0xFFFF, action);
  checkInt(h.timestamp, "timestamp", 0xFFFFFFFF, action);
  checkInt(h.bits, "bits", 0xFFFFFFFF, action);
  checkInt(h.nonce, "nonce", 0xFFFFFFFF, action);
}

/**
 * Encode a header into its 64 bytes.
 *
 * @example Usage
 * ```ts
 * import { decodeHeader, encodeHeader } from "./header.ts";
 * import { hexToBytes } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = hexToBytes(
 *   "000000000002000000000000000000000000000000000000000000000000000000000000A7E5F2B7EC94291767B4D67B4A33682D5C987E0B0600E8D4113D854D",
 * );
 * const header = decodeHeader(bytes);
 * assert.equal(header.bits, 0x0600E8D4);
 * assert.deepEqual(encodeHeader(header), bytes);
 * ```
 *
 * @param header The fields (byte fields exactly 12, 9, 9 and 16 bytes).
 * @returns 64 bytes.
 * @throws {TypeError} When a field has the wrong type.
 * @throws {RangeError} When a field is out of range or has the wrong length.
 */
export function encodeHeader(header: BlockHeader): Uint8Array {
  const action = "encode header";
  checkObject(header, action);
  checkNumbers(header, action);
  return writeHeader(
    new Uint8Array(HEADER_SIZE),
    header,
    checkBytes(header.previousHash, "previousHash", 12, 12, action),
    checkBytes(header.previousKeystone, "previousKeystone", 9, 9, action),
    checkBytes(header.secondKeystone, "secondKeystone", 9, 9, action),
    checkBytes(header.merkleRoot, "merkleRoot", 16, 16, action),
  );
}

/**
 * Decode 64 header bytes. The returned byte fields are copies.
 *
 * @example Usage
 * ```ts
 * import { decodeHeader } from "./header.ts";
 * import { hexToBytes } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const header = decodeHeader(hexToBytes(
 *   "00001388000294E7DC3E3BE21A96ECCF0FBDF5F62A3331DC995C36B0935637860679DDD5DB0F135312B2C27867C9A83EF1B99B985C9B949307023AD672BAFD77",
 * ));
 * assert.equal(header.height, 5000);
 * assert.equal(header.nonce, 1924857207);
 * ```
 *
 * @param bytes Exactly 64 bytes.
 * @returns The header fields.
 * @throws {TypeError} When `bytes` is not a `Uint8Array`.
 * @throws {RangeError} When `bytes` is not 64 bytes or the height is negative.
 */
export function decodeHeader(bytes: Uint8Array): BlockHeader {
  const action = "decode header";
  checkBytes(bytes, "header", HEADER_SIZE, HEADER_SIZE, action);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const height = view.getInt32(0);
  if (height < 0) throw new RangeError(`Cannot ${action}: negative height ${height}`);
  return {
    height,
    version: view.getUint16(4),
    previousHash: bytes.slice(6, 18),
    previousKeystone: bytes.slice(18, 27),
    secondKeystone: bytes.slice(27, 36),
    merkleRoot: bytes.slice(36, 52),
    timestamp: view.getUint32(52),
    bits: view.getUint32(56),
    nonce: view.getUint32(60),
  };
}

/**
 * Assemble header bytes from full-length inputs, as NodeCore's `assembleBlockHeader` and
 * the miners do with a UCP job: the previous block hash keeps its last 12 bytes, the
 * keystone hashes their last 9, the merkle root its first 16.
 *
 * @example Usage
 * ```ts
 * import { assembleHeader } from "./header.ts";
 * import { bytesToHex, hexToBytes } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const header = assembleHeader({
 *   height: 14,
 *   version: 1,
 *   previousBlockHash: hexToBytes("000041E5DA03789160522C40829F51AE9497CB1274FCD002"),
 *   previousKeystoneHash: hexToBytes("00008A23FE9C7B8EDC7210C37B6242D998254DA0643B831F"),
 *   secondKeystoneHash: new Uint8Array(24),
 *   merkleRoot: hexToBytes("481DB874D6AD57556549672C101D83677BDAC6508D5AA843"),
 *   timestamp: 1539117202,
 *   bits: 50431648,
 *   nonce: 53011,
 * });
 * assert.equal(
 *   bytesToHex(header, { upper: true }),
 *   "0000000E0001829F51AE9497CB1274FCD002D998254DA0643B831F000000000000000000481DB874D6AD57556549672C101D83675BBD1092030186A00000CF13",
 * );
 * ```
 *
 * @param fields Full-length hashes (24 bytes each; merkle root 16..32 bytes) and numbers.
 * @returns 64 header bytes.
 * @throws {TypeError} When a field has the wrong type.
 * @throws {RangeError} When a field is out of range or has the wrong length.
 */
export function assembleHeader(fields: HeaderFields): Uint8Array {
  const action = "assemble header";
  checkObject(fields, action);
  checkNumbers(fields, action);
  const prev = checkBytes(fields.previousBlockHash, "previousBlockHash", 24, 24, action);
  const ks1 = checkBytes(fields.previousKeystoneHash, "previousKeystoneHash", 24, 24, action);
  const ks2 = checkBytes(fields.secondKeystoneHash, "secondKeystoneHash", 24, 24, action);
  const merkle = checkBytes(fields.merkleRoot, "merkleRoot", 16, 32, action);
  return writeHeader(
    new Uint8Array(HEADER_SIZE),
    fields,
    prev.subarray(12),
    ks1.subarray(15),
    ks2.subarray(15),
    merkle.subarray(0, 16),
  );
}

/**
 * The keystone heights a block at `height` references (spec §3.3, interval 20):
 * first = floor((height − 2) / 20) · 20, second = first − 20; negative heights mean "none"
 * (the header field is then all zeros).
 *
 * @example Usage
 * ```ts
 * import { keystoneHeights } from "./header.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(keystoneHeights(21), { first: 0, second: null });
 * assert.deepEqual(keystoneHeights(22), { first: 20, second: 0 });
 * assert.deepEqual(keystoneHeights(42), { first: 40, second: 20 });
 * ```
 *
 * @param height Block height ≥ 0.
 * @returns Keystone heights, `null` where none.
 * @throws {TypeError} When `height` is not an integer.
 * @throws {RangeError} When `height` is negative or above 2^31 − 1.
 */
export function keystoneHeights(height: number): KeystoneHeights {
  checkInt(height, "height", 0x7FFFFFFF, "compute keystones");
  const first = Math.floor((height - 2) / KEYSTONE_INTERVAL) * KEYSTONE_INTERVAL;
  const second = first - KEYSTONE_INTERVAL;
  return { first: first >= 0 ? first : null, second: second >= 0 ? second : null };
}

/**
 * Reinterpret a uint32 or int32 as a signed int32 (UCP sends Java ints, e.g. a nonce ≥ 2^31
 * as a negative number).
 *
 * @example Usage
 * ```ts
 * import { toInt32 } from "./header.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toInt32(0xED002A10), -318756336);
 * assert.equal(toInt32(-5), -5);
 * ```
 *
 * @param value An integer in −2^31 .. 2^32 − 1.
 * @returns The same 32 bits as a signed int32.
 * @throws {TypeError} When `value` is not an integer.
 * @throws {RangeError} When `value` is outside −2^31 .. 2^32 − 1.
 */
export function toInt32(value: number): number {
  return check32(value, "convert to int32") | 0;
}

/**
 * Reinterpret an int32 or uint32 as an unsigned uint32 (the header's view).
 *
 * @example Usage
 * ```ts
 * import { toUint32 } from "./header.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(toUint32(-318756336), 0xED002A10);
 * assert.equal(toUint32(7), 7);
 * ```
 *
 * @param value An integer in −2^31 .. 2^32 − 1.
 * @returns The same 32 bits as a uint32.
 * @throws {TypeError} When `value` is not an integer.
 * @throws {RangeError} When `value` is outside −2^31 .. 2^32 − 1.
 */
export function toUint32(value: number): number {
  return check32(value, "convert to uint32") >>> 0;
}

function check32(value: unknown, action: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: ${String(value)} is not an integer`);
  }
  if (value < -0x80000000 || value > 0xFFFFFFFF) {
    throw new RangeError(`Cannot ${action}: ${value} is not a 32-bit integer`);
  }
  return value;
}
