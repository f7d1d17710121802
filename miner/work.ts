/**
 * From a `mining.notify` job to per-thread work: each thread gets its own part of the search
 * space (its own extranonce, or its own nonce range), a 64-byte header template, and the scan
 * target. Also the `mining.submit` params of a found share. Pure.
 *
 * @module
 */
import {
  bytesToHex,
  decodeBits,
  difficultyToTarget,
  encodeHeader,
  headerMerkleRoot,
  MAX_TARGET,
  merkle16,
  targetToBytes,
} from "../hash/mod.ts";
import type { NotifyJob } from "../protocol/mod.ts";

const UINT32_SPAN = 2 ** 32;

/**
 * How threads split the search space: `extranonce` gives thread i the connection's extranonce
 * plus i and the whole nonce range (as the Java reference miner does with base + 10·i);
 * `nonce` gives every thread the connection's extranonce and 1/N of the nonce range (for pools
 * that accept only the exact extranonce they assigned).
 */
export type SearchSplit = "extranonce" | "nonce";

/** The search splits, for option checking. */
export const SEARCH_SPLITS: readonly SearchSplit[] = ["extranonce", "nonce"];

/** One thread's work, as posted to a mining worker. */
export interface ThreadWork {
  /** Work generation; a worker abandons work whose generation is no longer current. */
  generation: number;
  /** Identity of the search space (session, header without its time, nonce range): a worker
   * handed new work with the same key keeps its position, so no header is hashed twice even
   * when a pool resends a job under a new id. */
  key: string;
  /** Job id, echoed in the submit. */
  jobId: string;
  /** 64-byte header template: merkle root for this extranonce, time = job time, nonce 0. */
  header: Uint8Array;
  /** This thread's extranonce (signed 64-bit, as it goes into the merkle root). */
  extranonce: bigint;
  /** The job time: the header time never drops below it. */
  minTime: number;
  /** First nonce of this thread's range. */
  nonceStart: number;
  /** One past the last nonce of the range (at most 2^32). */
  nonceEnd: number;
  /** Scan target, 24 bytes big-endian: the easier of the share and block targets. */
  target: Uint8Array;
}

/** Options for {@linkcode buildThreadWork}. */
export interface BuildThreadWorkOptions {
  /** Work generation. */
  generation: number;
  /** Connection identity, part of the key. */
  sessionId: number;
  /** The connection's extranonce from the subscribe result (unsigned 64-bit). */
  extranonce: bigint;
  /** Thread index, 0-based. */
  thread: number;
  /** Number of threads. */
  threads: number;
  /** How threads split the search space. @default "extranonce" */
  split?: SearchSplit;
  /** The scan target (see {@linkcode scanTarget}). */
  target: bigint;
}

/**
 * The extranonce thread `thread` uses under the `extranonce` split: the connection's value
 * plus the thread index, wrapping at 2^64, as a signed 64-bit value.
 *
 * @example Usage
 * ```ts
 * import { threadExtranonce } from "./work.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(threadExtranonce(0x7c000000000f4240n, 2), 0x7c000000000f4242n);
 * assert.equal(threadExtranonce(0xffffffffffffffffn, 0), -1n);
 * ```
 *
 * @param base The connection's extranonce (unsigned 64-bit).
 * @param thread Thread index.
 * @returns A signed 64-bit extranonce.
 */
export function threadExtranonce(base: bigint, thread: number): bigint {
  return BigInt.asIntN(64, base + BigInt(thread));
}

/**
 * The target a worker scans for: the easier (larger) of the share target and the block
 * target, so that a block-quality hash is never lost when the share difficulty is above the
 * network difficulty (possible on a low-difficulty devnet).
 *
 * @example Usage
 * ```ts
 * import { scanTarget } from "./work.ts";
 * import { decodeBits, difficultyToTarget } from "../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const share = difficultyToTarget(1_000_000n);
 * assert.equal(scanTarget(1_000_000n, 0x0600e8d4), share); // network far harder
 * assert.equal(scanTarget(1_000_000n, 0x03010000), difficultyToTarget(decodeBits(0x03010000)));
 * ```
 *
 * @param difficulty Share difficulty (≥ 1).
 * @param bits The job's compact network difficulty.
 * @returns A target in 0..2^192−1.
 */
