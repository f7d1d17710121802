import assert from "node:assert/strict";
import {
  DEFAULT_SIMD_OPTIONS,
  emitVblakeSimdModule,
  type StreamKind,
} from "../../../hash/_wasm_gen/vblake_simd_emitter.ts";
import {
  BATCH_HASH_STRIDE,
  BATCH_HASHES_OFFSET,
  BATCH_HEADERS_OFFSET,
  HASH_OFFSET,
  HEADER_OFFSET,
  RESULTS_OFFSET,
  TARGET_OFFSET,
  TRIED_OFFSET,
} from "../../../hash/_wasm_layout.ts";
import { difficultyToTarget, targetToBytes } from "../../../hash/difficulty.ts";
import { bytesToHex } from "../../../hash/hex.ts";
import { createReferenceKernel } from "../../../hash/kernel.ts";
import { vblake } from "../../../hash/vblake.ts";
import { prng, randomBytes } from "../_vectors.ts";

interface Exports {
  memory: WebAssembly.Memory;
  hash(): void;
  hashLanes(): void;
  lanes(): number;
  scan(start: number, count: number, max: number): number;
}

function instantiate(streams?: readonly StreamKind[]): Exports {
  const bytes = emitVblakeSimdModule(streams === undefined ? {} : { streams });
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Exports;
}

Deno.test("emitVblakeSimdModule() is valid WebAssembly with the expected exports", () => {
  const bytes = emitVblakeSimdModule();
  assert.equal(WebAssembly.validate(bytes), true);
  const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
  assert.deepEqual(names, ["memory", "hash", "hashLanes", "lanes", "scan"]);
  assert.deepEqual(DEFAULT_SIMD_OPTIONS.streams, ["v", "s", "v", "s"]);
  assert.equal(instantiate().lanes(), 6);
});

Deno.test("emitVblakeSimdModule() is deterministic", () => {
  assert.deepEqual(emitVblakeSimdModule(), emitVblakeSimdModule());
});

Deno.test("emitVblakeSimdModule() rejects stream layouts with 0 or more than 8 lanes", () => {
  assert.throws(() => emitVblakeSimdModule({ streams: [] }), RangeError);
  assert.throws(() => emitVblakeSimdModule({ streams: ["v", "v", "v", "v", "s"] }), RangeError);
});

const LAYOUTS: StreamKind[][] = [["v"], ["s"], ["v", "s"], ["s", "v"], ["v", "v"], ["v", "s", "s"]];

Deno.test("every stream layout hashes each lane like the reference", async (t) => {
  const next = prng(0xBA7C4);
  for (const streams of LAYOUTS) {
    await t.step(streams.join(""), () => {
      const exports = instantiate(streams);
      const memory = new Uint8Array(exports.memory.buffer);
      const lanes = exports.lanes();
      assert.equal(lanes, streams.reduce((n, k) => n + (k === "v" ? 2 : 1), 0));
      for (let round = 0; round < 50; round++) {
        const headers = Array.from({ length: lanes }, () => randomBytes(next, 64));
        headers.forEach((h, k) => memory.set(h, BATCH_HEADERS_OFFSET + 64 * k));
        exports.hashLanes();
        headers.forEach((h, k) => {
          const at = BATCH_HASHES_OFFSET + BATCH_HASH_STRIDE * k;
          assert.equal(bytesToHex(memory.slice(at, at + 24)), bytesToHex(vblake(h)), `lane ${k}`);
        });
      }
    });
  }
});

Deno.test("every stream layout scans like the reference, with tails and early stops", async (t) => {
  const next = prng(0x5CA4);
  const reference = createReferenceKernel();
  for (const streams of LAYOUTS) {
    await t.step(streams.join(""), () => {
      const exports = instantiate(streams);
      const memory = new Uint8Array(exports.memory.buffer);
      const words = new Uint32Array(exports.memory.buffer);
      const header = randomBytes(next, 64);
      const target = difficultyToTarget(16n);
      memory.set(header, HEADER_OFFSET);
      memory.set(targetToBytes(target), TARGET_OFFSET);
      for (const [start, count, max] of [[5, 301, 4096], [0xFFFFFF00, 256, 4096], [9, 300, 7]]) {
        const want = reference.scan(header, {
          startNonce: start!,
          count: count!,
          target,
          maxResults: max,
        });
        const found = exports.scan(start! | 0, count!, max!);
        const nonces = [...words.subarray(RESULTS_OFFSET / 4, RESULTS_OFFSET / 4 + found)];
        assert.deepEqual({ nonces, tried: words[TRIED_OFFSET / 4] }, want, `${start}+${count}`);
      }
    });
  }
});

Deno.test("the SIMD module's scalar hash() hashes the header at HEADER_OFFSET", () => {
  const exports = instantiate();
  const memory = new Uint8Array(exports.memory.buffer);
  const header = randomBytes(prng(3), 64);
  memory.set(header, HEADER_OFFSET);
  exports.hash();
  assert.equal(bytesToHex(memory.slice(HASH_OFFSET, HASH_OFFSET + 24)), bytesToHex(vblake(header)));
});

Deno.test("the emitted scan() honours a count above 2^31 passed as its i32 bit pattern", () => {
  const exports = instantiate();
  const memory = new Uint8Array(exports.memory.buffer);
  const words = new Uint32Array(exports.memory.buffer);
  memory.fill(0, HEADER_OFFSET, HEADER_OFFSET + 64);
  memory.fill(0xFF, TARGET_OFFSET, TARGET_OFFSET + 24);
  assert.equal(exports.scan(-1, -1 >>> 0, 4), 4);
  assert.deepEqual([...words.subarray(RESULTS_OFFSET / 4, RESULTS_OFFSET / 4 + 4)], [
    0xFFFFFFFF,
    0,
    1,
    2,
  ]);
  assert.equal(words[TRIED_OFFSET / 4], 4);
});
