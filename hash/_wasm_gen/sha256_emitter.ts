/**
 * Emits the SHA-256 WebAssembly module (FIPS 180-4 §6.2): scalar i32 words, the 64 rounds of
 * a block fully unrolled with the eight working variables and the 16-word message schedule in
 * locals (the variables are renamed at emit time instead of moved; the schedule is extended
 * in place, one word per round from round 16 on), the round constants folded into
 * `i32.const` immediates. Padding is done inside the module, in place after the message.
 *
 * Exports (memory layout in {@linkcode SHA256_LAYOUT}, copied into the generated
 * `../_sha256_wasm.ts`):
 * - `memory`: one fixed 64 KiB page;
 * - `hash(len)`: the whole SHA-256 of the `len` bytes at INPUT_OFFSET (`len` ≤
 *   ONESHOT_MAX_BYTES; the padding overwrites the bytes after the message) into the 32 bytes
 *   at DIGEST_OFFSET;
 * - for longer messages: `init()` (state := IV), `update(blocks)` (absorb `blocks` 64-byte
 *   blocks at INPUT_OFFSET), then `final(len, bitsHi, bitsLo)` (pad the last `len` ≤
 *   ONESHOT_MAX_BYTES bytes at INPUT_OFFSET with the 64-bit message length in bits given as two
 *   uint32 halves, absorb them and write the digest to DIGEST_OFFSET).
 *
 * The chaining state lives in memory at STATE_OFFSET (eight native-order words) between
 * calls; message words are byte-swapped on load, digest words on store.
 *
 * @module
 */

import { BLOCK_VOID, CodeBuilder, encodeModule, type FuncDef, Op, ValType } from "./wasm_writer.ts";
import { emitBswap32, Locals } from "./vblake_emitter.ts";

/** One layout constant: its value and what it means (both copied into the generated file). */
export interface LayoutConstant {
  value: number;
  doc: string;
}

/** Linear-memory layout of the SHA-256 module (one 64 KiB page), shared with `../sha256.ts`. */
export const SHA256_LAYOUT = {
  STATE_OFFSET: {
    value: 0,
    doc: "Eight uint32 chaining words (native byte order), kept between `init`, `update`, `final`.",
  },
  DIGEST_OFFSET: { value: 32, doc: "The 32-byte digest written by `hash` and `final`." },
  INPUT_OFFSET: {
    value: 64,
    doc: "Message bytes read by `hash`, `update` and `final` (64-byte aligned).",
  },
  ONESHOT_MAX_BYTES: {
    value: 65536 - 64 - 128,
    doc: "Longest message `hash` and `final` take (room for the ≤ 72 padding bytes after it).",
  },
  CHUNK_BYTES: {
    value: 32768,
    doc: "Bytes a host feeds per `update` call when it streams a longer message (512 blocks).",
  },
  MEMORY_PAGES: { value: 1, doc: "Pages of linear memory (fixed; the module never grows it)." },
} as const satisfies Record<string, LayoutConstant>;

const STATE_OFFSET = SHA256_LAYOUT.STATE_OFFSET.value;
const DIGEST_OFFSET = SHA256_LAYOUT.DIGEST_OFFSET.value;
const INPUT_OFFSET = SHA256_LAYOUT.INPUT_OFFSET.value;
const MEMORY_PAGES = SHA256_LAYOUT.MEMORY_PAGES.value;

/** SHA-256 initial hash value H(0) (FIPS 180-4 §5.3.3). */
export const SHA256_IV: readonly number[] = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

/** SHA-256 round constants K (FIPS 180-4 §4.2.2). */
export const SHA256_K: readonly number[] = [
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
];

/** Function indices in the emitted module. */
const FN_COMPRESS = 0, FN_INIT = 1, FN_UPDATE = 2, FN_FINAL = 3, FN_HASH = 4;

/** Push rotr(x, r1) ^ rotr(x, r2) ^ (rotr(x, r3) or x >>> r3) for the local `x`. */
function emitSigma(
  code: CodeBuilder,
  x: number,
  r: [number, number, number],
  shift: boolean,
): void {
  code.get(x).i32Const(r[0]).emit(Op.i32_rotr);
  code.get(x).i32Const(r[1]).emit(Op.i32_rotr).emit(Op.i32_xor);
  code.get(x).i32Const(r[2]).emit(shift ? Op.i32_shr_u : Op.i32_rotr).emit(Op.i32_xor);
}

/**
 * Function 0: compress(ptr, blocks). Loads the state from STATE_OFFSET, absorbs `blocks`
 * 64-byte blocks starting at `ptr`, stores the state back.
 */
