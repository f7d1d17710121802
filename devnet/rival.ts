/**
 * A simulated rival miner: a second miner on the devnet that finds real blocks (valid proof of
 * work against their own bits, correct links and keystones) on a thread of its own, so that
 * pool blocks lose races and get orphaned by reorganisations, which payouts must survive.
 *
 * **Pace.** In automatic mode the rival's thread is paced to a hash rate of
 * share / (1 − share) times the pool's recent hash rate (the work of the pool blocks found in
 * the last 30 block times, at least 60 s, orphans included), raised to make up for the rival's
 * own abandoned finds and the pool's orphaned blocks, so that about `share` of the main chain is
 * the rival's. With no recent pool block it finds share / T blocks per second. Its finds form a
 * Poisson process like any miner's (see `_rival_worker.ts`). Pacing cannot make proof of work
 * cheaper: when the thread is slower than the pace needs, a warning says so and the rival finds
 * fewer blocks.
 *
 * **Races.** A rival that publishes what it finds almost never orphans anything: the chain keeps
 * the first block seen at a height, so a reorganisation needs the rival to find two blocks
 * before the pool finds one more, which at a 30 % share is 9 % of its attempts (an earlier
 * design that did exactly that orphaned no pool block in two minutes). So the rival withholds
 * blocks (selfish mining; Eyal and Sirer, 2014), which makes a race start when the rival is
 * already one block ahead:
 * - each block it finds on the public tip is kept private with probability `reorgShare`
 *   (otherwise published at once), and it mines on its private branch;
 * - as soon as the pool has published at least one block above the fork and the private branch
 *   is longer, the rival publishes the branch, which orphans those pool blocks (the node sends
 *   MINING_RESET and new jobs); while they are level it keeps mining on its branch;
 * - when the pool's blocks above the fork outnumber the private ones, it abandons the branch;
 *   while nothing competes, it keeps at most {@linkcode MAX_PRIVATE_LEAD} blocks private and
 *   publishes the oldest beyond that (an idle pool does not make it hoard blocks);
 * - a pool block that arrives while it holds nothing is raced from its parent with probability
 *   `reorgShare` (a miner that heard of the block late), and a block it finds on a parent the
 *   pool has just built on is kept for the race with the same probability.
 * In a simulation of this strategy at share 0.3, `reorgShare` 0.5 orphans about 11 % of the
 * pool's blocks (8.6 per 100 main-chain blocks), `reorgShare` 0.2 about 5 % and 1 about 16 %.
 *
 * Tests drive the rival directly with {@linkcode RivalMiner.mineBlock} and
 * {@linkcode RivalMiner.reorg}: these grind flat out, one request at a time, and automatic
 * mining pauses while they run.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { assembleHeader } from "../hash/header.ts";
import type { VblakeKernel } from "../hash/kernel.ts";
import type { AddBlockResult, DevnetBlock, DevnetChain } from "./chain.ts";
import {
  type BranchChild,
  branchChild,
  privateBlock,
  type PrivateBranch,
} from "./_rival_branch.ts";
import { RivalThread } from "./_rival_worker.ts";

const log = getLogger(["vbkpool", "devnet", "rival"]);

/**
 * Most blocks the rival keeps private while the pool has published nothing above its fork;
 * with one more it publishes the oldest (a lead of two already wins the next race).
 */
export const MAX_PRIVATE_LEAD = 2;
/** The pool's hash rate is measured over this many block times (between 60 and 600 s). */
const POOL_WINDOW_BLOCKS = 30;
/** How often automatic mode re-reads the pool's rate and its own thread's speed, ms. */
const PACE_INTERVAL_MS = 2000;
/** Least interval between two "thread too slow" warnings, ms. */
const SLOW_WARNING_MS = 60_000;

