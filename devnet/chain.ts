/**
 * The devnet's block tree: real 64-byte vBlake headers, validated on entry (link, height,
 * difficulty bits from the LWMA, keystone fields, proof of work), with the most-work branch as
 * the main chain and every orphaned block kept and queryable.
 *
 * @module
 */

import { decodeBits, difficultyToTarget, encodeBits, hashToBigInt } from "../hash/difficulty.ts";
import { decodeHeader, HEADER_SIZE, keystoneHeights } from "../hash/header.ts";
import { bytesToHex, hexToBytes, isHex } from "../hash/hex.ts";
import type { VblakeKernel } from "../hash/kernel.ts";
import { lwmaNextDifficulty } from "./difficulty.ts";
import { grindHeader } from "./_grind.ts";

/** Who produced a block. */
export type BlockSource = "genesis" | "pool" | "rival";

/** One block of the devnet (immutable). */
export interface DevnetBlock {
  /** Height (genesis is 0). */
  readonly height: number;
  /** Full 24-byte vBlake hash. */
  readonly hash: Uint8Array;
  /** The hash as upper-case hex (NodeCore's style). */
  readonly hashHex: string;
  /** The 64 header bytes. */
  readonly header: Uint8Array;
  /** Hash of the parent block (upper-case hex); `undefined` for genesis. */
  readonly parentHash: string | undefined;
  /** Header timestamp, Unix seconds. */
  readonly timestamp: number;
  /** Compact difficulty bits. */
  readonly bits: number;
  /** The decoded difficulty. */
  readonly difficulty: bigint;
  /** Sum of difficulties from genesis to this block. */
  readonly chainWork: bigint;
  /** The finder's address (a pool block), or a label ("rival", "genesis"). */
  readonly finder: string;
  /** Who produced it. */
  readonly source: BlockSource;
  /** When the devnet accepted it (ms since the epoch). */
  readonly receivedAt: number;
}

/** Consensus parameters of a devnet chain. */
export interface ChainParams {
  /** Target block time T in seconds. */
  blockTime: number;
  /** LWMA window N. */
  window: number;
  /** Difficulty floor (also the genesis difficulty). */
  minDifficulty: bigint;
}

/** Who found a block being added. */
export interface BlockOrigin {
  /** The finder's address or a label. */
  finder: string;
  /** Who produced it. */
  source: BlockSource;
  /** Acceptance time (ms). @default Date.now() */
  receivedAt?: number;
}

/** The outcome of {@linkcode DevnetChain.addBlock}. */
export type AddBlockResult =
  | { ok: false; reason: string }
  | {
    ok: true;
    /** The new block. */
    block: DevnetBlock;
    /** `extended` the tip, `reorganized` onto another branch, or stored on a `side` branch. */
    change: "extended" | "reorganized" | "side";
    /** Blocks that left the main chain (reorganisation), highest first. */
    orphaned: DevnetBlock[];
  };

/** The header fields of a child of some block, everything but merkle root, time and nonce. */
export interface ChildTemplate {
  /** The parent. */
  parent: DevnetBlock;
  /** Child height. */
  height: number;
  /** Full hash of the parent. */
  previousBlockHash: Uint8Array;
  /** Full hash of the previous keystone (zeros when none). */
  previousKeystoneHash: Uint8Array;
  /** Full hash of the second previous keystone (zeros when none). */
  secondKeystoneHash: Uint8Array;
  /** Required bits. */
  bits: number;
  /** Decoded difficulty. */
  difficulty: bigint;
  /** Network target. */
  target: bigint;
}

/** Options for {@linkcode DevnetChain}. */
export interface DevnetChainOptions {
  /** Hasher used to validate blocks. */
  kernel: VblakeKernel;
}

const ZERO24 = new Uint8Array(24);

function hexOf(hash: Uint8Array | string): string {
  return typeof hash === "string" ? hash.toUpperCase() : bytesToHex(hash, { upper: true });
}

