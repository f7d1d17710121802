/**
 * Emits the vBlake WebAssembly module (spec §4): native i64 words, all 16 rounds fully
 * unrolled, the 16 state words and the message words in locals (no memory traffic in the
 * rounds), constants folded into `i64.const` immediates.
 *
 * Exports (memory layout in `../_wasm_layout.ts`):
 * - `memory`: one fixed 64 KiB page;
 * - `hash()`: hashes the 64 bytes at HEADER_OFFSET into the 24 bytes at HASH_OFFSET;
 * - `scan(startNonce, count, maxResults) -> found`: tries nonces startNonce, startNonce + 1,
 *   … (uint32, mod 2^32) on the header template at HEADER_OFFSET and writes every nonce whose
 *   hash is below the 24-byte big-endian target at TARGET_OFFSET to RESULTS_OFFSET. It stops
 *   after `count` nonces or `maxResults` finds, and stores the number tried at TRIED_OFFSET.
 *
 * Per scan, m[i] ^ C[i] is computed once for m[0..6]; m[8..15] are zero so their words are
 * the constants C[8..15]. Per nonce only the high half of m[7] (the byte-swapped nonce)
 * changes (§4.5), and the first three G calls of round 0 do not read m[6] or m[7], so they
 * are hoisted out of the nonce loop. A hash is first pre-checked on its top 32 bits against
 * the target; only candidates get the full 192-bit compare.
 *
 * The G / round emitter is written against {@linkcode LaneOps}; the SIMD module
 * (`vblake_simd_emitter.ts`) uses the same lane abstraction with i64x2 words, and a G that
 * tracks complemented words instead of computing `d = ~d`.
 *
 * @module
 */

import {
  VBLAKE_C as C,
  VBLAKE_G_INDICES as G_INDICES,
  VBLAKE_H_INIT as H_INIT,
  VBLAKE_ROTATIONS as ROTATIONS,
  VBLAKE_ROUNDS as ROUNDS,
  VBLAKE_SIGMA as SIGMA,
  VBLAKE_V_INIT as V_INIT,
} from "../vblake_constants.ts";
import {
  HASH_OFFSET,
  HEADER_OFFSET,
  MEMORY_PAGES,
  RESULTS_OFFSET,
  TARGET_OFFSET,
  TRIED_OFFSET,
} from "../_wasm_layout.ts";
import { BLOCK_VOID, CodeBuilder, encodeModule, type FuncDef, Op, ValType } from "./wasm_writer.ts";

const MASK64 = (1n << 64n) - 1n;

/** The word operations of one lane type (scalar i64 here; i64x2 in the SIMD emitter). */
export interface LaneOps {
  /** The local/value type of a state word. */
  readonly valType: number;
  /** Push a constant (the same value in every lane). */
  constant(code: CodeBuilder, value: bigint): void;
  /** Pop two words, push their sum mod 2^64. */
  add(code: CodeBuilder): void;
  /** Pop two words, push their XOR. */
  xor(code: CodeBuilder): void;
  /** Pop a word, push it rotated right by `bits`; `scratch` is a free local of `valType`. */
  rotr(code: CodeBuilder, bits: number, scratch: number): void;
  /** Pop a word, push its complement; when absent, XOR with the all-ones {@linkcode constant}. */
  not?(code: CodeBuilder): void;
}

/** Scalar lanes: one native i64 per word. */
export const SCALAR_OPS: LaneOps = {
  valType: ValType.i64,
  constant(code, value) {
    code.i64Const(value);
  },
  add(code) {
    code.emit(Op.i64_add);
  },
  xor(code) {
    code.emit(Op.i64_xor);
  },
  rotr(code, bits) {
    code.i64Const(BigInt(bits)).emit(Op.i64_rotr);
  },
};

/** What the round emitter needs: where the state and message words live. */
export interface CompressContext {
  code: CodeBuilder;
  ops: LaneOps;
  /** Local index of each of the 16 state words v[0..15]. */
  state: readonly number[];
  /** Push the message word m[index] ^ C[index]. */
  message(code: CodeBuilder, index: number): void;
  /** A scratch local of `ops.valType`. */
  scratch: number;
}

/**
 * Emit G call number `step` (round = step / 8, j = step % 8), spec §4.3 step 5.
 *
 * @param ctx Where state and message live.
 * @param step 0..127.
 */
