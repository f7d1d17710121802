/**
 * A minimal WebAssembly binary writer: LEB128, opcodes, a code builder and a module encoder
 * (type, function, memory, export and code sections). Only what the vBlake emitter needs, no
 * external tools. Reference: the WebAssembly core specification, binary format (§5).
 *
 * @module
 */

/** Value types. */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  v128: 0x7b,
} as const;

/** Block type for blocks that yield nothing. */
export const BLOCK_VOID = 0x40;

/** Single-byte opcodes used by the emitter. */
export const Op = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  call: 0x10,
  drop: 0x1a,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_load: 0x28,
  i64_load: 0x29,
  i32_store: 0x36,
  i64_store: 0x37,
  i32_const: 0x41,
  i64_const: 0x42,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_u: 0x49,
  i32_gt_u: 0x4b,
  i32_le_u: 0x4d,
  i32_ge_u: 0x4f,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i64_lt_u: 0x54,
  i64_gt_u: 0x56,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_u: 0x76,
  i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_u: 0x88,
  i64_rotl: 0x89,
  i64_rotr: 0x8a,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_u: 0xad,
} as const;

/** Prefix byte of SIMD (v128) instructions; the sub-opcode follows as unsigned LEB128. */
export const SIMD_PREFIX = 0xfd;

/** SIMD sub-opcodes (after {@linkcode SIMD_PREFIX}) used by the emitters. */
export const SimdOp = {
  v128_load: 0x00,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  i64x2_splat: 0x12,
  i64x2_extract_lane: 0x1d,
  i64x2_replace_lane: 0x1e,
  v128_not: 0x4d,
  v128_and: 0x4e,
  v128_or: 0x50,
  v128_xor: 0x51,
  i64x2_shl: 0xcb,
  i64x2_shr_u: 0xcd,
  i64x2_add: 0xce,
  i64x2_sub: 0xd1,
} as const;

/**
 * Encode a non-negative integer as unsigned LEB128.
 *
 * @param value Integer ≥ 0 (number up to 2^53 − 1, or bigint).
 * @returns The encoded bytes.
 */
export function uleb128(value: number | bigint): number[] {
  let n = BigInt(value);
  if (n < 0n) throw new RangeError(`Cannot encode uleb128: negative value ${n}`);
  const out: number[] = [];
  do {
    let byte = Number(n & 0x7fn);
    n >>= 7n;
    if (n !== 0n) byte |= 0x80;
    out.push(byte);
  } while (n !== 0n);
  return out;
}

/**
 * Encode a signed integer as signed LEB128.
 *
 * @param value Any integer (number or bigint).
 * @returns The encoded bytes.
 */
