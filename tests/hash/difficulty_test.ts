import assert from "node:assert/strict";
import {
  bytesToTarget,
  decodeBits,
  difficultyToTarget,
  encodeBits,
  hashDifficulty,
  hashToBigInt,
  MAX_TARGET,
  meetsTarget,
  targetToBytes,
  targetToDifficulty,
} from "../../hash/difficulty.ts";
import { bytesToHex, hexToBytes } from "../../hash/hex.ts";
import { vblake } from "../../hash/vblake.ts";
import { vectors } from "./_vectors.ts";

function hex(bytes: Uint8Array): string {
  return bytesToHex(bytes, { upper: true });
}

Deno.test("decodeBits() matches the compact_difficulty decode vectors", async (t) => {
  for (const row of vectors.compact_difficulty.decode) {
    await t.step(row.bits, () => {
      const bits = parseInt(row.bits, 16);
      if (row.difficulty.startsWith("negative")) {
        assert.throws(() => decodeBits(bits), { name: "RangeError", message: /negative/ });
      } else {
        assert.equal(decodeBits(bits), BigInt(row.difficulty));
      }
    });
  }
});

Deno.test("encodeBits() matches the compact_difficulty encode vectors", async (t) => {
  for (const row of vectors.compact_difficulty.encode) {
    await t.step(row.difficulty, () => {
      assert.equal(encodeBits(BigInt(row.difficulty)), parseInt(row.bits, 16));
    });
  }
});

Deno.test("encodeBits() and decodeBits() follow the spec §5.6 table", async (t) => {
  const rows: [bigint, number, bigint][] = [
    [1n, 0x01010000, 1n],
    [9_999_872n, 0x04009896, 9_999_872n],
    [100_000_000n, 0x0405F5E1, 100_000_000n],
    [90_000_000_000n, 0x0514F46B, 89_999_998_976n],
    [100_000_000_000n, 0x05174876, 99_999_940_608n],
    [1_000_000_000_000n, 0x0600E8D4, 999_989_182_464n],
    [1n << 24n, 0x04010000, 1n << 24n],
    [1n << 32n, 0x05010000, 1n << 32n],
    [0x80n, 0x02008000, 0x80n],
    [0x7Fn, 0x017F0000, 0x7Fn],
    [0x800000n, 0x04008000, 0x800000n],
    [MAX_TARGET, 0x1900FFFF, 0xFFFFn << 176n],
  ];
  for (const [difficulty, bits, back] of rows) {
    await t.step(`${difficulty}`, () => {
      assert.equal(encodeBits(difficulty), bits);
      assert.equal(decodeBits(bits), back);
    });
  }
});

Deno.test("decodeBits() handles small sizes, zero and huge sizes", async (t) => {
  await t.step("size 0 is zero difficulty", () => {
    assert.throws(() => decodeBits(0x00123456), { name: "RangeError", message: /zero/ });
  });
  await t.step("zero mantissa is zero difficulty", () => {
    assert.throws(() => decodeBits(0x01000000), { name: "RangeError", message: /zero/ });
    assert.throws(() => decodeBits(0x04000000), { name: "RangeError", message: /zero/ });
  });
  await t.step("size 2 drops the low mantissa byte", () => {
    assert.equal(decodeBits(0x027F7FAB), 0x7F7Fn);
  });
  await t.step("negative zero is rejected", () => {
    assert.throws(() => decodeBits(0x04800000), { name: "RangeError", message: /negative/ });
  });
  await t.step("size 0x20", () => {
    assert.equal(decodeBits(0x20123456), 0x123456n << 232n);
  });
  await t.step("size 0xFF gives a difficulty whose target is 0", () => {
    const d = decodeBits(0xFF123456);
    assert.equal(d, 0x123456n << BigInt(8 * 252));
    assert.equal(difficultyToTarget(d), 0n);
  });
});

Deno.test("decodeBits() rejects non-uint32 input", async (t) => {
  const rows: [string, unknown, ErrorConstructor][] = [
    ["-1", -1, RangeError],
    ["2^32", 2 ** 32, RangeError],
    ["1.5", 1.5, TypeError],
    ["NaN", NaN, TypeError],
    ["string", "0600E8D4", TypeError],
    ["bigint", 0x0600E8D4n, TypeError],
  ];
  for (const [name, input, error] of rows) {
    await t.step(name, () => assert.throws(() => decodeBits(input as number), error));
  }
});

Deno.test("encodeBits() rejects zero, negative and non-bigint difficulties", () => {
  assert.throws(() => encodeBits(0n), RangeError);
  assert.throws(() => encodeBits(-5n), RangeError);
  assert.throws(() => encodeBits(1n << 2100n), RangeError);
  assert.throws(() => encodeBits(100 as unknown as bigint), TypeError);
});

