/**
 * Decode one UCP line into a typed {@linkcode UcpMessage}, validating every argument.
 *
 * @module
 */

import { hexToBytes, isHex } from "../hash/hex.ts";
import { jsonInteger, JsonNumber, parseJsonKeepingNumbers } from "./_json_number.ts";
import { type UcpField, ucpSchemaOf } from "./_ucp_schema.ts";
import type { UcpDecodeResult, UcpMessage } from "./ucp_types.ts";

const INT31_MAX = 0x7fffffffn;
const INT32_MIN = -0x80000000n;
const UINT32_MAX = 0xffffffffn;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const BITFLAG_RE = /^[01]*$/;

/**
 * Decode one UCP line (without its "\n"). Never throws.
 *
 * The envelope is `{"command": NAME, key: {"type": T, "data": V}, ...}`. The command is
 * upper-cased before matching, keys may come in any order, unknown keys are ignored and
 * `type` is not checked (NodeCore reads only `data`). Every argument of the command must be
 * present (MINING_MEMPOOL_UPDATE's `coinbase_txid` is optional) with the right JSON type.
 * Hex is accepted in either case and must have the exact length. REQUEST_ID, JOB_ID,
 * BLOCK_INDEX, FREQUENCY_MS and DIFFICULTY must be integers in 0..2^31-1; BLOCK_VERSION a
 * signed 32-bit integer; NONCE and TIMESTAMP may be signed or unsigned 32-bit and come out
 * unsigned; EXTRA_NONCE is a signed 64-bit integer read exactly from the JSON text. ADDRESS
 * must be a non-empty string: its checksum is checked by the session layer, which knows
 * whether it needs a valid address (hash/address.ts).
 *
 * @example Usage
 * ```ts
 * import { decodeUcp } from "./ucp_decode.ts";
 * import assert from "node:assert/strict";
 *
 * const line = '{"command":"MINING_SUBMIT","request_id":{"type":"REQUEST_ID","data":3},' +
 *   '"job_id":{"type":"JOB_ID","data":377},"nTime":{"type":"TIMESTAMP","data":1531939610},' +
 *   '"nonce":{"type":"NONCE","data":-318747888},' +
 *   '"extra_nonce":{"type":"EXTRA_NONCE","data":8935141660704064064}}';
 * const result = decodeUcp(line);
 * assert.ok(result.ok && result.message.command === "MINING_SUBMIT");
 * assert.equal(result.message.nonce, 3976219408);
 * assert.equal(result.message.extraNonce, 8935141660704064064n);
 *
 * assert.deepEqual(decodeUcp('{"method":"mining.subscribe","params":[],"id":1}'), {
 *   ok: false,
 *   kind: "malformed",
 *   error: "Cannot decode UCP message: no string \"command\"",
 * });
 * ```
 *
 * @param line One line of UCP text.
 * @returns The message, or the kind of failure with the command and request id when known.
 */
export function decodeUcp(line: string): UcpDecodeResult {
  let root: unknown;
  try {
    root = parseJsonKeepingNumbers(line);
  } catch {
    return { ok: false, kind: "malformed", error: "Cannot decode UCP message: not JSON" };
  }
  if (!isRecord(root)) {
    return { ok: false, kind: "malformed", error: "Cannot decode UCP message: not a JSON object" };
  }
  const rawCommand = own(root, "command");
  if (typeof rawCommand !== "string") {
    return {
      ok: false,
      kind: "malformed",
      error: 'Cannot decode UCP message: no string "command"',
    };
  }
  const command = rawCommand.toUpperCase();
  const fields = ucpSchemaOf(command);
  if (fields === undefined) {
    const requestId = peekRequestId(root);
    return {
      ok: false,
      kind: "unknown_command",
      command,
      ...(requestId === undefined ? {} : { requestId }),
      error: `Cannot decode UCP message: unknown command "${clip(command)}"`,
    };
  }
  const message: Record<string, unknown> = { command };
  for (const field of fields) {
    const arg = own(root, field.key);
    if (arg === undefined && field.optional) continue;
    const value = readArgument(arg, field);
    if (typeof value === "string") {
      const requestId = peekRequestId(root);
      return {
        ok: false,
        kind: "invalid",
        command,
        ...(requestId === undefined ? {} : { requestId }),
        error: `Cannot decode ${command}: ${field.key} ${value}`,
      };
    }
    message[field.field] = value.value;
  }
  return { ok: true, message: message as unknown as UcpMessage };
}

/** Reads one argument; returns `{ value }` or a reason string. */
function readArgument(arg: unknown, field: UcpField): { value: unknown } | string {
  if (arg === undefined) return "is missing";
  if (!isRecord(arg) || !Object.hasOwn(arg, "data")) return 'is not a {"data": ...} object';
  const data = arg.data;
  switch (field.kind) {
    case "uint31":
      return readInteger(data, 0n, INT31_MAX);
    case "int32":
      return readInteger(data, INT32_MIN, INT31_MAX);
    case "word32": {
      const r = readInteger(data, INT32_MIN, UINT32_MAX);
      return typeof r === "string" ? r : { value: (r.value as number) >>> 0 };
    }
    case "int64": {
      if (!(data instanceof JsonNumber)) return "must be a number";
      const n = jsonInteger(data);
      if (n === undefined) return "must be an integer";
      if (n < INT64_MIN || n > INT64_MAX) return "is out of the signed 64-bit range";
      return { value: n };
    }
    case "hex24":
      return readHex(data, 24);
    case "hex32":
      return readHex(data, 32);
    case "text":
      return typeof data === "string" ? { value: data } : "must be a string";
    case "address":
      if (typeof data !== "string") return "must be a string";
      return data.length > 0 ? { value: data } : "must not be empty";
    case "bitflag":
      if (typeof data !== "string") return "must be a string";
      return BITFLAG_RE.test(data) ? { value: data } : "must contain only '0' and '1'";
  }
}

function readInteger(data: unknown, min: bigint, max: bigint): { value: number } | string {
  if (!(data instanceof JsonNumber)) return "must be a number";
  const n = jsonInteger(data);
  if (n === undefined) return "must be an integer";
  if (n < min || n > max) return `is out of range ${min}..${max}`;
  return { value: Number(n) };
}

function readHex(data: unknown, bytes: number): { value: Uint8Array } | string {
  if (typeof data !== "string") return "must be a string";
  if (!isHex(data, bytes)) return `must be ${bytes * 2} hex chars`;
  return { value: hexToBytes(data) };
}

/** The request id if present and valid, for error replies. */
function peekRequestId(root: Record<string, unknown>): number | undefined {
  const arg = own(root, "request_id");
  if (!isRecord(arg) || !(arg.data instanceof JsonNumber)) return undefined;
  const n = jsonInteger(arg.data);
  return n !== undefined && n >= 0n && n <= INT31_MAX ? Number(n) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof JsonNumber);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Bound untrusted text quoted in error messages. */
function clip(text: string): string {
  return text.length > 64 ? text.slice(0, 64) + "..." : text;
}