export function scanTarget(difficulty: bigint, bits: number): bigint {
  const share = difficultyToTarget(difficulty);
  const block = blockTarget(bits);
  return block > share ? block : share;
}

/**
 * The block target of a job's compact bits, or 0 when the bits do not decode (then no hash
 * counts as a block).
 *
 * @example Usage
 * ```ts
 * import { blockTarget } from "./work.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(blockTarget(0x01010000), 2n ** 192n - 1n); // difficulty 1
 * assert.equal(blockTarget(0x00800000), 0n); // negative: invalid
 * ```
 *
 * @param bits Compact difficulty.
 * @returns The target.
 */
export function blockTarget(bits: number): bigint {
  try {
    return difficultyToTarget(decodeBits(bits));
  } catch {
    return 0n;
  }
}

/**
 * The work of one thread for a job.
 *
 * @example Usage
 * ```ts
 * import { buildThreadWork } from "./work.ts";
 * import assert from "node:assert/strict";
 *
 * const job = {
 *   jobId: "3", height: 1000, version: 2,
 *   previousHash: new Uint8Array(12), previousKeystone: new Uint8Array(9),
 *   secondKeystone: new Uint8Array(9), popRoot: new Uint8Array(32),
 *   normalRoot: new Uint8Array(32), metapackageHash: new Uint8Array(32),
 *   timestamp: 1_560_000_000, bits: 0x0600e8d4, cleanJobs: true,
 * };
 * const common = { generation: 1, sessionId: 1, extranonce: 100n, threads: 2, target: 1n };
 * const a = buildThreadWork(job, { ...common, thread: 0 });
 * const b = buildThreadWork(job, { ...common, thread: 1 });
 * assert.equal(a.extranonce, 100n);
 * assert.equal(b.extranonce, 101n);
 * assert.notDeepEqual(a.header, b.header); // different merkle roots
 * const n = buildThreadWork(job, { ...common, thread: 1, split: "nonce" });
 * assert.deepEqual([n.extranonce, n.nonceStart, n.nonceEnd], [100n, 2 ** 31, 2 ** 32]);
 * ```
 *
 * @param job The notify job.
 * @param options Generation, connection, thread and target.
 * @returns The thread's work.
 * @throws {RangeError} When the job's fields cannot form a header (e.g. height ≥ 2^31) or
 * the thread index is out of range.
 */
export function buildThreadWork(job: NotifyJob, options: BuildThreadWorkOptions): ThreadWork {
  const { generation, sessionId, thread, threads, split = "extranonce", target } = options;
  if (!Number.isInteger(threads) || threads < 1 || !(thread >= 0 && thread < threads)) {
    throw new RangeError(`Cannot build work: thread ${thread} is not in 0..${threads - 1}`);
  }
  if (target < 0n || target > MAX_TARGET) {
    throw new RangeError("Cannot build work: target is not in 0..2^192-1");
  }
  const extranonce = split === "extranonce"
    ? threadExtranonce(options.extranonce, thread)
    : threadExtranonce(options.extranonce, 0);
  let nonceStart = 0;
  let nonceEnd = UINT32_SPAN;
  if (split === "nonce") {
    const span = Math.floor(UINT32_SPAN / threads);
    nonceStart = thread * span;
    nonceEnd = thread === threads - 1 ? UINT32_SPAN : nonceStart + span;
  }
  const root = headerMerkleRoot(job, extranonce);
  const header = encodeHeader({
    height: job.height,
    version: job.version,
    previousHash: job.previousHash,
    previousKeystone: job.previousKeystone,
    secondKeystone: job.secondKeystone,
    merkleRoot: merkle16(root),
    timestamp: job.timestamp,
    bits: job.bits,
    nonce: 0,
  });
  // The key is the header without its time (which the worker rolls itself): a new job id
  // for the same header (pools resend the job after set_difficulty) continues the search.
  const timeless = header.slice();
  timeless.fill(0, 52, 56);
  return {
    generation,
    key: `${sessionId}/${bytesToHex(timeless)}/${nonceStart}`,
    jobId: job.jobId,
    header,
    extranonce,
    minTime: job.timestamp,
    nonceStart,
    nonceEnd,
    target: targetToBytes(target),
  };
}

