/**
 * The synthetic job the miner benchmarks mine on (mainnet header #5000's shape; only the
 * shape matters for the hash rate).
 *
 * @module
 */
import type { NotifyJob } from "../protocol/mod.ts";

/** A fixed notify job for benchmarks. */
export const BENCH_JOB: NotifyJob = {
  jobId: "bench",
  height: 5000,
  version: 2,
  previousHash: new Uint8Array(12).fill(1),
  previousKeystone: new Uint8Array(9).fill(2),
  secondKeystone: new Uint8Array(9).fill(3),
  popRoot: new Uint8Array(32).fill(4),
  normalRoot: new Uint8Array(32).fill(5),
  metapackageHash: new Uint8Array(32).fill(6),
  timestamp: 1_553_000_000,
  bits: 0x0600e8d4,
  cleanJobs: true,
};
