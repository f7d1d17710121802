/**
 * Emits the vBlake WebAssembly SIMD module (spec §4): the fully unrolled compression of
 * `vblake_emitter.ts` on `v128` words holding two 64-bit lanes (i64x2), so one instruction
 * stream carries two nonces. Independent streams are interleaved G call by G call for
 * instruction-level parallelism; a stream is an i64x2 stream ("v", two nonces) or a scalar
 * i64 stream ("s", one nonce), so the vector and the integer units work at the same time.
 * The committed module runs two of each (v, s, v, s: six nonces per iteration); measurements
 * and the instruction counts behind this choice are in `bench/RESULTS.md`.
 *
 * Instruction choices:
 * - WebAssembly SIMD has no rotate: `rotr(x, n)` is `(x >>> n) | (x << (64 − n))`; none of
 *   60, 43, 5, 18 is a multiple of 8, so no byte shuffle applies.
 * - G's final `d = ~d` costs nothing: every state word carries a polarity known at emit time
 *   (the local holds the word or its complement). XOR and rotate pass polarity through, `~`
 *   flips it, and additions absorb it exactly, since ~x = −x − 1: `c + d` with one operand
 *   complemented is a subtraction yielding a complemented sum, and in `a + b + m` the ±1
 *   terms fold into a per-scan variant of the message word (the emitter picks the output
 *   polarities of the `a` updates so that `c + d` never sees two complemented operands).
 *   The output fold XORs the complements into its constant. This saves the 128 `v128.not`s
 *   (two instructions each on x64) of every compression.
 * - `a + b + m` is evaluated as `(a + m) + b`: `a` is ready earlier, so the chain is shorter.
 *
 * Exports (memory layout in `../_wasm_layout.ts`):
 * - `memory`: SIMD_MEMORY_PAGES fixed pages;
 * - `hash()`: one header, as in the scalar module (HEADER_OFFSET -> HASH_OFFSET), by the
 *   scalar code: a single hash would leave the other lanes idle;
 * - `hashLanes()`: hashes `lanes()` headers at BATCH_HEADERS_OFFSET (64 bytes apart) into
 *   BATCH_HASHES_OFFSET (BATCH_HASH_STRIDE apart), every lane through its stream;
 * - `lanes()`: nonces per iteration;
 * - `scan(startNonce, count, maxResults) -> found`: the scalar module's contract (header
 *   template at HEADER_OFFSET, target at TARGET_OFFSET, results at RESULTS_OFFSET, tried at
 *   TRIED_OFFSET). Nonces go to lanes in ascending order and are checked in that order, so
 *   the found nonces, the early stop at `maxResults` and `tried` equal the scalar kernel's;
 *   a partial last iteration computes every lane and checks only those within `count`.
 *
 * Per scan, m[i] ^ C[i] (i < 7) is computed once and splatted; only m[7] differs per lane
 * (the nonce is its high half, §4.5). The midstate (the first three round-0 G calls) runs
 * once per scan on scalars and is splatted into the initial state.
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
  BATCH_HASH_STRIDE,
  BATCH_HASHES_OFFSET,
  BATCH_HEADERS_OFFSET,
  HEADER_OFFSET,
  SIMD_MAX_LANES,
  SIMD_MEMORY_PAGES,
  TARGET_OFFSET,
} from "../_wasm_layout.ts";
import {
  buildBswap64,
  buildHash,
  emitBswap32,
  emitRecordBelowTarget,
  endScan,
  FN_BSWAP64,
  HOISTED_STEPS,
  type LaneOps,
  Locals,
  SCALAR_OPS,
} from "./vblake_emitter.ts";
import {
  BLOCK_VOID,
  CodeBuilder,
  encodeModule,
  type FuncDef,
  Op,
  SimdOp,
  ValType,
} from "./wasm_writer.ts";

const MASK64 = (1n << 64n) - 1n;

/** One interleaved instruction stream: "v" = i64x2 (two nonces), "s" = scalar i64 (one). */
export type StreamKind = "v" | "s";

/** Variants of the SIMD module (the defaults are what `build.ts` commits). */
export interface SimdModuleOptions {
  /** The interleaved streams of one iteration, in nonce order. @default ["v", "s", "v", "s"] */
  streams?: readonly StreamKind[];
}

