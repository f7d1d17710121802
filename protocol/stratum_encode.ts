/**
 * Encoders for Stratum lines (compact JSON, without the trailing newline): the server's
 * results, errors and notifications, and the client's requests.
 *
 * @module
 */

import { bytesToHex } from "../hash/hex.ts";
import { uintToHex } from "./_hex_int.ts";
import { MAX_STRATUM_DIFFICULTY } from "./stratum_difficulty.ts";
import { STRATUM_ERRORS, stratumError, type StratumErrorCode } from "./stratum_errors.ts";
import {
  type NotifyJob,
  STRATUM_EXTRANONCE_SIZE,
  STRATUM_SUBSCRIPTION_KEY,
  type StratumId,
  type StratumRequest,
} from "./stratum_types.ts";

const UINT64_MAX = (1n << 64n) - 1n;

/** `,"result":null,"error":[code,"message",null]}` per reason, for errors without detail. */
const ERROR_TAILS = new Map<StratumErrorCode, string>(
  (Object.keys(STRATUM_ERRORS) as StratumErrorCode[]).map((reason) => [
    reason,
    errorTail(stratumError(reason)),
  ]),
);

function errorTail([code, message]: [number, string]): string {
  return `,"result":null,"error":[${code},${JSON.stringify(message)},null]}`;
}

/** Encode an id; throws on what cannot be echoed. */
function idJson(id: StratumId): string {
  if (id === null) return "null";
  if (typeof id === "string") return JSON.stringify(id);
  if (typeof id === "number" && Number.isFinite(id)) return String(id);
  throw new TypeError(`Cannot encode Stratum id: must be a string, a finite number or null`);
}

/**
 * Encode a successful response `{"id":…,"result":…,"error":null}`.
 *
 * @example Usage
 * ```ts
 * import { encodeResult } from "./stratum_encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeResult("3", true), '{"id":"3","result":true,"error":null}');
 * ```
 *
 * @param id The request's id, echoed.
 * @param result Any JSON-serialisable value (no bigint).
 * @returns One line of JSON without "\n".
 * @throws {TypeError} When the id or the result cannot be encoded.
 */
export function encodeResult(id: StratumId, result: unknown): string {
  const body = result === true ? "true" : JSON.stringify(result);
  if (body === undefined) throw new TypeError(`Cannot encode Stratum result: not JSON`);
  return `{"id":${idJson(id)},"result":${body},"error":null}`;
}

/** Options for {@linkcode encodeError}. */
export interface EncodeErrorOptions {
  /** Job id for `stale_job`, method name for `unknown_method` (see `stratumError`). */
  detail?: string;
}

/**
 * Encode an error response `{"id":…,"result":null,"error":[code,"message",null]}` from the
 * error table.
 *
 * @example Usage
 * ```ts
 * import { encodeError } from "./stratum_encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   encodeError(7, "duplicate_share"),
 *   '{"id":7,"result":null,"error":[22,"Duplicate share",null]}',
 * );
 * assert.equal(
 *   encodeError("4", "stale_job", { detail: "9" }),
 *   `{"id":"4","result":null,"error":[21,"Job '9' not found",null]}`,
 * );
 * ```
 *
 * @param id The request's id, echoed.
 * @param reason Why the request is refused.
 * @param options Detail for the reasons that quote one.
 * @returns One line of JSON without "\n".
 * @throws {TypeError} When the id cannot be encoded or the reason is unknown.
 */
export function encodeError(
  id: StratumId,
  reason: StratumErrorCode,
  options?: EncodeErrorOptions,
): string {
  const detail = options?.detail;
  const tail = detail === undefined
    ? ERROR_TAILS.get(reason)
    : Object.hasOwn(STRATUM_ERRORS, reason)
    ? errorTail(stratumError(reason, detail))
    : undefined;
  if (tail === undefined) {
    throw new TypeError(`Cannot encode Stratum error: unknown reason "${String(reason)}"`);
  }
  return `{"id":${idJson(id)}${tail}`;
}

/**
 * Encode the `mining.subscribe` result of VeriBlock's dialect: a single
 * `["mining.notify", key]` pair, the 8-byte extranonce as 16 lower-case hex chars, and 8.
 *
 * @example Usage
 * ```ts
 * import { encodeSubscribeResult } from "./stratum_encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   encodeSubscribeResult("1", 0x7c000000000f4240n),
 *   '{"id":"1","result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"],' +
 *     '"7c000000000f4240",8],"error":null}',
 * );
 * ```
 *
 * @param id The request's id, echoed.
 * @param extranonce The connection's extranonce base, 0..2^64-1.
 * @returns One line of JSON without "\n".
 * @throws {RangeError} When the extranonce is out of range.
 * @throws {TypeError} When the id cannot be encoded or the extranonce is not a bigint.
 */
export function encodeSubscribeResult(id: StratumId, extranonce: bigint): string {
  if (typeof extranonce !== "bigint") {
    throw new TypeError(`Cannot encode subscribe result: extranonce must be a bigint`);
  }
  if (extranonce < 0n || extranonce > UINT64_MAX) {
    throw new RangeError(`Cannot encode subscribe result: extranonce must be in 0..2^64-1`);
  }
  const hex = extranonce.toString(16).padStart(16, "0");
  return `{"id":${idJson(id)},"result":[["mining.notify","${STRATUM_SUBSCRIPTION_KEY}"],` +
    `"${hex}",${STRATUM_EXTRANONCE_SIZE}],"error":null}`;
}

