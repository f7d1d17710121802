import assert from "node:assert/strict";
import { vblakeWgsl } from "../../../miner/gpu/vblake_wgsl.ts";
import { encodeParams } from "../../../miner/gpu/_params.ts";
import { applyG, gSteps, HOST_G_CALLS } from "../../../miner/gpu/_g_steps.ts";
import {
  MID_STATE_ORDER,
  PARAM_BASE,
  PARAM_COUNT,
  PARAM_MID,
  PARAM_MSG,
  PARAM_TARGET,
  PARAM_WORDS,
} from "../../../miner/gpu/_layout.ts";
import {
  bytesToHex,
  hexToBytes,
  targetToBytes,
  vblake,
  VBLAKE_C as C,
  VBLAKE_H_INIT as H_INIT,
  VBLAKE_V_INIT as V_INIT,
} from "../../../hash/mod.ts";
import { prng, randomBytes, vectors } from "../../hash/_vectors.ts";

Deno.test("vblakeWgsl() emits both entry points, unrolled rounds and literal constants", () => {
  const source = vblakeWgsl();
  assert.match(source, /@compute @workgroup_size\(64\)\nfn scan\(/);
  assert.match(source, /@compute @workgroup_size\(64\)\nfn hash_debug\(/);
  assert.equal(source.match(/= ~v\d+;/g)?.length, 16 * 8 - 3); // 3 G calls in the midstate
  assert.equal(source.match(/\/\/ round \d+/g)?.length, 16);
  assert.ok(!/\bfor\b/.test(source), "no loops with one nonce per invocation");
  // mc[8] = C[8] (m[8] is zero) appears as a literal.
  assert.ok(source.includes("vec2<u32>(0x0c59eb1bu, 0x531655d9u)"));
  // The nonce enters as the byte-swapped high half of m[7].
  assert.match(source, /let m7 = vec2<u32>\([^;]*\^ bswap\(nonce\)\);/);
});

Deno.test("vblakeWgsl() honours its options and rejects bad ones", () => {
  const source = vblakeWgsl({ workgroupSize: 256, noncesPerInvocation: 4 });
  assert.match(source, /@workgroup_size\(256\)/);
  assert.match(source, /for \(var k = 0u; k < 4u; k\+\+\)/);
  for (const bad of [{ workgroupSize: 0 }, { workgroupSize: 1025 }, { noncesPerInvocation: 0 }]) {
    assert.throws(() => vblakeWgsl(bad), RangeError);
  }
  assert.throws(() => vblakeWgsl({ workgroupSize: 1.5 }), /Cannot emit the vBlake shader/);
});

/** What the shader does with the parameter block, in BigInt: the rest of the hash. */
function finishFromParams(p: Uint32Array, nonce: number): Uint8Array {
  const word = (at: number) => (BigInt(p[at + 1]!) << 32n) | BigInt(p[at]!);
  const v = [...V_INIT];
  MID_STATE_ORDER.forEach((s, k) => v[s] = word(PARAM_MID + 2 * k));
  const swapped = ((nonce & 0xff) << 24 | (nonce & 0xff00) << 8 | (nonce >>> 8) & 0xff00 |
    nonce >>> 24) >>> 0;
  const mc = Array.from({ length: 16 }, (_, i) => i < 8 ? word(PARAM_MSG + 2 * i) : C[i]!);
  mc[7] = mc[7]! ^ (BigInt(swapped) << 32n);
  for (const step of gSteps(HOST_G_CALLS)) applyG(v, step, mc);
  const h = H_INIT.map((x, i) => x ^ v[i]! ^ v[i + 8]!);
  const out = new Uint8Array(24);
  const view = new DataView(out.buffer);
  [h[0]! ^ h[3]! ^ h[6]!, h[1]! ^ h[4]! ^ h[7]!, h[2]! ^ h[5]!].forEach((w, k) =>
    view.setBigUint64(8 * k, w, true)
  );
  return out;
}

Deno.test("encodeParams() midstate and message words complete to the reference hash", () => {
  const next = prng(0xc0ffee);
  const headers = [
    hexToBytes(vectors.headers[4]!.header),
    ...Array.from({ length: 5 }, () => randomBytes(next, 64)),
  ];
  const params = new Uint32Array(PARAM_WORDS);
  for (const header of headers) {
    encodeParams(params, header, new Uint8Array(24), { base: 0, count: 1 });
    const nonce = new DataView(header.buffer).getUint32(60);
    assert.equal(bytesToHex(finishFromParams(params, nonce)), bytesToHex(vblake(header)));
  }
});

Deno.test("encodeParams() writes the target as big-endian words, the range, and ignores the template nonce", () => {
  const params = new Uint32Array(PARAM_WORDS);
  const target = targetToBytes(0x0000000000112233445566778899AABBCCDDEEFF01020304n);
  const header = hexToBytes(vectors.headers[4]!.header);
  encodeParams(params, header, target, { base: 0xFFFFFFF0, count: 16 });
  assert.deepEqual(
    [...params.subarray(PARAM_TARGET, PARAM_TARGET + 6)],
    [0, 0x00112233, 0x44556677, 0x8899AABB, 0xCCDDEEFF, 0x01020304],
  );
  assert.equal(params[PARAM_BASE], 0xFFFFFFF0);
  assert.equal(params[PARAM_COUNT], 16);
  const other = header.slice();
  other[62] = other[62]! ^ 0xff;
  const again = new Uint32Array(PARAM_WORDS);
  encodeParams(again, other, target, { base: 0xFFFFFFF0, count: 16 });
  assert.deepEqual(again, params);
  assert.throws(
    () => encodeParams(new Uint32Array(4), header, target, { base: 0, count: 1 }),
    RangeError,
  );
});