/** The defaults of {@linkcode SimdModuleOptions}. */
export const DEFAULT_SIMD_OPTIONS: Readonly<Required<SimdModuleOptions>> = {
  streams: ["v", "s", "v", "s"],
};

/** Lane operations with subtraction, as the polarity-tracking G needs. */
export interface TrackedOps extends LaneOps {
  /** Pop y, pop x, push x − y mod 2^64. */
  sub(code: CodeBuilder): void;
}

/** Scalar i64 lanes with subtraction. */
export const SCALAR_TRACKED_OPS: TrackedOps = {
  ...SCALAR_OPS,
  sub(code) {
    code.emit(Op.i64_sub);
  },
};

/** i64x2 lanes: each word is a `v128` holding the same word of two hashes. */
export const SIMD_OPS: TrackedOps = {
  valType: ValType.v128,
  constant(code, value) {
    code.v128SplatConst(value);
  },
  add(code) {
    code.simd(SimdOp.i64x2_add);
  },
  sub(code) {
    code.simd(SimdOp.i64x2_sub);
  },
  xor(code) {
    code.simd(SimdOp.v128_xor);
  },
  rotr(code, bits, scratch) {
    code.tee(scratch).i32Const(bits).simd(SimdOp.i64x2_shr_u);
    code.get(scratch).i32Const(64 - bits).simd(SimdOp.i64x2_shl);
    code.simd(SimdOp.v128_or);
  },
  not(code) {
    code.simd(SimdOp.v128_not);
  },
};

/** A message term `sign · (m[index] ^ C[index]) + offset` (mod 2^64). */
export interface MessageTerm {
  index: number;
  sign: 1 | -1;
  offset: bigint;
}

/** Where the state and message words of one stream live, with the state's polarities. */
export interface TrackedContext {
  code: CodeBuilder;
  ops: TrackedOps;
  /** Local index of each of the 16 state words. */
  state: readonly number[];
  /** `polarity[k]`: the local of v[k] holds ~v[k]. Updated as G calls are emitted. */
  polarity: boolean[];
  /** A scratch local of `ops.valType`. */
  scratch: number;
  /** Push a message term. */
  message(code: CodeBuilder, term: MessageTerm): void;
}

/**
 * Emit `a = a + b + m[index]` with polarities: reads the polarities of a and b, writes a with
 * polarity `po` (when undefined, the one that needs no extra constant: complemented iff a or
 * b is).
 */
function emitAdd3(ctx: TrackedContext, ia: number, ib: number, index: number, po?: boolean) {
  const { code, ops, state, polarity } = ctx;
  const pa = polarity[ia]!, pb = polarity[ib]!;
  const out = po ?? (pa || pb);
  // true a = sa·A + ka with (sa, ka) = pa ? (−1, −1) : (1, 0), likewise b.
  const sa = pa ? -1 : 1, sb = pb ? -1 : 1;
  const k = (pa ? -1n : 0n) + (pb ? -1n : 0n);
  // out = 0: A' = sa·A + sb·B + (x + k);  out = 1: A' = −a' − 1 = −sa·A − sb·B + (−x − k − 1).
  const signA = out ? -sa : sa, signB = out ? -sb : sb;
  const term: MessageTerm = out
    ? { index, sign: -1, offset: -k - 1n }
    : { index, sign: 1, offset: k };
  if (signA > 0) {
    code.get(state[ia]!);
    ctx.message(code, term);
    ops.add(code);
  } else {
    ctx.message(code, term);
    code.get(state[ia]!);
    ops.sub(code);
  }
  code.get(state[ib]!);
  if (signB > 0) ops.add(code);
  else ops.sub(code);
  code.set(state[ia]!);
  polarity[ia] = out;
}

/** Emit `c = c + d` (at most one operand complemented): C + D, C − D or D − C. */
function emitAdd2(ctx: TrackedContext, ic: number, id: number): void {
  const { code, ops, state, polarity } = ctx;
  const pc = polarity[ic]!, pd = polarity[id]!;
  if (pc && pd) throw new Error("Cannot emit c + d: both operands complemented");
  if (pd) {
    code.get(state[id]!).get(state[ic]!);
    ops.sub(code); // D − C = ~(c + d)
  } else {
    code.get(state[ic]!).get(state[id]!);
    if (pc) ops.sub(code); // C − D = ~(c + d)
    else ops.add(code);
  }
  code.set(state[ic]!);
  polarity[ic] = pc !== pd;
}

