/**
 * Client side (the miner): parse the server's lines and the subscribe result. Lenient where
 * real servers differ (hex case, difficulty as number or "524288.0", single pair or list of
 * pairs in the subscribe result), strict where the header needs exact widths.
 *
 * @module
 */

import { hexToBytes, isHex } from "../hash/hex.ts";
import { hex16ToUint64, hex8ToUint32, hexToUint } from "./_hex_int.ts";
import { parseDifficulty } from "./stratum_difficulty.ts";
import { type NotifyJob, STRATUM_EXTRANONCE_SIZE, type StratumId } from "./stratum_types.ts";

const PORT_RE = /^\d{1,5}$/;

/** A line from the server, classified. */
export type StratumServerMessage =
  | {
    kind: "response";
    /** The id of the request this answers. */
    id: StratumId;
    /** The result (null when absent). */
    result: unknown;
    /** `[code, message]`, or null on success. */
    error: [number, string] | null;
  }
  | { kind: "notify"; job: NotifyJob }
  | {
    kind: "set_difficulty";
    /** Share difficulty, an integer ≥ 1. */
    difficulty: bigint;
    /** True when the server sent a fractional value that was rounded up. */
    rounded: boolean;
  }
  | {
    kind: "reconnect";
    /** Host to reconnect to (absent: the same host). */
    host?: string;
    /** Port to reconnect to (absent: the same port). */
    port?: number;
    /** Seconds to wait before reconnecting (absent: 0). */
    waitSeconds?: number;
  }
  | {
    kind: "unknown_method";
    /** Non-null when the server expects an answer. */
    id: StratumId;
    /** The method name. */
    method: string;
    /** Its params. */
    params: unknown[];
  }
  | { kind: "invalid"; reason: string };

/**
 * Classify one line from a Stratum server. Never throws.
 *
 * - `{"method":"mining.notify"}`: every field is validated (hex in either case, exact widths:
 *   height 8, version 4, previous hash 24, keystones 18, merkles 3 × 64, time 8, bits 8;
 *   clean_jobs a boolean); a numeric job id is turned into its decimal string; params beyond
 *   the 10th are ignored.
 * - `{"method":"mining.set_difficulty"}`: see `parseDifficulty` (fractional values are rounded
 *   up; zero, negative and absurd values are invalid).
 * - `{"method":"client.reconnect","params":[host?, port?, wait?]}`: `reconnect`.
 * - any other method: `unknown_method`.
 * - an object with `result` or `error`: `response`; the error may be `[code, message, …]`,
 *   `{code, message}` or a bare string (code -1).
 * - anything else: `invalid` with a reason for logs.
 *
 * @example Usage
 * ```ts
 * import { parseServerMessage } from "./stratum_client.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   parseServerMessage('{"id": null, "method": "mining.set_difficulty", "params": ["524288.0"]}'),
 *   { kind: "set_difficulty", difficulty: 524288n, rounded: false },
 * );
 * assert.deepEqual(parseServerMessage('{"id":"3","result":true,"error":null}'), {
 *   kind: "response",
 *   id: "3",
 *   result: true,
 *   error: null,
 * });
 * ```
 *
 * @param line One line of text, without "\n".
 * @returns The classified message.
 */
