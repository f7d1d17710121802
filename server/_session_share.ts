/**
 * Small pure helpers of the Stratum and UCP sessions: which rejections count towards a penalty,
 * the accepted-share record, the `d=N` password option, clamping, a mining connection's
 * deadline.
 *
 * @module
 */

import type { StratumErrorCode } from "../protocol/stratum_errors.ts";
import type { SessionLimits } from "./session_limits.ts";
import type { AcceptedShare } from "./share_recorder.ts";
import type { ShareAccepted } from "./shares.ts";

const PASSWORD_DIFF_RE = /(?:^|[\s,;])d=(\d{1,58})(?:$|[\s,;])/;

/** Rejections that do not count against a connection's invalid-share ratio (both session kinds). */
export const NOT_COUNTED: ReadonlySet<StratumErrorCode> = new Set(["stale_job", "rate_limited"]);

/** Where a share came from. */
export interface ShareOrigin {
  /** Validation time, ms since epoch. */
  at: number;
  /** Connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** Local port. */
  port: number;
  /** Whether the port is a SOLO port. */
  solo: boolean;
}

/**
 * The record of an accepted share.
 *
 * @param verdict The validator's verdict.
 * @param origin Time and connection.
 * @returns The share as recorded and reported.
 */
export function acceptedShare(verdict: ShareAccepted, origin: ShareOrigin): AcceptedShare {
  const worker = verdict.worker;
  const dot = worker.indexOf(".");
  const job = verdict.job;
  return {
    ...origin,
    worker,
    address: dot < 0 ? worker : worker.slice(0, dot),
    workerName: dot < 0 ? "" : worker.slice(dot + 1),
    jobId: verdict.jobId,
    upstreamJobId: job.template.upstreamJobId,
    height: job.template.height,
    extranonce: verdict.submit.extranonce,
    ntime: verdict.submit.ntime,
    nonce: verdict.submit.nonce,
    hash: verdict.hashHex,
    difficulty: verdict.difficulty,
    achievedDifficulty: verdict.achievedDifficulty,
    networkDifficulty: job.networkDifficulty,
    block: verdict.block,
  };
}

/**
 * The fixed difficulty a `mining.authorize` password asks for: `d=N` as the whole password or
 * one of its comma-, semicolon- or space-separated words.
 *
 * @param password The password.
 * @returns N (≥ 1), or undefined when absent or zero.
 */
export function passwordDifficulty(password: string): bigint | undefined {
  const m = PASSWORD_DIFF_RE.exec(password);
  if (m === null) return undefined;
  const value = BigInt(m[1]!);
  return value >= 1n ? value : undefined;
}

/**
 * Clamp a difficulty into [min, max].
 *
 * @param value The difficulty.
 * @param min Lower bound.
 * @param max Upper bound.
 * @returns The clamped value.
 */
export function clamp(value: bigint, min: bigint, max: bigint): bigint {
  return value < min ? min : value > max ? max : value;
}

/**
 * How long a subscribed, authorized connection may send nothing (no share, no request) before
 * it is closed, and the close reason. With vardiff: `silentShareTimes` target share times, at
 * least `silentMinMs` (vardiff lowers a slow miner after ~11, and each lower difficulty gives it
 * a new period); without vardiff, or when that is longer, the idle timeout.
 *
 * @example Usage
 * ```ts
 * import { quietDeadline } from "./_session_share.ts";
 * import { DEFAULT_SESSION_LIMITS } from "./session_limits.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(quietDeadline(DEFAULT_SESSION_LIMITS, { vardiff: true, targetShareSeconds: 10 }), {
 *   ms: 180_000,
 *   reason: "silent: no share or request for 180 s",
 * });
 * assert.deepEqual(quietDeadline(DEFAULT_SESSION_LIMITS, { vardiff: false, targetShareSeconds: 10 }), {
 *   ms: 600_000,
 *   reason: "idle timeout",
 * });
 * ```
 *
 * @param limits The session limits.
 * @param options Whether vardiff runs for the connection, and its target share time.
 * @returns The deadline in ms and its close reason.
 */
export function quietDeadline(
  limits: Pick<SessionLimits, "idleTimeoutMs" | "silentShareTimes" | "silentMinMs">,
  options: { vardiff: boolean; targetShareSeconds: number },
): { ms: number; reason: string } {
  const silent = options.vardiff && limits.silentShareTimes > 0
    ? Math.max(limits.silentMinMs, limits.silentShareTimes * options.targetShareSeconds * 1000)
    : Infinity;
  if (silent >= limits.idleTimeoutMs) return { ms: limits.idleTimeoutMs, reason: "idle timeout" };
  return {
    ms: silent,
    reason: `silent: no share or request for ${Math.round(silent / 100) / 10} s`,
  };
}
