/**
 * The devnet's wallet ledger: balances in atomic units that follow the main chain. Each
 * main-chain block's coinbase pays its finder (the pool address that authenticated over UCP,
 * or a fixed rival address) a configured reward plus the fees of the transactions it holds;
 * `send` creates a transaction from an address with enough spendable coins, which the next
 * connected block includes.
 *
 * Reorganisations: disconnecting a block undoes its coinbase and its transactions, and those
 * transactions return to the mempool (ahead of newer ones); when a block connects, a pending
 * transaction its source can no longer afford is dropped (logged, and reported as unknown by
 * `transaction`). Persistence: with a file, every transaction, block assignment and drop is
 * appended as a JSON line, and reopening replays them over the loaded chain.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { sha256 } from "@noble/hashes/sha2.js";
import { isValidAddress } from "../hash/address.ts";
import { bytesToHex } from "../hash/hex.ts";
import type { DevnetBlock, DevnetChain } from "./chain.ts";
import { LedgerFile, type LedgerRecords } from "./ledger_file.ts";
import type { LedgerOutput, LedgerTransaction } from "./ledger_types.ts";

const log = getLogger(["vbkpool", "devnet", "ledger"]);

/** Coinbase address of the devnet's simulated rival miner. */
export const DEVNET_RIVAL_ADDRESS = "V2SxFzwDFYn5VuLFWLvRrQLdyB4Ed8";
/** Default block reward: 50 VBK in atomic units. */
export const DEVNET_BLOCK_REWARD = 5_000_000_000n;
/** Default fee: NodeCore's default of 1000 atomic units per byte. */
export const DEVNET_FEE_PER_BYTE = 1000n;
/** Most outputs one devnet transaction may have. */
export const MAX_OUTPUTS = 1000;
const INT64_MAX = (1n << 63n) - 1n;

/** Where a known transaction is. */
export interface TransactionStatus {
  /** The transaction. */
  tx: LedgerTransaction;
  /** The main-chain block holding it, or undefined while pending. */
  block: DevnetBlock | undefined;
  /** Confirmations (0 while pending). */
  confirmations: number;
}

/** A block's coinbase. */
export interface Coinbase {
  /** Who it pays ("" for none, e.g. genesis). */
  address: string;
  /** The base reward. */
  reward: bigint;
  /** Fees of the block's transactions. */
  fees: bigint;
}

/** What {@linkcode DevnetLedger.send} pays. */
export interface SendRequest {
  /** Paying address; when absent, the address with the most spendable coins. */
  sourceAddress?: string;
  /** Outputs. */
  outputs: readonly LedgerOutput[];
  /** Take the fee from the outputs (split evenly) instead of on top. @default false */
  takeFeeFromOutputs?: boolean;
}

/** Options for {@linkcode DevnetLedger}. */
export interface DevnetLedgerOptions {
  /** Coinbase reward per block, atomic units. @default DEVNET_BLOCK_REWARD */
  reward?: bigint;
  /** Fee per byte, atomic units. @default DEVNET_FEE_PER_BYTE */
  feePerByte?: bigint;
  /** JSON-lines file the ledger is loaded from and appended to. */
  file?: string;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

/**
 * Size of a devnet transaction with `outputs` outputs, in bytes (a rule of thumb; the fee is
 * `feePerByte` times this).
 *
 * @example Usage
 * ```ts
 * import { transactionSize } from "./ledger.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(transactionSize(1), 160);
 * ```
 *
 * @param outputs Number of outputs.
 * @returns Bytes.
 */
export function transactionSize(outputs: number): number {
  return 120 + 40 * outputs;
}

/**
 * Balances, transactions and coinbases over a {@linkcode DevnetChain}'s main chain.
 *
 * @example Usage
 * ```ts
 * import { DevnetLedger } from "./ledger.ts";
 * import { startDevnet } from "./node.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const ledger: DevnetLedger = devnet.ledger;
 * const block = await devnet.rival.mineBlock();
 * assert.equal(ledger.coinbase(block)?.reward, 5_000_000_000n);
 * assert.equal(ledger.balance(ledger.coinbase(block)!.address).confirmed, 5_000_000_000n);
 * await devnet.stop();
 * ```
 */
export class DevnetLedger {
  /** Coinbase reward per block. */
  readonly reward: bigint;
  /** Fee per byte. */
  readonly feePerByte: bigint;
  #chain: DevnetChain;
  #file: LedgerFile | undefined;
  #now: () => number;
  #balances = new Map<string, bigint>();
  #txs = new Map<string, LedgerTransaction>();
  #mempool: string[] = [];
  #inBlock = new Map<string, DevnetBlock>();
  #blockTxs = new Map<string, string[]>();
  #rewards = new Map<string, bigint>();
  #recorded: LedgerRecords | undefined;
  #path: DevnetBlock[] = [];
  #serial = 0;