export function parseServerMessage(line: string): StratumServerMessage {
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return invalid("not JSON");
  }
  if (typeof root !== "object" || root === null || Array.isArray(root)) {
    return invalid("not a JSON object");
  }
  const obj = root as Record<string, unknown>;
  const id = own(obj, "id") ?? null;
  if (id !== null && typeof id !== "string" && !(typeof id === "number" && isFinite(id))) {
    return invalid("id must be a string, a number or null");
  }
  const method = own(obj, "method");
  if (method !== undefined) {
    if (typeof method !== "string") return invalid("method must be a string");
    const rawParams = own(obj, "params") ?? [];
    if (!Array.isArray(rawParams)) return invalid(`${clip(method)} params must be an array`);
    switch (method) {
      case "mining.notify":
        return parseNotify(rawParams);
      case "mining.set_difficulty": {
        const d = parseDifficulty(rawParams[0]);
        return d.ok
          ? { kind: "set_difficulty", difficulty: d.difficulty, rounded: d.rounded }
          : invalid(d.reason);
      }
      case "client.reconnect":
        return parseReconnect(rawParams);
      default:
        return { kind: "unknown_method", id, method, params: rawParams };
    }
  }
  if (!Object.hasOwn(obj, "result") && !Object.hasOwn(obj, "error")) {
    return invalid("neither a response nor a notification");
  }
  return { kind: "response", id, result: own(obj, "result") ?? null, error: readError(obj.error) };
}

function parseNotify(p: unknown[]): StratumServerMessage {
  if (p.length < 10) return invalid(`notify needs 10 params, got ${p.length}`);
  const rawJobId = p[0];
  let jobId: string;
  if (typeof rawJobId === "string" && rawJobId.length > 0) {
    jobId = rawJobId;
  } else if (typeof rawJobId === "number" && Number.isSafeInteger(rawJobId) && rawJobId >= 0) {
    jobId = String(rawJobId);
  } else {
    return invalid("notify job id must be a non-empty string");
  }
  const height = typeof p[1] === "string" && p[1].length === 8 ? hex8ToUint32(p[1]) : -1;
  if (height < 0) return invalid("notify height must be 8 hex chars");
  const version = typeof p[2] === "string" && p[2].length === 4 ? hexToUint(p[2]) : -1;
  if (version < 0) return invalid("notify version must be 4 hex chars");
  if (!isHex(p[3], 12)) return invalid("notify previous hash must be 24 hex chars");
  if (!isHex(p[4], 9)) return invalid("notify previous keystone must be 18 hex chars");
  if (!isHex(p[5], 9)) return invalid("notify second keystone must be 18 hex chars");
  const merkles = p[6];
  if (
    !Array.isArray(merkles) || merkles.length !== 3 || !isHex(merkles[0], 32) ||
    !isHex(merkles[1], 32) || !isHex(merkles[2], 32)
  ) {
    return invalid("notify merkles must be 3 × 64 hex chars");
  }
  const timestamp = typeof p[7] === "string" && p[7].length === 8 ? hex8ToUint32(p[7]) : -1;
  if (timestamp < 0) return invalid("notify time must be 8 hex chars");
  const bits = typeof p[8] === "string" && p[8].length === 8 ? hex8ToUint32(p[8]) : -1;
  if (bits < 0) return invalid("notify bits must be 8 hex chars");
  const cleanJobs = p[9];
  if (typeof cleanJobs !== "boolean") return invalid("notify clean_jobs must be a boolean");
  return {
    kind: "notify",
    job: {
      jobId,
      height,
      version,
      previousHash: hexToBytes(p[3]),
      previousKeystone: hexToBytes(p[4]),
      secondKeystone: hexToBytes(p[5]),
      popRoot: hexToBytes(merkles[0]),
      normalRoot: hexToBytes(merkles[1]),
      metapackageHash: hexToBytes(merkles[2]),
      timestamp,
      bits,
      cleanJobs,
    },
  };
}

function parseReconnect(p: unknown[]): StratumServerMessage {
  const host = p[0] ?? undefined;
  const rawPort = p[1] ?? undefined;
  const rawWait = p[2] ?? undefined;
  if (host !== undefined && (typeof host !== "string" || host.length === 0)) {
    return invalid("reconnect host must be a non-empty string");
  }
  let port: number | undefined;
  if (rawPort !== undefined) {
    port = typeof rawPort === "string" && PORT_RE.test(rawPort)
      ? Number(rawPort)
      : rawPort as number;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return invalid("reconnect port must be in 1..65535");
    }
  }
  if (
    rawWait !== undefined &&
    (typeof rawWait !== "number" || !Number.isFinite(rawWait) || rawWait < 0)
  ) {
    return invalid("reconnect wait must be a non-negative number");
  }
  return {
    kind: "reconnect",
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    ...(rawWait === undefined ? {} : { waitSeconds: rawWait }),
  };
}

