/**
 * Encoding HTTP/1.1 response heads (status line and header fields) and the framing of chunked
 * bodies, for the pool's own small HTTP server (`net/http_server.ts`). Pure: bytes out.
 *
 * @module
 */

/** Reason phrases of the statuses the pool's servers send (others get an empty phrase). */
export const HTTP_REASONS: Readonly<Record<number, string>> = {
  100: "Continue",
  200: "OK",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  417: "Expectation Failed",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** Byte-exact (Latin-1) encoding: header values are byte strings. */
function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/**
 * A response head: the status line, one line per header field, and the blank line.
 *
 * @example Usage
 * ```ts
 * import { encodeResponseHead } from "./http_response_head.ts";
 * import assert from "node:assert/strict";
 *
 * const head = encodeResponseHead(404, [["content-length", "0"], ["connection", "close"]]);
 * assert.equal(
 *   new TextDecoder().decode(head),
 *   "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
 * );
 * ```
 *
 * @param status The status code (100-999).
 * @param headers Header fields (names and values already valid, as `Headers` keeps them).
 * @returns The head's bytes.
 * @throws {RangeError} When the status is not a three-digit code.
 */
export function encodeResponseHead(
  status: number,
  headers: Iterable<readonly [string, string]>,
): Uint8Array {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new RangeError(`Cannot encode response head: status must be 100-999, got ${status}`);
  }
  let text = `HTTP/1.1 ${status} ${HTTP_REASONS[status] ?? ""}\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  return latin1Bytes(text + "\r\n");
}

/**
 * One chunk of a chunked body (`SIZE CRLF data CRLF`); an empty chunk is the last one
 * (`0 CRLF CRLF`).
 *
 * @example Usage
 * ```ts
 * import { encodeChunk } from "./http_response_head.ts";
 * import assert from "node:assert/strict";
 *
 * const dec = new TextDecoder();
 * assert.equal(dec.decode(encodeChunk(new TextEncoder().encode("hello, world"))), "c\r\nhello, world\r\n");
 * assert.equal(dec.decode(encodeChunk(new Uint8Array(0))), "0\r\n\r\n");
 * ```
 *
 * @param data The chunk's bytes.
 * @returns The framed chunk.
 */
export function encodeChunk(data: Uint8Array): Uint8Array {
  const size = latin1Bytes(`${data.length.toString(16)}\r\n`);
  const out = new Uint8Array(size.length + data.length + 2);
  out.set(size);
  out.set(data, size.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}
