/**
 * A sample notify job for miner tests, and one thread's work on it.
 *
 * @module
 */
import type { NotifyJob } from "../../protocol/mod.ts";
import { buildThreadWork, type ThreadWork } from "../../miner/work.ts";

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

/**
 * The work of thread 0 of 1 on {@linkcode sampleJob} (session 1, extranonce 5).
 *
 * @param generation Work generation.
 * @param over Fields to change.
 * @param target Scan target (0: nothing is found).
 * @returns The work.
 */
export function sampleWork(
  generation: number,
  over: Partial<ThreadWork> = {},
  target = 0n,
): ThreadWork {
  return {
    ...buildThreadWork(sampleJob(), {
      generation,
      sessionId: 1,
      extranonce: 5n,
      thread: 0,
      threads: 1,
      target,
    }),
    ...over,
  };
}