/** Emit `x = rotr(x ^ y, bits)`; the polarities XOR. */
function emitXorRot(ctx: TrackedContext, ix: number, iy: number, bits: number): void {
  const { code, ops, state, polarity, scratch } = ctx;
  code.get(state[ix]!).get(state[iy]!);
  ops.xor(code);
  ops.rotr(code, bits, scratch);
  code.set(state[ix]!);
  polarity[ix] = polarity[ix] !== polarity[iy];
}

/**
 * Emit G call number `step` (round = step / 8, j = step % 8), spec §4.3 step 5, tracking
 * polarities instead of complementing `d`.
 *
 * @param ctx Where state and message live; its polarities are updated.
 * @param step 0..127.
 */
export function emitTrackedG(ctx: TrackedContext, step: number): void {
  const round = Math.floor(step / 8);
  const j = step % 8;
  const [a, b, c, d] = G_INDICES[j]!;
  const sigma = SIGMA[round % 10]!;
  const x = sigma[2 * j + 1]!, y = sigma[2 * j]!;
  const [r1, r2, r3, r4] = ROTATIONS as [number, number, number, number];
  const p = ctx.polarity;
  // a = a + b + x; if c is complemented, d ^ a must come out plain: a takes d's polarity.
  emitAdd3(ctx, a, b, x, p[c] ? p[d] : undefined);
  emitXorRot(ctx, d, a, r1); // d = rotr(d ^ a, 60)
  emitAdd2(ctx, c, d); // c = c + d
  emitXorRot(ctx, b, c, r2); // b = rotr(b ^ c, 43)
  emitAdd3(ctx, a, b, y, p[c] ? p[d] : undefined); // a = a + b + y
  emitXorRot(ctx, d, a, r3); // d = rotr(d ^ a, 5)
  emitAdd2(ctx, c, d); // c = c + d
  emitXorRot(ctx, b, c, r4); // b = rotr(b ^ c, 18)
  p[d] = !p[d]; // d = ~d: free
}

/**
 * Push output word `word` (0..2) of the fold h0 ^ h3 ^ h6, h1 ^ h4 ^ h7, h2 ^ h5 with
 * h[i] = H[i] ^ v[i] ^ v[i + 8]; the H terms and the complements fold into one constant.
 *
 * @param ctx Where the state lives, with its final polarities.
 * @param word 0, 1 or 2.
 */
export function emitTrackedOutputWord(ctx: TrackedContext, word: number): void {
  const { code, ops, state, polarity } = ctx;
  let constant = 0n;
  for (let i = word; i < 8; i += 3) {
    constant ^= H_INIT[i]!;
    if (polarity[i]) constant ^= MASK64;
    if (polarity[i + 8]) constant ^= MASK64;
  }
  ops.constant(code, constant);
  for (let i = word; i < 8; i += 3) {
    code.get(state[i]!);
    ops.xor(code);
    code.get(state[i + 8]!);
    ops.xor(code);
  }
}

/** Where the base of a message word comes from. */
type WordSource =
  | { kind: "const"; value: bigint }
  | { kind: "local"; local: number };

/**
 * Message terms of one lane type, each variant computed once into a local by `init` (per
 * scan, per call or per iteration, wherever the caller places `init`).
 */
class MessageTerms {
  readonly init = new CodeBuilder();
  #cache = new Map<string, number>();
  #locals: Locals;
  #ops: TrackedOps;
  #source: (index: number) => WordSource;

  constructor(locals: Locals, ops: TrackedOps, source: (index: number) => WordSource) {
    this.#locals = locals;
    this.#ops = ops;
    this.#source = source;
  }

