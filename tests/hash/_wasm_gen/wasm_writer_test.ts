import assert from "node:assert/strict";
import {
  CodeBuilder,
  encodeModule,
  Op,
  SimdOp,
  sleb128,
  uleb128,
  ValType,
} from "../../../hash/_wasm_gen/wasm_writer.ts";

Deno.test("uleb128() encodes unsigned values", async (t) => {
  const rows: [number | bigint, number[]][] = [
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [624485, [0xe5, 0x8e, 0x26]],
    [0xFFFFFFFF, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    [2n ** 64n - 1n, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ];
  for (const [value, bytes] of rows) {
    await t.step(`${value}`, () => assert.deepEqual(uleb128(value), bytes));
  }
  await t.step("negative", () => assert.throws(() => uleb128(-1), RangeError));
});

Deno.test("sleb128() encodes signed values", async (t) => {
  const rows: [number | bigint, number[]][] = [
    [0, [0x00]],
    [1, [0x01]],
    [-1, [0x7f]],
    [63, [0x3f]],
    [64, [0xc0, 0x00]],
    [-64, [0x40]],
    [-65, [0xbf, 0x7f]],
    [-128, [0x80, 0x7f]],
    [-123456, [0xc0, 0xbb, 0x78]],
    [-(2n ** 63n), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]],
  ];
  for (const [value, bytes] of rows) {
    await t.step(`${value}`, () => assert.deepEqual(sleb128(value), bytes));
  }
});

Deno.test("encodeModule() produces a module WebAssembly accepts and runs", () => {
  // add64(a, b) = a + b with an i64 constant folded in: (a + b + 0xFFFFFFFFFFFFFFFF) ^ -1 ...
  const add = new CodeBuilder().get(0).get(1).emit(Op.i64_add).i64Const(0xFFFFFFFFFFFFFFFFn)
    .emit(Op.i64_add);
  const store = new CodeBuilder().i32Const(8).get(0).mem(Op.i32_store, 2, 4);
  const bytes = encodeModule({
    functions: [
      {
        type: { params: [ValType.i64, ValType.i64], results: [ValType.i64] },
        locals: [],
        body: add,
      },
      {
        type: { params: [ValType.i32], results: [] },
        locals: [ValType.i64, ValType.i64, ValType.i32],
        body: store,
      },
    ],
    memory: { minPages: 1 },
    exports: [
      { name: "add", kind: "func", index: 0 },
      { name: "store", kind: "func", index: 1 },
      { name: "memory", kind: "memory", index: 0 },
    ],
  });
  assert.equal(WebAssembly.validate(bytes), true);
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as {
    add(a: bigint, b: bigint): bigint;
    store(x: number): void;
    memory: WebAssembly.Memory;
  };
  assert.equal(exports.add(5n, 7n), 11n);
  assert.equal(exports.add(0n, 0n), -1n);
  exports.store(0x12345678);
  assert.equal(new DataView(exports.memory.buffer).getUint32(12, true), 0x12345678);
});

Deno.test("CodeBuilder.v128SplatConst() writes v128.const with both lanes little-endian", () => {
  const code = new CodeBuilder().v128SplatConst(0x0102030405060708n);
  const lane = [8, 7, 6, 5, 4, 3, 2, 1];
  assert.deepEqual(code.bytes, [0xfd, 0x0c, ...lane, ...lane]);
  assert.deepEqual(new CodeBuilder().v128SplatConst(-1n).bytes.slice(2), new Array(16).fill(0xff));
});

Deno.test("CodeBuilder.append() copies another builder's bytes", () => {
  const inner = new CodeBuilder().i32Const(5).simd(SimdOp.i64x2_add);
  const outer = new CodeBuilder().emit(0x01).append(inner);
  assert.deepEqual(outer.bytes, [0x01, Op.i32_const, 5, 0xfd, 0xce, 0x01]);
});
