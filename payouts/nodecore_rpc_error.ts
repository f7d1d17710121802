/**
 * The error a NodeCore HTTP JSON-RPC call fails with, carrying what kind of failure it was, so
 * the payer can tell "the node certainly did nothing" from "the outcome is unknown".
 *
 * @module
 */

/**
 * Kinds of failure:
 * - `unreachable`: no HTTP answer (connection refused or reset, DNS, TLS);
 * - `timeout`: no answer within the timeout (the node may still act on the request);
 * - `auth`: HTTP 401 (password missing or wrong);
 * - `http`: another non-2xx status (500 = "Error in NodeCore");
 * - `rpc`: a JSON-RPC `error` object (unknown method, bad params);
 * - `rejected`: the reply says `success: false` (its `results` explain why);
 * - `malformed`: the answer is not the JSON shape NodeCore sends.
 */
export type NodeCoreRpcErrorKind =
  | "unreachable"
  | "timeout"
  | "auth"
  | "http"
  | "rpc"
  | "rejected"
  | "malformed";

/** Details of a {@linkcode NodeCoreRpcError}. */
export interface NodeCoreRpcErrorInit {
  /** What kind of failure. */
  kind: NodeCoreRpcErrorKind;
  /** The method called. */
  method: string;
  /** HTTP status, when there was an answer. */
  status?: number;
  /** JSON-RPC error code, or the first `results[].code` of a rejected reply. */
  code?: string | number;
  /** `results[].details` of a rejected reply, joined. */
  details?: string;
  /** Transaction ids a rejected `sendcoins` reply still carried (NC#155: sent AND failed). */
  txIds?: string[];
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A failed NodeCore call.
 *
 * @example Usage
 * ```ts
 * import { NodeCoreRpcError } from "./nodecore_rpc_error.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new NodeCoreRpcError("Cannot call sendcoins: [V008] Send command error", {
 *   kind: "rejected",
 *   method: "sendcoins",
 *   code: "V008",
 * });
 * assert.equal(err.name, "NodeCoreRpcError");
 * assert.equal(err.nodeDidNothing, true);
 * ```
 */
export class NodeCoreRpcError extends Error {
  /** What kind of failure. */
  readonly kind: NodeCoreRpcErrorKind;
  /** The method called. */
  readonly method: string;
  /** HTTP status, when there was an answer. */
  readonly status: number | undefined;
  /** JSON-RPC error code or NodeCore result code. */
  readonly code: string | number | undefined;
  /** NodeCore's details text. */
  readonly details: string | undefined;
  /** Transaction ids carried by a rejected reply. */
  readonly txIds: readonly string[];

  /**
   * @param message Complete message ("Cannot call <method>: <reason>").
   * @param init Kind, method and details.
   */
  constructor(message: string, init: NodeCoreRpcErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "NodeCoreRpcError";
    this.kind = init.kind;
    this.method = init.method;
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.txIds = init.txIds ?? [];
  }

  /**
   * True when the node certainly did not act on the request: it answered with a refusal
   * (`rejected` without transaction ids, `rpc`, `auth`). A timeout, a lost connection, an HTTP
   * error or a garbled answer leave the outcome unknown.
   */
  get nodeDidNothing(): boolean {
    if (this.kind === "rejected") return this.txIds.length === 0;
    return this.kind === "rpc" || this.kind === "auth";
  }
}
