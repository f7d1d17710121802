/**
 * The one share-admission path of every port (Stratum and UCP): a submit in, a verdict out,
 * with every rule that concerns credit and blocks written once:
 *
 * - the share is validated (`validateShare`), also when the connection is over a limit (too
 *   many pending submits, a request flood): a block candidate is then still accepted, recorded
 *   and submitted, and every other submit is answered with the limit (`rate_limited`, which
 *   does not count towards a ban), so a block is never refused before it is hashed;
 * - the credited difficulty never exceeds the job's network difficulty (see shares.ts);
 * - a block candidate goes upstream at once (after its candidate row is written, see
 *   `Pool`), without waiting for the share's own record;
 * - every submit counts towards the connection's own invalid-share ratio (except stale and
 *   rate-limited refusals); a connection that crosses it is reported as an offence (the pool
 *   closes it, and several such connections ban their IP, see bans.ts);
 * - refusals are reported as `share_rejected`; accepted shares are reported once durable.
 *
 * What stays in the sessions is their protocol: how a verdict is answered, vardiff (Stratum),
 * reply order and counts.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import type { StratumErrorCode } from "../protocol/stratum_errors.ts";
import type { ShareCounts } from "./bans.ts";
import type { ExtranonceRange } from "./extranonce.ts";
import { acceptedShare, NOT_COUNTED } from "./_session_share.ts";
import type { SessionContext } from "./session_context.ts";
import type { AcceptedShare } from "./share_recorder.ts";
import { type SentJobLookup, type ShareAccepted, validateShare } from "./shares.ts";

const log = getLogger(["vbkpool", "server", "shares"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** The pool parts admission uses (a session's context has them all). */
export type AdmissionContext = Pick<
  SessionContext,
  "limits" | "recorder" | "events" | "bans" | "hash" | "now" | "onBlock" | "onOffence"
>;

/** The submitting connection and what it has been given. */
export interface SubmitterFacts {
  /** Connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** Local port. */
  port: number;
  /** Whether the port is a SOLO port. */
  solo: boolean;
  /** Worker names authorized on the connection. */
  authorized: ReadonlySet<string>;
  /** The connection's extranonce range; undefined before subscribing. */
  extranonce: ExtranonceRange | undefined;
  /** Jobs sent to the connection, by the id the miner was given. */
  jobs: SentJobLookup;
  /** The connection's submit counts for its invalid-share ratio (see bans.ts). */
  shares: ShareCounts;
}

/** Options for {@linkcode admitShare}. */
export interface AdmitOptions {
  /** The pool's parts. */
  ctx: AdmissionContext;
  /** The connection. */
  from: SubmitterFacts;
  /** Current time, ms since epoch. */
  now: number;
  /** The connection is over a limit: only a block candidate is admitted. */
  limited?: StratumErrorCode;
}

/** A refused submit. */
export interface Refused {
  ok: false;
  /** Why (a row of the Stratum error table). */
  reason: StratumErrorCode;
  /** The submitted worker, when the params had one. */
  worker?: string;
  /** The submitted job id, when the params had one. */
  jobId?: string;
}

/** An admitted share: valid, submitted upstream when a block, being recorded. */
export interface Admitted {
  ok: true;
  /** The share as recorded. */
  share: AcceptedShare;
  /** The validator's verdict. */
  verdict: ShareAccepted;
  /** Resolves true once the share is durable, false when it could not be stored (never
   * rejects). The caller answers the miner after it, and tracks it for a clean stop. */
  recorded: Promise<boolean>;
}

