import assert from "node:assert/strict";
import { difficultyToTarget, MAX_TARGET } from "../../hash/difficulty.ts";
import { bytesToHex, hexToBytes } from "../../hash/hex.ts";
import {
  createReferenceKernel,
  createWasmKernel,
  createWasmSimdKernel,
  type ScanOptions,
} from "../../hash/kernel.ts";
import { vblake } from "../../hash/vblake.ts";
import { prng, randomBytes, vectors } from "./_vectors.ts";

const simd = createWasmSimdKernel();
const wasm = createWasmKernel();
const reference = createReferenceKernel();
const shareHeader = hexToBytes(vectors.stratum_share.work[0]!.header);

Deno.test("the SIMD kernel runs six lanes: two i64x2 streams and two scalar streams", () => {
  assert.equal(simd.lanes, 6);
});

Deno.test("hashBatch() matches every 64-byte vector in every lane position", () => {
  const cases = [
    ...vectors.vblake_64.map((c) => [c.input, c.hash]),
    ...vectors.headers.map((c) => [c.header, c.hash]),
    ...vectors.stratum_share.work.map((c) => [c.header, c.hash]),
  ];
  // Shift the list by 0..lanes-1 so every vector lands in every lane.
  for (let shift = 0; shift < simd.lanes; shift++) {
    const inputs = [...Array(shift).fill("00".repeat(64)), ...cases.map(([input]) => input!)];
    const got = simd.hashBatch(inputs.map((h) => hexToBytes(h)));
    cases.forEach(([input, hash], k) => {
      assert.equal(bytesToHex(got[shift + k]!, { upper: true }), hash!.toUpperCase(), input);
    });
  }
});

Deno.test("SIMD and reference agree on 10,000 seeded random headers (batch and single)", () => {
  const next = prng(0x51_3D);
  const headers = Array.from({ length: 10_000 }, () => randomBytes(next, 64));
  const batch = simd.hashBatch(headers);
  assert.equal(batch.length, headers.length);
  headers.forEach((header, k) => {
    const want = bytesToHex(vblake(header));
    if (bytesToHex(batch[k]!) !== want) {
      assert.fail(`header ${bytesToHex(header)}: simd ${bytesToHex(batch[k]!)}, ts ${want}`);
    }
    if (k % 10 === 0 && bytesToHex(simd.hash(header)) !== want) {
      assert.fail(`header ${bytesToHex(header)}: simd hash() differs`);
    }
  });
});

Deno.test("hashBatch() handles empty and partial groups and rejects bad input", () => {
  assert.deepEqual(simd.hashBatch([]), []);
  const one = simd.hashBatch([shareHeader]);
  assert.equal(one.length, 1);
  assert.equal(bytesToHex(one[0]!), bytesToHex(vblake(shareHeader)));
  assert.throws(() => simd.hashBatch([new Uint8Array(63)]), RangeError);
  assert.throws(() => simd.hashBatch([shareHeader, "x" as unknown as Uint8Array]), TypeError);
  assert.throws(() => simd.hashBatch(shareHeader as unknown as Uint8Array[]), TypeError);
});

Deno.test("SIMD scans equal the reference on seeded headers, across 2^31 and up to 2^32-1", async (t) => {
  const next = prng(7);
  const ranges: [number, number][] = [
    [0, 2047],
    [next(), 2048],
    [0x7FFFFC01, 2047], // across 2^31
    [0x80000000 - 1, 2],
    [2 ** 32 - 2047, 2047], // ends at the last nonce
    [2 ** 32 - 2, 2],
    [2 ** 32 - 1, 1],
  ];
  for (const [start, count] of ranges) {
    await t.step(`start ${start.toString(16)}, count ${count}`, () => {
      const header = randomBytes(next, 64);
      const target = difficultyToTarget(64n);
      const options: ScanOptions = { startNonce: start, count, target, maxResults: 4096 };
      const want = reference.scan(header, options);
      assert.equal(want.tried, count);
      assert.deepEqual(simd.scan(header, options), want);
    });
  }
});

Deno.test("SIMD scans handle every lane tail (counts 0..13 at every lane offset)", () => {
  const header = randomBytes(prng(99), 64);
  const target = MAX_TARGET / 3n; // about one nonce in three
  for (let start = 0; start < 12; start++) {
    for (let count = 0; count <= 13; count++) {
      const options: ScanOptions = { startNonce: 1000 + start, count, target };
      assert.deepEqual(
        simd.scan(header, options),
        reference.scan(header, options),
        `${start}+${count}`,
      );
    }
  }
});

Deno.test("SIMD scans stop at maxResults on every lane with the scalar kernel's tried", () => {
  const header = randomBytes(prng(1234), 64);
  const target = MAX_TARGET / 4n;
  for (let start = 0; start < 6; start++) {
    for (let maxResults = 1; maxResults <= 16; maxResults++) {
      const options: ScanOptions = {
        startNonce: 0xFFFFFF00 + start,
        count: 200,
        target,
        maxResults,
      };
      const got = simd.scan(header, options);
      assert.deepEqual(got, wasm.scan(header, options), `start +${start}, max ${maxResults}`);
      assert.equal(got.nonces.length, maxResults);
      assert.equal(got.tried, got.nonces.at(-1)! - options.startNonce + 1);
    }
  }
});

Deno.test("SIMD scan finds the stratum share vector: 0x430b first from 0 at difficulty 65536", () => {
  const target = difficultyToTarget(65536n);
  const result = simd.scan(shareHeader, { startNonce: 0, count: 0x10000, target, maxResults: 1 });
  assert.deepEqual(result, { nonces: [0x430b], tried: 0x430c });
});

Deno.test("SIMD and scalar scans agree over 60,000 nonces at difficulty 1024", () => {
  const options: ScanOptions = {
    startNonce: 0x1234,
    count: 60_001,
    target: difficultyToTarget(1024n),
    maxResults: 4096,
  };
  const got = simd.scan(shareHeader, options);
  assert.deepEqual(got, wasm.scan(shareHeader, options));
  assert.ok(got.nonces.length > 20, `${got.nonces.length} found`);
});