  /**
   * Build the ledger over `chain` (replaying `records` when given) and connect its main chain.
   *
   * @param chain The block tree.
   * @param options Reward, fee, clock, file.
   * @param records What a ledger file held.
   */
  constructor(chain: DevnetChain, options: DevnetLedgerOptions = {}, records?: LedgerRecords) {
    this.#chain = chain;
    this.reward = options.reward ?? DEVNET_BLOCK_REWARD;
    this.feePerByte = options.feePerByte ?? DEVNET_FEE_PER_BYTE;
    if (this.reward < 0n || this.reward > INT64_MAX || this.feePerByte < 0n) {
      throw new RangeError("Cannot create devnet ledger: reward and fee must be >= 0");
    }
    this.#now = options.now ?? Date.now;
    if (records !== undefined) {
      this.#recorded = records;
      for (const tx of records.transactions) this.#txs.set(tx.txId, tx);
      this.#mempool = records.transactions.filter((t) => !records.dropped.has(t.txId)).map((t) =>
        t.txId
      );
      this.#serial = records.transactions.length;
    }
    this.sync();
    this.#recorded = undefined;
    if (options.file !== undefined) this.#file = new LedgerFile(options.file);
  }

  /**
   * Open a ledger, loading its file when there is one.
   *
   * @param chain The block tree (already loaded).
   * @param options Reward, fee, clock, file.
   * @returns The ledger, with the main chain connected.
   * @throws {SyntaxError} When the file is malformed.
   */
  static async open(chain: DevnetChain, options: DevnetLedgerOptions = {}): Promise<DevnetLedger> {
    const records = options.file === undefined ? undefined : await LedgerFile.load(options.file);
    return new DevnetLedger(chain, options, records);
  }

