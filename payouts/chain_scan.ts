/**
 * The chain scan: finds the pool's blocks that the store lost track of (issue 15, defect 4). A
 * block is the pool's when its PoW coinbase pays the pool address ({@linkcode poolPayment}).
 * Each pass reads the recent main chain (`getblocks` by index) and:
 *
 * - a block paying the pool whose hash the store does not know (the pool crashed before it
 *   wrote the candidate) is recorded `pending`, `source: "chain"`, note `recovered_from_chain`,
 *   for the pool address with worker "" (the chain does not say which miner found it, so it is
 *   credited by PPLNS over the window at its time, like any pool block), its time the block's
 *   timestamp;
 * - a block paying the pool that the store holds as `rejected` or `orphaned` is back on the main
 *   chain (a reorganisation deeper than the confirmations): it becomes `pending` again, note
 *   `back_on_chain`. Neither status was ever credited, and crediting needs `pending`, so it is
 *   credited once at most;
 * - anything else is left alone: blocks paying other addresses (the rival's, anyone's), and
 *   blocks the store knows as `submitted`, `pending` or `confirmed` (the unlocker follows them).
 *
 * Bounded: a pass reads at most `blocks` heights. The first pass reads the `blocks` heights
 * below the tip; later passes start `margin` heights below where the previous one ended (so a
 * reorganisation up to `margin` deep is read again) and catch up at most `blocks` heights at a
 * time. The tip itself is left to the next pass, so a candidate the pool is writing at this
 * moment is never mistaken for a lost one. Where the last pass ended is kept in memory: after a
 * restart the scan starts `blocks` below the tip again (a larger `scan_blocks` for one run looks
 * further back).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { hexToBytes } from "../hash/hex.ts";
import type { Block, Store } from "../store/mod.ts";
import { formatVbk } from "./amount.ts";
import { chainDifficulty, poolPayment } from "./coinbase.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import type { ChainBlock } from "./nodecore_types.ts";

const log = getLogger(["vbkpool", "payouts", "scan"]);

/** Options for {@linkcode ChainScan}. */
export interface ChainScanOptions {
  /** The pool's address. */
  poolAddress: string;
  /** Most heights read per pass (≥ 1). */
  blocks: number;
  /** Heights below the previous pass's end read again (a reorganisation margin). @default 0 */
  margin?: number;
}

/** What one scan did. */
export interface ScanReport {
  /** First height read (0 when none). */
  from: number;
  /** Last height read (-1 when none). */
  to: number;
  /** Blocks recorded from the chain now. */
  recovered: Block[];
  /** Rejected or orphaned blocks that are back on the main chain (pending again). */
  restored: Block[];
}

