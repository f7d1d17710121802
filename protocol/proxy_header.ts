/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load
 * balancer sends before the client's own bytes, naming the client's address: a parser that
 * takes the bytes received so far and says whether a header is complete, incomplete or invalid,
 * and encoders for both versions (the test relays and any sender).
 *
 * Version 1 is one text line of at most 107 bytes ending in CRLF:
 * `PROXY TCP4|TCP6|UNKNOWN SRC DST SRCPORT DSTPORT\r\n` (addresses canonical, no leading zeros).
 * Version 2 is a 16-byte binary header (12-byte signature, version/command, family/transport,
 * 16-bit length) followed by the address block and TLVs, which are skipped here.
 *
 * @module
 */
import { formatIp, parseIpv4, parseIpv6 } from "./ip_address.ts";

/** The 12-byte signature that starts a version 2 header. */
export const PROXY_V2_SIGNATURE: Uint8Array = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);

/** The longest version 1 line, CRLF included (the spec's worst case). */
export const PROXY_V1_MAX_BYTES = 107;

/** Longest version 2 header accepted by default (16 bytes + addresses + TLVs). */
export const PROXY_V2_DEFAULT_MAX_BYTES = 4096;

const V1_PREFIX = new TextEncoder().encode("PROXY ");
const CR = 0x0d;
const LF = 0x0a;
const PORT = /^(0|[1-9]\d{0,4})$/;

/** One end of a proxied connection. */
export interface ProxyEndpoint {
  /** Address in canonical text (`192.0.2.1`, `2001:db8::1`). */
  ip: string;
  /** TCP port. */
  port: number;
}

/** A parsed header. */
export type ProxyHeader =
  | {
    /** Protocol version. */
    version: 1 | 2;
    /** Relayed on behalf of a client: the addresses below are the real ones. */
    command: "proxy";
    /** Address family. */
    family: "tcp4" | "tcp6";
    /** The client. */
    source: ProxyEndpoint;
    /** The address the client connected to. */
    destination: ProxyEndpoint;
  }
  | {
    /** Protocol version. */
    version: 1 | 2;
    /**
     * `local`: a v2 connection made by the proxy itself (health check); `unknown`: v1
     * `UNKNOWN` or a v2 family/transport not carried here. Either way the socket's own
     * addresses apply.
     */
    command: "local" | "unknown";
  };

/** What {@linkcode parseProxyHeader} found. */
export type ProxyParseResult =
  | { kind: "incomplete" }
  | { kind: "header"; header: ProxyHeader; length: number }
  | { kind: "error"; message: string };

/** Options for {@linkcode parseProxyHeader}. */
export interface ParseProxyHeaderOptions {
  /** Longest version 2 header accepted (bytes, all included). @default 4096 */
  maxV2Bytes?: number;
}

