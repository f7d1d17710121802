/**
 * Share validation: one `mining.submit` and the facts of its connection in, a verdict out. No
 * I/O, no clock, no metrics; the only side effect is that an accepted share's key enters its
 * job's duplicate set (in the same synchronous step as the duplicate check, so two submits can
 * never both pass).
 *
 * Checks, in order (the first failure is the verdict):
 * 1. a worker is authorized on the connection (`unauthorized`);
 * 2. the connection is subscribed (`not_subscribed`);
 * 3. parameter count, types and hex lengths (`bad_params`, `bad_*_size`, `bad_hex`);
 * 4. the submitted worker is one authorized on this connection (`unauthorized`);
 * 5. the job was sent to this connection and is still live (`stale_job`);
 * 6. ntime in [job time, now + future limit] (`ntime_out_of_range`);
 * 7. the extranonce lies in the connection's range (`extranonce_not_owned`);
 * 8. not a duplicate of a share on the same work, under any job id (`duplicate_share`), and not
 *    at or below the ntime floor its own connection left on work whose keys were forgotten
 *    (`stale_job`);
 * 9. the header is rebuilt from the job and hashed with vBlake;
 * 10. the BLOCK check first: a hash below the network target is a block candidate even when it
 *     misses the share target;
 * 11. the share target of the difficulty that applied when the job was sent (`low_difficulty`);
 * 12. when the connection is over a limit (`limited`), only a block candidate is accepted: any
 *     other share is refused with the limit's reason and its key is not kept.
 *
 * Credit: a share counts at the difficulty its job was sent with, but never above the job's
 * network difficulty. A hash between the share and network targets is a block and counts at the
 * network difficulty, so a miner whose share difficulty is set above the network's (by `d=N`, a
 * UCP port, a stale vardiff state) earns exactly one network difficulty per block, never more:
 * crediting the share difficulty for hashes that only just made the block would pay such a miner
 * about 2 − N/d times its work.
 *
 * A hash meets a target when it is strictly below it (as NodeCore and the reference miner do).
 *
 * @module
 */

import { hashToBigInt, MAX_TARGET } from "../hash/difficulty.ts";
import { bytesToHex } from "../hash/hex.ts";
import type { StratumErrorCode } from "../protocol/stratum_errors.ts";
import { parseSubmitParams } from "../protocol/stratum_params.ts";
import type { SubmitParams } from "../protocol/stratum_types.ts";
import { type ExtranonceRange, ownsExtranonce } from "./extranonce.ts";
import { buildShareHeader, extranonceWork, type Job } from "./jobs.ts";

/** The header of the share being checked: only used until it is hashed (no await between). */
const HEADER_SCRATCH = new Uint8Array(64);

/** A job as one connection received it: the difficulty in force when it was sent. */
export interface SentJob {
  /** The job. */
  job: Job;
  /** Share difficulty for this job on this connection. */
  difficulty: bigint;
  /** floor((2^192 − 1) / difficulty). */
  target: bigint;
}

/** The jobs sent to a connection, looked up by the id the miner was given (a `Map` fits). */
export interface SentJobLookup {
  /**
   * The job sent under an id.
   *
   * @param id The job id the miner was given.
   * @returns The job and the difficulty it was sent with, or undefined.
   */
  get(id: string): SentJob | undefined;
}

/** What the validator needs to know about the connection and the moment. */
export interface ShareFacts {
  /** Worker names authorized on the connection. */
  authorized: ReadonlySet<string>;
  /** The connection's extranonce range; undefined before `mining.subscribe`. */
  extranonce: ExtranonceRange | undefined;
  /** Jobs sent to the connection, by the id the miner was given. */
  jobs: SentJobLookup;
  /** vBlake of a 64-byte header (a kernel's `hash`); must not keep `header` (it is reused). */
  hash: (header: Uint8Array) => Uint8Array;
  /** Current time, ms since epoch. */
  now: number;
  /** How far ntime may be ahead of now, in seconds. @default 300 */
  ntimeFutureSeconds?: number;
  /** Most accepted share keys held per work for duplicate checks; beyond it they are forgotten
   * and each connection's shares at or below the highest ntime it had accepted are refused as
   * stale. @default 262144 */
  maxSharesPerJob?: number;
  /**
   * The connection is over a limit (pending submits, request rate): a block candidate is still
   * accepted (a block is never refused unhashed), any other share is refused with this reason.
   */
  limited?: StratumErrorCode;
}

/** A refused submit. */
export interface ShareRejected {
  ok: false;
  /** Why (a row of the Stratum error table). */
  reason: StratumErrorCode;
  /** The submitted worker name, when the params had one. */
  worker?: string;
  /** The submitted job id, when the params had one. */
  jobId?: string;
}

/** An accepted share (maybe a block). */
export interface ShareAccepted {
  ok: true;
  /** The submitted (authorized) worker name. */
  worker: string;
  /** The job id as submitted. */
  jobId: string;
  /** The job. */
  job: Job;
  /** The parsed params. */
  submit: SubmitParams;
  /** The vBlake hash, 24 bytes. */
  hash: Uint8Array;
  /** The hash as 48 lower-case hex chars. */
  hashHex: string;
  /** Difficulty the hash achieves. */
  achievedDifficulty: bigint;
  /** Difficulty credited: the job's share difficulty, capped at the job's network difficulty
   * (which is also what a block that misses the share target counts). */
  difficulty: bigint;
  /** Whether the hash is below the network target. */
  block: boolean;
}