/**
 * The devnet block tree.
 *
 * @example Usage
 * ```ts
 * import { createGenesis, DevnetChain } from "./chain.ts";
 * import { createBestKernel } from "../hash/kernel.ts";
 * import assert from "node:assert/strict";
 *
 * const kernel = createBestKernel();
 * const params = { blockTime: 10, window: 100, minDifficulty: 100n };
 * const genesis = await createGenesis(params, { kernel, timestamp: 1_700_000_000 });
 * const chain = new DevnetChain(genesis, params, { kernel });
 * assert.equal(chain.height, 0);
 * assert.equal(chain.tip.source, "genesis");
 * assert.equal(chain.childTemplate().height, 1);
 * ```
 */
export class DevnetChain {
  /** Consensus parameters. */
  readonly params: Readonly<ChainParams>;
  #kernel: VblakeKernel;
  #byHash = new Map<string, DevnetBlock>();
  #byTail = new Map<string, DevnetBlock>();
  #main: DevnetBlock[] = [];
  #order: DevnetBlock[] = [];
  #nextBits = new Map<string, number>();

  /**
   * @param genesis The genesis header (height 0, floor bits, valid proof of work).
   * @param params Consensus parameters.
   * @param options The hasher.
   * @throws {RangeError} When the genesis header is not valid for `params`.
   */
  constructor(genesis: Uint8Array, params: ChainParams, options: DevnetChainOptions) {
    this.params = { ...params };
    this.#kernel = options.kernel;
    const problem = checkGenesis(genesis, params, options.kernel);
    if (problem !== undefined) throw new RangeError(`Cannot create devnet chain: ${problem}`);
    const hash = this.#kernel.hash(genesis);
    const difficulty = decodeBits(encodeBits(params.minDifficulty));
    const block = makeBlock(genesis, hash, undefined, difficulty, difficulty, {
      finder: "genesis",
      source: "genesis",
    });
    this.#store(block);
    this.#main.push(block);
  }

  /** The main chain's newest block. */
  get tip(): DevnetBlock {
    return this.#main[this.#main.length - 1]!;
  }

  /** Height of the tip. */
  get height(): number {
    return this.#main.length - 1;
  }

  /** The genesis block. */
  get genesis(): DevnetBlock {
    return this.#main[0]!;
  }

  /** Every known block (main chain and orphans), in the order they were added. */
  get blocks(): readonly DevnetBlock[] {
    return this.#order;
  }

  /**
   * The main-chain block at a height.
   *
   * @param height A height.
   * @returns The block, or `undefined` above the tip or for a bad height.
   */
  blockAt(height: number): DevnetBlock | undefined {
    return Number.isInteger(height) && height >= 0 ? this.#main[height] : undefined;
  }

  /**
   * Any known block by its hash.
   *
   * @param hash 24 bytes or 48 hex chars (either case).
   * @returns The block, or `undefined`.
   */
  blockByHash(hash: Uint8Array | string): DevnetBlock | undefined {
    if (typeof hash === "string" && !isHex(hash, 24)) return undefined;
    return this.#byHash.get(hexOf(hash));
  }

  /**
   * Whether a block is in the main chain.
   *
   * @param hash 24 bytes or 48 hex chars.
   * @returns `false` for orphans and unknown hashes.
   */
  isMainChain(hash: Uint8Array | string): boolean {
    const block = this.blockByHash(hash);
    return block !== undefined && this.#main[block.height] === block;
  }

