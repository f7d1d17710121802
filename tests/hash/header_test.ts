import assert from "node:assert/strict";
import { parseChainText } from "../../hash/chain.ts";
import {
  assembleHeader,
  type BlockHeader,
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
  type HeaderFields,
  keystoneHeights,
  toInt32,
  toUint32,
} from "../../hash/header.ts";
import { bytesToHex, hexToBytes } from "../../hash/hex.ts";
import { vblake } from "../../hash/vblake.ts";
import { readChainFixture, vectors } from "./_vectors.ts";

function hex(bytes: Uint8Array): string {
  return bytesToHex(bytes, { upper: true });
}

const H5000 = vectors.headers.find((h) => h.height === 5000)!;
const T14 = vectors.headers.find((h) => h.height === 14)!;

function sample(): BlockHeader {
  return decodeHeader(hexToBytes(H5000.header));
}

function t14Fields(): HeaderFields {
  const a = T14.assemble_from!;
  return {
    height: 14,
    version: a.version,
    previousBlockHash: hexToBytes(a.previous_block_hash),
    previousKeystoneHash: hexToBytes(a.previous_keystone_hash),
    secondKeystoneHash: hexToBytes(a.second_keystone_hash),
    merkleRoot: hexToBytes(a.merkle_root_24),
    timestamp: a.timestamp,
    bits: a.bits,
    nonce: a.nonce,
  };
}

Deno.test("decodeHeader() and encodeHeader() round-trip every header vector", async (t) => {
  for (const c of vectors.headers) {
    await t.step(c.name, () => {
      const bytes = hexToBytes(c.header);
      const header = decodeHeader(bytes);
      assert.equal(header.height, c.height);
      assert.deepEqual(encodeHeader(header), bytes);
    });
  }
});

Deno.test("decodeHeader() reads the mainnet 5000 fields", () => {
  const f = H5000.fields!;
  const h = sample();
  assert.equal(h.height, 5000);
  assert.equal(h.version, 2);
  assert.equal(hex(h.previousHash), f.previous);
  assert.equal(hex(h.previousKeystone), f.keystone1);
  assert.equal(hex(h.secondKeystone), f.keystone2);
  assert.equal(hex(h.merkleRoot), f.merkle);
  assert.equal(h.timestamp, f.timestamp);
  assert.equal(h.bits, f.bits);
  assert.equal(h.nonce, f.nonce);
});

Deno.test("decodeHeader() reads uint32 fields above 2^31 as unsigned", () => {
  const bytes = new Uint8Array(HEADER_SIZE).fill(0xFF);
  bytes[0] = 0;
  const h = decodeHeader(bytes);
  assert.equal(h.version, 0xFFFF);
  assert.equal(h.timestamp, 0xFFFFFFFF);
  assert.equal(h.bits, 0xFFFFFFFF);
  assert.equal(h.nonce, 0xFFFFFFFF);
  assert.deepEqual(encodeHeader(h), bytes);
});

Deno.test("decodeHeader() copies byte fields", () => {
  const bytes = hexToBytes(H5000.header);
  const h = decodeHeader(bytes);
  bytes.fill(0);
  assert.equal(hex(h.previousHash), H5000.fields!.previous);
});

Deno.test("decodeHeader() rejects bad input", async (t) => {
  const rows: [string, unknown, ErrorConstructor][] = [
    ["63 bytes", new Uint8Array(63), RangeError],
    ["65 bytes", new Uint8Array(65), RangeError],
    ["hex string", H5000.header, TypeError],
    ["null", null, TypeError],
    ["negative height", new Uint8Array(64).fill(0x80, 0, 1), RangeError],
  ];
  for (const [name, input, error] of rows) {
    await t.step(name, () => {
      assert.throws(() => decodeHeader(input as Uint8Array), error);
    });
  }
});

Deno.test("encodeHeader() rejects bad fields", async (t) => {
  const rows: [string, Partial<Record<keyof BlockHeader, unknown>>, ErrorConstructor][] = [
    ["previousHash 24 bytes", { previousHash: new Uint8Array(24) }, RangeError],
    ["previousKeystone 8 bytes", { previousKeystone: new Uint8Array(8) }, RangeError],
    ["secondKeystone 10 bytes", { secondKeystone: new Uint8Array(10) }, RangeError],
    ["merkleRoot 24 bytes", { merkleRoot: new Uint8Array(24) }, RangeError],
    ["merkleRoot as hex", { merkleRoot: "00".repeat(16) }, TypeError],
    ["negative height", { height: -1 }, RangeError],
    ["height 2^31", { height: 2 ** 31 }, RangeError],
    ["version 65536", { version: 65536 }, RangeError],
    ["nonce 2^32", { nonce: 2 ** 32 }, RangeError],
    ["negative nonce", { nonce: -1 }, RangeError],
    ["timestamp 1.5", { timestamp: 1.5 }, TypeError],
    ["bits as string", { bits: "0600E8D4" }, TypeError],
    ["nonce as bigint", { nonce: 1n }, TypeError],
  ];
  for (const [name, patch, error] of rows) {
    await t.step(name, () => {
      assert.throws(() => encodeHeader({ ...sample(), ...patch } as BlockHeader), error);
    });
  }
  await t.step("not an object", () => {
    assert.throws(() => encodeHeader(null as unknown as BlockHeader), TypeError);
  });
});