  push(code: CodeBuilder, term: MessageTerm): void {
    const source = this.#source(term.index);
    if (source.kind === "const" && this.#ops.valType === ValType.i64) {
      code.i64Const(BigInt(term.sign) * source.value + term.offset);
      return;
    }
    if (source.kind === "local" && term.sign === 1 && term.offset === 0n) {
      code.get(source.local);
      return;
    }
    const key = `${term.index}:${term.sign}:${term.offset}`;
    let local = this.#cache.get(key);
    if (local === undefined) {
      local = this.#locals.one(this.#ops.valType);
      this.#cache.set(key, local);
      const init = this.init;
      if (source.kind === "const") {
        this.#ops.constant(init, BigInt(term.sign) * source.value + term.offset);
      } else if (term.sign === 1) {
        init.get(source.local);
        this.#ops.constant(init, term.offset);
        this.#ops.add(init);
      } else {
        this.#ops.constant(init, term.offset);
        init.get(source.local);
        this.#ops.sub(init);
      }
      init.set(local);
    }
    code.get(local);
  }
}

/** The per-stream pieces of an emitted function. */
interface Stream {
  kind: StreamKind;
  ops: TrackedOps;
  /** Nonces (lanes) in this stream: 2 or 1. */
  lanes: number;
  /** Index of this stream's first lane among all lanes of an iteration. */
  firstLane: number;
  state: number[];
  scratch: number;
  /** m[7] ^ C[7] of this stream's lanes. */
  m7: number;
}

function laneCount(kind: StreamKind): number {
  return kind === "v" ? 2 : 1;
}

function makeStreams(kinds: readonly StreamKind[], locals: Locals): Stream[] {
  let firstLane = 0;
  return kinds.map((kind) => {
    const ops = kind === "v" ? SIMD_OPS : SCALAR_TRACKED_OPS;
    const stream: Stream = {
      kind,
      ops,
      lanes: laneCount(kind),
      firstLane,
      state: locals.add(ops.valType, 16),
      scratch: locals.one(ops.valType),
      m7: locals.one(ops.valType),
    };
    firstLane += stream.lanes;
    return stream;
  });
}

/** Pop a stream word, push lane `lane` as an i64 (identity for scalar streams). */
function emitExtract(code: CodeBuilder, stream: Stream, lane: number): void {
  if (stream.kind === "v") code.simd(SimdOp.i64x2_extract_lane, lane);
}

function makeContext(
  code: CodeBuilder,
  stream: Stream,
  polarity: readonly boolean[],
  terms: (index: number) => MessageTerms,
): TrackedContext {
  return {
    code,
    ops: stream.ops,
    state: stream.state,
    polarity: [...polarity],
    scratch: stream.scratch,
    message(c, term) {
      terms(term.index).push(c, term);
    },
  };
}

/** Emit G calls `from`..`to` for every stream, interleaved call by call. */
function emitInterleaved(contexts: TrackedContext[], from: number, to: number): void {
  for (let step = from; step < to; step++) for (const ctx of contexts) emitTrackedG(ctx, step);
}

/** hashLanes() — one header per lane from the batch area, all through the streams. */
function buildBatchHash(options: Required<SimdModuleOptions>): FuncDef {
  const code = new CodeBuilder();
  const rounds = new CodeBuilder();
  const locals = new Locals(0);
  const streams = makeStreams(options.streams, locals);
  const perStream = streams.map((stream) => {
    const words = [...locals.add(stream.ops.valType, 7), stream.m7];
    for (let k = 0; k < 8; k++) {
      for (let lane = 0; lane < stream.lanes; lane++) {
        const at = BATCH_HEADERS_OFFSET + 64 * (stream.firstLane + lane) + 8 * k;
        code.i32Const(0).mem(Op.i64_load, 3, at).i64Const(C[k]!).emit(Op.i64_xor);
        if (stream.kind === "v") {
          code.simd(lane === 0 ? SimdOp.i64x2_splat : SimdOp.i64x2_replace_lane);
          if (lane > 0) code.emit(lane);
        }
      }
      code.set(words[k]!);
    }
    for (let k = 0; k < 16; k++) {
      stream.ops.constant(code, V_INIT[k]!);
      code.set(stream.state[k]!);
    }
    const terms = new MessageTerms(
      locals,
      stream.ops,
      (index): WordSource =>
        index < 8 ? { kind: "local", local: words[index]! } : { kind: "const", value: C[index]! },
    );
    return { terms, ctx: makeContext(rounds, stream, new Array(16).fill(false), () => terms) };
  });
  const contexts = perStream.map((s) => s.ctx);
  emitInterleaved(contexts, 0, ROUNDS * 8);
  for (const s of perStream) code.append(s.terms.init);
  code.append(rounds);
  streams.forEach((stream, s) => {
    for (let w = 0; w < 3; w++) {
      for (let lane = 0; lane < stream.lanes; lane++) {
        code.i32Const(0);
        emitTrackedOutputWord({ ...contexts[s]!, code }, w);
        emitExtract(code, stream, lane);
        const at = BATCH_HASHES_OFFSET + BATCH_HASH_STRIDE * (stream.firstLane + lane) + 8 * w;
        code.mem(Op.i64_store, 3, at);
      }
    }
  });
  return { type: { params: [], results: [] }, locals: locals.types, body: code };
}