  /**
   * Follow the chain: disconnect blocks that left the main chain (newest first), connect the
   * new ones (oldest first). Called by the node after every accepted block.
   */
  sync(): void {
    const chain = this.#chain;
    let fork = Math.min(this.#path.length, chain.height + 1);
    while (fork > 0 && this.#path[fork - 1] !== chain.blockAt(fork - 1)) fork--;
    while (this.#path.length > fork) this.#disconnect(this.#path.pop()!);
    for (let h = fork; h <= chain.height; h++) {
      const block = chain.blockAt(h)!;
      this.#connect(block);
      this.#path.push(block);
    }
  }

  /**
   * An address's balances.
   *
   * @param address VBK address.
   * @returns `confirmed` (in main-chain blocks), `pending` (net change of mempool transactions)
   *   and `spendable` (confirmed minus pending spends).
   */
  balance(address: string): { confirmed: bigint; pending: bigint; spendable: bigint } {
    const confirmed = this.#balances.get(address) ?? 0n;
    let pending = 0n;
    let spends = 0n;
    for (const id of this.#mempool) {
      const tx = this.#txs.get(id)!;
      if (tx.sourceAddress === address) {
        const out = totalOf(tx);
        pending -= out;
        spends += out;
      }
      for (const o of tx.outputs) if (o.address === address) pending += o.amount;
    }
    return { confirmed, pending, spendable: confirmed - spends };
  }

  /**
   * Every address with a confirmed balance or a pending change.
   *
   * @returns Addresses, sorted.
   */
  addresses(): string[] {
    const all = new Set(this.#balances.keys());
    for (const id of this.#mempool) {
      const tx = this.#txs.get(id)!;
      all.add(tx.sourceAddress);
      for (const o of tx.outputs) all.add(o.address);
    }
    return [...all].sort();
  }

  /**
   * An address's signature index, as NodeCore's `getsignatureindex` reports it: the index of
   * the last transaction it signed in the main chain, and counting the mempool (-1 for none).
   * Each transaction an address signs takes the next index, so the devnet's indexes are its
   * transaction counts minus one. Both go back when transactions leave: a reorganisation
   * lowers `blockchainIndex` (the transactions return to the mempool), a dropped transaction
   * lowers `poolIndex`.
   *
   * @param address VBK address.
   * @returns The two indexes.
   */
  signatureIndex(address: string): { blockchainIndex: bigint; poolIndex: bigint } {
    let confirmed = 0n;
    for (const id of this.#inBlock.keys()) {
      if (this.#txs.get(id)!.sourceAddress === address) confirmed++;
    }
    let pending = 0n;
    for (const id of this.#mempool) {
      if (this.#txs.get(id)!.sourceAddress === address) pending++;
    }
    return { blockchainIndex: confirmed - 1n, poolIndex: confirmed + pending - 1n };
  }

  /**
   * Create a transaction (it waits in the mempool for the next block).
   *
   * @param request Source, outputs, fee mode.
   * @returns The transaction, or why it was refused.
   */
  send(request: SendRequest): { ok: true; tx: LedgerTransaction } | { ok: false; reason: string } {
    const outputs = request.outputs;
    if (outputs.length === 0) return { ok: false, reason: "no outputs" };
    if (outputs.length > MAX_OUTPUTS) {
      return { ok: false, reason: `more than ${MAX_OUTPUTS} outputs` };
    }
    for (const o of outputs) {
      if (!isValidAddress(o.address)) {
        return { ok: false, reason: `invalid output address ${JSON.stringify(o.address)}` };
      }
      if (typeof o.amount !== "bigint" || o.amount <= 0n || o.amount > INT64_MAX) {
        return { ok: false, reason: `invalid amount for ${o.address}` };
      }
    }
    let source = request.sourceAddress;
    if (source === undefined) {
      let best: [string, bigint] | undefined;
      for (const a of this.addresses()) {
        const s = this.balance(a).spendable;
        if (best === undefined || s > best[1]) best = [a, s];
      }
      if (best === undefined) return { ok: false, reason: "the wallet has no address with coins" };
      source = best[0];
    } else if (!isValidAddress(source)) {
      return { ok: false, reason: `invalid source address ${JSON.stringify(source)}` };
    }
    const size = transactionSize(outputs.length);
    const fee = this.feePerByte * BigInt(size);
    let final = outputs.map((o) => ({ address: o.address, amount: o.amount }));
    if (request.takeFeeFromOutputs === true) {
      const each = fee / BigInt(final.length);
      let extra = fee - each * BigInt(final.length);
      final = final.map((o) => {
        const cut = each + extra;
        extra = 0n;
        return { address: o.address, amount: o.amount - cut };
      });
      if (final.some((o) => o.amount <= 0n)) {
        return { ok: false, reason: `an output is too small to pay its part of the fee ${fee}` };
      }
    }
    const needed = final.reduce((s, o) => s + o.amount, 0n) + fee;
    const spendable = this.balance(source).spendable;
    if (needed > spendable) {
      return {
        ok: false,
        reason:
          `Including the desired fee of ${this.feePerByte} atomic units per byte, we can't gather enough inputs: ${source} can spend ${spendable}, the transaction needs ${needed}`,
      };
    }
    const now = this.#now();
    const body = {
      sourceAddress: source,
      outputs: final,
      fee,
      size,
      timestamp: Math.floor(now / 1000),
    };
    const txId = bytesToHex(
      sha256(new TextEncoder().encode(JSON.stringify({
        ...body,
        outputs: final.map((o) => [o.address, o.amount.toString()]),
        fee: fee.toString(),
        serial: ++this.#serial,
        now,
        nonce: Math.random(),
      }))),
      { upper: true },
    );
    const tx: LedgerTransaction = { txId, ...body };
    this.#txs.set(txId, tx);
    this.#mempool.push(txId);
    this.#file?.transaction(tx);
    log.info("Transaction {txId} from {source}: {n} output(s), {amount} + fee {fee}", {
      txId: txId.toLowerCase(),
      source,
      n: final.length,
      amount: (needed - fee).toString(),
      fee: fee.toString(),
    });
    return { ok: true, tx };
  }

  /**
   * A transaction by id, if it is pending or in the main chain.
   *
   * @param txId Hex (either case).
   * @returns Where it is, or undefined (unknown or dropped).
   */
  transaction(txId: string): TransactionStatus | undefined {
    const id = typeof txId === "string" ? txId.toUpperCase() : "";
    const tx = this.#txs.get(id);
    if (tx === undefined) return undefined;
    const block = this.#inBlock.get(id);
    if (block !== undefined) {
      return { tx, block, confirmations: this.#chain.height - block.height + 1 };
    }
    return this.#mempool.includes(id) ? { tx, block: undefined, confirmations: 0 } : undefined;
  }

  /**
   * The mempool, oldest first.
   *
   * @returns Pending transactions.
   */
  pending(): LedgerTransaction[] {
    return this.#mempool.map((id) => this.#txs.get(id)!);
  }

  /**
   * Transactions of a connected (main-chain) block.
   *
   * @param block The block.
   * @returns Its transactions (empty for side blocks).
   */
  blockTransactions(block: DevnetBlock): LedgerTransaction[] {
    return (this.#blockTxs.get(block.hashHex) ?? []).map((id) => this.#txs.get(id)!);
  }

  /**
   * A block's coinbase: what it pays (main chain) or would pay (side branch).
   *
   * @param block The block.
   * @returns Address, reward and fees; undefined for genesis.
   */
  coinbase(block: DevnetBlock): Coinbase | undefined {
    if (block.source === "genesis") return undefined;
    const fees = this.blockTransactions(block).reduce((s, t) => s + t.fee, 0n);
    return {
      address: coinbaseAddress(block),
      reward: this.#rewards.get(block.hashHex) ?? this.reward,
      fees,
    };
  }

  #connect(block: DevnetBlock): void {
    if (block.source === "genesis") return;
    const recorded = this.#recorded?.blocks.get(block.hashHex);
    const reward = recorded?.reward ?? this.#rewards.get(block.hashHex) ?? this.reward;
    this.#rewards.set(block.hashHex, reward);
    const candidates = recorded?.txs ?? this.#mempool;
    const included: string[] = [];
    const dropped: string[] = [];
    for (const id of candidates) {
      const tx = this.#txs.get(id);
      if (tx === undefined || !this.#mempool.includes(id)) continue;
      const cost = totalOf(tx);
      const have = this.#balances.get(tx.sourceAddress) ?? 0n;
      if (cost > have) {
        dropped.push(id);
        continue;
      }
      this.#add(tx.sourceAddress, -cost);
      for (const o of tx.outputs) this.#add(o.address, o.amount);
      included.push(id);
      this.#inBlock.set(id, block);
    }
    const gone = new Set([...included, ...dropped]);
    this.#mempool = this.#mempool.filter((id) => !gone.has(id));
    for (const id of dropped) {
      log.warn("Dropped transaction {txId}: its source can no longer pay it", {
        txId: id.toLowerCase(),
      });
      this.#file?.drop(id);
    }
    this.#blockTxs.set(block.hashHex, included);
    const address = coinbaseAddress(block);
    const fees = included.reduce((s, id) => s + this.#txs.get(id)!.fee, 0n);
    this.#add(address, reward + fees);
    if (this.#recorded === undefined) this.#file?.block(block.hashHex, reward, included);
  }

  #disconnect(block: DevnetBlock): void {
    if (block.source === "genesis") return;
    const ids = this.#blockTxs.get(block.hashHex) ?? [];
    const fees = ids.reduce((s, id) => s + this.#txs.get(id)!.fee, 0n);
    this.#add(coinbaseAddress(block), -(this.#rewards.get(block.hashHex)! + fees));
    for (const id of [...ids].reverse()) {
      const tx = this.#txs.get(id)!;
      for (const o of tx.outputs) this.#add(o.address, -o.amount);
      this.#add(tx.sourceAddress, totalOf(tx));
      this.#inBlock.delete(id);
    }
    this.#blockTxs.delete(block.hashHex);
    this.#mempool = [...ids, ...this.#mempool];
    if (ids.length > 0) {
      log.info(
        "Block {height} {hash} left the main chain: {n} transaction(s) back in the mempool",
        {
          height: block.height,
          hash: block.hashHex.toLowerCase(),
          n: ids.length,
        },
      );
    }
  }

  #add(address: string, amount: bigint): void {
    const next = (this.#balances.get(address) ?? 0n) + amount;
    if (next === 0n) this.#balances.delete(address);
    else this.#balances.set(address, next);
  }
}

function totalOf(tx: LedgerTransaction): bigint {
  return tx.outputs.reduce((s, o) => s + o.amount, 0n) + tx.fee;
}

function coinbaseAddress(block: DevnetBlock): string {
  if (block.source === "rival") return DEVNET_RIVAL_ADDRESS;
  return isValidAddress(block.finder) ? block.finder : DEVNET_RIVAL_ADDRESS;
}