function readError(error: unknown): [number, string] | null {
  if (error === undefined || error === null || error === false) return null;
  if (Array.isArray(error)) {
    const code = typeof error[0] === "number" ? error[0] : -1;
    const message = typeof error[1] === "string" ? error[1] : "Unknown error";
    return [code, message];
  }
  if (typeof error === "object") {
    const e = error as Record<string, unknown>;
    return [
      typeof e.code === "number" ? e.code : -1,
      typeof e.message === "string" ? e.message : "Unknown error",
    ];
  }
  return [-1, typeof error === "string" ? error : "Unknown error"];
}

/** The parsed `mining.subscribe` result. */
export interface SubscribeResult {
  /** The connection's extranonce base (unsigned 64-bit). */
  extranonce: bigint;
  /** Extranonce size in bytes (always 8 in this dialect). */
  extranonceSize: number;
}

/**
 * Parse the result of `mining.subscribe`: `[subscriptions, extranonce16, 8]`.
 *
 * `subscriptions` may be a single `["mining.notify", key]` pair (VeriBlock's server) or a list
 * of pairs; it is not used further. The extranonce must be 16 hex chars in either case; the
 * size must be 8 (or absent).
 *
 * @example Usage
 * ```ts
 * import { parseSubscribeResult } from "./stratum_client.ts";
 * import assert from "node:assert/strict";
 *
 * const result = [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"], "7c000000000f4240", 8];
 * assert.deepEqual(parseSubscribeResult(result), {
 *   extranonce: 0x7c000000000f4240n,
 *   extranonceSize: 8,
 * });
 * ```
 *
 * @param result The `result` of the subscribe response.
 * @returns The extranonce and its size.
 * @throws {TypeError} When the result does not have the dialect's shape.
 * @throws {SyntaxError} When the extranonce is not hex.
 * @throws {RangeError} When the extranonce is not 16 hex chars or the size is not 8.
 */
export function parseSubscribeResult(result: unknown): SubscribeResult {
  if (!Array.isArray(result) || result.length < 2) {
    throw new TypeError(`Cannot parse subscribe result: expected [subscriptions, extranonce, 8]`);
  }
  const subscriptions = result[0];
  if (
    !Array.isArray(subscriptions) ||
    !(subscriptions.every((s) => typeof s === "string") ||
      subscriptions.every((s) => Array.isArray(s)))
  ) {
    throw new TypeError(
      `Cannot parse subscribe result: subscriptions must be a pair or a list of pairs`,
    );
  }
  const hex = result[1];
  if (typeof hex !== "string") {
    throw new TypeError(`Cannot parse subscribe result: extranonce must be a string`);
  }
  if (hex.length !== 16) {
    throw new RangeError(
      `Cannot parse subscribe result: extranonce must be 16 hex chars, got ${hex.length}`,
    );
  }
  const extranonce = hex16ToUint64(hex);
  if (extranonce === undefined) {
    throw new SyntaxError(`Cannot parse subscribe result: extranonce is not hex`);
  }
  const size = result[2] ?? STRATUM_EXTRANONCE_SIZE;
  if (size !== STRATUM_EXTRANONCE_SIZE) {
    throw new RangeError(`Cannot parse subscribe result: extranonce size must be 8`);
  }
  return { extranonce, extranonceSize: size };
}

function invalid(reason: string): StratumServerMessage {
  return { kind: "invalid", reason };
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function clip(text: string): string {
  return text.length > 64 ? text.slice(0, 64) + "..." : text;
}
