/**
 * Emits the vBlake WGSL compute shader (spec §4): 64-bit words as `vec2<u32>` (low, high),
 * adds with an explicit carry, the rotations 60/43/5/18 as two 32-bit shift pairs over the
 * word and its swapped halves, all 16 rounds unrolled with the sigma schedule resolved at
 * generation time, and the constants folded into literals.
 *
 * The host supplies, per dispatch, a uniform parameter block (layout in `_layout.ts`): the
 * midstate after the first three column G calls of round 0 (they read only m[0..5], §4.5),
 * the message words mc[0..7] = m[i] ^ C[i] (m[8..15] are zero, so mc[8..15] are the literal
 * constants C[8..15]), the share target as six big-endian words, the first nonce and the
 * nonce count. Per nonce only the high half of m[7] changes: it is the byte-swapped nonce.
 *
 * Entry points:
 * - `scan`: nonce = base + invocation index (times `noncesPerInvocation`, plus k). The top 32
 *   bits of the hash are pre-checked against the target's; only then is the full 192-bit
 *   compare done. Winning nonces go to the results buffer through an atomic counter (the
 *   counter keeps counting past the buffer's capacity, so the host sees an overflow).
 * - `hash_debug`: writes the full hash (six little-endian u32 words) of every nonce of the
 *   range to the hashes buffer. For tests only; never used while mining.
 *
 * Dispatches may be two-dimensional (x up to 65535 workgroups): the linear invocation index
 * is `(workgroup_id.y * num_workgroups.x + workgroup_id.x) * workgroupSize + local index`.
 *
 * @module
 */

import {
  VBLAKE_C as C,
  VBLAKE_H_INIT as H_INIT,
  VBLAKE_ROTATIONS as ROTATIONS,
  VBLAKE_V_INIT as V_INIT,
} from "../../hash/mod.ts";
import { gSteps, HOST_G_CALLS } from "./_g_steps.ts";
import {
  HASH_WORDS,
  MID_STATE_ORDER,
  PARAM_BASE,
  PARAM_COUNT,
  PARAM_MID,
  PARAM_MSG,
  PARAM_TARGET,
  PARAM_VEC4S,
  RESULT_CAPACITY,
} from "./_layout.ts";

/** Options for {@linkcode vblakeWgsl}. */
export interface VblakeWgslOptions {
  /** Invocations per workgroup (1..1024). @default 64 */
  workgroupSize?: number;
  /** Nonces each `scan` invocation tries, one after another (1..256). @default 1 */
  noncesPerInvocation?: number;
}

const MASK32 = 0xFFFFFFFFn;

function hex32(value: bigint): string {
  return `0x${value.toString(16).padStart(8, "0")}u`;
}

/** A 64-bit constant as a WGSL `vec2<u32>` literal (low, high). */
function literal(value: bigint): string {
  return `vec2<u32>(${hex32(value & MASK32)}, ${hex32(value >> 32n)})`;
}

