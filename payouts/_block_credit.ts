/**
 * The unlocker's last step: credit one settled block (its hash is NodeCore's main-chain block at
 * its height, N deep). The reward is exactly what the chain shows its coinbase paid the pool
 * address ({@linkcode poolPayment}), or the operator's `blockReward` override (credited without
 * that proof, noted `reward_override`); the credits come from {@linkcode computeCredits} (PPLNS,
 * or SOLO to the finder); the main-chain check runs again right before the one store
 * transaction that credits, which only a `pending` block passes. A block that cannot be credited
 * stays `pending` with a note saying why (`coinbase_missing`, `coinbase_not_pool`, `no_shares`),
 * written and logged when it changes, so once, not at every pass.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { bytesToHex } from "../hash/hex.ts";
import { alertEvents } from "../log/mod.ts";
import type { Block, Store } from "../store/mod.ts";
import { formatVbk } from "./amount.ts";
import { poolPayment } from "./coinbase.ts";
import { computeCredits, type ComputedCredits } from "./credit_basis.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import type { ChainBlock } from "./nodecore_types.ts";
import type { PoolFee, RewardCredit } from "./pplns.ts";

const log = getLogger(["vbkpool", "payouts", "unlocker"]);

/** Notes about a block's reward; they go when the block is credited with proof. */
const REWARD_NOTES: readonly string[] = [
  "coinbase_missing",
  "coinbase_not_pool",
  "reward_override",
];

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

/** What {@linkcode BlockCreditor} needs (the unlocker's options, defaults applied). */
export interface BlockCreditorOptions {
  /** The pool's address. */
  poolAddress: string;
  /** The operator's reward override (credits without proof). */
  blockReward?: bigint | undefined;
  /** PPLNS window X. */
  window: number | string;
  /** Fees of PPLNS blocks. */
  fees: readonly PoolFee[];
  /** Fees of SOLO blocks. */
  soloFees: readonly PoolFee[];
  /** Where rounding remainders go. */
  remainderAddress?: string | undefined;
  /** Shares read per store page. */
  pageSize: number;
}

/** A hash in NodeCore's form, to compare with its answers (logs show lower case). */
function hexOf(hash: Uint8Array): string {
  return bytesToHex(hash, { upper: true });
}

/** Credits settled blocks (see the module doc). */
export class BlockCreditor {
  #store: Store;
  #rpc: NodeCoreRpc;
  #o: BlockCreditorOptions;

  /**
   * @param store The pool's store.
   * @param rpc NodeCore's HTTP API.
   * @param options Pool address, override, PPLNS and fee settings.
   */
  constructor(store: Store, rpc: NodeCoreRpc, options: BlockCreditorOptions) {
    this.#store = store;
    this.#rpc = rpc;
    this.#o = options;
  }

  /** Set a block's note; true when it changed (the caller logs then, so once per change). */
  async #setNote(block: Block, note: string): Promise<boolean> {
    if (block.note === note) return false;
    await this.#store.updateBlock(block.hash, { note, ifStatus: ["pending"] });
    block.note = note;
    return true;
  }

  /**
   * The reward to credit: what the chain shows the coinbase paid the pool address (or the
   * operator's override); undefined when there is no such proof (the block is noted then).
   */
  async #reward(block: Block, onChain: ChainBlock): Promise<bigint | undefined> {
    const paid = poolPayment(onChain, this.#o.poolAddress);
    const where = { height: block.height, hash: bytesToHex(block.hash) };
    const override = this.#o.blockReward;
    if (override !== undefined) {
      if (paid.amount === override) {
        if (REWARD_NOTES.includes(block.note)) await this.#setNote(block, "");
      } else if (await this.#setNote(block, "reward_override")) {
        log.warn(
          "Block {height} {hash} is credited the configured block_reward {reward} VBK without " +
            "proof: its coinbase paid the pool address {paid} VBK",
          { ...where, reward: formatVbk(override), paid: formatVbk(paid.amount) },
        );
      }
      return override;
    }
    if (paid.note !== "") {
      if (await this.#setNote(block, paid.note)) {
        log.error(
          "Block {height} {hash} is not credited ({note}): its coinbase outputs [{outputs}] " +
            "pay nothing to the pool address {pool} (check payouts.pool_address; it is retried " +
            "every pass)",
          {
            ...where,
            note: paid.note,
            outputs: onChain.coinbaseOutputs.map((o) => `${o.address}=${o.amount}`).join(", "),
            pool: this.#o.poolAddress,
          },
        );
      }
      return undefined;
    }
    if (REWARD_NOTES.includes(block.note)) await this.#setNote(block, "");
    return paid.amount;
  }

  /**
   * The block's credits, or undefined (noted `no_shares`) when the reward has nowhere to go: no
   * share in the window, no fee and no remainder address (PplnsWindow.split's "no shares"
   * RangeError; anything else is thrown on).
   */
  async #computeCredits(block: Block, reward: bigint): Promise<ComputedCredits | undefined> {
    try {
      const computed = await computeCredits(this.#store, block, {
        reward,
        window: this.#o.window,
        fees: this.#o.fees,
        soloFees: this.#o.soloFees,
        pageSize: this.#o.pageSize,
        ...(this.#o.remainderAddress === undefined
          ? {}
          : { remainderAddress: this.#o.remainderAddress }),
      });
      if (block.note === "no_shares") await this.#setNote(block, "");
      return computed;
    } catch (err) {
      if (!(err instanceof RangeError) || !/no shares/.test(err.message)) throw err;
      if (await this.#setNote(block, "no_shares")) {
        log.error(
          "Block {height} {hash} is not credited (no_shares): {error}; set payouts." +
            "remainder_address (or a fee) to give such a reward somewhere",
          { height: block.height, hash: bytesToHex(block.hash), error: err.message },
        );
      }
      return undefined;
    }
  }

  /**
   * Credit a settled block.
   *
   * @param block The stored block (`pending`).
   * @param onChain NodeCore's main-chain block at its height (the same hash).
   * @param depth Its confirmations.
   * @returns What was credited, or undefined when it was not (it waits).
   */
  async credit(
    block: Block,
    onChain: ChainBlock,
    depth: number,
  ): Promise<CreditedBlock | undefined> {
    const reward = await this.#reward(block, onChain);
    if (reward === undefined) return undefined;
    const computed = await this.#computeCredits(block, reward);
    if (computed === undefined) return undefined;
    const { split, basis } = computed;
    // The main-chain check again, right before crediting (the share walk took time).
    const again = await this.#rpc.getBlockAt(block.height);
    if (again?.hash !== hexOf(block.hash)) {
      log.warn("Block {height} {hash} left the main chain while being credited; it waits", {
        height: block.height,
        hash: bytesToHex(block.hash),
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
      "Block {height} {hash} confirmed ({depth} confirmations): {reward} VBK to {n} credits " +
        "({scheme})",
      {
        height: block.height,
        hash: bytesToHex(block.hash),
        depth,
        reward: formatVbk(reward),
        n: split.credits.length,
        scheme: basis.scheme,
      },
    );
    const hash = bytesToHex(block.hash);
    alertEvents.emit(
      "block_confirmed",
      `Block ${block.height} ${hash} confirmed (${depth} confirmations): ${formatVbk(reward)} VBK`,
      { height: block.height, hash, confirmations: depth, reward: formatVbk(reward) },
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
