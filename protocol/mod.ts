/**
 * Pure wire codecs: bounded line framing, NodeCore's UCP messages, VeriBlock's Stratum
 * dialect (server and client sides), strict HTTP/1.1 request and response heads, and the PROXY
 * protocol header (v1 and v2) with the IP address text it carries. No I/O,
 * no timers; imports only `hash/`.
 *
 * Parsers never throw on bad input: they return a result the caller branches on (`ok`,
 * `kind`). Encoders throw `TypeError`/`RangeError` on values our own code should never
 * produce. 64-bit extranonces and difficulties are `bigint` throughout.
 *
 * @example Usage
 * ```ts
 * import { decodeUcp, encodeUcp, LineFramer, parseStratumRequest, parseSubmitParams } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const framer = new LineFramer({ maxLineBytes: 16384 });
 * const [line] = framer.push(new TextEncoder().encode(
 *   '{"method":"mining.submit","params":["w","3","7C000000000F4240","5CFBB600","0000430B"],"id":"3"}\n',
 * ));
 * const parsed = parseStratumRequest(line!);
 * assert.ok(parsed.ok);
 * const submit = parseSubmitParams(parsed.request.params);
 * assert.ok(submit.ok);
 * assert.equal(submit.submit.extranonce, 0x7c000000000f4240n);
 *
 * const ucp = encodeUcp({ command: "MINING_RESET_ACK", requestId: 4 });
 * assert.deepEqual(decodeUcp(ucp), {
 *   ok: true,
 *   message: { command: "MINING_RESET_ACK", requestId: 4 },
 * });
 * ```
 *
 * @module
 */

export * from "./line_framer.ts";
export * from "./ucp_types.ts";
export * from "./ucp_decode.ts";
export * from "./ucp_encode.ts";
export * from "./ucp_server_session.ts";
export * from "./stratum_types.ts";
export * from "./stratum_errors.ts";
export * from "./stratum_request.ts";
export * from "./stratum_params.ts";
export * from "./stratum_encode.ts";
export * from "./stratum_difficulty.ts";
export * from "./stratum_client.ts";
export * from "./http_request_head.ts";
export * from "./http_response_head.ts";
export * from "./ip_address.ts";
export * from "./proxy_header.ts";
