/**
 * vBlake kernels: one interface over the WebAssembly SIMD kernel ("wasm-simd": two i64x2
 * streams interleaved with two scalar i64 streams, six nonces in flight, ~1.6× the scalar
 * kernel on x64), the scalar WebAssembly kernel ("wasm": native i64, fully unrolled, ~15–20×
 * the TypeScript reference) and the reference itself ("ts"). {@linkcode createBestKernel}
 * picks the fastest one that works here; {@linkcode createKernel} forces one. Used by the
 * miner, the benchmarks and chain verification.
 *
 * A scan hashes a 64-byte header template with nonces `startNonce`, `startNonce + 1`, …
 * written big-endian into bytes 60..63 (the template's own nonce bytes are ignored; the
 * caller's array is never modified) and reports every nonce whose hash is below the target.
 *
 * @module
 */

import { decodeBase64 } from "./_base64.ts";
import { MAX_TARGET, targetToBytes } from "./difficulty.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";
import { vblake, VBLAKE_BLOCK_SIZE, VBLAKE_SIZE } from "./vblake.ts";
import { VBLAKE_WASM_BASE64 } from "./_vblake_wasm.ts";
import { VBLAKE_WASM_SIMD_BASE64 } from "./_vblake_wasm_simd.ts";
import {
  BATCH_HASH_STRIDE,
  BATCH_HASHES_OFFSET,
  BATCH_HEADERS_OFFSET,
  HASH_OFFSET,
  HEADER_OFFSET,
  MAX_RESULTS,
  RESULTS_OFFSET,
  TARGET_OFFSET,
  TRIED_OFFSET,
} from "./_wasm_layout.ts";

/** Default cap on found nonces per scan. */
export const DEFAULT_MAX_RESULTS = 256;

/** Largest `maxResults` a scan accepts (the WebAssembly results area). */
export const SCAN_MAX_RESULTS: number = MAX_RESULTS;

/** Options for {@linkcode VblakeKernel.scan}. */
export interface ScanOptions {
  /** First nonce, a uint32. */
  startNonce: number;
  /** How many nonces to try; `startNonce + count` must not pass 2^32 (no wrap-around). */
  count: number;
  /** Share target: a bigint in 0..2^192−1, or its 24 big-endian bytes. */
  target: bigint | Uint8Array;
  /** Stop after this many finds (1..{@linkcode SCAN_MAX_RESULTS}). @default 256 */
  maxResults?: number;
}

/** What a scan found. */
export interface ScanResult {
  /** Nonces (uint32, ascending) whose hash is below the target. */
  nonces: number[];
  /** Nonces tried: `count`, or fewer when `maxResults` finds stopped the scan early. */
  tried: number;
}

/** The kernel names, fastest first. */
export const KERNEL_NAMES: readonly KernelName[] = ["wasm-simd", "wasm", "ts"];

/** Name of a kernel: WebAssembly SIMD, scalar WebAssembly, or the TypeScript reference. */
export type KernelName = "wasm-simd" | "wasm" | "ts";

/** A vBlake implementation: single hashes and nonce scans. */
export interface VblakeKernel {
  /** "wasm-simd", "wasm" or "ts" (see {@linkcode KernelName}); test doubles may use others. */
  readonly name: string;
  /** Hash a 64-byte header into 24 bytes. */
  hash(header: Uint8Array): Uint8Array;
  /** Try `count` nonces on a header template; see {@linkcode ScanOptions}. */
  scan(header: Uint8Array, options: ScanOptions): ScanResult;
}

/** A scan's arguments after {@linkcode validateScanOptions}: checked, defaults resolved. */
export interface ValidScan {
  /** First nonce, a uint32. */
  startNonce: number;
  /** Nonces to try (`startNonce + count` ≤ 2^32). */
  count: number;
  /** The target as 24 big-endian bytes. */
  target: Uint8Array;
  /** Cap on finds, 1..{@linkcode SCAN_MAX_RESULTS}. */
  maxResults: number;
}