/**
 * The `mining.submit` params of a share: `[worker, job_id, extranonce16, ntime8, nonce8]`,
 * lower-case hex, the extranonce as its unsigned 64-bit big-endian form.
 *
 * @example Usage
 * ```ts
 * import { submitParams } from "./work.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   submitParams("V.w", "3", { extranonce: 0x7c000000000f4240n, ntime: 0x5cfbb600, nonce: 0x430b }),
 *   ["V.w", "3", "7c000000000f4240", "5cfbb600", "0000430b"],
 * );
 * assert.equal(submitParams("w", "1", { extranonce: -1n, ntime: 0, nonce: 0 })[2], "ffffffffffffffff");
 * ```
 *
 * @param worker Worker name (`ADDRESS[.WORKER]`).
 * @param jobId The job id.
 * @param share Extranonce, time and nonce of the share.
 * @returns The five params.
 */
export function submitParams(
  worker: string,
  jobId: string,
  share: { extranonce: bigint; ntime: number; nonce: number },
): string[] {
  return [
    worker,
    jobId,
    BigInt.asUintN(64, share.extranonce).toString(16).padStart(16, "0"),
    (share.ntime >>> 0).toString(16).padStart(8, "0"),
    (share.nonce >>> 0).toString(16).padStart(8, "0"),
  ];
}

/**
 * The header of a found share: the template with its time and nonce filled in.
 *
 * @example Usage
 * ```ts
 * import { shareHeader } from "./work.ts";
 * import assert from "node:assert/strict";
 *
 * const header = shareHeader(new Uint8Array(64), 0x01020304, 0x0a0b0c0d);
 * assert.deepEqual([...header.subarray(52, 56)], [1, 2, 3, 4]);
 * assert.deepEqual([...header.subarray(60)], [10, 11, 12, 13]);
 * ```
 *
 * @param template A 64-byte header template.
 * @param ntime Header time.
 * @param nonce Nonce.
 * @returns A new 64-byte header.
 */
export function shareHeader(template: Uint8Array, ntime: number, nonce: number): Uint8Array {
  const header = template.slice();
  const view = new DataView(header.buffer);
  view.setUint32(52, ntime >>> 0);
  view.setUint32(60, nonce >>> 0);
  return header;
}

/**
 * Hex of a hash for logs (upper case, as block explorers show VeriBlock hashes).
 *
 * @example Usage
 * ```ts
 * import { hashHex } from "./work.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hashHex(new Uint8Array([0, 171])), "00AB");
 * ```
 *
 * @param hash Hash bytes.
 * @returns Upper-case hex.
 */
export function hashHex(hash: Uint8Array): string {
  return bytesToHex(hash, { upper: true });
}

/**
 * A fixed job with the mainnet header #5000's shape, for hash-rate benchmarks (`vbkpool bench`
 * and bench/): only the shape matters for the hash rate.
 */
export const BENCH_JOB: NotifyJob = {
  jobId: "bench",
  height: 5000,
  version: 2,
  previousHash: new Uint8Array(12).fill(0x11),
  previousKeystone: new Uint8Array(9).fill(0x22),
  secondKeystone: new Uint8Array(9).fill(0x33),
  popRoot: new Uint8Array(32).fill(0x44),
  normalRoot: new Uint8Array(32).fill(0x55),
  metapackageHash: new Uint8Array(32).fill(0x66),
  timestamp: 1_553_000_000,
  bits: 0x0600e8d4,
  cleanJobs: true,
};
