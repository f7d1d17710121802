/**
 * The unlocker: follows each block the pool found until it is final. A block is confirmed when
 * NodeCore's main-chain block at its height (`getblocks` by index) still has its hash and the
 * tip is N blocks past it (N = `confirmations`; the stored confirmation count is NodeCore's,
 * 1 for the tip itself); it is then credited by PPLNS in one store transaction. It is orphaned
 * when another hash holds its height and the tip is N blocks past that one too (a shallower
 * competitor may still be reorganised away, so the block waits).
 * Orphans credit nothing, and their shares stay in the PPLNS window of later blocks.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { bytesToHex } from "../hash/hex.ts";
import type { Block, Store } from "../store/mod.ts";
import { formatVbk } from "./amount.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import type { ChainBlock } from "./nodecore_types.ts";
import { computeCredits } from "./credit_basis.ts";
import { type PoolFee, PplnsWindow, type RewardCredit } from "./pplns.ts";

const log = getLogger(["vbkpool", "payouts", "unlocker"]);

/** Options for {@linkcode Unlocker}. */
export interface UnlockerOptions {
  /** The pool's address (the coinbase of its blocks pays it). */
  poolAddress: string;
  /** Confirmations N before a block is credited (1 = the tip itself). @default 20 */
  confirmations?: number;
  /** PPLNS window X in network-difficulty units. @default 2 */
  window?: number | string;
  /** Pool fees. @default [] */
  fees?: readonly PoolFee[];
  /** Fees of blocks found on SOLO ports. @default [] */
  soloFees?: readonly PoolFee[];
  /** Where rounding remainders go. @default the first fee address, else the largest miner */
  remainderAddress?: string;
  /**
   * Reward to distribute per block (atomic units) instead of what the block's coinbase paid the
   * pool address.
   */
  blockReward?: bigint;
  /** Skip the pass while NodeCore is not synced. @default true */
  requireSynced?: boolean;
  /** Shares read per store page. @default 5000 */
  pageSize?: number;
  /** Pending blocks looked at per pass. @default 1000 */
  maxBlocks?: number;
}

/** One block credited by a pass. */
export interface CreditedBlock {
  /** The block. */
  block: Block;
  /** Atomic units distributed. */
  reward: bigint;
  /** The credits. */
  credits: RewardCredit[];
  /** Shares in its PPLNS window. */
  shares: number;
  /** False when the stored shares did not fill the window. */
  filled: boolean;
}

/** What one pass did. */
export interface UnlockReport {
  /** Why the pass did nothing, when it did nothing. */
  skipped?: string;
  /** NodeCore's tip height. */
  tip: number;
  /** Blocks credited now. */
  confirmed: CreditedBlock[];
  /** Blocks orphaned now. */
  orphaned: Block[];
  /** Blocks still waiting. */
  waiting: number;
}

function hexOf(hash: Uint8Array): string {
  return bytesToHex(hash, { upper: true });
}

