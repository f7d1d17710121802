/**
 * Chain-file verification: each header's proof of work (vBlake(header) < target of its own
 * bits) and each header's link to a parent one height lower. Chain files hold one 64-byte
 * header per line in hex (spec §5.3–5.4); a height may appear twice where the chain forked.
 *
 * @module
 */

import { decodeBits, MAX_TARGET } from "./difficulty.ts";
import { HEADER_SIZE } from "./header.ts";
import { bytesToHex, hexToBytes, isHex } from "./hex.ts";
import { vblake } from "./vblake.ts";

/** One header that failed a check. */
export interface ChainFailure {
  /** Position in the input (0-based; line order for parsed files). */
  index: number;
  /** The header's height, or `null` when the header could not be read. */
  height: number | null;
  /** What went wrong. */
  reason: string;
}

/** The result of {@linkcode verifyChain}. */
export interface ChainReport {
  /** Headers given. */
  count: number;
  /** Height of the first readable header, or `null` when there is none. */
  firstHeight: number | null;
  /** Height of the last readable header, or `null` when there is none. */
  lastHeight: number | null;
  /** Heights that appear more than once (forks). */
  forkHeights: number;
  /** Every header is 64 bytes, has valid bits and a hash below its target. */
  powOk: boolean;
  /** Headers failing PoW, in input order. */
  powFailures: ChainFailure[];
  /** Headers whose link was checked (all but those at the first readable height). */
  linksChecked: number;
  /** Every checked header links to a header one height lower. */
  linksOk: boolean;
  /** Headers failing the link check, in input order. */
  linkFailures: ChainFailure[];
  /** `powOk && linksOk`. */
  ok: boolean;
}

/** Options for {@linkcode verifyChain}. */
export interface VerifyChainOptions {
  /** The hasher to use, e.g. a WebAssembly kernel from `kernel.ts`. @default the reference */
  kernel?: { hash(header: Uint8Array): Uint8Array };
}

interface Entry {
  index: number;
  header: Uint8Array;
  height: number;
}

/**
 * Verify proof of work and previous-block links of a list of headers. The previous-hash
 * field (bytes 6..17) of every header not at the first header's height must equal the last
 * 12 bytes of the hash of SOME header at height − 1 in the list.
 *
 * @example Usage
 * ```ts
 * import { verifyChain } from "./chain.ts";
 * import { hexToBytes } from "./hex.ts";
 * import assert from "node:assert/strict";
 *
 * const report = verifyChain([
 *   hexToBytes(
 *     "000000000002000000000000000000000000000000000000000000000000000000000000A2EA7C29EF7915DB412EBD4012A9C6175D9E35480405F5E100DA4579",
 *   ),
 *   hexToBytes(
 *     "00000001000279A0615DC3D68032CE2488230000000000000000000000000000000000002B4D0BD3172056C85E8184F4B969E5905D9E4B9A0405F5E107D41FFD",
 *   ),
 * ]);
 * assert.equal(report.ok, true);
 * assert.equal(report.linksChecked, 1);
 * ```
 *
 * @param headers 64-byte headers (other lengths are reported as PoW failures).
 * @param options The hasher.
 * @returns The report; the function itself only throws for a non-array input.
 * @throws {TypeError} When `headers` is not an array.
 */
export function verifyChain(headers: Uint8Array[], options: VerifyChainOptions = {}): ChainReport {
  if (!Array.isArray(headers)) throw new TypeError("Cannot verify chain: headers is not an array");
  const kernel = options.kernel;
  const hash = kernel ? (h: Uint8Array) => kernel.hash(h) : vblake;
  const powFailures: ChainFailure[] = [];
  const entries: Entry[] = [];
  const tails = new Map<number, Set<string>>();
  let firstHeight: number | null = null;
  let lastHeight: number | null = null;
  let forkHeights = 0;

  const seen = new Map<number, number>();
  for (let index = 0; index < headers.length; index++) {
    const header: unknown = headers[index];
    if (!(header instanceof Uint8Array) || header.length !== HEADER_SIZE) {
      const what = header instanceof Uint8Array ? `${header.length} bytes` : "not a Uint8Array";
      powFailures.push({ index, height: null, reason: `not a 64-byte header (${what})` });
      continue;
    }
    const view = new DataView(header.buffer, header.byteOffset, HEADER_SIZE);
    const height = view.getInt32(0);
    if (firstHeight === null) firstHeight = height;
    lastHeight = height;
    const times = (seen.get(height) ?? 0) + 1;
    seen.set(height, times);
    if (times === 2) forkHeights++;
    const digest = hash(header);
    const set = tails.get(height) ?? new Set<string>();
    tails.set(height, set);
    set.add(bytesToHex(digest.subarray(12)));
    entries.push({ index, header, height });

    const bits = view.getUint32(56);
    let difficulty: bigint;
    try {
      difficulty = decodeBits(bits);
    } catch (error) {
      powFailures.push({ index, height, reason: `invalid bits: ${(error as Error).message}` });
      continue;
    }
    let value = 0n;
    for (const byte of digest) value = (value << 8n) | BigInt(byte);
    if (!(value < MAX_TARGET / difficulty)) {
      powFailures.push({ index, height, reason: `hash ${bytesToHex(digest)} is not below target` });
    }
  }

  const linkFailures: ChainFailure[] = [];
  let linksChecked = 0;
  for (const { index, header, height } of entries) {
    if (height === firstHeight) continue;
    linksChecked++;
    const parents = tails.get(height - 1);
    if (!parents) {
      linkFailures.push({ index, height, reason: `no header at height ${height - 1}` });
    } else if (!parents.has(bytesToHex(header.subarray(6, 18)))) {
      linkFailures.push({
        index,
        height,
        reason: `previous hash matches no header at height ${height - 1}`,
      });
    }
  }

  const powOk = powFailures.length === 0;
  const linksOk = linkFailures.length === 0;
  return {
    count: headers.length,
    firstHeight,
    lastHeight,
    forkHeights,
    powOk,
    powFailures,
    linksChecked,
    linksOk,
    linkFailures,
    ok: powOk && linksOk,
  };
}

/**
 * Parse chain-file text: one 128-hex-digit header per line; blank lines (and surrounding
 * whitespace, including `\r`) are ignored.
 *
 * @example Usage
 * ```ts
 * import { parseChainText } from "./chain.ts";
 * import assert from "node:assert/strict";
 *
 * const headers = parseChainText(`${"00".repeat(64)}\n\n${"ab".repeat(64)}\n`);
 * assert.equal(headers.length, 2);
 * assert.throws(() => parseChainText("00\n"), SyntaxError);
 * ```
 *
 * @param text The file's text.
 * @returns The headers, in line order.
 * @throws {TypeError} When `text` is not a string.
 * @throws {SyntaxError} Naming the first bad line (1-based).
 */
export function parseChainText(text: string): Uint8Array[] {
  if (typeof text !== "string") throw new TypeError("Cannot parse chain text: not a string");
  const headers: Uint8Array[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    if (!isHex(line, HEADER_SIZE)) {
      throw new SyntaxError(
        `Cannot parse chain text: line ${i + 1} is not a 128-digit hex header`,
      );
    }
    headers.push(hexToBytes(line));
  }
  return headers;
}