/**
 * Scans the recent main chain for the pool's blocks the store does not follow.
 *
 * @example Usage
 * ```ts
 * import { ChainScan } from "./chain_scan.ts";
 * import { NodeCoreRpc } from "./nodecore_rpc.ts";
 * import { DEVNET_RIVAL_ADDRESS, startDevnet } from "../devnet/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, rpcPort: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const rpc = new NodeCoreRpc({ url: `http://127.0.0.1:${devnet.rpcAddr!.port}/api` });
 * await devnet.rival.mineBlock();
 * await devnet.rival.mineBlock();
 * // Pretend the rival's address is the pool's: its first block is found (the tip is left).
 * const scan = new ChainScan(store, rpc, { poolAddress: DEVNET_RIVAL_ADDRESS, blocks: 10 });
 * const report = await scan.run(devnet.chain.height);
 * assert.deepEqual([report.from, report.to], [1, 1]);
 * assert.equal(report.recovered[0]?.note, "recovered_from_chain");
 * assert.equal((await scan.run(devnet.chain.height)).recovered.length, 0, "once");
 * await store.close();
 * await devnet.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ChainScan {
  #store: Store;
  #rpc: NodeCoreRpc;
  #poolAddress: string;
  #blocks: number;
  #margin: number;
  #next: number | undefined;

  /**
   * @param store The pool's store.
   * @param rpc NodeCore's HTTP API.
   * @param options Pool address, heights per pass, reorganisation margin.
   * @throws {RangeError} When `blocks` < 1 or `margin` is not in 0..blocks − 1.
   */
  constructor(store: Store, rpc: NodeCoreRpc, options: ChainScanOptions) {
    const { blocks, margin = 0 } = options;
    if (!Number.isSafeInteger(blocks) || blocks < 1) {
      throw new RangeError(
        `Cannot create chain scan: blocks must be an integer >= 1, got ${blocks}`,
      );
    }
    if (!Number.isSafeInteger(margin) || margin < 0 || margin >= blocks) {
      throw new RangeError(
        `Cannot create chain scan: margin must be an integer in 0..${blocks - 1}, got ${margin}`,
      );
    }
    this.#store = store;
    this.#rpc = rpc;
    this.#poolAddress = options.poolAddress;
    this.#blocks = blocks;
    this.#margin = margin;
  }

  /**
   * Scan the heights due below `tip`.
   *
   * @param tip NodeCore's tip height now.
   * @returns What was found.
   * @throws {NodeCoreRpcError} When NodeCore cannot be asked (the next pass starts over there).
   */
  async run(tip: number): Promise<ScanReport> {
    const report: ScanReport = { from: 0, to: -1, recovered: [], restored: [] };
    const range = this.#range(tip);
    if (range === undefined) return report;
    report.from = range.from;
    for (let height = range.from; height <= range.to; height++) {
      const block = await this.#rpc.getBlockAt(height);
      if (block === undefined) break; // the chain is shorter than the tip said a moment ago
      await this.#look(block, report);
      report.to = height;
      this.#next = height + 1;
    }
    if (report.to < tip - 1 && report.to === range.to) {
      log.info("Chain scan is catching up: read heights {from}..{to}, the tip is {tip}", {
        from: report.from,
        to: report.to,
        tip,
      });
    }
    return report;
  }

  /** The heights to read: at most `blocks`, never the tip. */
  #range(tip: number): { from: number; to: number } | undefined {
    const last = tip - 1;
    if (last < 1) return undefined;
    const from = this.#next === undefined
      ? Math.max(1, last - this.#blocks + 1)
      : Math.max(1, Math.min(this.#next, last + 1) - this.#margin);
    const to = Math.min(last, from + this.#blocks - 1);
    return from > to ? undefined : { from, to };
  }

  async #look(block: ChainBlock, report: ScanReport): Promise<void> {
    const paid = poolPayment(block, this.#poolAddress);
    if (paid.amount === 0n) return;
    const hash = hexToBytes(block.hash, { length: 24, name: "block hash" });
    const known = await this.#store.getBlock(hash);
    if (known === undefined) {
      const recovered = await this.#record(block, hash, paid.amount);
      if (recovered !== undefined) report.recovered.push(recovered);
    } else if (known.status === "rejected" || known.status === "orphaned") {
      const restored = await this.#store.updateBlock(hash, {
        status: "pending",
        note: "back_on_chain",
        confirmations: 0,
        ifStatus: ["rejected", "orphaned"],
      });
      if (restored?.status !== "pending") return;
      report.restored.push(restored);
      log.warn(
        "Block {height} {hash} was {status} but is back on NodeCore's main chain (a reorganisation " +
          "deeper than the confirmations); it is pending again and credited once confirmed",
        { height: block.number, hash: block.hash.toLowerCase(), status: known.status },
      );
    }
  }

  async #record(block: ChainBlock, hash: Uint8Array, paid: bigint): Promise<Block | undefined> {
    const { block: row, inserted } = await this.#store.recordBlock({
      instance: 0,
      height: block.number,
      hash,
      address: this.#poolAddress,
      worker: "",
      networkDifficulty: chainDifficulty(block),
      // The block's time, but never later than now: a header time set ahead (NodeCore takes
      // minutes) must not let shares accepted after the block into its PPLNS window.
      time: block.timestamp > 0 ? Math.min(block.timestamp * 1000, Date.now()) : Date.now(),
      status: "pending",
      source: "chain",
      note: "recovered_from_chain",
    });
    if (!inserted) return undefined;
    log.warn(
      "RECOVERED block {height} {hash} from the chain: its coinbase pays the pool address " +
        "{paid} VBK but the store did not know it (a candidate lost before it was written); it " +
        "is pending and is credited by PPLNS at its time once confirmed",
      { height: block.number, hash: block.hash.toLowerCase(), paid: formatVbk(paid) },
    );
    return row;
  }
}
