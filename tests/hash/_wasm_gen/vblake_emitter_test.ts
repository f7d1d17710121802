import assert from "node:assert/strict";
import { emitVblakeModule } from "../../../hash/_wasm_gen/vblake_emitter.ts";
import {
  HASH_OFFSET,
  RESULTS_OFFSET,
  TARGET_OFFSET,
  TRIED_OFFSET,
} from "../../../hash/_wasm_layout.ts";
import { bytesToHex, hexToBytes } from "../../../hash/hex.ts";
import { vectors } from "../_vectors.ts";

interface Exports {
  memory: WebAssembly.Memory;
  hash(): void;
  scan(start: number, count: number, max: number): number;
}

function instantiate(): Exports {
  const bytes = emitVblakeModule();
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as Exports;
}

Deno.test("emitVblakeModule() is valid WebAssembly with the expected exports", () => {
  const bytes = emitVblakeModule();
  assert.equal(WebAssembly.validate(bytes), true);
  const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
  assert.deepEqual(names, ["memory", "hash", "scan"]);
  assert.ok(bytes.length < 64 * 1024, `module is ${bytes.length} bytes`);
});

Deno.test("emitVblakeModule() is deterministic", () => {
  assert.deepEqual(emitVblakeModule(), emitVblakeModule());
});

Deno.test("the emitted hash() export matches the header vectors", () => {
  const exports = instantiate();
  const memory = new Uint8Array(exports.memory.buffer);
  for (const c of vectors.headers) {
    memory.set(hexToBytes(c.header), 0);
    exports.hash();
    assert.equal(bytesToHex(memory.slice(HASH_OFFSET, HASH_OFFSET + 24), { upper: true }), c.hash);
  }
});

Deno.test("the emitted scan() export reads the target and writes results and tried", () => {
  const exports = instantiate();
  const memory = new Uint8Array(exports.memory.buffer);
  const words = new Uint32Array(exports.memory.buffer);
  memory.set(hexToBytes(vectors.stratum_share.work[0]!.header), 0);
  memory.set(hexToBytes(vectors.share_targets[2]!.target), TARGET_OFFSET); // difficulty 65536
  assert.equal(exports.scan(0, 0x5000, 4), 1);
  assert.equal(words[RESULTS_OFFSET / 4], 0x430b);
  assert.equal(words[TRIED_OFFSET / 4], 0x5000);
  // A count passed as the i32 bit pattern of a uint32 above 2^31 is honoured up to maxResults.
  memory.fill(0xFF, TARGET_OFFSET, TARGET_OFFSET + 24);
  assert.equal(exports.scan(-1, -1 >>> 0, 3), 3);
  assert.deepEqual([...words.subarray(RESULTS_OFFSET / 4, RESULTS_OFFSET / 4 + 3)], [
    0xFFFFFFFF,
    0,
    1,
  ]);
  assert.equal(words[TRIED_OFFSET / 4], 3);
});