function checkHeader(header: unknown, action: string): asserts header is Uint8Array {
  if (!(header instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: header is not a Uint8Array`);
  }
  if (header.length !== VBLAKE_BLOCK_SIZE) {
    throw new RangeError(`Cannot ${action}: expected a 64-byte header, got ${header.length}`);
  }
}

function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot scan: ${name} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Cannot scan: ${name} ${value} is not in ${min}..${max}`);
  }
  return value;
}

/**
 * Check a scan's header and options the way every kernel does, and resolve them: the
 * default `maxResults` and the target as 24 big-endian bytes. Kernels outside this module
 * (the miner's GPU kernel) use it so that they accept and reject exactly what these do.
 *
 * @example Usage
 * ```ts
 * import { validateScanOptions } from "./kernel.ts";
 * import assert from "node:assert/strict";
 *
 * const scan = validateScanOptions(new Uint8Array(64), { startNonce: 10, count: 5, target: 1n });
 * assert.equal(scan.maxResults, 256);
 * assert.equal(scan.target.length, 24);
 * assert.equal(scan.target[23], 1);
 * assert.throws(
 *   () => validateScanOptions(new Uint8Array(64), { startNonce: 2 ** 32 - 1, count: 2, target: 1n }),
 *   RangeError,
 * );
 * ```
 *
 * @param header The 64-byte header template.
 * @param options The scan options.
 * @returns The checked arguments.
 * @throws {TypeError} When the header is not a Uint8Array, options is not an object, a
 * number is not an integer, or the target is neither a bigint nor a Uint8Array.
 * @throws {RangeError} When the header is not 64 bytes, a number is out of range, the range
 * passes 2^32 - 1, or the target is out of range or not 24 bytes.
 */
export function validateScanOptions(header: unknown, options: ScanOptions): ValidScan {
  checkHeader(header, "scan");
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot scan: options must be an object");
  }
  const startNonce = checkInteger(options.startNonce, "startNonce", 0, 0xFFFFFFFF);
  const count = checkInteger(options.count, "count", 0, 2 ** 32);
  if (startNonce + count > 2 ** 32) {
    throw new RangeError(
      `Cannot scan: nonces ${startNonce}..${
        startNonce + count - 1
      } pass 2^32-1 (roll the timestamp or extranonce instead)`,
    );
  }
  const maxResults = checkInteger(
    options.maxResults ?? DEFAULT_MAX_RESULTS,
    "maxResults",
    1,
    MAX_RESULTS,
  );
  const { target } = options;
  let targetBytes: Uint8Array;
  if (typeof target === "bigint") {
    targetBytes = targetToBytes(target);
  } else if (target instanceof Uint8Array) {
    if (target.length !== VBLAKE_SIZE) {
      throw new RangeError(`Cannot scan: target must be 24 bytes, got ${target.length}`);
    }
    targetBytes = target;
  } else {
    throw new TypeError("Cannot scan: target must be a bigint or a Uint8Array");
  }
  return { startNonce, count, target: targetBytes, maxResults };
}

/** Big-endian a < b for equal-length byte strings. */
function lessThan(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]!;
  }
  return false;
}

class ReferenceKernel implements VblakeKernel {
  readonly name = "ts";

  hash(header: Uint8Array): Uint8Array {
    return vblake(header);
  }

  scan(header: Uint8Array, options: ScanOptions): ScanResult {
    const { startNonce: start, count, target, maxResults } = validateScanOptions(header, options);
    const work = header.slice();
    const view = new DataView(work.buffer);
    const nonces: number[] = [];
    for (let i = 0; i < count; i++) {
      const nonce = start + i;
      view.setUint32(60, nonce);
      if (lessThan(vblake(work), target)) {
        nonces.push(nonce);
        if (nonces.length >= maxResults) return { nonces, tried: i + 1 };
      }
    }
    return { nonces, tried: count };
  }
}