/** Options for {@linkcode RivalMiner}. */
export interface RivalMinerOptions {
  /** The chain to mine on. */
  chain: DevnetChain;
  /** The hasher (for the hashes of withheld blocks; the thread loads its own best kernel). */
  kernel: VblakeKernel;
  /** Hands a found header to the node (which validates, stores and announces it). */
  submit(header: Uint8Array): AddBlockResult;
  /** Fraction of all blocks the rival finds in automatic mode, 0 ≤ share < 1. @default 0 */
  share?: number;
  /**
   * Probability that the rival withholds a block it finds (or races a fresh pool block from
   * its parent) to orphan pool blocks. @default 0.2
   */
  reorgShare?: number;
  /** Uniform random numbers in [0, 1). @default Math.random */
  random?: () => number;
}

/** Options for {@linkcode RivalMiner.mineBlock}. */
export interface MineBlockOptions {
  /** Block to build on. @default the tip */
  parent?: DevnetBlock;
}

/** What the rival has done. */
export interface RivalStats {
  /** Blocks found (published, withheld or abandoned). */
  found: number;
  /** Blocks handed to the node. */
  published: number;
  /** Blocks found and withheld, and pool blocks raced from their parent. */
  races: number;
  /** Withheld blocks thrown away because the pool got ahead. */
  abandoned: number;
  /** Private branches published that reorganised the chain. */
  reorgs: number;
  /** Pool blocks orphaned by those reorganisations. */
  orphaned: number;
}

