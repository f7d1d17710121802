import assert from "node:assert/strict";
import { encodeHeader } from "../../hash/header.ts";
import { bytesToHex, hexToBytes } from "../../hash/hex.ts";
import {
  decodeExtranonce,
  encodeExtranonce,
  EXTRANONCE_MAX,
  EXTRANONCE_MIN,
  headerMerkleRoot,
  merkle16,
  merkleRootFromTxRoot,
  metapackageHash,
  txRoot,
} from "../../hash/merkle.ts";
import { vblake } from "../../hash/vblake.ts";
import { vectors } from "./_vectors.ts";

const share = vectors.stratum_share;
const [popHex, normalHex, metaHex] = share.notify[6] as string[];
const parts = {
  popRoot: hexToBytes(popHex!),
  normalRoot: hexToBytes(normalHex!),
  metapackageHash: hexToBytes(metaHex!),
};
const extranonce = decodeExtranonce(hexToBytes(share.extranonce));

Deno.test("txRoot() matches the stratum_share tx_root", () => {
  assert.equal(bytesToHex(txRoot(parts.popRoot, parts.normalRoot)), share.tx_root);
});

Deno.test("metapackageHash() matches the stratum_share metapackage_hash", () => {
  assert.equal(
    bytesToHex(metapackageHash(parts.metapackageHash, extranonce)),
    share.metapackage_hash,
  );
});

Deno.test("headerMerkleRoot() returns 32 bytes whose head is the stratum_share merkle16", () => {
  const root = headerMerkleRoot(parts, extranonce);
  assert.equal(root.length, 32);
  assert.equal(bytesToHex(merkle16(root)), share.merkle16);
  assert.equal(bytesToHex(root.subarray(0, 16)), share.merkle16);
});

Deno.test("merkleRootFromTxRoot() equals headerMerkleRoot()", () => {
  const job = {
    txRoot: txRoot(parts.popRoot, parts.normalRoot),
    metapackageHash: parts.metapackageHash,
  };
  for (const en of [0n, 1n, -1n, extranonce, EXTRANONCE_MIN, EXTRANONCE_MAX]) {
    assert.deepEqual(merkleRootFromTxRoot(job, en), headerMerkleRoot(parts, en));
  }
});

Deno.test("the stratum_share work headers rebuild from notify fields and hash as stated", async (t) => {
  const [, height, version, prev, ks1, ks2] = share.notify as string[];
  const bits = parseInt(share.notify[8] as string, 16);
  const merkleRoot = merkle16(headerMerkleRoot(parts, extranonce));
  for (const work of share.work) {
    await t.step(work.nonce, () => {
      const header = encodeHeader({
        height: parseInt(height!, 16),
        version: parseInt(version!, 16),
        previousHash: hexToBytes(prev!),
        previousKeystone: hexToBytes(ks1!),
        secondKeystone: hexToBytes(ks2!),
        merkleRoot,
        timestamp: parseInt(work.ntime, 16),
        bits,
        nonce: parseInt(work.nonce, 16),
      });
      assert.equal(bytesToHex(header), work.header);
      assert.equal(bytesToHex(vblake(header)), work.hash);
    });
  }
});

Deno.test("encodeExtranonce() and decodeExtranonce() cover the int64 range", async (t) => {
  const rows: [bigint, string][] = [
    [0n, "0000000000000000"],
    [1n, "0000000000000001"],
    [-1n, "ffffffffffffffff"],
    [EXTRANONCE_MAX, "7fffffffffffffff"],
    [EXTRANONCE_MIN, "8000000000000000"],
    [31n << 58n, "7c00000000000000"],
    [(31n << 58n) + 1_000_000n, share.extranonce],
    [2n ** 53n + 1n, "0020000000000001"],
  ];
  for (const [value, hex] of rows) {
    await t.step(`${value}`, () => {
      assert.equal(bytesToHex(encodeExtranonce(value)), hex);
      assert.equal(decodeExtranonce(hexToBytes(hex)), value);
    });
  }
});

Deno.test("encodeExtranonce() rejects out-of-range and non-bigint values", () => {
  assert.throws(() => encodeExtranonce(EXTRANONCE_MAX + 1n), RangeError);
  assert.throws(() => encodeExtranonce(EXTRANONCE_MIN - 1n), RangeError);
  assert.throws(() => encodeExtranonce(2n ** 64n - 1n), RangeError);
  assert.throws(() => encodeExtranonce(1 as unknown as bigint), TypeError);
  assert.throws(() => headerMerkleRoot(parts, 2n ** 63n), RangeError);
  assert.throws(() => headerMerkleRoot(parts, 5 as unknown as bigint), TypeError);
});

Deno.test("decodeExtranonce() rejects wrong lengths and types", () => {
  assert.throws(() => decodeExtranonce(new Uint8Array(7)), RangeError);
  assert.throws(() => decodeExtranonce(new Uint8Array(9)), RangeError);
  assert.throws(() => decodeExtranonce(share.extranonce as unknown as Uint8Array), TypeError);
});

Deno.test("merkle functions reject wrong input lengths", async (t) => {
  const b31 = new Uint8Array(31), b33 = new Uint8Array(33), b32 = new Uint8Array(32);
  await t.step("txRoot", () => {
    assert.throws(() => txRoot(b31, b32), RangeError);
    assert.throws(() => txRoot(b32, b33), RangeError);
    assert.throws(() => txRoot(b32, "x" as unknown as Uint8Array), TypeError);
  });
  await t.step("metapackageHash", () => {
    assert.throws(() => metapackageHash(b31, 0n), RangeError);
  });
  await t.step("merkleRootFromTxRoot", () => {
    assert.throws(
      () => merkleRootFromTxRoot({ txRoot: b33, metapackageHash: b32 }, 0n),
      RangeError,
    );
    assert.throws(
      () => merkleRootFromTxRoot({ txRoot: b32, metapackageHash: b31 }, 0n),
      RangeError,
    );
    assert.throws(() => merkleRootFromTxRoot(null as never, 0n), TypeError);
  });
  await t.step("headerMerkleRoot", () => {
    assert.throws(() => headerMerkleRoot({ ...parts, popRoot: b31 }, 0n), RangeError);
    assert.throws(() => headerMerkleRoot(null as never, 0n), TypeError);
  });
  await t.step("merkle16", () => {
    assert.throws(() => merkle16(new Uint8Array(15)), RangeError);
    assert.throws(() => merkle16(b33), RangeError);
    assert.equal(merkle16(new Uint8Array(24)).length, 16);
  });
});
