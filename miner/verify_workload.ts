/**
 * The fixed workload of `vbkpool bench --verify`: a real VeriBlock header (spec §5.2 #5) hashed
 * with nonces 0 .. N−1 against the target 2^184 (a hash whose first byte is zero, one in 256).
 * The checksum is the SHA-256 of the winning nonces, each as 4 big-endian bytes in ascending
 * order, so every kernel that computes vBlake correctly prints the same checksum for the same
 * N, and a broken kernel (which finds a different set) a different one. Like xmrig's
 * `--bench`, it lets users compare machines and catch a kernel that computes wrong hashes.
 *
 * @module
 */
import { bytesToHex, hexToBytes, SCAN_MAX_RESULTS, sha256 } from "../hash/mod.ts";
import type { ScanOptions, ScanResult } from "../hash/mod.ts";

/** The header: VeriBlock block 5000 (spec §5.2 #5); bytes 60..63 (the nonce) are replaced. */
export const VERIFY_HEADER: Uint8Array = hexToBytes(
  "00001388000294E7DC3E3BE21A96ECCF0FBDF5F62A3331DC995C36B0935637860679DDD5DB0F135312B2C2" +
    "7867C9A83EF1B99B985C9B949307023AD672BAFD77",
);

/** The target: hashes below 2^184 (first byte zero) count. */
export const VERIFY_TARGET: bigint = 2n ** 184n;

/** The default workload, 2^20 nonces. */
export const VERIFY_NONCES = 1_048_576;

/** Nonces per scan call: a stop request is seen between calls. */
const CHUNK = 262_144;
/** Nonces hashed, untimed, before the run. */
const WARM_UP = 65_536;

/** Anything that scans like a vBlake kernel, synchronously (CPU) or not (WebGPU). */
export interface VerifyScanner {
  /** Kernel name. */
  readonly name: string;
  /** See `VblakeKernel.scan`. */
  scan(header: Uint8Array, options: ScanOptions): ScanResult | Promise<ScanResult>;
}

/** What {@linkcode runVerifyWorkload} measured. */
export interface VerifyResult {
  /** Kernel name. */
  kernel: string;
  /** Nonces hashed. */
  nonces: number;
  /** Nonces whose hash met the target. */
  found: number;
  /** SHA-256 (hex, lower case) of the found nonces, 4 big-endian bytes each, ascending. */
  checksum: string;
  /** Hashes per second of this run (one thread, or one GPU slot). */
  rate: number;
}

/**
 * The checksum of a list of found nonces.
 *
 * @example Usage
 * ```ts
 * import { verifyChecksum } from "./verify_workload.ts";
 * import assert from "node:assert/strict";
 *
 * // SHA-256 of no bytes.
 * assert.equal(verifyChecksum([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
 * ```
 *
 * @param nonces Winning nonces, ascending.
 * @returns Hex SHA-256 of the nonces as 4 big-endian bytes each.
 */
export function verifyChecksum(nonces: readonly number[]): string {
  const bytes = new Uint8Array(nonces.length * 4);
  const view = new DataView(bytes.buffer);
  nonces.forEach((n, i) => view.setUint32(i * 4, n));
  return bytesToHex(sha256(bytes));
}

/**
 * Hash the fixed workload with one kernel: nonces `0 .. nonces - 1` of
 * {@linkcode VERIFY_HEADER} against {@linkcode VERIFY_TARGET}.
 *
 * @example Usage
 * ```ts
 * import { runVerifyWorkload } from "./verify_workload.ts";
 * import { createReferenceKernel, createWasmKernel } from "../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const a = await runVerifyWorkload(createReferenceKernel(), { nonces: 2048 });
 * const b = await runVerifyWorkload(createWasmKernel(), { nonces: 2048 });
 * assert.equal(a.checksum, b.checksum);
 * assert.ok(a.found > 0);
 * ```
 *
 * @param kernel The kernel.
 * @param options Nonce count (1..2^32) and a stop signal.
 * @returns Count found, checksum and rate (of the run after a short untimed warm-up).
 * @throws {RangeError} When the nonce count is out of range.
 * @throws {Error} When stopped, or when the kernel fails.
 */
export async function runVerifyWorkload(
  kernel: VerifyScanner,
  options: { nonces?: number; signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  const total = options.nonces ?? VERIFY_NONCES;
  if (!Number.isInteger(total) || total < 1 || total > 2 ** 32) {
    throw new RangeError(`Cannot verify: ${total} nonces is not in 1..2^32`);
  }
  const found: number[] = [];
  const scan = (startNonce: number, count: number) =>
    kernel.scan(VERIFY_HEADER, {
      startNonce,
      count,
      target: VERIFY_TARGET,
      maxResults: SCAN_MAX_RESULTS,
    });
  // Warm up (WebAssembly tier-up, shader compilation) outside the timed run.
  await scan(0, Math.min(WARM_UP, total));
  const t0 = performance.now();
  let next = 0;
  while (next < total) {
    if (options.signal?.aborted) throw new Error("Cannot verify: stopped");
    const count = Math.min(CHUNK, total - next);
    const r = await scan(next, count);
    if (r.tried < 1 || r.tried > count) {
      throw new Error(`Cannot verify: ${kernel.name} reported ${r.tried} of ${count} nonces tried`);
    }
    found.push(...r.nonces);
    next += r.tried;
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    kernel: kernel.name,
    nonces: total,
    found: found.length,
    checksum: verifyChecksum(found),
    rate: seconds > 0 ? total / seconds : 0,
  };
}