function buildCompress(): FuncDef {
  const code = new CodeBuilder();
  const [ptr, blocks] = [0, 1];
  const locals = new Locals(2);
  const h = locals.add(ValType.i32, 8); // chaining state H0..H7
  const v = locals.add(ValType.i32, 8); // working variables, renamed every round
  const w = locals.add(ValType.i32, 16); // message schedule, W[t] in w[t % 16]
  const x = locals.add(ValType.i32, 2); // a ^ b of this round is b ^ c of the next
  const tmp = locals.one(ValType.i32);

  for (let i = 0; i < 8; i++) code.i32Const(0).mem(Op.i32_load, 2, STATE_OFFSET + 4 * i).set(h[i]!);
  code.emit(Op.block, BLOCK_VOID, Op.loop, BLOCK_VOID);
  code.get(blocks).emit(Op.i32_eqz).brIf(1);
  for (let i = 0; i < 16; i++) {
    code.get(ptr).mem(Op.i32_load, 2, 4 * i);
    emitBswap32(code, tmp);
    code.set(w[i]!);
  }
  for (let i = 0; i < 8; i++) code.get(h[i]!).set(v[i]!);
  // Role r (0 = a … 7 = h) of round t lives in v[(r - t) mod 8].
  const role = (r: number, t: number) => v[(r + 8 - (t % 8)) % 8]!;
  code.get(role(1, 0)).get(role(2, 0)).emit(Op.i32_xor).set(x[1]!);
  for (let t = 0; t < 64; t++) {
    // c is not read: b ^ c comes from the previous round's a ^ b (x[(t + 1) % 2]).
    const a = role(0, t), b = role(1, t), d = role(3, t);
    const e = role(4, t), f = role(5, t), g = role(6, t), hh = role(7, t);
    const wt = w[t % 16]!;
    if (t >= 16) {
      // W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16]
      emitSigma(code, w[(t - 2) % 16]!, [17, 19, 10], true);
      code.get(w[(t - 7) % 16]!).emit(Op.i32_add);
      emitSigma(code, w[(t - 15) % 16]!, [7, 18, 3], true);
      code.emit(Op.i32_add).get(wt).emit(Op.i32_add).set(wt);
    }
    // h = T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]
    code.get(hh);
    emitSigma(code, e, [6, 11, 25], false);
    code.emit(Op.i32_add);
    code.get(g).get(e).get(f).get(g).emit(Op.i32_xor, Op.i32_and, Op.i32_xor, Op.i32_add);
    code.i32Const(SHA256_K[t]!).emit(Op.i32_add).get(wt).emit(Op.i32_add).tee(hh);
    // d = d + T1
    code.get(d).emit(Op.i32_add).set(d);
    // h = T1 + Σ0(a) + Maj(a, b, c), Maj = b ^ ((a ^ b) & (b ^ c))
    code.get(hh);
    emitSigma(code, a, [2, 13, 22], false);
    code.emit(Op.i32_add);
    code.get(b).get(a).get(b).emit(Op.i32_xor).tee(x[t % 2]!).get(x[(t + 1) % 2]!);
    code.emit(Op.i32_and, Op.i32_xor, Op.i32_add).set(hh);
  }
  for (let i = 0; i < 8; i++) code.get(h[i]!).get(v[i]!).emit(Op.i32_add).set(h[i]!);
  code.get(ptr).i32Const(64).emit(Op.i32_add).set(ptr);
  code.get(blocks).i32Const(1).emit(Op.i32_sub).set(blocks);
  code.br(0);
  code.emit(Op.end, Op.end); // loop, block
  for (let i = 0; i < 8; i++) {
    code.i32Const(0).get(h[i]!).mem(Op.i32_store, 2, STATE_OFFSET + 4 * i);
  }
  return {
    type: { params: [ValType.i32, ValType.i32], results: [] },
    locals: locals.types,
    body: code,
  };
}

/** Function 1: init(), state := IV. */
function buildInit(): FuncDef {
  const code = new CodeBuilder();
  for (let i = 0; i < 8; i++) {
    code.i32Const(0).i32Const(SHA256_IV[i]!).mem(Op.i32_store, 2, STATE_OFFSET + 4 * i);
  }
  return { type: { params: [], results: [] }, locals: [], body: code };
}

/** Function 2: update(blocks), absorb `blocks` blocks at INPUT_OFFSET. */
function buildUpdate(): FuncDef {
  const code = new CodeBuilder();
  code.i32Const(INPUT_OFFSET).get(0).call(FN_COMPRESS);
  return { type: { params: [ValType.i32], results: [] }, locals: [], body: code };
}