export function emitG(ctx: CompressContext, step: number): void {
  const { code, ops, state, scratch } = ctx;
  const round = Math.floor(step / 8);
  const j = step % 8;
  const [ia, ib, ic, id] = G_INDICES[j]!;
  const a = state[ia]!, b = state[ib]!, c = state[ic]!, d = state[id]!;
  const sigma = SIGMA[round % 10]!;
  const x = sigma[2 * j + 1]!, y = sigma[2 * j]!;
  const [r1, r2, r3, r4] = ROTATIONS as [number, number, number, number];
  // a = a + b + x
  code.get(a).get(b);
  ops.add(code);
  ctx.message(code, x);
  ops.add(code);
  code.tee(a);
  // d = rotr(d ^ a, 60)
  code.get(d);
  ops.xor(code);
  ops.rotr(code, r1, scratch);
  code.tee(d);
  // c = c + d
  code.get(c);
  ops.add(code);
  code.tee(c);
  // b = rotr(b ^ c, 43)
  code.get(b);
  ops.xor(code);
  ops.rotr(code, r2, scratch);
  code.tee(b);
  // a = a + b + y
  code.get(a);
  ops.add(code);
  ctx.message(code, y);
  ops.add(code);
  code.tee(a);
  // d = rotr(d ^ a, 5)
  code.get(d);
  ops.xor(code);
  ops.rotr(code, r3, scratch);
  code.tee(d);
  // c = c + d
  code.get(c);
  ops.add(code);
  code.tee(c);
  // b = rotr(b ^ c, 18)
  code.get(b);
  ops.xor(code);
  ops.rotr(code, r4, scratch);
  code.set(b);
  // d ^= XNOR3(a, b, c) ^ XOR3(a, b, c), i.e. d = ~d
  code.get(d);
  if (ops.not) {
    ops.not(code);
  } else {
    ops.constant(code, MASK64);
    ops.xor(code);
  }
  code.set(d);
}

/**
 * Emit G calls `from` (inclusive) to `to` (exclusive) of the 128 (16 rounds × 8).
 *
 * @param ctx Where state and message live.
 * @param from First step.
 * @param to End step.
 */
export function emitSteps(ctx: CompressContext, from: number, to: number): void {
  for (let step = from; step < to; step++) emitG(ctx, step);
}

/**
 * Push output word `word` (0..2): the feed-forward h[i] = H[i] ^ v[i] ^ v[i + 8] folded as
 * h0 ^ h3 ^ h6, h1 ^ h4 ^ h7 or h2 ^ h5, with the H terms folded into one constant.
 *
 * @param ctx Where the state lives.
 * @param word 0, 1 or 2.
 */
export function emitOutputWord(ctx: CompressContext, word: number): void {
  const { code, ops, state } = ctx;
  let constant = 0n;
  for (let i = word; i < 8; i += 3) constant ^= H_INIT[i]!;
  ops.constant(code, constant);
  for (let i = word; i < 8; i += 3) {
    code.get(state[i]!);
    ops.xor(code);
    code.get(state[i + 8]!);
    ops.xor(code);
  }
}

/**
 * Byte-swap the i32 on top of the stack.
 *
 * @param code Where to emit.
 * @param tmp A free i32 local.
 */
export function emitBswap32(code: CodeBuilder, tmp: number): void {
  code.tee(tmp).i32Const(0xFF00FF00).emit(Op.i32_and).i32Const(8).emit(Op.i32_rotl);
  code.get(tmp).i32Const(0x00FF00FF).emit(Op.i32_and).i32Const(8).emit(Op.i32_rotr);
  code.emit(Op.i32_or);
}

/**
 * Function 0 of both vBlake modules: bswap64(x: i64) -> i64.
 *
 * @returns The function.
 */
export function buildBswap64(): FuncDef {
  const code = new CodeBuilder();
  const m8 = 0x00FF00FF00FF00FFn, m16 = 0x0000FFFF0000FFFFn;
  code.get(0).i64Const(m8).emit(Op.i64_and).i64Const(8n).emit(Op.i64_shl);
  code.get(0).i64Const(8n).emit(Op.i64_shr_u).i64Const(m8).emit(Op.i64_and);
  code.emit(Op.i64_or).set(0);
  code.get(0).i64Const(m16).emit(Op.i64_and).i64Const(16n).emit(Op.i64_shl);
  code.get(0).i64Const(16n).emit(Op.i64_shr_u).i64Const(m16).emit(Op.i64_and);
  code.emit(Op.i64_or).i64Const(32n).emit(Op.i64_rotl);
  return { type: { params: [ValType.i64], results: [ValType.i64] }, locals: [], body: code };
}

/** Function index of bswap64 in the emitted modules. */
export const FN_BSWAP64 = 0;

