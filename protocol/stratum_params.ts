/**
 * Server side: parse the parameters of `mining.submit` and `mining.authorize`.
 *
 * @module
 */

import { hex16ToUint64, hex8ToUint32 } from "./_hex_int.ts";
import type { StratumErrorCode } from "./stratum_errors.ts";
import type { AuthorizeParams, SubmitParams } from "./stratum_types.ts";

/** Result of {@linkcode parseSubmitParams}. */
export type ParseSubmitResult =
  | { ok: true; submit: SubmitParams }
  | { ok: false; code: StratumErrorCode };

/** Result of {@linkcode parseAuthorizeParams}. */
export type ParseAuthorizeResult =
  | { ok: true; authorize: AuthorizeParams }
  | { ok: false; code: StratumErrorCode };

/**
 * Parse `mining.submit` params `[worker, jobId, extranonce16, ntime8, nonce8]`. Never throws.
 *
 * At least five params (extra ones are ignored), all strings, else `bad_params`. Hex is
 * accepted in either case; a wrong length gives the original server's size errors
 * (`bad_extranonce_size`, `bad_ntime_size`, `bad_nonce_size`, checked in that order) and a
 * non-hex digit gives `bad_hex`. The extranonce is read as an unsigned 64-bit value; whether
 * the connection owns it, whether the job exists and whether ntime is in range are the
 * caller's checks. Unlike the original server (stratum-veriblock.md §5.4), all format checks
 * come before the job lookup: a malformed submit cannot be a share, whatever its job.
 *
 * @example Usage
 * ```ts
 * import { parseSubmitParams } from "./stratum_params.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseSubmitParams(["w", "3", "7C000000000F4240", "5CFBB600", "0000430B"]), {
 *   ok: true,
 *   submit: {
 *     worker: "w",
 *     jobId: "3",
 *     extranonce: 0x7c000000000f4240n,
 *     ntime: 0x5cfbb600,
 *     nonce: 0x430b,
 *   },
 * });
 * assert.deepEqual(parseSubmitParams(["w", "3", "7c", "5cfbb600", "0000430b"]), {
 *   ok: false,
 *   code: "bad_extranonce_size",
 * });
 * ```
 *
 * @param params The request's params.
 * @returns The parsed submit, or the error reason.
 */
export function parseSubmitParams(params: readonly unknown[]): ParseSubmitResult {
  if (!Array.isArray(params) || params.length < 5) return { ok: false, code: "bad_params" };
  const worker = params[0];
  const jobId = params[1];
  const extranonceHex = params[2];
  const ntimeHex = params[3];
  const nonceHex = params[4];
  if (
    typeof worker !== "string" || typeof jobId !== "string" ||
    typeof extranonceHex !== "string" || typeof ntimeHex !== "string" ||
    typeof nonceHex !== "string"
  ) {
    return { ok: false, code: "bad_params" };
  }
  if (extranonceHex.length !== 16) return { ok: false, code: "bad_extranonce_size" };
  if (ntimeHex.length !== 8) return { ok: false, code: "bad_ntime_size" };
  if (nonceHex.length !== 8) return { ok: false, code: "bad_nonce_size" };
  const extranonce = hex16ToUint64(extranonceHex);
  const ntime = hex8ToUint32(ntimeHex);
  const nonce = hex8ToUint32(nonceHex);
  if (extranonce === undefined || ntime < 0 || nonce < 0) return { ok: false, code: "bad_hex" };
  return { ok: true, submit: { worker, jobId, extranonce, ntime, nonce } };
}

/**
 * Parse `mining.authorize` params `[worker, password?]`. Never throws.
 *
 * The worker must be a string (its validity as an address is the caller's check). The
 * password may be absent or null (both mean ""); any other non-string is `bad_params`.
 *
 * @example Usage
 * ```ts
 * import { parseAuthorizeParams } from "./stratum_params.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseAuthorizeParams(["VxxxUser"]), {
 *   ok: true,
 *   authorize: { worker: "VxxxUser", password: "" },
 * });
 * assert.deepEqual(parseAuthorizeParams([42]), { ok: false, code: "bad_params" });
 * ```
 *
 * @param params The request's params.
 * @returns The worker and password, or the error reason.
 */
export function parseAuthorizeParams(params: readonly unknown[]): ParseAuthorizeResult {
  if (!Array.isArray(params)) return { ok: false, code: "bad_params" };
  const worker = params[0];
  const password = params[1] ?? "";
  if (typeof worker !== "string" || typeof password !== "string") {
    return { ok: false, code: "bad_params" };
  }
  return { ok: true, authorize: { worker, password } };
}