  /**
   * Confirmations of a block: 1 for the tip, 0 for orphans and unknown hashes.
   *
   * @param hash 24 bytes or 48 hex chars.
   * @returns The confirmation count.
   */
  confirmations(hash: Uint8Array | string): number {
    const block = this.blockByHash(hash);
    if (block === undefined || this.#main[block.height] !== block) return 0;
    return this.height - block.height + 1;
  }

  /**
   * Known blocks that are not in the main chain.
   *
   * @returns Orphans, in the order they were added.
   */
  orphans(): DevnetBlock[] {
    return this.#order.filter((b) => this.#main[b.height] !== b);
  }

  /**
   * The main chain from genesis to the tip.
   *
   * @returns Blocks, lowest first.
   */
  mainChain(): DevnetBlock[] {
    return [...this.#main];
  }

  /**
   * What a child of `parent` must carry: height, full previous and keystone hashes, bits.
   *
   * @param parent A known block. @default the tip
   * @returns The child's template.
   */
  childTemplate(parent: DevnetBlock = this.tip): ChildTemplate {
    const height = parent.height + 1;
    const ks = keystoneHeights(height);
    const bits = this.#bitsAfter(parent);
    const difficulty = decodeBits(bits);
    return {
      parent,
      height,
      previousBlockHash: parent.hash,
      previousKeystoneHash: ks.first === null ? ZERO24 : this.#ancestor(parent, ks.first).hash,
      secondKeystoneHash: ks.second === null ? ZERO24 : this.#ancestor(parent, ks.second).hash,
      bits,
      difficulty,
      target: difficultyToTarget(difficulty),
    };
  }

  /**
   * Validate and add a header. The most-work branch becomes the main chain (ties keep the
   * current tip).
   *
   * @param header 64 bytes.
   * @param origin Finder and source.
   * @returns The outcome, with a reason when rejected.
   */
  addBlock(header: Uint8Array, origin: BlockOrigin): AddBlockResult {
    if (!(header instanceof Uint8Array) || header.length !== HEADER_SIZE) {
      return { ok: false, reason: "not a 64-byte header" };
    }
    const hash = this.#kernel.hash(header);
    const hashHex = hexOf(hash);
    if (this.#byHash.has(hashHex)) return { ok: false, reason: "duplicate block" };
    if (header[0]! >= 0x80) return { ok: false, reason: "negative height" };
    const fields = decodeHeader(header);
    const parent = this.#byTail.get(hexOf(fields.previousHash));
    if (parent === undefined) return { ok: false, reason: "unknown previous block" };
    if (fields.height !== parent.height + 1) {
      return { ok: false, reason: `wrong height ${fields.height} (expected ${parent.height + 1})` };
    }
    const child = this.childTemplate(parent);
    if (fields.bits !== child.bits) {
      return { ok: false, reason: `wrong difficulty bits 0x${fields.bits.toString(16)}` };
    }
    if (hexOf(fields.previousKeystone) !== hexOf(child.previousKeystoneHash.subarray(15))) {
      return { ok: false, reason: "wrong previous keystone" };
    }
    if (hexOf(fields.secondKeystone) !== hexOf(child.secondKeystoneHash.subarray(15))) {
      return { ok: false, reason: "wrong second keystone" };
    }
    if (!(hashToBigInt(hash) < child.target)) {
      return { ok: false, reason: "share above network target" };
    }
    const block = makeBlock(
      header,
      hash,
      parent,
      child.difficulty,
      parent.chainWork + child.difficulty,
      origin,
    );
    this.#store(block);
    if (block.chainWork <= this.tip.chainWork) {
      return { ok: true, block, change: "side", orphaned: [] };
    }
    if (parent === this.tip) {
      this.#main.push(block);
      return { ok: true, block, change: "extended", orphaned: [] };
    }
    return { ok: true, block, change: "reorganized", orphaned: this.#reorganize(block) };
  }

  /**
   * The chain as chain-file text (`vbkpool hash --verify` reads it): one header in hex per
   * line, lowest height first.
   *
   * @param options `includeOrphans` adds the side branches (the verifier accepts forks).
   * @returns Text ending in a newline.
   */
  exportText(options: { includeOrphans?: boolean } = {}): string {
    const blocks = options.includeOrphans
      ? [...this.#order].sort((a, b) => a.height - b.height)
      : this.#main;
    return blocks.map((b) => bytesToHex(b.header, { upper: true }) + "\n").join("");
  }

  #store(block: DevnetBlock): void {
    this.#byHash.set(block.hashHex, block);
    this.#byTail.set(block.hashHex.slice(24), block);
    this.#order.push(block);
  }

  #parentOf(block: DevnetBlock): DevnetBlock {
    return this.#byHash.get(block.parentHash!)!;
  }

  /** The ancestor of `block` (inclusive) at `height`. */
  #ancestor(block: DevnetBlock, height: number): DevnetBlock {
    let b = block;
    while (b.height > height) {
      if (this.#main[b.height] === b) return this.#main[height]!;
      b = this.#parentOf(b);
    }
    return b;
  }

  #bitsAfter(parent: DevnetBlock): number {
    const cached = this.#nextBits.get(parent.hashHex);
    if (cached !== undefined) return cached;
    const window: DevnetBlock[] = [];
    let b: DevnetBlock | undefined = parent;
    while (b !== undefined && window.length < this.params.window) {
      if (this.#main[b.height] === b) {
        const from = Math.max(0, b.height - (this.params.window - window.length) + 1);
        window.push(...this.#main.slice(from, b.height + 1).reverse());
        break;
      }
      window.push(b);
      b = b.parentHash === undefined ? undefined : this.#parentOf(b);
    }
    window.reverse();
    const next = lwmaNextDifficulty(window, {
      window: this.params.window,
      blockTime: this.params.blockTime,
      minimum: this.params.minDifficulty,
    });
    const bits = encodeBits(next);
    this.#nextBits.set(parent.hashHex, bits);
    return bits;
  }

  #reorganize(newTip: DevnetBlock): DevnetBlock[] {
    const branch: DevnetBlock[] = [];
    let b = newTip;
    while (this.#main[b.height] !== b) {
      branch.push(b);
      b = this.#parentOf(b);
    }
    const orphaned = this.#main.splice(b.height + 1).reverse();
    this.#main.push(...branch.reverse());
    return orphaned;
  }
}

function makeBlock(
  header: Uint8Array,
  hash: Uint8Array,
  parent: DevnetBlock | undefined,
  difficulty: bigint,
  chainWork: bigint,
  origin: BlockOrigin,
): DevnetBlock {
  const view = new DataView(header.buffer, header.byteOffset, HEADER_SIZE);
  return Object.freeze({
    height: view.getInt32(0),
    hash,
    hashHex: hexOf(hash),
    header: header.slice(),
    parentHash: parent?.hashHex,
    timestamp: view.getUint32(52),
    bits: view.getUint32(56),
    difficulty,
    chainWork,
    finder: origin.finder,
    source: origin.source,
    receivedAt: origin.receivedAt ?? Date.now(),
  });
}

function checkGenesis(
  header: Uint8Array,
  params: ChainParams,
  kernel: VblakeKernel,
): string | undefined {
  if (!(header instanceof Uint8Array) || header.length !== HEADER_SIZE) {
    return "genesis is not a 64-byte header";
  }
  const fields = decodeHeader(header);
  if (fields.height !== 0) return `genesis height is ${fields.height}, not 0`;
  if (fields.bits !== encodeBits(params.minDifficulty)) {
    return "genesis bits do not encode the minimum difficulty";
  }
  const target = difficultyToTarget(decodeBits(fields.bits));
  if (!(hashToBigInt(kernel.hash(header)) < target)) return "genesis proof of work is not valid";
  return undefined;
}

/** Options for {@linkcode createGenesis}. */
export interface CreateGenesisOptions {
  /** The hasher. */
  kernel: VblakeKernel;
  /** Genesis timestamp (Unix seconds). @default now */
  timestamp?: number;
  /** Header version. @default 2 */
  version?: number;
}

/**
 * Mine a devnet genesis header: height 0, zero previous and keystone fields, a merkle root
 * derived from the text "vbkpool devnet", bits for the minimum difficulty.
 *
 * @example Usage
 * ```ts
 * import { createGenesis } from "./chain.ts";
 * import { createBestKernel } from "../hash/kernel.ts";
 * import { decodeHeader } from "../hash/header.ts";
 * import assert from "node:assert/strict";
 *
 * const genesis = await createGenesis(
 *   { blockTime: 10, window: 100, minDifficulty: 1000n },
 *   { kernel: createBestKernel(), timestamp: 1_700_000_000 },
 * );
 * assert.equal(decodeHeader(genesis).height, 0);
 * ```
 *
 * @param params Consensus parameters (the floor sets the bits).
 * @param options Kernel, timestamp, version.
 * @returns 64 header bytes with a valid proof of work.
 */
export async function createGenesis(
  params: ChainParams,
  options: CreateGenesisOptions,
): Promise<Uint8Array> {
  const header = new Uint8Array(HEADER_SIZE);
  const view = new DataView(header.buffer);
  view.setUint16(4, options.version ?? 2);
  header.set(hexToBytes("76626b706f6f6c206465766e65740000"), 36); // "vbkpool devnet"
  view.setUint32(52, options.timestamp ?? Math.floor(Date.now() / 1000));
  const bits = encodeBits(params.minDifficulty);
  view.setUint32(56, bits);
  const target = difficultyToTarget(decodeBits(bits));
  const found = await grindHeader(header, { kernel: options.kernel, target });
  return found!;
}