function startsLike(bytes: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function error(message: string): ProxyParseResult {
  return { kind: "error", message };
}

/**
 * Parse the PROXY header at the start of the bytes received so far.
 *
 * @example Usage
 * ```ts
 * import { parseProxyHeader } from "./proxy_header.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("PROXY TCP4 192.0.2.7 10.0.0.1 51000 3333\r\n{");
 * const parsed = parseProxyHeader(bytes);
 * assert.equal(parsed.kind, "header");
 * if (parsed.kind === "header" && parsed.header.command === "proxy") {
 *   assert.equal(parsed.header.source.ip, "192.0.2.7");
 *   assert.equal(parsed.length, bytes.length - 1);
 * }
 * assert.equal(parseProxyHeader(new TextEncoder().encode("PROXY TC")).kind, "incomplete");
 * assert.equal(parseProxyHeader(new TextEncoder().encode("{\"id\":1}")).kind, "error");
 * ```
 *
 * @param bytes What the peer sent so far.
 * @param options Limits.
 * @returns `incomplete` (read more), `header` with the header's length in bytes, or `error`.
 */
export function parseProxyHeader(
  bytes: Uint8Array,
  options: ParseProxyHeaderOptions = {},
): ProxyParseResult {
  if (bytes.length === 0) return { kind: "incomplete" };
  if (startsLike(bytes, PROXY_V2_SIGNATURE)) {
    return parseV2(bytes, options.maxV2Bytes ?? PROXY_V2_DEFAULT_MAX_BYTES);
  }
  if (startsLike(bytes, V1_PREFIX)) return parseV1(bytes);
  return error("not a PROXY protocol header");
}

function parseV1(bytes: Uint8Array): ProxyParseResult {
  const limit = Math.min(bytes.length, PROXY_V1_MAX_BYTES);
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const b = bytes[i]!;
    if (b === LF) return error("v1: LF without CR");
    if (b === CR) {
      if (i + 1 >= bytes.length) {
        if (i + 1 >= PROXY_V1_MAX_BYTES) return error("v1: no CRLF within 107 bytes");
        return { kind: "incomplete" };
      }
      if (bytes[i + 1] !== LF) return error("v1: CR without LF");
      end = i;
      break;
    }
    if (b < 0x20 || b > 0x7e) return error("v1: not US-ASCII text");
  }
  if (end < 0) {
    return bytes.length >= PROXY_V1_MAX_BYTES
      ? error("v1: no CRLF within 107 bytes")
      : { kind: "incomplete" };
  }
  const line = String.fromCharCode(...bytes.subarray(0, end));
  const length = end + 2;
  const words = line.split(" ");
  const proto = words[1];
  if (proto === "UNKNOWN") {
    return { kind: "header", header: { version: 1, command: "unknown" }, length };
  }
  if (proto !== "TCP4" && proto !== "TCP6") {
    return error("v1: protocol is not TCP4, TCP6 or UNKNOWN");
  }
  if (words.length !== 6) return error("v1: expected 4 fields after the protocol");
  const parse = proto === "TCP4" ? parseIpv4 : parseIpv6;
  const src = parse(words[2]!);
  const dst = parse(words[3]!);
  if (src === undefined || dst === undefined) {
    return error(`v1: addresses are not ${proto === "TCP4" ? "IPv4" : "IPv6"}`);
  }
  const sport = port(words[4]!);
  const dport = port(words[5]!);
  if (sport === undefined || dport === undefined) return error("v1: port is not 0..65535");
  return {
    kind: "header",
    header: {
      version: 1,
      command: "proxy",
      family: proto === "TCP4" ? "tcp4" : "tcp6",
      source: { ip: formatIp(src), port: sport },
      destination: { ip: formatIp(dst), port: dport },
    },
    length,
  };
}

