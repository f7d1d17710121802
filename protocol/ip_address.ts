/**
 * IP address text and bytes: strict parsing of IPv4 dotted quads (no leading zeros, as the
 * PROXY protocol requires) and IPv6 groups (one `::` at most, an IPv4 tail allowed), and the
 * canonical text form (RFC 5952: lower case, longest zero run compressed; IPv4-mapped
 * addresses as `::ffff:a.b.c.d`, the form Deno reports for them).
 *
 * @module
 */

const V4_PART = /^(0|[1-9]\d{0,2})$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parse an IPv4 address in dotted decimal (exactly four numbers 0..255, no leading zeros).
 *
 * @example Usage
 * ```ts
 * import { parseIpv4 } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseIpv4("10.0.0.1"), new Uint8Array([10, 0, 0, 1]));
 * assert.equal(parseIpv4("10.0.0.01"), undefined);
 * ```
 *
 * @param text The address.
 * @returns Four bytes, or `undefined` when the text is not an IPv4 address.
 */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!V4_PART.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/**
 * Parse an IPv6 address (groups of 1 to 4 hex digits, one `::` at most, optionally ending in
 * a dotted IPv4 address; no zone, no brackets).
 *
 * @example Usage
 * ```ts
 * import { parseIpv6 } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseIpv6("2001:db8::1")?.[15], 1);
 * assert.equal(parseIpv6("1::2::3"), undefined);
 * ```
 *
 * @param text The address.
 * @returns Sixteen bytes, or `undefined` when the text is not an IPv6 address.
 */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45 || text.length < 2) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (V6_GROUP.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  // An IPv4 tail only at the very end.
  if (halves.length === 2 && halves[0]!.includes(".")) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/**
 * Parse an IPv4 or IPv6 address (IPv6 optionally in brackets).
 *
 * @example Usage
 * ```ts
 * import { parseIp } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseIp("192.0.2.7")?.length, 4);
 * assert.equal(parseIp("[::1]")?.length, 16);
 * assert.equal(parseIp("example.com"), undefined);
 * ```
 *
 * @param text The address.
 * @returns 4 or 16 bytes, or `undefined`.
 */
export function parseIp(text: string): Uint8Array | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  return bare.includes(":") ? parseIpv6(bare) : parseIpv4(bare);
}

/**
 * The canonical text of an address: dotted decimal for 4 bytes; RFC 5952 for 16 bytes, with
 * IPv4-mapped addresses as `::ffff:a.b.c.d`.
 *
 * @example Usage
 * ```ts
 * import { formatIp, parseIp } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatIp(parseIp("2001:DB8:0:0:0:0:0:1")!), "2001:db8::1");
 * assert.equal(formatIp(parseIp("::ffff:10.1.2.3")!), "::ffff:10.1.2.3");
 * assert.equal(formatIp(new Uint8Array([127, 0, 0, 1])), "127.0.0.1");
 * ```
 *
 * @param bytes 4 or 16 bytes.
 * @returns The address text.
 * @throws {RangeError} When `bytes` is neither 4 nor 16 bytes long.
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) throw new RangeError(`Cannot format IP: ${bytes.length} bytes`);
  const v4 = ipv4OfMapped(bytes);
  if (v4 !== undefined) return `::ffff:${v4.join(".")}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // The longest run of two or more zero groups (the first one on a tie) becomes "::".
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/**
 * The address a pool keys a peer by (bans, per-IP caps, logs): an IPv4-mapped IPv6 address, as a
 * dual-stack listener (`[::]:3333`) reports its IPv4 clients, becomes that IPv4 address, so that
 * `vbkpool admin ban 192.0.2.7` matches the miner and one client is one key on every port; other
 * addresses in their canonical text (RFC 5952 for IPv6). Text that is not an address (a zone id,
 * a Unix socket) is returned as it is.
 *
 * @example Usage
 * ```ts
 * import { peerIp } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(peerIp("::ffff:192.0.2.7"), "192.0.2.7");
 * assert.equal(peerIp("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
 * assert.equal(peerIp("192.0.2.7"), "192.0.2.7");
 * assert.equal(peerIp("fe80::1%eth0"), "fe80::1%eth0");
 * ```
 *
 * @param text The address as a socket or an operator gave it.
 * @returns The key.
 */
export function peerIp(text: string): string {
  // The common case, an IPv4 peer on an IPv4 listener, costs one test.
  if (!text.includes(":")) return text;
  const bytes = parseIpv6(text);
  if (bytes === undefined) return text;
  return ipv4OfMapped(bytes)?.join(".") ?? formatIp(bytes);
}

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
 *
 * @example Usage
 * ```ts
 * import { ipv4OfMapped, parseIp } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(ipv4OfMapped(parseIp("::ffff:10.1.2.3")!), new Uint8Array([10, 1, 2, 3]));
 * assert.equal(ipv4OfMapped(parseIp("2001:db8::1")!), undefined);
 * ```
 *
 * @param bytes 16 bytes (other lengths give undefined).
 * @returns Its last 4 bytes when it is IPv4-mapped, else undefined.
 */
export function ipv4OfMapped(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) return undefined;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return undefined;
  return bytes.subarray(12);
}

/**
 * The IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) of an IPv4 address.
 *
 * @example Usage
 * ```ts
 * import { formatIp, mappedIpv4 } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatIp(mappedIpv4(new Uint8Array([10, 1, 2, 3]))), "::ffff:10.1.2.3");
 * ```
 *
 * @param bytes 4 bytes.
 * @returns 16 bytes.
 */
export function mappedIpv4(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(bytes.subarray(0, 4), 12);
  return out;
}