/**
 * Function 3: final(len, bitsHi, bitsLo). Pads the `len` bytes at INPUT_OFFSET in place
 * (0x80, zeros, the 64-bit big-endian bit length), absorbs them and writes the digest.
 */
function buildFinal(): FuncDef {
  const code = new CodeBuilder();
  const [len, bitsHi, bitsLo] = [0, 1, 2];
  const locals = new Locals(3);
  const base = locals.one(ValType.i32);
  const end = locals.one(ValType.i32);
  const shift = locals.one(ValType.i64);
  const tmp = locals.one(ValType.i32);

  // The 8-byte word holding byte INPUT + len keeps its message bytes and gets 0x80 after them.
  code.get(len).i32Const(INPUT_OFFSET).emit(Op.i32_add).i32Const(~7).emit(Op.i32_and).set(base);
  code.get(len).i32Const(7).emit(Op.i32_and).i32Const(3).emit(Op.i32_shl);
  code.emit(Op.i64_extend_i32_u).set(shift);
  code.get(base);
  code.get(base).mem(Op.i64_load, 3, 0);
  code.i64Const(1n).get(shift).emit(Op.i64_shl).i64Const(1n).emit(Op.i64_sub, Op.i64_and);
  code.i64Const(0x80n).get(shift).emit(Op.i64_shl, Op.i64_or);
  code.mem(Op.i64_store, 3, 0);
  // end = INPUT + padded length, padded length = (len + 72) & ~63.
  code.get(len).i32Const(72).emit(Op.i32_add).i32Const(~63).emit(Op.i32_and);
  code.i32Const(INPUT_OFFSET).emit(Op.i32_add).set(end);
  // Zero the whole words after it, up to the length field.
  code.emit(Op.block, BLOCK_VOID, Op.loop, BLOCK_VOID);
  code.get(base).i32Const(8).emit(Op.i32_add).tee(base);
  code.get(end).i32Const(8).emit(Op.i32_sub).emit(Op.i32_ge_u).brIf(1);
  code.get(base).i64Const(0n).mem(Op.i64_store, 3, 0);
  code.br(0);
  code.emit(Op.end, Op.end);
  // The bit length, big-endian, in the last 8 bytes (end - 8 is already in `base`).
  code.get(base).get(bitsHi);
  emitBswap32(code, tmp);
  code.mem(Op.i32_store, 2, 0);
  code.get(base).get(bitsLo);
  emitBswap32(code, tmp);
  code.mem(Op.i32_store, 2, 4);
  // Absorb the padded blocks, then write the state as the big-endian digest.
  code.i32Const(INPUT_OFFSET).get(end).i32Const(INPUT_OFFSET).emit(Op.i32_sub);
  code.i32Const(6).emit(Op.i32_shr_u).call(FN_COMPRESS);
  for (let i = 0; i < 8; i++) {
    code.i32Const(0).i32Const(0).mem(Op.i32_load, 2, STATE_OFFSET + 4 * i);
    emitBswap32(code, tmp);
    code.mem(Op.i32_store, 2, DIGEST_OFFSET + 4 * i);
  }
  return {
    type: { params: [ValType.i32, ValType.i32, ValType.i32], results: [] },
    locals: locals.types,
    body: code,
  };
}

/** Function 4: hash(len), init() then final(len, len >>> 29, len << 3). */
function buildHash(): FuncDef {
  const code = new CodeBuilder();
  code.call(FN_INIT);
  code.get(0).get(0).i32Const(29).emit(Op.i32_shr_u).get(0).i32Const(3).emit(Op.i32_shl);
  code.call(FN_FINAL);
  return { type: { params: [ValType.i32], results: [] }, locals: [], body: code };
}

/**
 * Emit the whole SHA-256 module.
 *
 * @returns The `.wasm` bytes.
 */
export function emitSha256Module(): Uint8Array<ArrayBuffer> {
  return encodeModule({
    functions: [buildCompress(), buildInit(), buildUpdate(), buildFinal(), buildHash()],
    memory: { minPages: MEMORY_PAGES, maxPages: MEMORY_PAGES },
    exports: [
      { name: "memory", kind: "memory", index: 0 },
      { name: "init", kind: "func", index: FN_INIT },
      { name: "update", kind: "func", index: FN_UPDATE },
      { name: "final", kind: "func", index: FN_FINAL },
      { name: "hash", kind: "func", index: FN_HASH },
    ],
  });
}