/**
 * Admit one submit: validate, submit a block, record, report.
 *
 * @example Usage
 * ```ts
 * import { admitShare } from "./share_admission.ts";
 * import { BanList } from "./bans.ts";
 * import { PoolEvents } from "./events.ts";
 * import { DEFAULT_SESSION_LIMITS } from "./session_limits.ts";
 * import { MemoryShareRecorder } from "./share_recorder.ts";
 * import assert from "node:assert/strict";
 *
 * const ctx = {
 *   limits: DEFAULT_SESSION_LIMITS, recorder: new MemoryShareRecorder(), events: new PoolEvents(),
 *   bans: new BanList(), hash: () => new Uint8Array(24), now: () => 0,
 *   onBlock: () => {}, onOffence: () => {},
 * };
 * const from = {
 *   connectionId: 1, ip: "127.0.0.1", port: 3333, solo: false, authorized: new Set<string>(),
 *   extranonce: undefined, jobs: new Map(), shares: ctx.bans.shareCounts("127.0.0.1", 0),
 * };
 * const verdict = admitShare(["w", "1", "00", "00", "00"], { ctx, from, now: 0 });
 * assert.deepEqual(verdict, { ok: false, reason: "unauthorized", worker: "w", jobId: "1" });
 * ```
 *
 * @param params The submit's params (Stratum form: worker, job id, extranonce, ntime, nonce).
 * @param options The pool, the connection, the time and any limit in force.
 * @returns The verdict.
 */
export function admitShare(params: readonly unknown[], options: AdmitOptions): Refused | Admitted {
  const { ctx, from, now } = options;
  const verdict = validateShare(params, {
    authorized: from.authorized,
    extranonce: from.extranonce,
    jobs: from.jobs,
    hash: ctx.hash,
    now,
    ntimeFutureSeconds: ctx.limits.ntimeFutureSeconds,
    maxSharesPerJob: ctx.limits.maxSharesPerJob,
    ...(options.limited === undefined ? {} : { limited: options.limited }),
  });
  if (!verdict.ok) {
    // Over a limit, every submit that is not a block gets the limit's answer.
    const answer = options.limited === undefined
      ? verdict
      : { ...verdict, reason: options.limited };
    refused(ctx, from, answer, now);
    return answer;
  }
  const share = acceptedShare(verdict, {
    at: now,
    connectionId: from.connectionId,
    ip: from.ip,
    port: from.port,
    solo: from.solo,
  });
  // The share is queued for its record first, so a block's round (effort) includes it.
  const recording = ctx.recorder.record(share);
  if (share.block) ctx.onBlock(share, verdict.job);
  if (ctx.bans.countShare(from.shares, true, now)) offended(ctx, from, share.worker);
  const recorded = recording.then(() => {
    if (ctx.events.active) ctx.events.emit({ type: "share_accepted", at: share.at, share });
    return true;
  }, (err) => {
    episodes.warn("record", "cannot record a share of {worker}: {error}", () => ({
      worker: share.worker,
      error: String(err),
    }));
    refused(ctx, from, { reason: "internal", worker: share.worker, jobId: share.jobId }, ctx.now());
    return false;
  });
  return { ok: true, share, verdict, recorded };
}

/** Report a connection that crossed its invalid-share ratio. */
function offended(ctx: AdmissionContext, from: SubmitterFacts, worker?: string): void {
  ctx.onOffence({ connectionId: from.connectionId, ip: from.ip, worker, kind: "invalid_shares" });
}

/** Report a refusal and count it towards the connection's invalid-share ratio. */
function refused(
  ctx: AdmissionContext,
  from: SubmitterFacts,
  verdict: Omit<Refused, "ok">,
  now: number,
): void {
  if (ctx.events.active) {
    const { worker, jobId } = verdict;
    ctx.events.emit({
      type: "share_rejected",
      at: now,
      connectionId: from.connectionId,
      ip: from.ip,
      ...(worker === undefined ? {} : { worker: worker.slice(0, 128) }),
      ...(jobId === undefined ? {} : { jobId: jobId.slice(0, 64) }),
      reason: verdict.reason,
    });
  }
  if (
    verdict.reason !== "internal" && !NOT_COUNTED.has(verdict.reason) &&
    ctx.bans.countShare(from.shares, false, now)
  ) {
    offended(ctx, from, verdict.worker?.slice(0, 128));
  }
}
