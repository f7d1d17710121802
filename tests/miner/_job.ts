/**
 * A sample notify job for miner tests.
 *
 * @module
 */
import type { NotifyJob } from "../../protocol/mod.ts";

/**
 * A job with fixed fields.
 *
 * @param over Fields to change.
 * @returns The job.
 */
export function sampleJob(over: Partial<NotifyJob> = {}): NotifyJob {
  return {
    jobId: "3",
    height: 5000,
    version: 2,
    previousHash: new Uint8Array(12).fill(0xaa),
    previousKeystone: new Uint8Array(9).fill(0xbb),
    secondKeystone: new Uint8Array(9).fill(0xcc),
    popRoot: new Uint8Array(32).fill(0x11),
    normalRoot: new Uint8Array(32).fill(0x22),
    metapackageHash: new Uint8Array(32).fill(0x33),
    timestamp: 1_560_000_000,
    bits: 0x0600e8d4,
    cleanJobs: true,
    ...over,
  };
}