/** The parameter word `index` as a WGSL expression. */
function param(index: number): string {
  return `params[${index >> 2}].${"xyzw"[index & 3]}`;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot emit the vBlake shader: ${name} ${value} is not in ${min}..${max}`,
    );
  }
  return value;
}

const ROTATE: Record<number, string> = {
  60: "r60",
  43: "r43",
  5: "r5",
  18: "r18",
};

/** One G call as WGSL statements on the state variables. */
function emitG(a: number, b: number, c: number, d: number, x: string, y: string): string {
  const [r1, r2, r3, r4] = ROTATIONS.map((bits) => ROTATE[bits]!);
  const va = `v${a}`, vb = `v${b}`, vc = `v${c}`, vd = `v${d}`;
  return [
    `  ${va} = add(add(${va}, ${vb}), ${x}); ${vd} = ${r1}(${vd} ^ ${va});`,
    `  ${vc} = add(${vc}, ${vd}); ${vb} = ${r2}(${vb} ^ ${vc});`,
    `  ${va} = add(add(${va}, ${vb}), ${y}); ${vd} = ${r3}(${vd} ^ ${va});`,
    `  ${vc} = add(${vc}, ${vd}); ${vb} = ${r4}(${vb} ^ ${vc}); ${vd} = ~${vd};`,
  ].join("\n");
}

/** The message word mc[i] as an expression: a local for m[0..7], a literal for C[8..15]. */
function message(i: number): string {
  return i < 8 ? `m${i}` : literal(C[i]!);
}

/** The function computing the three output words (before byte order) of one nonce. */
function emitCompress(): string {
  const lines: string[] = [];
  lines.push("fn vblake(nonce: u32) -> Hash {");
  for (let i = 0; i < 8; i++) {
    const lo = param(PARAM_MSG + 2 * i);
    const hi = i === 7
      ? `${param(PARAM_MSG + 2 * i + 1)} ^ bswap(nonce)`
      : param(PARAM_MSG + 2 * i + 1);
    lines.push(`  let m${i} = vec2<u32>(${lo}, ${hi});`);
  }
  for (let s = 0; s < 16; s++) {
    const k = MID_STATE_ORDER.indexOf(s);
    const init = k >= 0
      ? `vec2<u32>(${param(PARAM_MID + 2 * k)}, ${param(PARAM_MID + 2 * k + 1)})`
      : literal(V_INIT[s]!);
    lines.push(`  var v${s} = ${init};`);
  }
  let round = -1;
  for (const { round: r, a, b, c, d, x, y } of gSteps(HOST_G_CALLS)) {
    if (r !== round) {
      round = r;
      lines.push(`  // round ${r}`);
    }
    lines.push(emitG(a, b, c, d, message(x), message(y)));
  }
  // Feed-forward and fold: out_k = XOR of H[i] ^ v[i] ^ v[i + 8] over i ≡ k (mod 3).
  const outs = [0, 1, 2].map((k) => {
    let h = 0n;
    const terms: string[] = [];
    for (let i = k; i < 8; i += 3) {
      h ^= H_INIT[i]!;
      terms.push(`v${i}`, `v${i + 8}`);
    }
    return `${literal(h)} ^ ${terms.join(" ^ ")}`;
  });
  lines.push(`  return Hash(${outs.join(",\n    ")});`);
  lines.push("}");
  return lines.join("\n");
}

/** The full 192-bit compare, hash < target, on big-endian words. */
function emitBelow(): string {
  const lines = ["fn below(h: Hash) -> bool {"];
  const words = ["h.h0.x", "h.h0.y", "h.h1.x", "h.h1.y", "h.h2.x", "h.h2.y"];
  words.forEach((w, j) => {
    lines.push(`  let w${j} = bswap(${w});`);
    lines.push(`  let t${j} = ${param(PARAM_TARGET + j)};`);
    if (j < 5) lines.push(`  if (w${j} != t${j}) { return w${j} < t${j}; }`);
    else lines.push(`  return w${j} < t${j};`);
  });
  lines.push("}");
  return lines.join("\n");
}

/**
 * Emit the vBlake compute shader (WGSL), with entry points `scan` and `hash_debug`.
 *
 * @example Usage
 * ```ts
 * import { vblakeWgsl } from "./vblake_wgsl.ts";
 * import assert from "node:assert/strict";
 *
 * const source = vblakeWgsl({ workgroupSize: 64 });
 * assert.ok(source.includes("@compute @workgroup_size(64)\nfn scan("));
 * assert.equal(source.match(/= ~v/g)?.length, 16 * 8 - 3); // one d = ~d per G on the device
 * ```
 *
 * @param options Workgroup size and nonces per invocation.
 * @returns WGSL source.
 * @throws {RangeError} When an option is out of range.
 */