/** Allocates local indices after the params. */
export class Locals {
  #types: number[] = [];
  #next: number;
  /** @param paramCount Locals taken by the function's parameters. */
  constructor(paramCount: number) {
    this.#next = paramCount;
  }
  /** Allocate `count` locals of `type`; returns their indices. */
  add(type: number, count = 1): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      out.push(this.#next++);
      this.#types.push(type);
    }
    return out;
  }
  /** Allocate one local of `type`; returns its index. */
  one(type: number): number {
    return this.add(type)[0]!;
  }
  /** The types of the allocated locals, in order. */
  get types(): number[] {
    return this.#types;
  }
}

/**
 * The `hash()` function of both vBlake modules: 64 bytes at HEADER_OFFSET -> 24 bytes at
 * HASH_OFFSET.
 *
 * @param ops Lane operations (scalar).
 * @returns The function.
 */
export function buildHash(ops: LaneOps): FuncDef {
  const code = new CodeBuilder();
  const locals = new Locals(0);
  const mc = locals.add(ops.valType, 8);
  const v = locals.add(ops.valType, 16);
  const scratch = locals.one(ops.valType);
  for (let i = 0; i < 8; i++) {
    code.i32Const(0).mem(Op.i64_load, 3, HEADER_OFFSET + 8 * i).i64Const(C[i]!);
    code.emit(Op.i64_xor).set(mc[i]!);
  }
  for (let k = 0; k < 16; k++) code.i64Const(V_INIT[k]!).set(v[k]!);
  const ctx: CompressContext = {
    code,
    ops,
    state: v,
    scratch,
    message(c, index) {
      if (index < 8) c.get(mc[index]!);
      else ops.constant(c, C[index]!);
    },
  };
  emitSteps(ctx, 0, ROUNDS * 8);
  for (let w = 0; w < 3; w++) {
    code.i32Const(0);
    emitOutputWord(ctx, w);
    code.mem(Op.i64_store, 3, HASH_OFFSET + 8 * w);
  }
  return { type: { params: [], results: [] }, locals: locals.types, body: code };
}

/** Round-0 G calls that read only m[0..5] and can run once per scan. */
export const HOISTED_STEPS = 3;

/** The locals {@linkcode emitRecordBelowTarget} reads. */
export interface FoundLocals {
  /** The hash's three 64-bit words, most significant first. */
  h: readonly number[];
  /** The target's three 64-bit words, most significant first. */
  t: readonly number[];
  /** Nonces found so far (i32). */
  found: number;
  /** The nonce just hashed (i32). */
  nonce: number;
  /** Most nonces to find before the scan stops (i32). */
  max: number;
}

/**
 * Emit: if hash < target, store the nonce in the results and count it; leave the scan loop
 * (three blocks out) once `max` are found. Shared by the scalar and the SIMD scan.
 */
export function emitRecordBelowTarget(code: CodeBuilder, l: FoundLocals): void {
  const { h, t, found, nonce, max } = l;
  // hash < target: h0 < t0 | (h0 == t0 & (h1 < t1 | (h1 == t1 & h2 < t2)))
  code.get(h[0]!).get(t[0]!).emit(Op.i64_lt_u);
  code.get(h[0]!).get(t[0]!).emit(Op.i64_eq);
  code.get(h[1]!).get(t[1]!).emit(Op.i64_lt_u);
  code.get(h[1]!).get(t[1]!).emit(Op.i64_eq);
  code.get(h[2]!).get(t[2]!).emit(Op.i64_lt_u);
  code.emit(Op.i32_and, Op.i32_or, Op.i32_and, Op.i32_or);
  code.emit(Op.if, BLOCK_VOID);
  code.get(found).i32Const(4).emit(Op.i32_mul).get(nonce).mem(Op.i32_store, 2, RESULTS_OFFSET);
  code.get(found).i32Const(1).emit(Op.i32_add).tee(found).get(max).emit(Op.i32_ge_u).brIf(3);
  code.emit(Op.end); // if found
}

/**
 * Emit the end of a scan loop (branch back, close loop and block, store the count tried,
 * return the count found) and return the function. Shared by the scalar and the SIMD scan.
 */
export function endScan(
  code: CodeBuilder,
  l: { i: number; found: number; locals: Locals },
): FuncDef {
  code.br(0);
  code.emit(Op.end, Op.end); // loop, block
  code.i32Const(0).get(l.i).mem(Op.i32_store, 2, TRIED_OFFSET);
  code.get(l.found);
  return {
    type: { params: [ValType.i32, ValType.i32, ValType.i32], results: [ValType.i32] },
    locals: l.locals.types,
    body: code,
  };
}

