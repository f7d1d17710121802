/**
 * Server side: parse one Stratum line from a miner into a request.
 *
 * @module
 */

import type { StratumErrorCode } from "./stratum_errors.ts";
import type { StratumId, StratumRequest } from "./stratum_types.ts";

/** Result of {@linkcode parseStratumRequest}. */
export type ParseStratumRequestResult =
  | { ok: true; request: StratumRequest }
  | {
    ok: false;
    /** The id to answer with (null when unknown or unusable). */
    id: StratumId;
    /** Why the line is refused. */
    code: StratumErrorCode;
    /**
     * True when the line was not a JSON object at all (the original server dropped the
     * connection); the caller counts it as an offence and may close.
     */
    fatal: boolean;
  };

/**
 * Parse a miner's line. Never throws.
 *
 * - Not JSON, or JSON that is not an object: `malformed_request`, `fatal: true`, id null.
 * - `id` must be a string, a safe-integer-valued finite number, or null/absent (a
 *   notification, id null). Anything else (object, array, boolean, a number that cannot be
 *   echoed exactly) gives `invalid_request` with id null.
 * - An object with `result` or `error` and no `method` is a response, not a request:
 *   `invalid_request`. A missing or non-string `method` is `invalid_request` too.
 * - `params` absent or null means []; any other non-array is `bad_params`.
 *
 * Method names are not checked here: the session dispatches and answers `unknown_method`.
 *
 * @example Usage
 * ```ts
 * import { parseStratumRequest } from "./stratum_request.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseStratumRequest('{"method":"mining.subscribe","params":[],"id":"1"}'), {
 *   ok: true,
 *   request: { id: "1", method: "mining.subscribe", params: [] },
 * });
 * assert.deepEqual(parseStratumRequest("{oops"), {
 *   ok: false,
 *   id: null,
 *   code: "malformed_request",
 *   fatal: true,
 * });
 * ```
 *
 * @param line One line of text, without "\n".
 * @returns The request, or the id to answer and the error reason.
 */
export function parseStratumRequest(line: string): ParseStratumRequestResult {
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return { ok: false, id: null, code: "malformed_request", fatal: true };
  }
  if (typeof root !== "object" || root === null || Array.isArray(root)) {
    return { ok: false, id: null, code: "malformed_request", fatal: true };
  }
  const obj = root as Record<string, unknown>;
  const rawId = Object.hasOwn(obj, "id") ? obj.id : null;
  let id: StratumId;
  if (rawId === null || typeof rawId === "string") {
    id = rawId;
  } else if (typeof rawId === "number" && isEchoableNumber(rawId)) {
    id = rawId;
  } else {
    return { ok: false, id: null, code: "invalid_request", fatal: false };
  }
  const method = Object.hasOwn(obj, "method") ? obj.method : undefined;
  if (typeof method !== "string") {
    return { ok: false, id, code: "invalid_request", fatal: false };
  }
  const rawParams = Object.hasOwn(obj, "params") ? obj.params : undefined;
  let params: unknown[];
  if (Array.isArray(rawParams)) {
    params = rawParams;
  } else if (rawParams === undefined || rawParams === null) {
    params = [];
  } else {
    return { ok: false, id, code: "bad_params", fatal: false };
  }
  return { ok: true, request: { id, method, params } };
}

/** A number whose JSON text round-trips: finite, and exact when it is an integer. */
function isEchoableNumber(n: number): boolean {
  return Number.isFinite(n) && (Number.isSafeInteger(n) || !Number.isInteger(n));
}
