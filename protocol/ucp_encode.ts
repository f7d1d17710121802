/**
 * Encode a {@linkcode UcpMessage} as one Gson-shaped UCP line.
 *
 * @module
 */

import { bytesToHex } from "../hash/hex.ts";
import { type UcpField, ucpSchemaOf } from "./_ucp_schema.ts";
import type { UcpMessage } from "./ucp_types.ts";

const INT31_MAX = 0x7fffffff;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const BITFLAG_RE = /^[01]*$/;

/**
 * Encode a UCP message as compact JSON, without the trailing newline.
 *
 * The output matches NodeCore's Gson serialization: `command` first, then each argument in
 * NodeCore's field order as `{"type":"<UCPType>","data":...}`, hex in upper case, NONCE and
 * TIMESTAMP as signed 32-bit integers (what Java reads), EXTRA_NONCE exact. An absent optional
 * argument (`coinbaseTxid` of MINING_MEMPOOL_UPDATE) is left out.
 *
 * @example Usage
 * ```ts
 * import { encodeUcp } from "./ucp_encode.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   encodeUcp({ command: "MINING_AUTH_SUCCESS", requestId: 1 }),
 *   '{"command":"MINING_AUTH_SUCCESS","request_id":{"type":"REQUEST_ID","data":1}}',
 * );
 * assert.equal(
 *   encodeUcp({
 *     command: "MINING_SUBMIT",
 *     requestId: 3,
 *     jobId: 377,
 *     nTime: 1531939610,
 *     nonce: 3976219408,
 *     extraNonce: 8935141660704064064n,
 *   }),
 *   '{"command":"MINING_SUBMIT","request_id":{"type":"REQUEST_ID","data":3},' +
 *     '"job_id":{"type":"JOB_ID","data":377},"nTime":{"type":"TIMESTAMP","data":1531939610},' +
 *     '"nonce":{"type":"NONCE","data":-318747888},' +
 *     '"extra_nonce":{"type":"EXTRA_NONCE","data":8935141660704064064}}',
 * );
 * ```
 *
 * @param message The message to encode.
 * @returns One line of JSON without "\n".
 * @throws {TypeError} When the command is unknown or a field has the wrong type.
 * @throws {RangeError} When a number is out of range or a byte field has the wrong length.
 */
export function encodeUcp(message: UcpMessage): string {
  const command = message?.command;
  const fields = typeof command === "string" ? ucpSchemaOf(command) : undefined;
  if (fields === undefined) {
    throw new TypeError(`Cannot encode UCP message: unknown command "${String(command)}"`);
  }
  const record = message as unknown as Record<string, unknown>;
  let out = `{"command":"${command}"`;
  for (const field of fields) {
    const value = record[field.field];
    if (value === undefined && field.optional) continue;
    out += `,"${field.key}":{"type":"${field.type}","data":${encodeData(value, field, command)}}`;
  }
  return out + "}";
}

function encodeData(value: unknown, field: UcpField, command: string): string {
  switch (field.kind) {
    case "uint31":
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > INT31_MAX) {
        throw fail(command, field, "must be an integer in 0..2147483647", RangeError);
      }
      return String(value);
    case "int32":
      if (!Number.isInteger(value) || (value as number) !== ((value as number) | 0)) {
        throw fail(command, field, "must be a signed 32-bit integer", RangeError);
      }
      return String(value);
    case "word32":
      if (
        !Number.isInteger(value) || (value as number) < -0x80000000 ||
        (value as number) > 0xffffffff
      ) {
        throw fail(command, field, "must be a 32-bit integer", RangeError);
      }
      return String((value as number) | 0);
    case "int64":
      if (typeof value !== "bigint") throw fail(command, field, "must be a bigint", TypeError);
      if (value < INT64_MIN || value > INT64_MAX) {
        throw fail(command, field, "must be in the signed 64-bit range", RangeError);
      }
      return value.toString();
    case "hex24":
    case "hex32": {
      const bytes = field.kind === "hex24" ? 24 : 32;
      if (!(value instanceof Uint8Array)) {
        throw fail(command, field, "must be a Uint8Array", TypeError);
      }
      if (value.length !== bytes) {
        throw fail(command, field, `must be ${bytes} bytes, got ${value.length}`, RangeError);
      }
      return `"${bytesToHex(value, { upper: true })}"`;
    }
    case "text":
    case "address":
    case "bitflag":
      if (typeof value !== "string") throw fail(command, field, "must be a string", TypeError);
      if (field.kind === "address" && value.length === 0) {
        throw fail(command, field, "must not be empty", RangeError);
      }
      if (field.kind === "bitflag" && !BITFLAG_RE.test(value)) {
        throw fail(command, field, "must contain only '0' and '1'", RangeError);
      }
      return JSON.stringify(value);
  }
}

function fail(
  command: string,
  field: UcpField,
  reason: string,
  ErrorClass: typeof TypeError | typeof RangeError,
): Error {
  return new ErrorClass(`Cannot encode ${command}: ${field.field} ${reason}`);
}