/** The result of {@linkcode validateShare}. */
export type ShareVerdict = ShareRejected | ShareAccepted;

/**
 * Validate one `mining.submit`.
 *
 * @example Usage
 * ```ts
 * import { validateShare } from "./shares.ts";
 * import { JobManager } from "./jobs.ts";
 * import { vblake } from "../hash/vblake.ts";
 * import { difficultyToTarget } from "../hash/difficulty.ts";
 * import { hexToBytes } from "../hash/hex.ts";
 * import assert from "node:assert/strict";
 *
 * const job = new JobManager().add({ // the stratum_share test vector
 *   upstreamJobId: 1, kind: "job", height: 1000000, version: 2,
 *   previousBlockHash: hexToBytes("000000000000000000000000aabbccddeeff001122334455"),
 *   previousKeystoneHash: hexToBytes("000000000000000000000000000000112233445566778899"),
 *   secondKeystoneHash: hexToBytes("0000000000000000000000000000009988776655443322ff"),
 *   popRoot: new Uint8Array(32).fill(0x11),
 *   normalRoot: new Uint8Array(32).fill(0x22), metapackageHash: new Uint8Array(32).fill(0x33),
 *   timestamp: 0x5cfbb600, bits: 0x0600e8d4, poolAddress: "", extraNonceStart: 0n,
 *   extraNonceEnd: 0n, endpoint: "", receivedAt: 0,
 * });
 * const facts = {
 *   authorized: new Set(["w"]),
 *   extranonce: { start: 0x7c000000000f4240n, end: 0x7c000000001e8480n },
 *   jobs: new Map([[job.id, { job, difficulty: 65536n, target: difficultyToTarget(65536n) }]]),
 *   hash: vblake,
 *   now: 1560000000_000,
 * };
 * const verdict = validateShare(["w", job.id, "7c000000000f4240", "5cfbb600", "0000430b"], facts);
 * assert.ok(verdict.ok);
 * assert.equal(verdict.hashHex, "00004f453795e32412c5568ee17f7d4778db10d4ec2f8964");
 * const again = validateShare(["w", job.id, "7c000000000f4240", "5cfbb600", "0000430b"], facts);
 * assert.deepEqual(again, { ok: false, reason: "duplicate_share", worker: "w", jobId: job.id });
 * ```
 *
 * @param params The request's params.
 * @param facts The connection's state, the hash function and the time.
 * @returns The verdict.
 */
export function validateShare(params: readonly unknown[], facts: ShareFacts): ShareVerdict {
  if (facts.authorized.size === 0) return reject("unauthorized", params);
  const range = facts.extranonce;
  if (range === undefined) return reject("not_subscribed", params);
  const parsed = parseSubmitParams(params);
  if (!parsed.ok) return reject(parsed.code, params);
  const submit = parsed.submit;
  const { worker, jobId } = submit;
  if (!facts.authorized.has(worker)) return { ok: false, reason: "unauthorized", worker, jobId };
  const sent = facts.jobs.get(jobId);
  if (sent === undefined || sent.job.stale) {
    return { ok: false, reason: "stale_job", worker, jobId };
  }
  const job = sent.job;
  const future = facts.ntimeFutureSeconds ?? 300;
  if (submit.ntime < job.template.timestamp || submit.ntime > facts.now / 1000 + future) {
    return { ok: false, reason: "ntime_out_of_range", worker, jobId };
  }
  if (!ownsExtranonce(range, submit.extranonce)) {
    return { ok: false, reason: "extranonce_not_owned", worker, jobId };
  }
  const key = `${extranonceWork(job, submit.extranonce).key}:${submit.ntime}:${submit.nonce}`;
  const seen = job.seen.check(key, submit.ntime, {
    owner: range.start,
    cap: facts.maxSharesPerJob ?? 262144,
  });
  if (seen !== "new") return { ok: false, reason: seen, worker, jobId };
  const header = buildShareHeader(job, submit.extranonce, {
    ntime: submit.ntime,
    nonce: submit.nonce,
    into: HEADER_SCRATCH,
  });
  const hash = facts.hash(header);
  const value = hashToBigInt(hash);
  const block = value < job.networkTarget;
  const meetsShare = value < sent.target;
  if (!block && !meetsShare) return { ok: false, reason: "low_difficulty", worker, jobId };
  if (!block && facts.limited !== undefined) {
    return { ok: false, reason: facts.limited, worker, jobId };
  }
  job.seen.add(key, submit.ntime, range.start);
  const network = job.networkDifficulty;
  return {
    ok: true,
    worker,
    jobId,
    job,
    submit,
    hash,
    hashHex: bytesToHex(hash),
    achievedDifficulty: value === 0n ? MAX_TARGET : MAX_TARGET / value,
    difficulty: meetsShare && sent.difficulty < network ? sent.difficulty : network,
    block,
  };
}

function reject(reason: StratumErrorCode, params: readonly unknown[]): ShareRejected {
  const verdict: ShareRejected = { ok: false, reason };
  if (Array.isArray(params)) {
    if (typeof params[0] === "string") verdict.worker = params[0];
    if (typeof params[1] === "string") verdict.jobId = params[1];
  }
  return verdict;
}
