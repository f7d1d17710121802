/**
 * A list of IP addresses and CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`) and the
 * test whether an address is in it; IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as a
 * dual-stack listener reports IPv4 peers) match the IPv4 entries.
 *
 * @module
 */
import { ipv4OfMapped, mappedIpv4, parseIp } from "../protocol/ip_address.ts";

interface Block {
  bytes: Uint8Array;
  bits: number;
}

/** A parsed list of addresses and CIDR blocks. Create with {@linkcode AddressList.parse}. */
export class AddressList {
  #blocks: Block[];

  private constructor(blocks: Block[]) {
    this.#blocks = blocks;
  }

  /**
   * Parse entries of the form `ADDRESS` or `ADDRESS/BITS`.
   *
   * @example Usage
   * ```ts
   * import { AddressList } from "./address_list.ts";
   * import assert from "node:assert/strict";
   *
   * const list = AddressList.parse(["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]);
   * assert.equal(list.has("10.1.2.3"), true);
   * assert.equal(list.has("::ffff:127.0.0.1"), true);
   * assert.equal(list.has("2001:db9::1"), false);
   * assert.throws(() => AddressList.parse(["10.0.0.0/33"]), SyntaxError);
   * ```
   *
   * @param entries The entries.
   * @returns The list.
   * @throws {SyntaxError} When an entry is not an address or a CIDR block.
   */
  static parse(entries: readonly string[]): AddressList {
    return new AddressList(entries.map(parseBlock));
  }

  /** Whether the list is empty. */
  get empty(): boolean {
    return this.#blocks.length === 0;
  }

  /**
   * Whether an address is in the list.
   *
   * @param ip Address text (as `Deno.NetAddr.hostname` gives it).
   * @returns `false` for text that is not an address.
   */
  has(ip: string): boolean {
    const bytes = parseIp(ip);
    if (bytes === undefined) return false;
    // One address, two spellings: a mapped peer against IPv4 entries, and an IPv4 peer (peers
    // are keyed as IPv4, see `peerIp`) against IPv4-mapped IPv6 entries and blocks.
    const other = bytes.length === 16 ? ipv4OfMapped(bytes) : mappedIpv4(bytes);
    for (const block of this.#blocks) {
      const candidate = block.bytes.length === bytes.length ? bytes : other;
      if (candidate !== undefined && inBlock(candidate, block)) return true;
    }
    return false;
  }
}

/**
 * Check a list of addresses and CIDR blocks (for configuration checks).
 *
 * @example Usage
 * ```ts
 * import { checkAddressList } from "./address_list.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkAddressList(["192.0.2.0/24"]), undefined);
 * assert.match(checkAddressList(["192.0.2.0/24", "proxy.example"])!, /not "proxy\.example"/);
 * ```
 *
 * @param entries The entries.
 * @returns What was expected, naming the first bad entry; `undefined` when all are good.
 */
export function checkAddressList(entries: readonly string[]): string | undefined {
  for (const entry of entries) {
    try {
      parseBlock(entry);
    } catch {
      return `IP addresses or CIDR blocks such as 10.0.0.0/8 or 2001:db8::/32 (not ${
        JSON.stringify(entry)
      })`;
    }
  }
  return undefined;
}

function parseBlock(entry: string): Block {
  const text = entry.trim();
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = parseIp(addr);
  const max = bytes === undefined ? 0 : bytes.length * 8;
  const bits = slash < 0
    ? max
    : /^\d{1,3}$/.test(text.slice(slash + 1))
    ? Number(text.slice(slash + 1))
    : NaN;
  if (bytes === undefined || !(bits >= 0 && bits <= max)) {
    throw new SyntaxError(
      `Cannot parse address ${JSON.stringify(entry)}: expected an IP address or a CIDR block ` +
        `such as 10.0.0.0/8 or 2001:db8::/32`,
    );
  }
  return { bytes, bits };
}

function inBlock(bytes: Uint8Array, block: Block): boolean {
  let bits = block.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (block.bytes[i]! & mask)) return false;
  }
  return true;
}
