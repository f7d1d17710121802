/**
 * Test data: the stratum_share vector of tests/fixtures/vectors.json as a NotifyJob.
 *
 * @module
 */

import type { NotifyJob } from "../../protocol/stratum_types.ts";

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors.json", import.meta.url)),
);

/** The vector's job, submit and extranonce. */
export const SHARE = vectors.stratum_share as {
  notify: unknown[];
  submit: string[];
  extranonce: string;
};

/** The vector's notify params. */
export const NOTIFY: unknown[] = SHARE.notify;

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** The vector's job as a NotifyJob. */
export function vectorJob(): NotifyJob {
  const [m0, m1, m2] = NOTIFY[6] as string[];
  return {
    jobId: NOTIFY[0] as string,
    height: parseInt(NOTIFY[1] as string, 16),
    version: parseInt(NOTIFY[2] as string, 16),
    previousHash: hexBytes(NOTIFY[3] as string),
    previousKeystone: hexBytes(NOTIFY[4] as string),
    secondKeystone: hexBytes(NOTIFY[5] as string),
    popRoot: hexBytes(m0!),
    normalRoot: hexBytes(m1!),
    metapackageHash: hexBytes(m2!),
    timestamp: parseInt(NOTIFY[7] as string, 16),
    bits: parseInt(NOTIFY[8] as string, 16),
    cleanJobs: NOTIFY[9] as boolean,
  };
}
