/**
 * A strict HTTP/1.x request-head parser (RFC 9112), for the pool's own small HTTP server
 * (`net/http_server.ts`). Bytes in, a result out; it never throws on bad input. It checks, in
 * this order, each failure giving the status the server answers with:
 *
 * 1. the request line: `METHOD SP target SP HTTP/1.x` (400; another major version: 505);
 *    the target is origin-form (`/path?query`), `*` (OPTIONS only) or absolute-form;
 * 2. each header line: a token name followed at once by `:`, a value without control
 *    characters; no obsolete line folding (400); at most `maxHeaders` of them (431);
 * 3. the headers that frame the message: exactly one valid `Host` on HTTP/1.1 (400), equal
 *    decimal `Content-Length` values (400), no `Transfer-Encoding` (501: request bodies are
 *    taken with a length only), `Expect` only `100-continue` (417).
 *
 * Sizes are the caller's business: it buffers at most its limit and, when no blank line ends
 * the head within it, answers {@linkcode oversizedHeadStatus} (414 or 431).
 *
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;

/** Statuses a malformed or refused head is answered with. */
export type HttpHeadErrorStatus = 400 | 414 | 417 | 431 | 501 | 505;

/** A parsed request head. */
export interface HttpRequestHead {
  /** The method, as sent (methods are case-sensitive). */
  method: string;
  /** The path and query (origin-form), or `*`. */
  path: string;
  /** Minor version: `1.0` or `1.1` (later 1.x minors are served as 1.1). */
  version: "1.0" | "1.1";
  /** Header fields in order: names lower-cased, values without surrounding blanks. */
  headers: [string, string][];
  /** The `Host` (or the authority of an absolute-form target); undefined on HTTP/1.0 without one. */
  host: string | undefined;
  /** Body length in bytes (0 without `Content-Length`). */
  contentLength: number;
  /** Whether the client wants the connection kept open after the response. */
  keepAlive: boolean;
  /** Whether the client waits for `100 Continue` before sending its body. */
  expectContinue: boolean;
}

/** The outcome of {@linkcode parseRequestHead}. */
export type HttpHeadResult =
  | { ok: true; head: HttpRequestHead }
  | { ok: false; status: HttpHeadErrorStatus; reason: string };

/** Options for {@linkcode parseRequestHead}. */
export interface ParseRequestHeadOptions {
  /** Most header fields. @default 64 */
  maxHeaders?: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
const VERSION = /^HTTP\/(\d)\.(\d)$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::\d{0,5})?$/;
const ABSOLUTE = /^https?:\/\/([^/?#]*)([^#]*)/i;
/** Bytes not allowed in a header value: controls other than HTAB, and DEL. */
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Where the head ends: the index just past the blank line (CRLF CRLF, or bare LFs), or -1 when
 * it has not arrived yet.
 *
 * @example Usage
 * ```ts
 * import { findHeadEnd } from "./http_request_head.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\nrest");
 * assert.equal(findHeadEnd(bytes), 27);
 * assert.equal(findHeadEnd(bytes.subarray(0, 20)), -1);
 * ```
 *
 * @param bytes Buffered bytes from the start of the head.
 * @param from Where to start looking (bytes before it were already searched). @default 0
 * @returns The end index, or -1.
 */
export function findHeadEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    if (bytes[i + 1] === LF) return i + 2;
    if (bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}

/**
 * The status for a head that did not end within the size limit: 414 (URI Too Long) while the
 * request line itself is unfinished, else 431 (Request Header Fields Too Large).
 *
 * @example Usage
 * ```ts
 * import { oversizedHeadStatus } from "./http_request_head.ts";
 * import assert from "node:assert/strict";
 *
 * const enc = new TextEncoder();
 * assert.equal(oversizedHeadStatus(enc.encode("GET /aaaaaaaa")), 414);
 * assert.equal(oversizedHeadStatus(enc.encode("GET / HTTP/1.1\r\nX: aaaa")), 431);
 * ```
 *
 * @param bytes The buffered head.
 * @returns 414 or 431.
 */
export function oversizedHeadStatus(bytes: Uint8Array): 414 | 431 {
  return bytes.indexOf(LF) < 0 ? 414 : 431;
}

const ASCII = new TextDecoder();

/**
 * The head as byte-exact (Latin-1) text: header values may carry obs-text bytes. Heads are
 * nearly always ASCII, which the built-in decoder turns into text fastest.
 */
function latin1(bytes: Uint8Array): string {
  if (bytes.every((b) => b < 0x80)) return ASCII.decode(bytes);
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return text;
}

/** The lines of a head, without their CR LF, up to (not including) the blank line. */
function headLines(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (const raw of latin1(bytes).split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "") break;
    lines.push(line);
  }
  return lines;
}

function fail(status: HttpHeadErrorStatus, reason: string): HttpHeadResult {
  return { ok: false, status, reason };
}

type RequestLine = { method: string; target: string; version: "1.0" | "1.1" };

function parseRequestLine(line: string): RequestLine | HttpHeadResult {
  const parts = line.split(" ");
  if (parts.length !== 3) return fail(400, "malformed request line");
  const [method, target, version] = parts as [string, string, string];
  if (method.length > 32 || !TOKEN.test(method)) return fail(400, "malformed method");
  if (!TARGET.test(target)) return fail(400, "malformed request target");
  const v = VERSION.exec(version);
  if (v === null) return fail(400, "malformed HTTP version");
  if (v[1] !== "1") return fail(505, "unsupported HTTP version");
  return { method, target, version: v[2] === "0" ? "1.0" : "1.1" };
}

function parseHeaders(
  lines: string[],
  maxHeaders: number,
): [string, string][] | HttpHeadResult {
  if (lines.length > maxHeaders) return fail(431, "too many header fields");
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (line.startsWith(" ") || line.startsWith("\t")) return fail(400, "obsolete line folding");
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return fail(400, "malformed header field");
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (BAD_VALUE.test(value)) return fail(400, "malformed header value");
    headers.push([name.toLowerCase(), value]);
  }
  return headers;
}