interface AutoJob {
  /** Key of the parent: its hash, and which branch it belongs to. */
  key: string;
  /** The branch mined on (undefined: the public tip). */
  branch: PrivateBranch | undefined;
  /** The public parent when mining on the tip. */
  parent: DevnetBlock | undefined;
  difficulty: bigint;
  hashRate: number;
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
 * await rival.stop();
 * ```
 */
export class RivalMiner {
  #o: RivalMinerOptions;
  #random: () => number;
  #share: number;
  #reorgShare: number;
  #thread: RivalThread | undefined;
  #stopped = false;
  #auto = false;
  #manual = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #stats: RivalStats = { found: 0, published: 0, races: 0, abandoned: 0, reorgs: 0, orphaned: 0 };
  #branch: PrivateBranch | undefined;
  #job: AutoJob | undefined;
  #lastTip: DevnetBlock | undefined;
  #poolBlocks: { at: number; difficulty: bigint }[] = [];
  #poolFound = 0;
  #startedAt = 0;
  #reactQueued = false;
  #paceTimer: ReturnType<typeof setInterval> | undefined;
  #slowWarnedAt = -Infinity;

  /**
   * @param options Chain, hasher, submit hook, automatic-mode shares.
   */
  constructor(options: RivalMinerOptions) {
    this.#o = options;
    this.#random = options.random ?? Math.random;
    this.#share = Math.min(Math.max(options.share ?? 0, 0), 0.95);
    this.#reorgShare = options.reorgShare ?? 0.2;
  }

  /** Blocks this rival has found. */
  get blocksFound(): number {
    return this.#stats.found;
  }

  /** What the rival has done so far. */
  get stats(): Readonly<RivalStats> {
    return { ...this.#stats };
  }

  /**
   * Find one block at full speed and hand it to the node (automatic mining waits meanwhile).
   *
   * @param options The parent.
   * @returns The accepted block (it may be on a side branch).
   * @throws {Error} When stopped, or when the node rejects the block.
   */
  mineBlock(options: MineBlockOptions = {}): Promise<DevnetBlock> {
    return this.#exclusive(() => this.#mine(options.parent));
  }

  /**
   * Build a branch from the block `depth` below the tip that is one block longer than the
   * main chain above it, replacing the newest `depth` blocks (counted when the request's turn
   * comes: manual requests run one at a time, in order).
   *
   * @param depth Blocks to orphan (1 ≤ depth ≤ tip height). @default 1
   * @returns The branch, lowest first; its last block is the new tip.
   * @throws {RangeError} When `depth` is out of range.
   * @throws {Error} When stopped or rejected.
   */
  reorg(depth = 1): Promise<DevnetBlock[]> {
    const chain = this.#o.chain;
    if (!Number.isInteger(depth) || depth < 1 || depth > chain.height) {
      return Promise.reject(
        new RangeError(`Cannot reorganise: depth must be 1..${chain.height}, got ${depth}`),
      );
    }
    return this.#exclusive(async () => {
      // The chain only grows longer, so the depth still fits when earlier requests are done.
      let parent = chain.blockAt(chain.height - depth)!;
      const branch: DevnetBlock[] = [];
      for (let i = 0; i <= depth; i++) {
        parent = await this.#mine(parent);
        branch.push(parent);
      }
      return branch;
    });
  }

  /** Start automatic mining (no-op when the share is 0). */
  start(): void {
    if (this.#share <= 0 || this.#stopped || this.#auto) return;
    this.#auto = true;
    this.#startedAt = Date.now();
    this.#lastTip = this.#o.chain.tip;
    log.info(
      "Rival miner on: {share} of blocks, withholding {reorgShare} of its chances to orphan " +
        "pool blocks",
      { share: this.#share, reorgShare: this.#reorgShare },
    );
    this.#paceTimer = setInterval(() => this.#react(), PACE_INTERVAL_MS);
    this.#react();
  }

  /**
   * Tell the rival about a block the node accepted (the node calls this for every block), so
   * it measures the pool's rate and reacts to a new tip at once.
   *
   * @param block The accepted block.
   */
  notify(block: DevnetBlock): void {
    if (!this.#auto) return;
    if (block.source === "pool") {
      this.#poolFound++;
      this.#poolBlocks.push({ at: block.receivedAt, difficulty: block.difficulty });
    }
    if (this.#reactQueued) return;
    this.#reactQueued = true;
    queueMicrotask(() => {
      this.#reactQueued = false;
      this.#react();
    });
  }

  /** Stop automatic mining and the thread; searches in progress are abandoned. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#auto = false;
    clearInterval(this.#paceTimer);
    this.#thread?.close();
    await this.#queue.catch(() => {});
    if (this.#stats.found > 0) {
      log.debug("Rival stopped: {stats}", { stats: JSON.stringify(this.#stats) });
    }
  }

  #ensureThread(): RivalThread {
    if (this.#stopped) throw new Error("Cannot mine rival block: the rival is stopped");
    this.#thread ??= new RivalThread();
    return this.#thread;
  }

  /** Run a manual operation alone: automatic mining pauses until it is done. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.#manual++;
    this.#job = undefined;
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run.finally(() => {
      this.#manual--;
      this.#react();
    });
  }

  async #mine(parent: DevnetBlock | undefined): Promise<DevnetBlock> {
    const chain = this.#o.chain;
    for (;;) {
      const base = parent ?? chain.tip;
      const child = chain.childTemplate(base);
      const header = this.#candidate({ ...child, parentTimestamp: base.timestamp });
      const found = await this.#ensureThread().grind(header, { target: child.target });
      if (this.#stopped) throw new Error("Cannot mine rival block: the rival is stopped");
      if (found === undefined) continue;
      this.#stats.found++;
      const result = this.#o.submit(found);
      if (!result.ok) throw new Error(`Cannot mine rival block: ${result.reason}`);
      this.#stats.published++;
      return result.block;
    }
  }

  #candidate(child: BranchChild): Uint8Array {
    return assembleHeader({
      height: child.height,
      version: 2,
      previousBlockHash: child.previousBlockHash,
      previousKeystoneHash: child.previousKeystoneHash,
      secondKeystoneHash: child.secondKeystoneHash,
      merkleRoot: crypto.getRandomValues(new Uint8Array(16)),
      timestamp: Math.max(Math.floor(Date.now() / 1000), child.parentTimestamp),
      bits: child.bits,
      nonce: 0,
    });
  }

  /** Look at the chain and decide: publish, abandon, race, and what to mine next. */
  #react(): void {
    if (!this.#auto || this.#stopped || this.#manual > 0) return;
    const chain = this.#o.chain;
    if (this.#branch !== undefined) this.#judge(this.#branch);
    const tip = chain.tip;
    if (this.#branch === undefined && tip !== this.#lastTip && tip.source === "pool") {
      const parent = tip.parentHash === undefined ? undefined : chain.blockByHash(tip.parentHash);
      if (parent !== undefined && this.#random() < this.#reorgShare) {
        this.#stats.races++;
        this.#branch = { fork: parent, blocks: [] };
        log.debug("Rival races pool block {height} from its parent", { height: tip.height });
      }
    }
    this.#lastTip = tip;
    this.#work();
  }

  /** Publish, abandon or keep the private branch. */
  #judge(branch: PrivateBranch): void {
    const chain = this.#o.chain;
    const fork = branch.fork;
    const held = branch.blocks.length;
    if (!chain.isMainChain(fork.hash)) return this.#abandon("its fork left the main chain");
    const ahead = chain.height - fork.height;
    for (let h = fork.height + 1; h <= chain.height; h++) {
      if (chain.blockAt(h)!.source !== "pool") {
        return this.#abandon("the chain above its fork has blocks other than the pool's");
      }
    }
    if (ahead > held) return this.#abandon(`the pool has ${ahead} block(s) against ${held}`);
    if (ahead >= 1 && held > ahead) return this.#publish(branch, ahead);
    if (ahead === 0 && held > MAX_PRIVATE_LEAD) this.#publishOldest(branch);
  }

  /** Nothing competes and the lead is too long: publish the oldest block, keep the rest. */
  #publishOldest(branch: PrivateBranch): void {
    const oldest = branch.blocks[0]!;
    const result = this.#o.submit(oldest.header);
    if (!result.ok) {
      log.warn("The devnet refused a withheld rival block at height {height}: {reason}", {
        height: oldest.height,
        reason: result.reason,
      });
      return this.#abandon("the devnet refused its oldest block");
    }
    this.#stats.published++;
    branch.fork = result.block;
    branch.blocks.shift();
  }

  #abandon(reason: string): void {
    const held = this.#branch?.blocks.length ?? 0;
    this.#stats.abandoned += held;
    this.#branch = undefined;
    log.debug("Rival abandons its private branch of {held} block(s): {reason}", { held, reason });
  }

  #publish(branch: PrivateBranch, competing: number): void {
    this.#branch = undefined;
    let orphaned: DevnetBlock[] = [];
    for (const block of branch.blocks) {
      const result = this.#o.submit(block.header);
      if (!result.ok) {
        log.warn("The devnet refused a withheld rival block at height {height}: {reason}", {
          height: block.height,
          reason: result.reason,
        });
        return;
      }
      this.#stats.published++;
      if (result.change === "reorganized") orphaned = result.orphaned;
    }
    if (orphaned.length > 0) {
      this.#stats.reorgs++;
      this.#stats.orphaned += orphaned.filter((b) => b.source === "pool").length;
    }
    log.info(
      "Rival published {held} withheld block(s) at heights {from}..{to} against {competing} " +
        "pool block(s): {orphaned} orphaned",
      {
        held: branch.blocks.length,
        from: branch.fork.height + 1,
        to: branch.fork.height + branch.blocks.length,
        competing,
        orphaned: orphaned.length,
      },
    );
  }

  /** Point the thread at the right parent, at the right pace. */
  #work(): void {
    const chain = this.#o.chain;
    const branch = this.#branch;
    const parentHex = branch === undefined
      ? chain.tip.hashHex
      : `${branch.fork.hashHex}+${branch.blocks.length}`;
    const key = `${branch === undefined ? "tip" : "branch"}:${parentHex}`;
    const job = this.#job;
    if (job !== undefined && job.key === key && job.branch === branch) {
      const rate = this.#paceFor(job.difficulty);
      if (Math.abs(rate - job.hashRate) > 0.1 * job.hashRate) {
        job.hashRate = rate;
        this.#thread?.pace(rate);
      }
      return;
    }
    const parent = branch === undefined ? chain.tip : undefined;
    const child: BranchChild = parent === undefined
      ? branchChild(chain, branch!)
      : { ...chain.childTemplate(parent), parentTimestamp: parent.timestamp };
    const next: AutoJob = {
      key,
      branch,
      parent,
      difficulty: child.difficulty,
      hashRate: this.#paceFor(child.difficulty),
    };
    this.#job = next;
    log.debug("Rival mines height {height} on {where} at {rate} H/s (thread: {have} H/s)", {
      height: child.height,
      where: branch === undefined ? "the tip" : `a private branch of ${branch.blocks.length}`,
      rate: Math.round(next.hashRate),
      have: Math.round(this.#thread?.hashesPerSecond ?? 0),
    });
    const fail = (err: unknown) => {
      log.error("Rival miner stopped: {error}", {
        error: err instanceof Error ? err.message : String(err),
      });
      this.#auto = false;
      clearInterval(this.#paceTimer);
    };
    let search: Promise<Uint8Array | undefined>;
    try {
      const header = this.#candidate(child);
      search = this.#ensureThread().grind(header, {
        target: child.target,
        hashRate: next.hashRate,
      });
    } catch (err) {
      return fail(err);
    }
    search.then((found) => {
      if (found !== undefined) this.#found(next, found);
    }, fail);
  }

  #found(job: AutoJob, header: Uint8Array): void {
    if (this.#stopped || this.#job !== job) return;
    this.#job = undefined;
    this.#stats.found++;
    const chain = this.#o.chain;
    if (job.branch !== undefined) {
      if (job.branch === this.#branch) {
        job.branch.blocks.push(privateBlock(header, this.#o.kernel));
      } else {
        this.#stats.abandoned++;
      }
    } else if (job.parent === chain.tip) {
      if (this.#random() < this.#reorgShare) {
        this.#stats.races++;
        this.#branch = { fork: job.parent, blocks: [privateBlock(header, this.#o.kernel)] };
        log.debug("Rival withholds its block at height {height}", {
          height: job.parent.height + 1,
        });
      } else {
        const result = this.#o.submit(header);
        if (result.ok) this.#stats.published++;
        else log.warn("The devnet refused a rival block: {reason}", { reason: result.reason });
      }
    } else if (
      job.parent !== undefined && this.#branch === undefined &&
      this.#random() < this.#reorgShare
    ) {
      // The pool built on the same parent meanwhile: a natural race.
      this.#stats.races++;
      this.#branch = { fork: job.parent, blocks: [privateBlock(header, this.#o.kernel)] };
    } else {
      this.#stats.abandoned++;
    }
    this.#react();
  }

  /** Hashes per second the thread should spend on a block of this difficulty now. */
  #paceFor(difficulty: bigint): number {
    const now = Date.now();
    const blockTime = this.#o.chain.params.blockTime;
    const windowMs = Math.min(600, Math.max(60, POOL_WINDOW_BLOCKS * blockTime)) * 1000;
    while (this.#poolBlocks.length > 0 && this.#poolBlocks[0]!.at < now - windowMs) {
      this.#poolBlocks.shift();
    }
    let rate: number;
    if (this.#poolBlocks.length === 0) {
      rate = this.#share / blockTime * Number(difficulty);
    } else {
      // The pool's work since its first block in the window, over the time since then (with one
      // block only: that block's work over the time since the rival started).
      const first = this.#poolBlocks[0]!;
      const alone = this.#poolBlocks.length === 1;
      const spanMs = Math.max(1000, alone ? now - this.#startedAt : now - first.at);
      let work = 0;
      for (const b of this.#poolBlocks) work += Number(b.difficulty);
      if (!alone) work -= Number(first.difficulty);
      // Make up for the rival's abandoned finds and the pool's orphaned blocks, so that the
      // main chain (not just the finds) holds about `share` rival blocks.
      const st = this.#stats;
      const lost = Math.min(0.8, st.abandoned / (st.found + 5));
      const orphaned = Math.min(0.8, st.orphaned / (this.#poolFound + 5));
      rate = work / (spanMs / 1000) * this.#share / (1 - this.#share) * (1 - orphaned) /
        (1 - lost);
    }
    const have = this.#thread?.hashesPerSecond;
    if (have !== undefined && rate > 0.95 * have && now - this.#slowWarnedAt > SLOW_WARNING_MS) {
      this.#slowWarnedAt = now;
      log.warn(
        "The rival's thread ({kernel}) hashes about {have} H/s but needs {need} H/s for a " +
          "{share} share of blocks: the rival finds fewer blocks than configured",
        {
          kernel: this.#thread?.kernel ?? "?",
          have: Math.round(have),
          need: Math.round(rate),
          share: this.#share,
        },
      );
    }
    return Math.max(rate, 1);
  }
}
