import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "../../hash/hex.ts";
import { vblake, vblakePadded } from "../../hash/vblake.ts";
import { vectors } from "./_vectors.ts";

function hex(bytes: Uint8Array): string {
  return bytesToHex(bytes, { upper: true });
}

Deno.test("vblakePadded() matches the padded-input vectors", async (t) => {
  for (const c of vectors.vblake_padded_input.cases) {
    await t.step(c.input === "" ? "(empty)" : c.input, () => {
      assert.equal(hex(vblakePadded(hexToBytes(c.input))), c.hash.toUpperCase());
    });
  }
});

Deno.test("vblake() matches the 64-byte vectors", async (t) => {
  for (const c of vectors.vblake_64) {
    await t.step(c.name, () => {
      const input = hexToBytes(c.input);
      assert.equal(hex(vblake(input)), c.hash.toUpperCase());
      assert.equal(hex(vblakePadded(input)), c.hash.toUpperCase());
    });
  }
});

Deno.test("vblake() matches the header vectors", async (t) => {
  for (const c of vectors.headers) {
    await t.step(c.name, () => {
      assert.equal(hex(vblake(hexToBytes(c.header))), c.hash.toUpperCase());
    });
  }
});

Deno.test("vblake() hashes a subarray view at an offset", () => {
  const c = vectors.headers[4]!;
  const buffer = new Uint8Array(100);
  buffer.set(hexToBytes(c.header), 17);
  assert.equal(hex(vblake(buffer.subarray(17, 81))), c.hash.toUpperCase());
});

Deno.test("vblake() returns a fresh 24-byte array each call", () => {
  const a = vblake(new Uint8Array(64));
  const b = vblake(new Uint8Array(64));
  assert.equal(a.length, 24);
  assert.notEqual(a, b);
  assert.deepEqual(a, b);
});

Deno.test("vblake() rejects 63 and 65 bytes", () => {
  assert.throws(() => vblake(new Uint8Array(63)), RangeError);
  assert.throws(() => vblake(new Uint8Array(65)), RangeError);
  assert.throws(() => vblake(new Uint8Array(0)), RangeError);
});

Deno.test("vblake() rejects non-Uint8Array input", () => {
  assert.throws(() => vblake("00".repeat(64) as unknown as Uint8Array), TypeError);
  assert.throws(() => vblake(new Array(64).fill(0) as unknown as Uint8Array), TypeError);
  assert.throws(() => vblake(undefined as unknown as Uint8Array), TypeError);
});

Deno.test("vblakePadded() rejects more than 64 bytes and non-Uint8Array input", () => {
  assert.throws(() => vblakePadded(new Uint8Array(65)), RangeError);
  assert.throws(() => vblakePadded(null as unknown as Uint8Array), TypeError);
});

Deno.test("vblakePadded() does not modify its input", () => {
  const input = hexToBytes("68656C6C6F20776F726C64");
  vblakePadded(input);
  assert.equal(bytesToHex(input), "68656c6c6f20776f726c64");
});