export function vblakeWgsl(options: VblakeWgslOptions = {}): string {
  const wg = checkRange("workgroupSize", options.workgroupSize ?? 64, 1, 1024);
  const npi = checkRange("noncesPerInvocation", options.noncesPerInvocation ?? 1, 1, 256);
  const base = param(PARAM_BASE);
  const count = param(PARAM_COUNT);
  const index = `(wid.y * nwg.x + wid.x) * ${wg}u + lid`;
  const builtins = [
    "@builtin(workgroup_id) wid: vec3<u32>",
    "@builtin(num_workgroups) nwg: vec3<u32>",
    "@builtin(local_invocation_index) lid: u32",
  ].join(", ");
  const tryNonce = [
    `    let h = vblake(nonce);`,
    `    if (bswap(h.h0.x) <= ${param(PARAM_TARGET)}) {`,
    `      if (below(h)) {`,
    `        let slot = atomicAdd(&results.count, 1u);`,
    `        if (slot < ${RESULT_CAPACITY}u) { results.nonces[slot] = nonce; }`,
    `      }`,
    `    }`,
  ].join("\n");
  const scanBody = npi === 1
    ? [
      `  let offset = ${index};`,
      `  if (offset >= ${count}) { return; }`,
      `  {`,
      `    let nonce = ${base} + offset;`,
      tryNonce,
      `  }`,
    ]
    : [
      `  let first = (${index}) * ${npi}u;`,
      `  for (var k = 0u; k < ${npi}u; k++) {`,
      `    let offset = first + k;`,
      `    if (offset >= ${count}) { return; }`,
      `    let nonce = ${base} + offset;`,
      tryNonce,
      `  }`,
    ];
  return [
    "// vBlake (VeriBlock PoW) nonce scanner, generated by miner/gpu/vblake_wgsl.ts.",
    "struct Hash { h0: vec2<u32>, h1: vec2<u32>, h2: vec2<u32> }",
    `struct Results { count: atomic<u32>, nonces: array<u32, ${RESULT_CAPACITY}> }`,
    `@group(0) @binding(0) var<uniform> params: array<vec4<u32>, ${PARAM_VEC4S}>;`,
    "@group(0) @binding(1) var<storage, read_write> results: Results;",
    "@group(0) @binding(2) var<storage, read_write> hashes: array<u32>;",
    "",
    "fn add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {",
    "  let lo = a.x + b.x;",
    "  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));",
    "}",
    "// rotr 60 = rotl 4",
    "fn r60(x: vec2<u32>) -> vec2<u32> { return (x << vec2<u32>(4u)) | (x.yx >> vec2<u32>(28u)); }",
    "// rotr 43 = swap halves, then rotr 11",
    "fn r43(x: vec2<u32>) -> vec2<u32> { return (x.yx >> vec2<u32>(11u)) | (x << vec2<u32>(21u)); }",
    "fn r5(x: vec2<u32>) -> vec2<u32> { return (x >> vec2<u32>(5u)) | (x.yx << vec2<u32>(27u)); }",
    "fn r18(x: vec2<u32>) -> vec2<u32> { return (x >> vec2<u32>(18u)) | (x.yx << vec2<u32>(14u)); }",
    "fn bswap(x: u32) -> u32 {",
    "  return (x << 24u) | ((x << 8u) & 0x00ff0000u) | ((x >> 8u) & 0x0000ff00u) | (x >> 24u);",
    "}",
    "",
    emitCompress(),
    "",
    emitBelow(),
    "",
    `@compute @workgroup_size(${wg})`,
    `fn scan(${builtins}) {`,
    ...scanBody,
    "}",
    "",
    `@compute @workgroup_size(${wg})`,
    `fn hash_debug(${builtins}) {`,
    `  let offset = ${index};`,
    `  if (offset >= ${count}) { return; }`,
    `  let h = vblake(${base} + offset);`,
    `  let at = offset * ${HASH_WORDS}u;`,
    "  hashes[at] = h.h0.x;",
    "  hashes[at + 1u] = h.h0.y;",
    "  hashes[at + 2u] = h.h1.x;",
    "  hashes[at + 3u] = h.h1.y;",
    "  hashes[at + 4u] = h.h2.x;",
    "  hashes[at + 5u] = h.h2.y;",
    "}",
    "",
  ].join("\n");
}