/** lanes() -> nonces per iteration. */
function buildLanes(options: Required<SimdModuleOptions>): FuncDef {
  const code = new CodeBuilder();
  code.i32Const(options.streams.reduce((n, k) => n + laneCount(k), 0));
  return { type: { params: [], results: [ValType.i32] }, locals: [], body: code };
}

/** scan(startNonce, count, maxResults) -> found. */
function buildScan(options: Required<SimdModuleOptions>): FuncDef {
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
  const t = locals.add(ValType.i64, 3);
  const h = locals.add(ValType.i64, 3);
  const word = locals.one(ValType.i64);
  const mid = locals.add(ValType.i64, 16);
  const midScratch = locals.one(ValType.i64);
  const streams = makeStreams(options.streams, locals);
  const hasVector = streams.some((s) => s.kind === "v");
  const mcv = hasVector ? locals.add(ValType.v128, 7) : [];
  const initV = hasVector ? locals.add(ValType.v128, 16) : [];
  const out0 = streams.map((s) => locals.one(s.ops.valType));

  // Message terms: m[0..6] per scan (scalar and splatted), m[7] per iteration and stream.
  function sharedSource(words: number[]): (index: number) => WordSource {
    return (index) => {
      if (index < 7) return { kind: "local", local: words[index]! };
      if (index >= 8) return { kind: "const", value: C[index]! };
      throw new Error("Cannot take m[7] from the per-scan words");
    };
  }
  const scalarTerms = new MessageTerms(locals, SCALAR_TRACKED_OPS, sharedSource(mc));
  const vectorTerms = new MessageTerms(locals, SIMD_OPS, sharedSource(mcv));
  const m7Terms = streams.map((stream) =>
    new MessageTerms(locals, stream.ops, () => ({ kind: "local", local: stream.m7 }))
  );

  // The midstate: the hoisted round-0 G calls on scalars, run once per scan.
  const midCode = new CodeBuilder();
  const midCtx: TrackedContext = {
    code: midCode,
    ops: SCALAR_TRACKED_OPS,
    state: mid,
    polarity: new Array(16).fill(false),
    scratch: midScratch,
    message(c, term) {
      scalarTerms.push(c, term); // the hoisted calls read m[0..5] only
    },
  };
  for (let step = 0; step < HOISTED_STEPS; step++) emitTrackedG(midCtx, step);

  // The rounds of every stream, emitted first so that the message variants they use are known.
  const rounds = new CodeBuilder();
  const contexts = streams.map((stream, s) =>
    makeContext(
      rounds,
      stream,
      midCtx.polarity,
      (index) => index === 7 ? m7Terms[s]! : stream.kind === "v" ? vectorTerms : scalarTerms,
    )
  );
  emitInterleaved(contexts, HOISTED_STEPS, ROUNDS * 8);

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
  for (let k = 0; k < 16; k++) code.i64Const(V_INIT[k]!).set(mid[k]!);
  code.append(scalarTerms.init).append(midCode);
  if (hasVector) {
    for (let k = 0; k < 7; k++) code.get(mc[k]!).simd(SimdOp.i64x2_splat).set(mcv[k]!);
    for (let k = 0; k < 16; k++) code.get(mid[k]!).simd(SimdOp.i64x2_splat).set(initV[k]!);
    code.append(vectorTerms.init);
  }

  code.i32Const(0).set(i).i32Const(0).set(found);
  code.emit(Op.block, BLOCK_VOID, Op.loop, BLOCK_VOID);
  code.get(i).get(count).emit(Op.i32_eq).brIf(1);
  // m[7] per lane = bits (low half) | bswap32(nonce) << 32, XORed with C[7].
  function emitM7(lane: number): void {
    code.get(start).get(i).emit(Op.i32_add);
    if (lane > 0) code.i32Const(lane).emit(Op.i32_add);
    emitBswap32(code, tmp32);
    code.emit(Op.i64_extend_i32_u).i64Const(32n).emit(Op.i64_shl).get(base7).emit(Op.i64_xor);
  }
  streams.forEach((stream, s) => {
    emitM7(stream.firstLane);
    if (stream.kind === "v") {
      code.simd(SimdOp.i64x2_splat);
      emitM7(stream.firstLane + 1);
      code.simd(SimdOp.i64x2_replace_lane, 1);
    }
    code.set(stream.m7).append(m7Terms[s]!.init);
    for (let k = 0; k < 16; k++) {
      code.get(stream.kind === "v" ? initV[k]! : mid[k]!).set(stream.state[k]!);
    }
  });
  code.append(rounds);
  streams.forEach((_, s) => {
    emitTrackedOutputWord({ ...contexts[s]!, code }, 0);
    code.set(out0[s]!);
  });

  // Check the lanes in nonce order; a partial last iteration stops at `count`.
  for (const [s, stream] of streams.entries()) {
    const ctx = { ...contexts[s]!, code };
    for (let lane = 0; lane < stream.lanes; lane++) {
      if (stream.firstLane + lane > 0) code.get(i).get(count).emit(Op.i32_eq).brIf(1);
      code.get(start).get(i).emit(Op.i32_add).set(nonce);
      code.get(i).i32Const(1).emit(Op.i32_add).set(i);
      code.get(out0[s]!);
      emitExtract(code, stream, lane);
      code.tee(word);
      // Pre-check on the hash's top 32 bits (output bytes 0..3), then the full compare.
      code.emit(Op.i32_wrap_i64);
      emitBswap32(code, tmp32);
      code.get(top).emit(Op.i32_le_u, Op.if, BLOCK_VOID);
      code.get(word).call(FN_BSWAP64).set(h[0]!);
      for (let w = 1; w < 3; w++) {
        emitTrackedOutputWord(ctx, w);
        emitExtract(code, stream, lane);
        code.call(FN_BSWAP64).set(h[w]!);
      }
      emitRecordBelowTarget(code, { h, t, found, nonce, max });
      code.emit(Op.end); // if pre-check
    }
  }
  return endScan(code, { i, found, locals });
}

