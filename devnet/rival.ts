/**
 * A simulated rival miner: it finds real blocks (a proof of work ground in small slices) so
 * that pool blocks lose races and get orphaned by reorganisations, which payouts must survive.
 *
 * Automatic mode finds a configured share of the blocks: its block rate is
 * share / (1 − share) times the pool's recent rate (or share / T when the pool is idle), and
 * some of its finds are two-block branches that replace the pool's newest block. Tests drive
 * it directly with {@linkcode RivalMiner.mineBlock} and {@linkcode RivalMiner.reorg}.
 *
 * @module
 */

import { assembleHeader } from "../hash/header.ts";
import type { VblakeKernel } from "../hash/kernel.ts";
import type { AddBlockResult, DevnetBlock, DevnetChain } from "./chain.ts";
import { grindHeader } from "./_grind.ts";

/** Options for {@linkcode RivalMiner}. */
export interface RivalMinerOptions {
  /** The chain to mine on. */
  chain: DevnetChain;
  /** The hasher. */
  kernel: VblakeKernel;
  /** Hands a found header to the node (which validates, stores and announces it). */
  submit(header: Uint8Array): AddBlockResult;
  /** Fraction of blocks the rival finds in automatic mode, 0 ≤ share < 1. @default 0 */
  share?: number;
  /** Fraction of automatic finds that are 2-block reorganisations. @default 0.2 */
  reorgShare?: number;
  /** Uniform random numbers in [0, 1). @default Math.random */
  random?: () => number;
  /** Nonces per grinding slice. @default 200000 */
  sliceNonces?: number;
}

/** Options for {@linkcode RivalMiner.mineBlock}. */
export interface MineBlockOptions {
  /** Block to build on. @default the tip */
  parent?: DevnetBlock;
  /** Start over on the new tip when the tip changes during the search. @default false */
  followTip?: boolean;
}

/**
 * The rival miner.
 *
 * @example Usage
 * ```ts
 * import { RivalMiner } from "./rival.ts";
 * import { createGenesis, DevnetChain } from "./chain.ts";
 * import { createBestKernel } from "../hash/kernel.ts";
 * import assert from "node:assert/strict";
 *
 * const kernel = createBestKernel();
 * const params = { blockTime: 10, window: 100, minDifficulty: 100n };
 * const chain = new DevnetChain(await createGenesis(params, { kernel }), params, { kernel });
 * const rival = new RivalMiner({
 *   chain,
 *   kernel,
 *   submit: (header) => chain.addBlock(header, { finder: "rival", source: "rival" }),
 * });
 * const block = await rival.mineBlock();
 * assert.equal(chain.tip, block);
 * ```
 */
export class RivalMiner {
  #o: RivalMinerOptions;
  #random: () => number;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #busy: Promise<unknown> = Promise.resolve();
  #found = 0;

  /**
   * @param options Chain, hasher, submit hook, automatic-mode shares.
   */
  constructor(options: RivalMinerOptions) {
    this.#o = options;
    this.#random = options.random ?? Math.random;
  }

  /** Blocks this rival has found. */
  get blocksFound(): number {
    return this.#found;
  }

  /**
   * Find one block and hand it to the node.
   *
   * @param options Parent, and whether to follow tip changes.
   * @returns The accepted block (it may be on a side branch).
   * @throws {Error} When stopped, or when the node rejects the block.
   */
  async mineBlock(options: MineBlockOptions = {}): Promise<DevnetBlock> {
    const chain = this.#o.chain;
    for (;;) {
      const parent = options.parent ?? chain.tip;
      const header = this.#candidate(parent);
      const follow = options.followTip === true && options.parent === undefined;
      const found = await grindHeader(header, {
        kernel: this.#o.kernel,
        target: chain.childTemplate(parent).target,
        sliceNonces: this.#o.sliceNonces,
        shouldStop: () => this.#stopped || (follow && chain.tip !== parent),
      });
      if (this.#stopped) throw new Error("Cannot mine rival block: the rival is stopped");
      if (found === undefined) continue; // the tip moved: start over on it
      const result = this.#o.submit(found);
      if (!result.ok) throw new Error(`Cannot mine rival block: ${result.reason}`);
      this.#found++;
      return result.block;
    }
  }

  /**
   * Build a branch from the block `depth` below the tip that is one block longer than the
   * main chain above it, replacing the newest `depth` blocks.
   *
   * @param depth Blocks to orphan (1 ≤ depth ≤ tip height). @default 1
   * @returns The branch, lowest first; its last block is the new tip.
   * @throws {RangeError} When `depth` is out of range.
   * @throws {Error} When stopped or rejected.
   */
  async reorg(depth = 1): Promise<DevnetBlock[]> {
    const chain = this.#o.chain;
    if (!Number.isInteger(depth) || depth < 1 || depth > chain.height) {
      throw new RangeError(`Cannot reorganise: depth must be 1..${chain.height}, got ${depth}`);
    }
    let parent = chain.blockAt(chain.height - depth)!;
    const branch: DevnetBlock[] = [];
    for (let i = 0; i <= depth; i++) {
      parent = await this.mineBlock({ parent });
      branch.push(parent);
    }
    return branch;
  }

  /** Start automatic mining (no-op when the share is 0). */
  start(): void {
    if ((this.#o.share ?? 0) <= 0 || this.#stopped) return;
    this.#schedule();
  }

  /** Stop automatic mining and abandon any search in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#busy.catch(() => {});
  }

  #candidate(parent: DevnetBlock): Uint8Array {
    const child = this.#o.chain.childTemplate(parent);
    const merkle = crypto.getRandomValues(new Uint8Array(16));
    return assembleHeader({
      height: child.height,
      version: 2,
      previousBlockHash: child.previousBlockHash,
      previousKeystoneHash: child.previousKeystoneHash,
      secondKeystoneHash: child.secondKeystoneHash,
      merkleRoot: merkle,
      timestamp: Math.max(Math.floor(Date.now() / 1000), parent.timestamp),
      bits: child.bits,
      nonce: 0,
    });
  }

  /** Blocks per second the rival should find now. */
  #rate(): number {
    const share = Math.min(this.#o.share ?? 0, 0.95);
    const chain = this.#o.chain;
    const recent = chain.mainChain().slice(-20);
    const first = recent[0]!;
    const poolBlocks = recent.slice(1).filter((b) => b.source === "pool").length;
    const seconds = (chain.tip.receivedAt - first.receivedAt) / 1000;
    const poolRate = seconds > 0 ? poolBlocks / seconds : 0;
    const rate = poolRate > 0 ? poolRate * share / (1 - share) : share / chain.params.blockTime;
    return Math.min(rate, 2);
  }

  #schedule(): void {
    if (this.#stopped) return;
    const rate = this.#rate();
    const delayMs = rate > 0 ? -Math.log(1 - this.#random()) / rate * 1000 : 60000;
    this.#timer = setTimeout(() => {
      const tip = this.#o.chain.tip;
      const doReorg = tip.source === "pool" && tip.height >= 1 &&
        this.#random() < (this.#o.reorgShare ?? 0.2);
      const work = doReorg ? this.reorg(1) : this.mineBlock({ followTip: true });
      this.#busy = work.catch(() => {}).finally(() => this.#schedule());
    }, Math.min(delayMs, 2 ** 31 - 1));
  }
}