interface WasmExports {
  memory: WebAssembly.Memory;
  hash(): void;
  scan(startNonce: number, count: number, maxResults: number): number;
}

interface WasmSimdExports extends WasmExports {
  hashLanes(): void;
  lanes(): number;
}

/** Largest count per call into the module (its loop counter is an i32). */
const WASM_CHUNK = 2 ** 31;

/** The scalar module's kernel; the SIMD module has the same layout, `hash` and `scan`. */
class WasmKernel implements VblakeKernel {
  readonly name: string = "wasm";
  protected readonly bytes: Uint8Array;
  #hash: () => void;
  #scan: WasmExports["scan"];
  #words: Uint32Array;

  constructor(exports: WasmExports) {
    this.#hash = exports.hash;
    this.#scan = exports.scan;
    // The modules' memories have a fixed size, so these views stay valid.
    this.bytes = new Uint8Array(exports.memory.buffer);
    this.#words = new Uint32Array(exports.memory.buffer);
  }

  hash(header: Uint8Array): Uint8Array {
    checkHeader(header, "hash header");
    this.bytes.set(header, HEADER_OFFSET);
    this.#hash();
    return this.bytes.slice(HASH_OFFSET, HASH_OFFSET + VBLAKE_SIZE);
  }

  scan(header: Uint8Array, options: ScanOptions): ScanResult {
    const { startNonce: start, count, target, maxResults } = validateScanOptions(header, options);
    this.bytes.set(header, HEADER_OFFSET);
    this.bytes.set(target, TARGET_OFFSET);
    const nonces: number[] = [];
    let tried = 0;
    while (tried < count && nonces.length < maxResults) {
      const chunk = Math.min(count - tried, WASM_CHUNK);
      const found = this.#scan(start + tried, chunk, maxResults - nonces.length);
      for (let k = 0; k < found; k++) nonces.push(this.#words[RESULTS_OFFSET / 4 + k]!);
      tried += this.#words[TRIED_OFFSET / 4]!;
    }
    return { nonces, tried };
  }
}

/** The SIMD kernel: a {@linkcode VblakeKernel} that can also hash one header per lane at once. */
export interface WasmSimdKernel extends VblakeKernel {
  /** Nonces (and batch headers) per iteration of the module. */
  readonly lanes: number;
  /**
   * Hash several 64-byte headers, `lanes` at a time, every one through the SIMD compression
   * (`hash()` of a single header uses the module's scalar code).
   *
   * @param headers The headers.
   * @returns Their 24-byte hashes, in order.
   */
  hashBatch(headers: readonly Uint8Array[]): Uint8Array[];
}

/** Single hashes go through the module's scalar `hash` (one header would idle the lanes). */
class SimdKernel extends WasmKernel implements WasmSimdKernel {
  override readonly name = "wasm-simd";
  readonly lanes: number;
  #hashLanes: () => void;

  constructor(exports: WasmSimdExports) {
    super(exports);
    this.#hashLanes = exports.hashLanes;
    this.lanes = exports.lanes();
  }