export function sleb128(value: number | bigint): number[] {
  let n = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n; // arithmetic shift for bigint
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Reinterpret an unsigned 64-bit value as the signed value an `i64.const` immediate holds. */
export function toSigned64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/** Reinterpret an unsigned 32-bit value as the signed value an `i32.const` immediate holds. */
export function toSigned32(value: number): number {
  return value | 0;
}

/** Appends instructions to a function body. Methods return `this` for chaining. */
export class CodeBuilder {
  #bytes: number[] = [];

  /** The bytes emitted so far. */
  get bytes(): readonly number[] {
    return this.#bytes;
  }

  /** Emit raw bytes (an opcode and its immediates). */
  emit(...bytes: number[]): this {
    for (const b of bytes) this.#bytes.push(b);
    return this;
  }

  /** `local.get index`. */
  get(index: number): this {
    return this.emit(Op.local_get, ...uleb128(index));
  }

  /** `local.set index`. */
  set(index: number): this {
    return this.emit(Op.local_set, ...uleb128(index));
  }

  /** `local.tee index`. */
  tee(index: number): this {
    return this.emit(Op.local_tee, ...uleb128(index));
  }

  /** `i32.const value` (a uint32 or int32). */
  i32Const(value: number): this {
    return this.emit(Op.i32_const, ...sleb128(toSigned32(value)));
  }

  /** `i64.const value` (a uint64 or int64). */
  i64Const(value: bigint): this {
    return this.emit(Op.i64_const, ...sleb128(toSigned64(value)));
  }

  /** A memory access opcode with its alignment (log2 bytes) and static offset. */
  mem(opcode: number, alignLog2: number, offset: number): this {
    return this.emit(opcode, ...uleb128(alignLog2), ...uleb128(offset));
  }

  /** `call index`. */
  call(index: number): this {
    return this.emit(Op.call, ...uleb128(index));
  }

  /** `br depth`. */
  br(depth: number): this {
    return this.emit(Op.br, ...uleb128(depth));
  }

  /** `br_if depth`. */
  brIf(depth: number): this {
    return this.emit(Op.br_if, ...uleb128(depth));
  }

  /** A SIMD instruction: prefix 0xfd, then the sub-opcode as unsigned LEB128. */
  simd(subOpcode: number, ...immediates: number[]): this {
    return this.emit(SIMD_PREFIX, ...uleb128(subOpcode), ...immediates);
  }

  /** Append everything another builder emitted. */
  append(other: CodeBuilder): this {
    for (const b of other.bytes) this.#bytes.push(b);
    return this;
  }

  /** `v128.const` with both i64x2 lanes set to `value` (a uint64 or int64). */
  v128SplatConst(value: bigint): this {
    const bytes: number[] = [];
    for (let lane = 0; lane < 2; lane++) {
      let v = BigInt.asUintN(64, value);
      for (let k = 0; k < 8; k++) {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
      }
    }
    return this.simd(SimdOp.v128_const, ...bytes);
  }
}

/** A function signature. */
export interface FuncType {
  params: number[];
  results: number[];
}

/** One function: its signature, extra locals (after the params) and body (without `end`). */
export interface FuncDef {
  type: FuncType;
  locals: number[];
  body: CodeBuilder;
}

/** A whole module: functions, one memory and exports. */
export interface ModuleDef {
  functions: FuncDef[];
  memory: { minPages: number; maxPages?: number };
  exports: { name: string; kind: "func" | "memory"; index: number }[];
}

function vec(items: number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb128(content.length), ...content];
}

function encodeName(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...uleb128(bytes.length), ...bytes];
}

function typeKey(t: FuncType): string {
  return `${t.params.join(",")}>${t.results.join(",")}`;
}

/** Run-length compress a list of local types into (count, type) groups. */
function localGroups(locals: number[]): number[][] {
  const groups: number[][] = [];
  let i = 0;
  while (i < locals.length) {
    let j = i;
    while (j < locals.length && locals[j] === locals[i]) j++;
    groups.push([...uleb128(j - i), locals[i]!]);
    i = j;
  }
  return groups;
}

/**
 * Encode a module to its binary form. Function types are de-duplicated in order of first use.
 *
 * @param def The module definition.
 * @returns The `.wasm` bytes.
 */
export function encodeModule(def: ModuleDef): Uint8Array<ArrayBuffer> {
  const typeIndex = new Map<string, number>();
  const types: number[][] = [];
  const funcTypeIndices: number[][] = [];
  for (const f of def.functions) {
    const key = typeKey(f.type);
    let index = typeIndex.get(key);
    if (index === undefined) {
      index = types.length;
      typeIndex.set(key, index);
      types.push([
        0x60,
        ...vec(f.type.params.map((p) => [p])),
        ...vec(f.type.results.map((r) => [r])),
      ]);
    }
    funcTypeIndices.push(uleb128(index));
  }
  const { minPages, maxPages } = def.memory;
  const limits = maxPages === undefined
    ? [0x00, ...uleb128(minPages)]
    : [0x01, ...uleb128(minPages), ...uleb128(maxPages)];
  const exports = def.exports.map((e) => [
    ...encodeName(e.name),
    e.kind === "func" ? 0x00 : 0x02,
    ...uleb128(e.index),
  ]);
  const bodies = def.functions.map((f) => {
    const body = [...vec(localGroups(f.locals)), ...f.body.bytes, Op.end];
    return [...uleb128(body.length), ...body];
  });
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d, // "\0asm"
    0x01,
    0x00,
    0x00,
    0x00, // version 1
    ...section(1, vec(types)),
    ...section(3, vec(funcTypeIndices)),
    ...section(5, vec([limits])),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}
