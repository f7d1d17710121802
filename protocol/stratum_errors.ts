/**
 * The one table of Stratum error replies: every reason the pool can refuse a request for, with
 * its wire code and fixed message. Exception text never reaches a client; only these rows do.
 *
 * Codes: the original server's texts keep their -2 (bad parameters, already subscribed) and
 * -3 (unknown method); share verdicts and session states use the common Stratum codes 20–25
 * (20, "other", also for the pool's own conditions: internal error, rate limit, no work).
 *
 * @module
 */

/** Why a request is refused; keys of {@linkcode STRATUM_ERRORS}. */
export type StratumErrorCode =
  | "malformed_request"
  | "invalid_request"
  | "unknown_method"
  | "bad_params"
  | "bad_hex"
  | "bad_extranonce_size"
  | "bad_ntime_size"
  | "bad_nonce_size"
  | "ntime_out_of_range"
  | "extranonce_not_owned"
  | "already_subscribed"
  | "internal"
  | "stale_job"
  | "duplicate_share"
  | "low_difficulty"
  | "unauthorized"
  | "not_subscribed"
  | "invalid_address"
  | "banned"
  | "rate_limited"
  | "no_work";

/** One row of the error table. */
export interface StratumErrorRow {
  /** Wire code (first element of the `error` array). */
  readonly code: number;
  /** Fixed message (second element), used when no detail applies. */
  readonly message: string;
}

/**
 * Wire code and message per reason. `stale_job` and `unknown_method` get a more specific
 * message from {@linkcode stratumError} when given a detail.
 *
 * @example Usage
 * ```ts
 * import { STRATUM_ERRORS } from "./stratum_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(STRATUM_ERRORS.duplicate_share, { code: 22, message: "Duplicate share" });
 * ```
 */
export const STRATUM_ERRORS: Readonly<Record<StratumErrorCode, StratumErrorRow>> = {
  // The request itself.
  malformed_request: { code: 20, message: "Malformed request" },
  invalid_request: { code: 20, message: "Invalid request" },
  unknown_method: { code: -3, message: "Method not found" },
  // Parameters (the original server's SubmitException texts, code -2).
  bad_params: { code: -2, message: "Invalid parameters" },
  bad_hex: { code: -2, message: "Non-hexadecimal digit found" },
  bad_extranonce_size: { code: -2, message: "Incorrect size of extranonce. Expected 16 chars" },
  bad_ntime_size: { code: -2, message: "Incorrect size of ntime. Expected 8 chars" },
  bad_nonce_size: { code: -2, message: "Incorrect size of nonce. Expected 8 chars" },
  ntime_out_of_range: { code: -2, message: "Ntime out of range" },
  extranonce_not_owned: { code: -2, message: "Extranonce is not owned by this connection" },
  already_subscribed: {
    code: -2,
    message: "This connection is already subscribed for such event.",
  },
  // Share verdicts and session state.
  internal: { code: 20, message: "Internal error" },
  stale_job: { code: 21, message: "Job not found" },
  duplicate_share: { code: 22, message: "Duplicate share" },
  low_difficulty: { code: 23, message: "Share is above target" },
  unauthorized: { code: 24, message: "Worker is not authorized" },
  not_subscribed: { code: 25, message: "Connection is not subscribed for mining" },
  invalid_address: { code: 24, message: "Worker name is not a valid VeriBlock address" },
  banned: { code: 24, message: "Banned" },
  rate_limited: { code: 20, message: "Too many requests" },
  // The pool itself has nothing to mine (its node is unreachable): a subscribe is refused so
  // that the miner fails over at once.
  no_work: { code: 20, message: "No work available: the pool has no job from its node" },
};

const MAX_DETAIL = 64;

/**
 * The `[code, message]` pair for a reason.
 *
 * With a detail, `stale_job` reads "Job '<id>' not found" and `unknown_method` reads
 * "Method '<m>' not found for service '<s>'" (split at the last dot, as the original server
 * did; a name without a dot gets the original's "Method name parsing failed" text). The
 * detail is clipped to 64 chars and anything outside printable ASCII becomes "?". Other
 * reasons ignore the detail.
 *
 * @example Usage
 * ```ts
 * import { stratumError } from "./stratum_errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(stratumError("stale_job", "3"), [21, "Job '3' not found"]);
 * assert.deepEqual(stratumError("unknown_method", "mining.extranonce.subscribe"), [
 *   -3,
 *   "Method 'subscribe' not found for service 'mining.extranonce'",
 * ]);
 * assert.deepEqual(stratumError("low_difficulty"), [23, "Share is above target"]);
 * ```
 *
 * @param reason The reason.
 * @param detail The job id or method name, for the two reasons that quote one.
 * @returns The wire code and message.
 */
export function stratumError(reason: StratumErrorCode, detail?: string): [number, string] {
  const row = STRATUM_ERRORS[reason];
  if (detail !== undefined) {
    if (reason === "stale_job") return [row.code, `Job '${safeText(detail)}' not found`];
    if (reason === "unknown_method") return [row.code, methodNotFound(safeText(detail))];
  }
  return [row.code, row.message];
}

function methodNotFound(name: string): string {
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || dot === name.length - 1) {
    return "Method name parsing failed. You *must* use format <service name>.<method name>, " +
      "e.g. 'example.ping'";
  }
  return `Method '${name.slice(dot + 1)}' not found for service '${name.slice(0, dot)}'`;
}

/** Printable ASCII only, at most 64 chars (then "..."). */
function safeText(text: string): string {
  const clipped = text.length > MAX_DETAIL ? text.slice(0, MAX_DETAIL) : text;
  let out = "";
  for (let i = 0; i < clipped.length; i++) {
    const c = clipped.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f ? clipped[i] : "?";
  }
  return text.length > MAX_DETAIL ? out + "..." : out;
}