  hashBatch(headers: readonly Uint8Array[]): Uint8Array[] {
    if (!Array.isArray(headers)) throw new TypeError("Cannot hash headers: not an array");
    for (const header of headers) checkHeader(header, "hash header");
    const out: Uint8Array[] = [];
    for (let first = 0; first < headers.length; first += this.lanes) {
      const group = headers.slice(first, first + this.lanes);
      group.forEach((header, k) => this.bytes.set(header, BATCH_HEADERS_OFFSET + 64 * k));
      this.#hashLanes();
      for (let k = 0; k < group.length; k++) {
        const at = BATCH_HASHES_OFFSET + BATCH_HASH_STRIDE * k;
        out.push(this.bytes.slice(at, at + VBLAKE_SIZE));
      }
    }
    return out;
  }
}

let wasmModule: WebAssembly.Module | undefined;
let wasmSimdModule: WebAssembly.Module | undefined;

/**
 * Create the WebAssembly kernel (synchronous: the ~20 KB module is compiled once per thread
 * and instantiated per kernel; each kernel owns its memory, so keep one per worker).
 *
 * @example Usage
 * ```ts
 * import { createWasmKernel } from "./kernel.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const kernel = createWasmKernel();
 * assert.equal(
 *   bytesToHex(kernel.hash(new Uint8Array(64)), { upper: true }),
 *   "235FCE01D9434261188E046AE97ACA9EDC8530AE042B586C",
 * );
 * ```
 *
 * @returns A kernel named "wasm".
 * @throws {Error} When WebAssembly is not available.
 */
export function createWasmKernel(): VblakeKernel {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.Module !== "function") {
    throw new Error("Cannot create the wasm kernel: WebAssembly is not available");
  }
  wasmModule ??= new WebAssembly.Module(decodeBase64(VBLAKE_WASM_BASE64));
  const instance = new WebAssembly.Instance(wasmModule, {});
  return new WasmKernel(instance.exports as unknown as WasmExports);
}

/**
 * Create the WebAssembly SIMD kernel (compiled once per thread, instantiated per kernel; each
 * kernel owns its memory, so keep one per worker).
 *
 * @example Usage
 * ```ts
 * import { createWasmSimdKernel } from "./kernel.ts";
 * import { bytesToHex } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const kernel = createWasmSimdKernel();
 * assert.equal(kernel.name, "wasm-simd");
 * assert.equal(
 *   bytesToHex(kernel.hash(new Uint8Array(64)), { upper: true }),
 *   "235FCE01D9434261188E046AE97ACA9EDC8530AE042B586C",
 * );
 * ```
 *
 * @returns A kernel named "wasm-simd".
 * @throws {Error} When WebAssembly or its SIMD extension is not available.
 */
export function createWasmSimdKernel(): WasmSimdKernel {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.Module !== "function") {
    throw new Error("Cannot create the wasm-simd kernel: WebAssembly is not available");
  }
  if (wasmSimdModule === undefined) {
    const bytes = decodeBase64(VBLAKE_WASM_SIMD_BASE64);
    if (!WebAssembly.validate(bytes)) {
      throw new Error("Cannot create the wasm-simd kernel: WebAssembly SIMD is not supported");
    }
    wasmSimdModule = new WebAssembly.Module(bytes);
  }
  const instance = new WebAssembly.Instance(wasmSimdModule, {});
  return new SimdKernel(instance.exports as unknown as WasmSimdExports);
}

/**
 * Create the plain TypeScript reference kernel.
 *
 * @example Usage
 * ```ts
 * import { createReferenceKernel } from "./kernel.ts";
 * import assert from "node:assert/strict";
 *
 * const kernel = createReferenceKernel();
 * const { nonces, tried } = kernel.scan(new Uint8Array(64), {
 *   startNonce: 0,
 *   count: 10,
 *   target: 2n ** 192n - 1n, // difficulty 1: every hash but all-FF qualifies
 * });
 * assert.equal(tried, 10);
 * assert.equal(nonces.length, 10);
 * ```
 *
 * @returns A kernel named "ts".
 */
export function createReferenceKernel(): VblakeKernel {
  return new ReferenceKernel();
}

/** Fixed self-test headers (spec §5.2 #5 and two synthetic ones) and their hashes. */
const SELF_TEST: readonly (readonly [string, string])[] = [
  [
    "00001388000294E7DC3E3BE21A96ECCF0FBDF5F62A3331DC995C36B0935637860679DDD5DB0F135312B2C27867C9A83EF1B99B985C9B949307023AD672BAFD77",
    "000000000000480D8196D5B0B41861D032377F5165BB4452",
  ],
  ["00".repeat(64), "235FCE01D9434261188E046AE97ACA9EDC8530AE042B586C"],
  ["FF".repeat(64), "44B05CFD52BAC69B82ED47227E14A0BD2B2EF284F6534D49"],
];

