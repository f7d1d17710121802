/**
 * The unlocker: follows each block the pool found until the chain has settled it, and credits
 * it then. One pass:
 *
 * 1. waits while NodeCore is not synced (`requireSynced`);
 * 2. scans the recent main chain for blocks paying the pool address that the store lost track
 *    of ({@linkcode ChainScan}: recorded from the chain, or back from `rejected`/`orphaned`);
 * 3. judges every `submitted` candidate and `pending` block, oldest first, by NodeCore's
 *    main-chain block at its height ({@linkcode judgeBlock}): a candidate whose hash the chain
 *    holds becomes `pending` (note cleared), whatever NodeCore answered its submit; a
 *    candidate whose height another block holds N deep is `rejected` (its note kept, else
 *    `not_on_chain`); a pending block N deep is credited, or `orphaned` when another block
 *    holds its height that deep;
 * 4. credits a settled block (`_block_credit.ts`) with exactly what its coinbase paid the pool
 *    address (`poolPayment`), by PPLNS or SOLO (`computeCredits`), in one store transaction
 *    that only a `pending` block passes, so a block is credited once. A block whose coinbase
 *    shows no payment to the pool stays `pending`, uncredited, with note `coinbase_missing` or
 *    `coinbase_not_pool` (written and logged when it changes). The operator's `blockReward`
 *    override credits without that proof (noted `reward_override`).
 *
 * Orphaned and rejected blocks credit nothing; their shares stay in the PPLNS window of later
 * blocks. Notes are fixed codes; NodeCore's words go to the log only.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { bytesToHex } from "../hash/hex.ts";
import { alertEvents } from "../log/mod.ts";
import type { Block, BlockStatus, Store } from "../store/mod.ts";
import { BlockCreditor, type CreditedBlock } from "./_block_credit.ts";
import { ChainScan } from "./chain_scan.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import type { ChainBlock } from "./nodecore_types.ts";
import { type PoolFee, PplnsWindow } from "./pplns.ts";
import { type BlockVerdict, judgeBlock } from "./reconcile.ts";

const log = getLogger(["vbkpool", "payouts", "unlocker"]);

export type { CreditedBlock };

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
   * pool address. It credits WITHOUT PROOF: also a block whose coinbase pays the pool nothing
   * (noted `reward_override`). Only for an operator who knows why the chain's outputs are
   * wrong. @default none (credit what the chain shows paid to the pool address)
   */
  blockReward?: bigint;
  /**
   * Heights of the recent main chain read per pass for blocks paying the pool address that
   * the store does not know ({@linkcode ChainScan}); 0 turns the scan off. Each pass reads
   * again the last `confirmations` heights (at most `scanBlocks` − 1) of the previous one.
   * @default confirmations + 10
   */
  scanBlocks?: number;
  /** Skip the pass while NodeCore is not synced. @default true */
  requireSynced?: boolean;
  /** Shares read per store page. @default 5000 */
  pageSize?: number;
  /** Open (submitted and pending) blocks looked at per pass. @default 1000 */
  maxBlocks?: number;
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
  /** Candidates rejected now (another block holds their height N deep). */
  rejected: Block[];
  /** Candidates found on the main chain now (submitted → pending). */
  onChain: Block[];
  /** Blocks paying the pool that the store did not know, recorded from the chain now. */
  recovered: Block[];
  /** Rejected or orphaned blocks back on the main chain now (pending again). */
  restored: Block[];
  /** Open blocks still waiting (for confirmations, or for proof of the pool's reward). */
  waiting: number;
}

/** A hash in NodeCore's form, to compare with its answers (logs show lower case). */
function hexOf(hash: Uint8Array): string {
  return bytesToHex(hash, { upper: true });
}