/**
 * Emit the vBlake SIMD module.
 *
 * @example Usage
 * ```ts
 * import { emitVblakeSimdModule } from "./vblake_simd_emitter.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(WebAssembly.validate(emitVblakeSimdModule()), true);
 * ```
 *
 * @param options Stream layout; the defaults are the committed module.
 * @returns The `.wasm` bytes.
 * @throws {RangeError} When the streams hold no lane or more than SIMD_MAX_LANES.
 */
export function emitVblakeSimdModule(options: SimdModuleOptions = {}): Uint8Array<ArrayBuffer> {
  const full: Required<SimdModuleOptions> = { ...DEFAULT_SIMD_OPTIONS, ...options };
  const lanes = full.streams.reduce((n, k) => n + laneCount(k), 0);
  if (lanes < 1 || lanes > SIMD_MAX_LANES) {
    throw new RangeError(
      `Cannot emit the SIMD module: ${lanes} lanes is not in 1..${SIMD_MAX_LANES}`,
    );
  }
  return encodeModule({
    functions: [
      buildBswap64(),
      buildHash(SCALAR_OPS),
      buildBatchHash(full),
      buildLanes(full),
      buildScan(full),
    ],
    memory: { minPages: SIMD_MEMORY_PAGES, maxPages: SIMD_MEMORY_PAGES },
    exports: [
      { name: "memory", kind: "memory", index: 0 },
      { name: "hash", kind: "func", index: 1 },
      { name: "hashLanes", kind: "func", index: 2 },
      { name: "lanes", kind: "func", index: 3 },
      { name: "scan", kind: "func", index: 4 },
    ],
  });
}