/**
 * Confirms, credits or orphans the pool's pending blocks.
 *
 * @example Usage
 * ```ts
 * import { Unlocker } from "./unlocker.ts";
 * import { NodeCoreRpc } from "./nodecore_rpc.ts";
 * import { startDevnet } from "../devnet/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, rpcPort: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const rpc = new NodeCoreRpc({ url: `http://127.0.0.1:${devnet.rpcAddr!.port}/api` });
 * const unlocker = new Unlocker(store, rpc, {
 *   poolAddress: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX",
 *   confirmations: 20,
 * });
 * const report = await unlocker.run();
 * assert.equal(report.confirmed.length, 0); // no block found yet
 * await store.close();
 * await devnet.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Unlocker {
  #store: Store;
  #rpc: NodeCoreRpc;
  #o: Required<Omit<UnlockerOptions, "remainderAddress" | "blockReward">> & UnlockerOptions;

  /**
   * @param store The pool's store.
   * @param rpc NodeCore's HTTP API.
   * @param options Pool address, confirmations, PPLNS window, fees.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(store: Store, rpc: NodeCoreRpc, options: UnlockerOptions) {
    this.#store = store;
    this.#rpc = rpc;
    this.#o = {
      confirmations: 20,
      window: 2,
      fees: [],
      soloFees: [],
      requireSynced: true,
      pageSize: 5000,
      maxBlocks: 1000,
      ...options,
    };
    const n = this.#o.confirmations;
    if (!Number.isInteger(n) || n < 1 || n > 100_000) {
      throw new RangeError(`Cannot create unlocker: confirmations must be 1..100000, got ${n}`);
    }
    // Validate the window and the fees now, not at the first block.
    new PplnsWindow(this.#o.window).split(1n, {
      fees: this.#o.fees,
      remainderAddress: this.#o.remainderAddress ?? "V",
    });
    new PplnsWindow(1).split(1n, {
      fees: this.#o.soloFees,
      remainderAddress: this.#o.remainderAddress ?? "V",
    });
  }

  /**
   * One pass over the pending blocks, oldest first.
   *
   * @returns What changed.
   * @throws {NodeCoreRpcError} When NodeCore cannot be asked (nothing is changed then).
   * @throws {StoreUnavailableError} When the store fails.
   */
  async run(): Promise<UnlockReport> {
    const report: UnlockReport = { tip: -1, confirmed: [], orphaned: [], waiting: 0 };
    const pending = (await this.#store.listBlocks({ status: "pending", limit: this.#o.maxBlocks }))
      .reverse();
    if (pending.length === 0) return report;
    if (this.#o.requireSynced) {
      const state = await this.#rpc.getStateInfo();
      if (!state.synced) {
        report.skipped = `NodeCore is not synced (local ${state.localBlockchainHeight}, ` +
          `network ${state.networkHeight})`;
        report.waiting = pending.length;
        log.warn("Unlocker waits: {why}", { why: report.skipped });
        return report;
      }
    }
    const tip = (await this.#rpc.getInfo()).lastBlock.number;
    report.tip = tip;
    const n = this.#o.confirmations;
    for (const block of pending) {
      const depth = tip - block.height + 1;
      const onChain = depth >= 1 ? await this.#rpc.getBlockAt(block.height) : undefined;
      if (onChain === undefined) {
        report.waiting++;
        continue;
      }
      // Final once the tip is N blocks past the height (depth counts the block itself).
      const final = depth > n;
      if (onChain.hash !== hexOf(block.hash)) {
        if (final) {
          const updated = await this.#store.updateBlock(block.hash, {
            status: "orphaned",
            confirmations: 0,
          });
          if (updated?.status === "orphaned") report.orphaned.push(updated);
          log.warn(
            "Block {height} {hash} is orphaned: {other} holds its height with {depth} confirmations",
            { height: block.height, hash: hexOf(block.hash), other: onChain.hash, depth },
          );
        } else {
          if (block.confirmations !== 0) {
            await this.#store.updateBlock(block.hash, { confirmations: 0 });
          }
          report.waiting++;
        }
        continue;
      }
      if (!final) {
        if (block.confirmations !== depth) {
          await this.#store.updateBlock(block.hash, { confirmations: depth });
        }
        report.waiting++;
        continue;
      }
      const credited = await this.#credit(block, onChain, depth);
      if (credited === undefined) report.waiting++;
      else report.confirmed.push(credited);
    }
    return report;
  }

  /** The reward the block paid the pool, or undefined when it paid the pool nothing. */
  #reward(block: Block, onChain: ChainBlock): bigint | undefined {
    if (this.#o.blockReward !== undefined) return this.#o.blockReward;
    if (onChain.coinbaseOutputs.length === 0) {
      return onChain.powCoinbaseReward > 0n ? onChain.powCoinbaseReward : undefined;
    }
    const paid = onChain.coinbaseOutputs
      .filter((o) => o.address === this.#o.poolAddress)
      .reduce((s, o) => s + o.amount, 0n);
    if (paid === 0n) {
      log.error(
        "Block {height} {hash} is the pool's but its coinbase pays {outputs}, not the pool " +
          "address {pool}: it is not credited (check payouts.pool_address)",
        {
          height: block.height,
          hash: hexOf(block.hash),
          outputs: onChain.coinbaseOutputs.map((o) => o.address).join(", "),
          pool: this.#o.poolAddress,
        },
      );
      return undefined;
    }
    return paid;
  }

  async #credit(
    block: Block,
    onChain: ChainBlock,
    depth: number,
  ): Promise<CreditedBlock | undefined> {
    const reward = this.#reward(block, onChain);
    if (reward === undefined) return undefined;
    const { split, basis } = await computeCredits(this.#store, block, {
      reward,
      window: this.#o.window,
      fees: this.#o.fees,
      soloFees: this.#o.soloFees,
      pageSize: this.#o.pageSize,
      ...(this.#o.remainderAddress === undefined
        ? {}
        : { remainderAddress: this.#o.remainderAddress }),
    });
    // The main-chain check again, right before crediting (the share walk took time).
    const again = await this.#rpc.getBlockAt(block.height);
    if (again?.hash !== hexOf(block.hash)) {
      log.warn("Block {height} {hash} left the main chain while being credited; it waits", {
        height: block.height,
        hash: hexOf(block.hash),
      });
      return undefined;
    }
    const credited = await this.#store.payouts.creditBlock(block.hash, {
      reward,
      confirmations: depth,
      credits: split.credits.map((c) => ({ ...c })),
      basis: JSON.stringify(basis),
    });
    if (!credited) return undefined;
    if (!split.filled) {
      log.info(
        "Block {height}: the stored shares fill only {score} of the PPLNS window; the whole " +
          "reward goes to them",
        {
          height: block.height,
          score: (Number(split.score.num) / Number(split.score.den)).toFixed(4),
        },
      );
    }
    log.info(
      "Block {height} {hash} confirmed ({depth} confirmations): {reward} VBK to {n} credits",
      {
        height: block.height,
        hash: hexOf(block.hash),
        depth,
        reward: formatVbk(reward),
        n: split.credits.length,
      },
    );
    return {
      block: { ...block, status: "confirmed", reward, confirmations: depth },
      reward,
      credits: split.credits,
      shares: split.shares,
      filled: split.filled,
    };
  }
}