/**
 * Check a kernel against known hashes and against the reference kernel (single hashes and a
 * 512-nonce scan at difficulty 16).
 *
 * @example Usage
 * ```ts
 * import { checkKernel, createWasmKernel } from "./kernel.ts";
 *
 * checkKernel(createWasmKernel()); // throws on any mismatch
 * ```
 *
 * @param kernel The kernel to test.
 * @throws {Error} Describing the first mismatch.
 */
export function checkKernel(kernel: VblakeKernel): void {
  const reference = createReferenceKernel();
  for (const [headerHex, hashHex] of SELF_TEST) {
    const got = bytesToHex(kernel.hash(hexToBytes(headerHex)), { upper: true });
    if (got !== hashHex) {
      throw new Error(`Cannot trust kernel ${kernel.name}: hash ${got}, expected ${hashHex}`);
    }
  }
  const header = hexToBytes(SELF_TEST[0]![0]);
  const options = { startNonce: 0xFFFFFE00, count: 512, target: MAX_TARGET / 16n };
  const want = reference.scan(header, options).nonces.join(",");
  const got = kernel.scan(header, options).nonces.join(",");
  if (got !== want) {
    throw new Error(`Cannot trust kernel ${kernel.name}: scan found [${got}], expected [${want}]`);
  }
}

/**
 * Create a kernel by name, without a self-test (for benchmarks and forced choices).
 *
 * @example Usage
 * ```ts
 * import { createKernel, KERNEL_NAMES } from "./kernel.ts";
 * import assert from "node:assert/strict";
 *
 * for (const name of KERNEL_NAMES) assert.equal(createKernel(name).name, name);
 * ```
 *
 * @param name "wasm-simd", "wasm" or "ts".
 * @returns The kernel.
 * @throws {TypeError} When `name` is not a string.
 * @throws {RangeError} When `name` is not a kernel name.
 * @throws {Error} When the runtime cannot run that kernel.
 */
export function createKernel(name: KernelName): VblakeKernel {
  if (typeof name !== "string") {
    throw new TypeError(`Cannot create kernel: name must be a string, got ${typeof name}`);
  }
  switch (name) {
    case "wasm-simd":
      return createWasmSimdKernel();
    case "wasm":
      return createWasmKernel();
    case "ts":
      return createReferenceKernel();
    default:
      throw new RangeError(
        `Cannot create kernel: unknown name ${JSON.stringify(name)} (${KERNEL_NAMES.join(", ")})`,
      );
  }
}

/** Options for {@linkcode createBestKernel}. */
export interface CreateBestKernelOptions {
  /** Called with the reason for each candidate that is unusable here (does not load or fails the self-test). */
  onFallback?: (reason: unknown) => void;
  /**
   * Kernel factories to try in order, fastest first; the reference is the last resort.
   * @default [createWasmSimdKernel, createWasmKernel]
   */
  candidates?: readonly (() => VblakeKernel)[];
}

/**
 * Create the fastest kernel that loads here and passes {@linkcode checkKernel} against the
 * reference: WebAssembly SIMD, else scalar WebAssembly, else the TypeScript reference.
 *
 * @example Usage
 * ```ts
 * import { createBestKernel } from "./kernel.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(createBestKernel().name, "wasm-simd");
 * ```
 *
 * @param options Fallback notification and, for tests, the candidates.
 * @returns A kernel.
 */
export function createBestKernel(options: CreateBestKernelOptions = {}): VblakeKernel {
  const candidates = options.candidates ?? [createWasmSimdKernel, createWasmKernel];
  for (const create of candidates) {
    try {
      const kernel = create();
      checkKernel(kernel);
      return kernel;
    } catch (error) {
      options.onFallback?.(error);
    }
  }
  return createReferenceKernel();
}