function contentLength(values: string[]): number | HttpHeadResult {
  let length: number | undefined;
  for (const value of values.flatMap((v) => v.split(","))) {
    const text = value.trim();
    if (!/^\d{1,15}$/.test(text)) return fail(400, "malformed Content-Length");
    const n = Number(text);
    if (length !== undefined && n !== length) return fail(400, "conflicting Content-Length");
    length = n;
  }
  return length ?? 0;
}

function tokens(values: string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((t) => t.trim().toLowerCase());
}

/**
 * Parse a request head (the bytes up to and including the blank line; see
 * {@linkcode findHeadEnd}).
 *
 * @example Usage
 * ```ts
 * import { parseRequestHead } from "./http_request_head.ts";
 * import assert from "node:assert/strict";
 *
 * const enc = new TextEncoder();
 * const result = parseRequestHead(enc.encode("GET /api/pool?x=1 HTTP/1.1\r\nHost: pool:8080\r\n\r\n"));
 * assert.ok(result.ok);
 * assert.equal(result.head.path, "/api/pool?x=1");
 * assert.equal(result.head.host, "pool:8080");
 * assert.equal(result.head.keepAlive, true);
 * assert.deepEqual(parseRequestHead(enc.encode("GET / HTTP/2.0\r\n\r\n")), {
 *   ok: false,
 *   status: 505,
 *   reason: "unsupported HTTP version",
 * });
 * ```
 *
 * @param bytes The head.
 * @param options The header-count limit.
 * @returns The head, or the status to answer and why.
 */
export function parseRequestHead(
  bytes: Uint8Array,
  options: ParseRequestHeadOptions = {},
): HttpHeadResult {
  const lines = headLines(bytes);
  if (lines.length === 0) return fail(400, "empty request");
  const requestLine = parseRequestLine(lines[0]!);
  if ("ok" in requestLine) return requestLine;
  const { method, target, version } = requestLine;
  const headers = parseHeaders(lines.slice(1), options.maxHeaders ?? 64);
  if ("ok" in headers) return headers;
  const all = (name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

  let path = target;
  let host: string | undefined;
  const absolute = ABSOLUTE.exec(target);
  if (absolute !== null) {
    host = absolute[1]!;
    path = absolute[2] === "" ? "/" : absolute[2]!;
    if (!path.startsWith("/")) path = `/${path}`;
  } else if (target === "*") {
    if (method !== "OPTIONS") return fail(400, "malformed request target");
  } else if (!target.startsWith("/")) {
    return fail(400, "malformed request target");
  }
  const hosts = all("host");
  if (hosts.length > 1 || (version === "1.1" && hosts.length === 0)) {
    return fail(400, "missing or repeated Host");
  }
  host ??= hosts[0];
  if (host !== undefined && (host.length > 255 || !HOST.test(host))) {
    return fail(400, "malformed Host");
  }

  if (all("transfer-encoding").length > 0) {
    if (all("content-length").length > 0) return fail(400, "Transfer-Encoding with Content-Length");
    return fail(501, "Transfer-Encoding is not accepted on requests");
  }
  const length = contentLength(all("content-length"));
  if (typeof length !== "number") return length;
  const expect = tokens(all("expect"));
  if (expect.some((e) => e !== "100-continue")) return fail(417, "unsupported Expect");
  const connection = tokens(all("connection"));
  const keepAlive = !connection.includes("close") &&
    (version === "1.1" || connection.includes("keep-alive"));
  return {
    ok: true,
    head: {
      method,
      path,
      version,
      headers,
      host,
      contentLength: length,
      keepAlive,
      expectContinue: expect.length > 0,
    },
  };
}
