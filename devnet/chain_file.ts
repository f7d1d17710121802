/**
 * Devnet chain persistence: a JSON-lines file whose first line holds the consensus parameters
 * and every further line one block (header hex, finder, source, time), appended as blocks are
 * accepted. Loading replays every block through full validation, so a restart continues the
 * same chain with the same orphans.
 *
 * @module
 */

import { bytesToHex, hexToBytes, isHex } from "../hash/hex.ts";
import type { VblakeKernel } from "../hash/kernel.ts";
import { type BlockSource, type ChainParams, type DevnetBlock, DevnetChain } from "./chain.ts";

const FORMAT = "vbkpool-devnet-chain";
const SOURCES: readonly BlockSource[] = ["genesis", "pool", "rival"];

/**
 * The first line of a chain file.
 *
 * @example Usage
 * ```ts
 * import { chainFileHeader } from "./chain_file.ts";
 * import assert from "node:assert/strict";
 *
 * const line = chainFileHeader({ blockTime: 10, window: 100, minDifficulty: 4_000_000n });
 * assert.equal(JSON.parse(line).minDifficulty, "4000000");
 * ```
 *
 * @param params Consensus parameters.
 * @returns One JSON line without "\n".
 */
export function chainFileHeader(params: ChainParams): string {
  return JSON.stringify({
    format: FORMAT,
    version: 1,
    blockTime: params.blockTime,
    window: params.window,
    minDifficulty: params.minDifficulty.toString(),
  });
}

/**
 * One block as a chain-file line.
 *
 * @param block The block.
 * @returns One JSON line without "\n".
 */
export function chainFileRecord(block: DevnetBlock): string {
  return JSON.stringify({
    height: block.height,
    hash: block.hashHex,
    header: bytesToHex(block.header, { upper: true }),
    finder: block.finder,
    source: block.source,
    receivedAt: block.receivedAt,
  });
}

function fail(path: string, line: number, why: string): never {
  throw new SyntaxError(`Cannot load chain file ${path}: line ${line}: ${why}`);
}

function parseParams(path: string, text: string | undefined): ChainParams {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text ?? "");
  } catch {
    fail(path, 1, "not JSON");
  }
  if (doc?.format !== FORMAT || doc.version !== 1) fail(path, 1, `not a ${FORMAT} v1 file`);
  const { blockTime, window, minDifficulty } = doc;
  if (!Number.isSafeInteger(blockTime) || (blockTime as number) < 1) {
    fail(path, 1, "bad blockTime");
  }
  if (!Number.isSafeInteger(window) || (window as number) < 2) fail(path, 1, "bad window");
  if (typeof minDifficulty !== "string" || !/^[1-9]\d*$/.test(minDifficulty)) {
    fail(path, 1, "bad minDifficulty");
  }
  return {
    blockTime: blockTime as number,
    window: window as number,
    minDifficulty: BigInt(minDifficulty),
  };
}

interface ChainRecord {
  header: Uint8Array;
  finder: string;
  source: BlockSource;
  receivedAt: number;
}

function parseRecord(path: string, line: number, text: string): ChainRecord {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    fail(path, line, "not JSON");
  }
  if (typeof doc !== "object" || doc === null) fail(path, line, "not an object");
  if (!isHex(doc.header, 64)) fail(path, line, "header must be 128 hex chars");
  if (typeof doc.finder !== "string") fail(path, line, "finder must be a string");
  if (!SOURCES.includes(doc.source as BlockSource)) fail(path, line, "bad source");
  const receivedAt = Number.isSafeInteger(doc.receivedAt) ? doc.receivedAt as number : 0;
  return {
    header: hexToBytes(doc.header as string),
    finder: doc.finder,
    source: doc.source as BlockSource,
    receivedAt,
  };
}

/**
 * Load a chain file, validating every block.
 *
 * @param path The file.
 * @param options The hasher.
 * @returns The chain, or `undefined` when the file does not exist or is empty.
 * @throws {SyntaxError} Naming the line, when a line is malformed or a block is invalid.
 * @throws {Error} When the file cannot be read.
 */
export async function loadChainFile(
  path: string,
  options: { kernel: VblakeKernel },
): Promise<DevnetChain | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Cannot load chain file ${path}: ${(err as Error).message}`);
  }
  const lines = text.split("\n");
  if (lines.every((l) => l.trim() === "")) return undefined;
  const params = parseParams(path, lines[0]);
  let chain: DevnetChain | undefined;
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    const record = parseRecord(path, i + 1, raw);
    if (chain === undefined) {
      try {
        chain = new DevnetChain(record.header, params, options);
      } catch (err) {
        fail(path, i + 1, (err as Error).message);
      }
      continue;
    }
    const added = chain.addBlock(record.header, record);
    if (!added.ok && added.reason !== "duplicate block") fail(path, i + 1, added.reason);
  }
  if (chain === undefined) fail(path, 2, "no genesis block");
  return chain;
}

/**
 * Appends blocks to a chain file (creating it with its parameter line first).
 *
 * @example Usage
 * ```ts
 * import { ChainFileWriter } from "./chain_file.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.remove(path);
 * const writer = new ChainFileWriter(path, { blockTime: 10, window: 100, minDifficulty: 5n });
 * assert.equal(typeof writer.path, "string");
 * ```
 */
export class ChainFileWriter {
  /** The file. */
  readonly path: string;
  #params: ChainParams;
  #started = false;

  /**
   * @param path The file (created when missing).
   * @param params Parameters written on the first line of a new file.
   */
  constructor(path: string, params: ChainParams) {
    this.path = path;
    this.#params = params;
  }

  /**
   * Append one block (synchronously, so lines keep the order blocks were accepted in).
   *
   * @param block The block.
   * @throws {Error} When the file cannot be written.
   */
  append(block: DevnetBlock): void {
    let text = chainFileRecord(block) + "\n";
    if (!this.#started) {
      this.#started = true;
      let size = 0;
      try {
        size = Deno.statSync(this.path).size;
      } catch {
        size = 0;
      }
      if (size === 0) text = chainFileHeader(this.#params) + "\n" + text;
    }
    Deno.writeTextFileSync(this.path, text, { append: true });
  }
}