function port(text: string): number | undefined {
  if (!PORT.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function parseV2(bytes: Uint8Array, maxBytes: number): ProxyParseResult {
  if (bytes.length < 16) return { kind: "incomplete" };
  const verCmd = bytes[12]!;
  if (verCmd >> 4 !== 2) return error("v2: version is not 2");
  const command = verCmd & 0x0f;
  if (command > 1) return error("v2: command is neither LOCAL nor PROXY");
  const famProto = bytes[13]!;
  if (famProto >> 4 > 3) return error("v2: unknown address family");
  if ((famProto & 0x0f) > 2) return error("v2: unknown transport protocol");
  const bodyLength = (bytes[14]! << 8) | bytes[15]!;
  const length = 16 + bodyLength;
  if (length > maxBytes) return error(`v2: header of ${length} bytes, longer than ${maxBytes}`);
  if (bytes.length < length) return { kind: "incomplete" };
  // LOCAL: the proxy's own connection; the block, whatever it holds, is skipped.
  if (command === 0) return { kind: "header", header: { version: 2, command: "local" }, length };
  const body = bytes.subarray(16, length);
  if (famProto === 0x11 || famProto === 0x21) {
    const size = famProto === 0x11 ? 4 : 16;
    if (body.length < 2 * size + 4) return error("v2: address block shorter than its family");
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    return {
      kind: "header",
      header: {
        version: 2,
        command: "proxy",
        family: size === 4 ? "tcp4" : "tcp6",
        source: { ip: formatIp(body.slice(0, size)), port: view.getUint16(2 * size) },
        destination: {
          ip: formatIp(body.slice(size, 2 * size)),
          port: view.getUint16(2 * size + 2),
        },
      },
      length,
    };
  }
  // UNSPEC, UDP, UNIX: nothing a TCP service can use; the socket's addresses apply.
  return { kind: "header", header: { version: 2, command: "unknown" }, length };
}

/**
 * Encode a version 1 header.
 *
 * @example Usage
 * ```ts
 * import { encodeProxyV1 } from "./proxy_header.ts";
 * import assert from "node:assert/strict";
 *
 * const line = encodeProxyV1({
 *   version: 1, command: "proxy", family: "tcp4",
 *   source: { ip: "192.0.2.7", port: 51000 }, destination: { ip: "10.0.0.1", port: 3333 },
 * });
 * assert.equal(new TextDecoder().decode(line), "PROXY TCP4 192.0.2.7 10.0.0.1 51000 3333\r\n");
 * ```
 *
 * @param header The header (`local` is sent as `UNKNOWN`).
 * @returns The line's bytes.
 */
export function encodeProxyV1(header: ProxyHeader): Uint8Array {
  if (header.command !== "proxy") return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  const proto = header.family === "tcp4" ? "TCP4" : "TCP6";
  const { source: s, destination: d } = header;
  return new TextEncoder().encode(`PROXY ${proto} ${s.ip} ${d.ip} ${s.port} ${d.port}\r\n`);
}

/** Options for {@linkcode encodeProxyV2}. */
export interface EncodeProxyV2Options {
  /** TLVs appended after the addresses (type and value). @default [] */
  tlvs?: { type: number; value: Uint8Array }[];
}

/**
 * Encode a version 2 header.
 *
 * @example Usage
 * ```ts
 * import { encodeProxyV2, parseProxyHeader } from "./proxy_header.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeProxyV2({
 *   version: 2, command: "proxy", family: "tcp6",
 *   source: { ip: "2001:db8::7", port: 51000 }, destination: { ip: "2001:db8::1", port: 3333 },
 * });
 * assert.equal(bytes.length, 16 + 36);
 * assert.equal(parseProxyHeader(bytes).kind, "header");
 * ```
 *
 * @param header The header.
 * @param options TLVs to add.
 * @returns The header's bytes.
 * @throws {RangeError} When an address does not fit the family.
 */
export function encodeProxyV2(header: ProxyHeader, options: EncodeProxyV2Options = {}): Uint8Array {
  let block = new Uint8Array(0);
  let famProto = 0x00;
  if (header.command === "proxy") {
    const v4 = header.family === "tcp4";
    const parse = v4 ? parseIpv4 : parseIpv6;
    const src = parse(header.source.ip);
    const dst = parse(header.destination.ip);
    if (src === undefined || dst === undefined) {
      throw new RangeError(`Cannot encode PROXY v2 header: addresses are not ${header.family}`);
    }
    famProto = v4 ? 0x11 : 0x21;
    block = new Uint8Array(src.length * 2 + 4);
    block.set(src, 0);
    block.set(dst, src.length);
    const view = new DataView(block.buffer);
    view.setUint16(src.length * 2, header.source.port);
    view.setUint16(src.length * 2 + 2, header.destination.port);
  }
  const tlvs = options.tlvs ?? [];
  const tlvBytes = tlvs.reduce((n, t) => n + 3 + t.value.length, 0);
  const out = new Uint8Array(16 + block.length + tlvBytes);
  out.set(PROXY_V2_SIGNATURE, 0);
  out[12] = 0x20 | (header.command === "proxy" ? 1 : 0);
  out[13] = famProto;
  const bodyLength = block.length + tlvBytes;
  if (bodyLength > 0xffff) throw new RangeError("Cannot encode PROXY v2 header: too long");
  out[14] = bodyLength >> 8;
  out[15] = bodyLength & 0xff;
  out.set(block, 16);
  let off = 16 + block.length;
  for (const t of tlvs) {
    out[off] = t.type;
    out[off + 1] = t.value.length >> 8;
    out[off + 2] = t.value.length & 0xff;
    out.set(t.value, off + 3);
    off += 3 + t.value.length;
  }
  return out;
}