/**
 * Encode `mining.set_difficulty` with the difficulty as a decimal integer string, the form
 * the Java reference miner parses (never "524288.0").
 *
 * @example Usage
 * ```ts
 * import { encodeSetDifficulty } from "./stratum_encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   encodeSetDifficulty(1048576n),
 *   '{"id":null,"method":"mining.set_difficulty","params":["1048576"]}',
 * );
 * ```
 *
 * @param difficulty Share difficulty, 1..2^192-1.
 * @returns One line of JSON without "\n".
 * @throws {RangeError} When the difficulty is out of range.
 * @throws {TypeError} When the difficulty is not a bigint.
 */
export function encodeSetDifficulty(difficulty: bigint): string {
  if (typeof difficulty !== "bigint") {
    throw new TypeError(`Cannot encode set_difficulty: difficulty must be a bigint`);
  }
  if (difficulty < 1n || difficulty > MAX_STRATUM_DIFFICULTY) {
    throw new RangeError(`Cannot encode set_difficulty: difficulty must be in 1..2^192-1`);
  }
  return `{"id":null,"method":"mining.set_difficulty","params":["${difficulty}"]}`;
}

/**
 * Encode `client.reconnect` without params: "reconnect to this same server" (the miner's next
 * connection tells it whether there is work; a miner that ignores the method is closed right
 * after it). vbkpool's miner parses the optional `[host, port, wait]` too.
 *
 * @example Usage
 * ```ts
 * import { encodeReconnect } from "./stratum_encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeReconnect(), '{"id":null,"method":"client.reconnect","params":[]}');
 * ```
 *
 * @returns One line of JSON without "\n".
 */
export function encodeReconnect(): string {
  return RECONNECT_LINE;
}

const RECONNECT_LINE = '{"id":null,"method":"client.reconnect","params":[]}';

/**
 * Encode `mining.notify` with VeriBlock's 10 params: job id, height (8 hex), version (4),
 * previous hash (24), two keystones (18 each), the three intermediate merkles (64 each),
 * time (8), bits (8) and clean_jobs. Hex is lower case.
 *
 * @example Usage
 * ```ts
 * import { encodeNotify } from "./stratum_encode.ts";
 * import assert from "node:assert/strict";
 *
 * const line = encodeNotify({
 *   jobId: "3",
 *   height: 1000000,
 *   version: 2,
 *   previousHash: new Uint8Array(12),
 *   previousKeystone: new Uint8Array(9),
 *   secondKeystone: new Uint8Array(9),
 *   popRoot: new Uint8Array(32),
 *   normalRoot: new Uint8Array(32),
 *   metapackageHash: new Uint8Array(32),
 *   timestamp: 0x5cfbb600,
 *   bits: 0x0600e8d4,
 *   cleanJobs: true,
 * });
 * assert.equal(JSON.parse(line).params[1], "000f4240");
 * assert.equal(JSON.parse(line).params[8], "0600e8d4");
 * ```
 *
 * @param job The job.
 * @returns One line of JSON without "\n".
 * @throws {RangeError} When a number is out of range or a byte field has the wrong length.
 * @throws {TypeError} When a field has the wrong type.
 */
export function encodeNotify(job: NotifyJob): string {
  if (typeof job?.jobId !== "string") {
    throw new TypeError(`Cannot encode notify: jobId must be a string`);
  }
  if (typeof job.cleanJobs !== "boolean") {
    throw new TypeError(`Cannot encode notify: cleanJobs must be a boolean`);
  }
  return `{"id":null,"method":"mining.notify","params":[${JSON.stringify(job.jobId)},` +
    `"${word(job.height, 8, "height")}","${word(job.version, 4, "version")}",` +
    `"${bytes(job.previousHash, 12, "previousHash")}",` +
    `"${bytes(job.previousKeystone, 9, "previousKeystone")}",` +
    `"${bytes(job.secondKeystone, 9, "secondKeystone")}",` +
    `["${bytes(job.popRoot, 32, "popRoot")}","${bytes(job.normalRoot, 32, "normalRoot")}",` +
    `"${bytes(job.metapackageHash, 32, "metapackageHash")}"],` +
    `"${word(job.timestamp, 8, "timestamp")}","${word(job.bits, 8, "bits")}",${job.cleanJobs}]}`;
}

function word(value: number, width: 4 | 8, name: string): string {
  const max = width === 8 ? 0xffffffff : 0xffff;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode notify: ${name} must be an integer in 0..${max}`);
  }
  return uintToHex(value, width);
}

function bytes(value: Uint8Array, length: number, name: string): string {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot encode notify: ${name} must be a Uint8Array`);
  }
  if (value.length !== length) {
    throw new RangeError(
      `Cannot encode notify: ${name} must be ${length} bytes, got ${value.length}`,
    );
  }
  return bytesToHex(value);
}

/**
 * Encode a client request `{"id":…,"method":…,"params":[…]}`.
 *
 * @example Usage
 * ```ts
 * import { encodeRequest } from "./stratum_encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   encodeRequest({ id: 2, method: "mining.authorize", params: ["VxxxUser", ""] }),
 *   '{"id":2,"method":"mining.authorize","params":["VxxxUser",""]}',
 * );
 * ```
 *
 * @param request Id, method and JSON-serialisable params (no bigint).
 * @returns One line of JSON without "\n".
 * @throws {TypeError} When the id, method or params cannot be encoded.
 */
export function encodeRequest(request: StratumRequest): string {
  if (typeof request?.method !== "string") {
    throw new TypeError(`Cannot encode Stratum request: method must be a string`);
  }
  if (!Array.isArray(request.params)) {
    throw new TypeError(`Cannot encode Stratum request: params must be an array`);
  }
  return `{"id":${idJson(request.id)},"method":${JSON.stringify(request.method)},` +
    `"params":${JSON.stringify(request.params)}}`;
}