/**
 * Reconciles the pool's found blocks with the chain; confirms, credits, orphans or rejects them.
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
  #scan: ChainScan | undefined;
  #creditor: BlockCreditor;

  /**
   * @param store The pool's store.
   * @param rpc NodeCore's HTTP API.
   * @param options Pool address, confirmations, PPLNS window, fees, chain scan.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(store: Store, rpc: NodeCoreRpc, options: UnlockerOptions) {
    this.#store = store;
    this.#rpc = rpc;
    const confirmations = options.confirmations ?? 20;
    this.#o = {
      confirmations,
      window: 2,
      fees: [],
      soloFees: [],
      scanBlocks: confirmations + 10,
      requireSynced: true,
      pageSize: 5000,
      maxBlocks: 1000,
      ...options,
    };
    const n = this.#o.confirmations;
    if (!Number.isInteger(n) || n < 1 || n > 100_000) {
      throw new RangeError(`Cannot create unlocker: confirmations must be 1..100000, got ${n}`);
    }
    const k = this.#o.scanBlocks;
    if (!Number.isInteger(k) || k < 0 || k > 1_000_000) {
      throw new RangeError(`Cannot create unlocker: scanBlocks must be 0..1000000, got ${k}`);
    }
    if (k > 0) {
      this.#scan = new ChainScan(store, rpc, {
        poolAddress: this.#o.poolAddress,
        blocks: k,
        margin: Math.min(n, k - 1),
      });
    }
    this.#creditor = new BlockCreditor(store, rpc, this.#o);
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
   * One pass: the chain scan, then the open blocks, oldest first.
   *
   * @returns What changed.
   * @throws {NodeCoreRpcError} When NodeCore cannot be asked (what was done so far stays done;
   *   the next pass goes on from there).
   * @throws {StoreUnavailableError} When the store fails.
   */
  async run(): Promise<UnlockReport> {
    const report: UnlockReport = {
      tip: -1,
      confirmed: [],
      orphaned: [],
      rejected: [],
      onChain: [],
      recovered: [],
      restored: [],
      waiting: 0,
    };
    if (this.#scan === undefined && (await this.#openBlocks()).length === 0) return report;
    if (this.#o.requireSynced) {
      const state = await this.#rpc.getStateInfo();
      if (!state.synced) {
        report.skipped = `NodeCore is not synced (local ${state.localBlockchainHeight}, ` +
          `network ${state.networkHeight})`;
        report.waiting = (await this.#openBlocks()).length;
        log.warn("Unlocker waits: {why}", { why: report.skipped });
        return report;
      }
    }
    const tip = (await this.#rpc.getInfo()).lastBlock.number;
    report.tip = tip;
    if (this.#scan !== undefined) {
      const scanned = await this.#scan.run(tip);
      report.recovered = scanned.recovered;
      report.restored = scanned.restored;
    }
    for (const block of await this.#openBlocks()) await this.#follow(block, tip, report);
    return report;
  }

  /** Submitted and pending blocks, oldest first. */
  async #openBlocks(): Promise<Block[]> {
    const open = await this.#store.listBlocks({
      status: ["submitted", "pending"],
      limit: this.#o.maxBlocks,
    });
    return open.reverse();
  }

  /** Judge one open block by the main chain at its height, and act on the verdict. */
  async #follow(block: Block, tip: number, report: UnlockReport): Promise<void> {
    const depth = tip - block.height + 1;
    const onChain = depth >= 1 ? await this.#rpc.getBlockAt(block.height) : undefined;
    const facts = {
      hash: hexOf(block.hash),
      height: block.height,
      tip,
      chainHash: onChain?.hash,
      confirmations: this.#o.confirmations,
    };
    let verdict = judgeBlock({ ...facts, status: block.status as "submitted" | "pending" });
    if (verdict.action === "on_chain") {
      const pending = await this.#toPending(block, verdict.confirmations);
      if (pending === undefined) {
        report.waiting++;
        return;
      }
      report.onChain.push(pending);
      block = pending;
      verdict = judgeBlock({ ...facts, status: "pending" });
    }
    await this.#act(block, verdict, { onChain, report });
  }

  async #act(
    block: Block,
    verdict: BlockVerdict,
    at: { onChain: ChainBlock | undefined; report: UnlockReport },
  ): Promise<void> {
    const { onChain, report } = at;
    switch (verdict.action) {
      case "credit": {
        const credited = await this.#creditor.credit(block, onChain!, verdict.confirmations);
        if (credited === undefined) report.waiting++;
        else report.confirmed.push(credited);
        return;
      }
      case "reject": {
        const rejected = await this.#close(block, "rejected", onChain!);
        if (rejected !== undefined) report.rejected.push(rejected);
        return;
      }
      case "orphan": {
        const orphaned = await this.#close(block, "orphaned", onChain!);
        if (orphaned !== undefined) report.orphaned.push(orphaned);
        return;
      }
      default:
        // "wait" (and an "on_chain" that could not move on).
        if (verdict.action === "wait" && block.confirmations !== verdict.confirmations) {
          await this.#store.updateBlock(block.hash, {
            confirmations: verdict.confirmations,
            ifStatus: [block.status],
          });
        }
        report.waiting++;
    }
  }

  /** A candidate the chain holds: submitted → pending (note cleared). */
  async #toPending(block: Block, depth: number): Promise<Block | undefined> {
    const updated = await this.#store.updateBlock(block.hash, {
      status: "pending",
      note: "",
      confirmations: depth,
      ifStatus: ["submitted"],
    });
    if (updated?.status !== "pending") return undefined;
    log.info(
      "Block candidate {height} {hash} is NodeCore's main-chain block at its height " +
        "({depth} confirmations); pending (it was noted {note})",
      { height: block.height, hash: bytesToHex(block.hash), depth, note: block.note || "-" },
    );
    return updated;
  }

  /** Another block holds the height for good: a candidate is rejected, a pending block orphaned. */
  async #close(
    block: Block,
    status: "rejected" | "orphaned",
    other: ChainBlock,
  ): Promise<Block | undefined> {
    const from: BlockStatus = status === "rejected" ? "submitted" : "pending";
    const note = status === "rejected" && block.note === "" ? "not_on_chain" : block.note;
    const updated = await this.#store.updateBlock(block.hash, {
      status,
      note,
      confirmations: 0,
      ifStatus: [from],
    });
    if (updated?.status !== status) return undefined;
    log.warn(
      "Block {height} {hash} is {status} ({note}): {other} holds its height for good",
      {
        height: block.height,
        hash: bytesToHex(block.hash),
        status,
        note: note || "-",
        other: other.hash.toLowerCase(),
      },
    );
    if (status === "orphaned") {
      const hash = bytesToHex(block.hash);
      alertEvents.emit("block_orphaned", `Block ${block.height} ${hash} is orphaned`, {
        height: block.height,
        hash,
        other: other.hash.toLowerCase(),
      });
    }
    return updated;
  }
}