/** Function 2: scan(startNonce, count, maxResults) -> found. */
function buildScan(ops: LaneOps): FuncDef {
  const code = new CodeBuilder();
  const [start, count, max] = [0, 1, 2];
  const locals = new Locals(3);
  const i = locals.one(ValType.i32);
  const nonce = locals.one(ValType.i32);
  const found = locals.one(ValType.i32);
  const top = locals.one(ValType.i32);
  const tmp32 = locals.one(ValType.i32);
  const mc = locals.add(ValType.i64, 7);
  const base7 = locals.one(ValType.i64);
  const mc7 = locals.one(ValType.i64);
  const v = locals.add(ValType.i64, 16);
  const mid = locals.add(ValType.i64, 16);
  const t = locals.add(ValType.i64, 3);
  const h = locals.add(ValType.i64, 3);
  const out0 = locals.one(ValType.i64);
  const scratch = locals.one(ValType.i64);

  function message(c: CodeBuilder, index: number): void {
    if (index < 7) c.get(mc[index]!);
    else if (index === 7) c.get(mc7);
    else ops.constant(c, C[index]!);
  }

  // Per scan: message words, target words (big-endian), top 32 bits of the target.
  for (let k = 0; k < 7; k++) {
    code.i32Const(0).mem(Op.i64_load, 3, HEADER_OFFSET + 8 * k).i64Const(C[k]!);
    code.emit(Op.i64_xor).set(mc[k]!);
  }
  code.i32Const(0).mem(Op.i64_load, 3, HEADER_OFFSET + 56).i64Const(0xFFFFFFFFn);
  code.emit(Op.i64_and).i64Const(C[7]!).emit(Op.i64_xor).set(base7);
  for (let w = 0; w < 3; w++) {
    code.i32Const(0).mem(Op.i64_load, 3, TARGET_OFFSET + 8 * w).call(FN_BSWAP64).set(t[w]!);
  }
  code.get(t[0]!).i64Const(32n).emit(Op.i64_shr_u, Op.i32_wrap_i64).set(top);

  // Per scan: the hoisted round-0 G calls, run on the midstate locals.
  const hoisted = new Set<number>();
  for (let j = 0; j < HOISTED_STEPS; j++) for (const k of G_INDICES[j]!) hoisted.add(k);
  for (const k of hoisted) code.i64Const(V_INIT[k]!).set(mid[k]!);
  emitSteps({ code, ops, state: mid, message, scratch }, 0, HOISTED_STEPS);

  code.i32Const(0).set(i).i32Const(0).set(found);
  code.emit(Op.block, BLOCK_VOID, Op.loop, BLOCK_VOID);
  code.get(i).get(count).emit(Op.i32_eq).brIf(1);
  // m[7] = bits (low half) | bswap32(nonce) << 32, XORed with C[7].
  code.get(start).get(i).emit(Op.i32_add).tee(nonce);
  emitBswap32(code, tmp32);
  code.emit(Op.i64_extend_i32_u).i64Const(32n).emit(Op.i64_shl).get(base7).emit(Op.i64_xor);
  code.set(mc7);
  for (let k = 0; k < 16; k++) {
    if (hoisted.has(k)) code.get(mid[k]!).set(v[k]!);
    else code.i64Const(V_INIT[k]!).set(v[k]!);
  }
  const ctx: CompressContext = { code, ops, state: v, message, scratch };
  emitSteps(ctx, HOISTED_STEPS, ROUNDS * 8);
  emitOutputWord(ctx, 0);
  code.set(out0);
  code.get(i).i32Const(1).emit(Op.i32_add).set(i);

  // Pre-check: output bytes 0..3 are the low half of word 0; as a big-endian number they
  // are the hash's top 32 bits. Only if those are <= the target's top 32 bits, compare all.
  code.get(out0).emit(Op.i32_wrap_i64);
  emitBswap32(code, tmp32);
  code.get(top).emit(Op.i32_le_u, Op.if, BLOCK_VOID);
  code.get(out0).call(FN_BSWAP64).set(h[0]!);
  for (let w = 1; w < 3; w++) {
    emitOutputWord(ctx, w);
    code.call(FN_BSWAP64).set(h[w]!);
  }
  emitRecordBelowTarget(code, { h, t, found, nonce, max });
  code.emit(Op.end); // if pre-check
  return endScan(code, { i, found, locals });
}

/**
 * Emit the whole vBlake module (scalar i64 kernel).
 *
 * @returns The `.wasm` bytes.
 */
export function emitVblakeModule(): Uint8Array<ArrayBuffer> {
  return encodeModule({
    functions: [buildBswap64(), buildHash(SCALAR_OPS), buildScan(SCALAR_OPS)],
    memory: { minPages: MEMORY_PAGES, maxPages: MEMORY_PAGES },
    exports: [
      { name: "memory", kind: "memory", index: 0 },
      { name: "hash", kind: "func", index: 1 },
      { name: "scan", kind: "func", index: 2 },
    ],
  });
}