Deno.test("assembleHeader() builds the testnet 14 vector from full-length fields", () => {
  const bytes = assembleHeader(t14Fields());
  assert.equal(hex(bytes), T14.header);
  assert.equal(hex(vblake(bytes)), T14.hash);
});

Deno.test("assembleHeader() keeps the head of a 32-byte merkle root", () => {
  const fields = t14Fields();
  const root32 = new Uint8Array(32);
  root32.set(fields.merkleRoot);
  assert.equal(hex(assembleHeader({ ...fields, merkleRoot: root32 })), T14.header);
  const root16 = fields.merkleRoot.slice(0, 16);
  assert.equal(hex(assembleHeader({ ...fields, merkleRoot: root16 })), T14.header);
});

Deno.test("assembleHeader() rejects truncated or oversized inputs", async (t) => {
  const rows: [string, Partial<Record<keyof HeaderFields, unknown>>, ErrorConstructor][] = [
    ["previousBlockHash 12 bytes", { previousBlockHash: new Uint8Array(12) }, RangeError],
    ["previousKeystoneHash 9 bytes", { previousKeystoneHash: new Uint8Array(9) }, RangeError],
    ["secondKeystoneHash 25 bytes", { secondKeystoneHash: new Uint8Array(25) }, RangeError],
    ["merkleRoot 15 bytes", { merkleRoot: new Uint8Array(15) }, RangeError],
    ["merkleRoot 33 bytes", { merkleRoot: new Uint8Array(33) }, RangeError],
    ["previousBlockHash missing", { previousBlockHash: undefined }, TypeError],
    ["timestamp -1", { timestamp: -1 }, RangeError],
  ];
  for (const [name, patch, error] of rows) {
    await t.step(name, () => {
      assert.throws(() => assembleHeader({ ...t14Fields(), ...patch } as HeaderFields), error);
    });
  }
});

Deno.test("keystoneHeights() follows spec §3.3", async (t) => {
  const rows: [number, number | null, number | null][] = [
    [0, null, null],
    [1, null, null],
    [2, 0, null],
    [21, 0, null],
    [22, 20, 0],
    [40, 20, 0],
    [41, 20, 0],
    [42, 40, 20],
    [200042, 200040, 200020],
  ];
  for (const [height, first, second] of rows) {
    await t.step(`height ${height}`, () => {
      assert.deepEqual(keystoneHeights(height), { first, second });
    });
  }
});

Deno.test("keystoneHeights() matches every header of the testnet chain file", async () => {
  const headers = parseChainText(await readChainFixture("testnet-headers-0.txt"));
  const hashes = new Map<number, Uint8Array>();
  for (const bytes of headers) hashes.set(decodeHeader(bytes).height, vblake(bytes));
  const zero9 = new Uint8Array(9);
  for (const bytes of headers) {
    const h = decodeHeader(bytes);
    const { first, second } = keystoneHeights(h.height);
    const want1 = first === null ? zero9 : hashes.get(first)!.subarray(15);
    const want2 = second === null ? zero9 : hashes.get(second)!.subarray(15);
    assert.deepEqual(h.previousKeystone, want1, `ks1 at height ${h.height}`);
    assert.deepEqual(h.secondKeystone, want2, `ks2 at height ${h.height}`);
  }
});

Deno.test("keystoneHeights() rejects negative and non-integer heights", () => {
  assert.throws(() => keystoneHeights(-1), RangeError);
  assert.throws(() => keystoneHeights(1.5), TypeError);
  assert.throws(() => keystoneHeights(NaN), TypeError);
});

Deno.test("toInt32() and toUint32() reinterpret 32 bits", async (t) => {
  const rows: [number, number, number][] = [
    [0, 0, 0],
    [0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF],
    [0x80000000, -0x80000000, 0x80000000],
    [-0x80000000, -0x80000000, 0x80000000],
    [0xFFFFFFFF, -1, 0xFFFFFFFF],
    [-1, -1, 0xFFFFFFFF],
    [-318747888, -318747888, 3976219408],
  ];
  for (const [input, signed, unsigned] of rows) {
    await t.step(`${input}`, () => {
      assert.equal(toInt32(input), signed);
      assert.equal(toUint32(input), unsigned);
    });
  }
  await t.step("out of range", () => {
    assert.throws(() => toInt32(2 ** 32), RangeError);
    assert.throws(() => toUint32(-(2 ** 31) - 1), RangeError);
    assert.throws(() => toUint32(0.5), TypeError);
    assert.throws(() => toInt32("1" as unknown as number), TypeError);
  });
});