Deno.test("difficultyToTarget() matches the share_targets vectors", async (t) => {
  for (const row of vectors.share_targets) {
    await t.step(row.difficulty, () => {
      const difficulty = BigInt(row.difficulty);
      const target = difficultyToTarget(difficulty);
      assert.equal(hex(targetToBytes(target)), row.target);
      assert.equal(bytesToTarget(hexToBytes(row.target)), target);
      assert.equal(targetToDifficulty(target), difficulty);
    });
  }
});

Deno.test("difficultyToTarget() gives the block 200001 and 200042 targets", () => {
  assert.equal(
    hex(targetToBytes(difficultyToTarget(decodeBits(0x07029BE6)))),
    "000000000000621F69764EF3BE5F8DAEE761EA8487752D2E",
  );
  const block = vectors.headers.find((h) => h.height === 200042)!;
  const target = difficultyToTarget(decodeBits(0x0702388D));
  assert.equal(hex(targetToBytes(target)), block.network_target);
  assert.equal(meetsTarget(vblake(hexToBytes(block.header)), target), true);
});

Deno.test("difficultyToTarget() and targetToDifficulty() reject out-of-range values", () => {
  assert.throws(() => difficultyToTarget(0n), RangeError);
  assert.throws(() => difficultyToTarget(-1n), RangeError);
  assert.throws(() => difficultyToTarget(1 as unknown as bigint), TypeError);
  assert.throws(() => targetToDifficulty(0n), RangeError);
  assert.throws(() => targetToDifficulty(MAX_TARGET + 1n), RangeError);
  assert.equal(targetToDifficulty(MAX_TARGET), 1n);
  assert.equal(difficultyToTarget(MAX_TARGET + 1n), 0n);
});

Deno.test("targetToBytes() and bytesToTarget() round-trip and validate", () => {
  for (const target of [0n, 1n, 0xFFn, 1n << 100n, MAX_TARGET]) {
    const bytes = targetToBytes(target);
    assert.equal(bytes.length, 24);
    assert.equal(bytesToTarget(bytes), target);
  }
  assert.throws(() => targetToBytes(-1n), RangeError);
  assert.throws(() => targetToBytes(MAX_TARGET + 1n), RangeError);
  assert.throws(() => targetToBytes(5 as unknown as bigint), TypeError);
  assert.throws(() => bytesToTarget(new Uint8Array(23)), RangeError);
  assert.throws(() => bytesToTarget(new Uint8Array(32)), RangeError);
  assert.throws(() => bytesToTarget("00" as unknown as Uint8Array), TypeError);
});

Deno.test("hashToBigInt() reads big-endian at any length", () => {
  assert.equal(hashToBigInt(new Uint8Array()), 0n);
  assert.equal(hashToBigInt(hexToBytes("01")), 1n);
  assert.equal(hashToBigInt(hexToBytes("0102030405060708090A")), 0x0102030405060708090An);
  const hash = hexToBytes("00000000000014C373754D9F30CBCE84728F10EF8AABF5E3");
  assert.equal(hashToBigInt(hash), 0x00000000000014C373754D9F30CBCE84728F10EF8AABF5E3n);
  assert.throws(() => hashToBigInt([1] as unknown as Uint8Array), TypeError);
});

Deno.test("hashDifficulty() is floor(MAX / hash), MAX for a zero hash", () => {
  assert.equal(hashDifficulty(new Uint8Array(24)), MAX_TARGET);
  assert.equal(hashDifficulty(new Uint8Array(24).fill(0xFF)), 1n);
  const hash = hexToBytes(vectors.stratum_share.work[2]!.hash);
  const achieved = hashDifficulty(hash);
  assert.ok(achieved >= 65536n && achieved < 1048576n);
  assert.throws(() => hashDifficulty(new Uint8Array(32)), RangeError);
});

Deno.test("meetsTarget() is strict hash < target", () => {
  const hash = hexToBytes("0000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
  const value = hashToBigInt(hash);
  assert.equal(meetsTarget(hash, value), false);
  assert.equal(meetsTarget(hash, value + 1n), true);
  assert.equal(meetsTarget(hash, 0n), false);
  assert.equal(meetsTarget(hash, -1n), false);
  assert.equal(meetsTarget(new Uint8Array(24), 1n), true);
  assert.throws(() => meetsTarget(new Uint8Array(23), 1n), RangeError);
  assert.throws(() => meetsTarget(hash, 1 as unknown as bigint), TypeError);
});

Deno.test("meetsTarget() agrees with the stratum_share work notes", () => {
  const [w1, w6, w430b] = vectors.stratum_share.work.map((w) => hexToBytes(w.hash));
  const target = (d: bigint) => difficultyToTarget(d);
  assert.equal(meetsTarget(w1!, target(256n)), false);
  assert.equal(meetsTarget(w6!, target(256n)), true);
  assert.equal(meetsTarget(w430b!, target(65536n)), true);
  assert.equal(meetsTarget(w430b!, target(1048576n)), false);
  assert.equal(meetsTarget(w430b!, difficultyToTarget(decodeBits(0x0600E8D4))), false);
});
