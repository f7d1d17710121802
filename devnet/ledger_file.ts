/**
 * Devnet ledger persistence: a JSON-lines file beside the chain file (`<chain file>.ledger`)
 * holding every transaction created, which transactions each block included with its reward
 * when it connected, and transactions dropped. Loading returns those records; the ledger
 * replays them over the (already loaded) chain.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { isHex } from "../hash/hex.ts";
import type { LedgerOutput, LedgerTransaction } from "./ledger_types.ts";

const log = getLogger(["vbkpool", "devnet", "ledger"]);

/** What a ledger file holds. */
export interface LedgerRecords {
  /** Transactions, in creation order. */
  transactions: LedgerTransaction[];
  /** Per block hash (upper-case hex): its reward and transaction ids (the last record wins). */
  blocks: Map<string, { reward: bigint; txs: string[] }>;
  /** Ids of dropped transactions. */
  dropped: Set<string>;
}

function fail(path: string, line: number, why: string): never {
  throw new SyntaxError(`Cannot load ledger file ${path}: line ${line}: ${why}`);
}

function bigOf(path: string, line: number, value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^\d{1,19}$/.test(value)) fail(path, line, `bad ${what}`);
  return BigInt(value);
}

/**
 * Appends ledger records to a file.
 *
 * @example Usage
 * ```ts
 * import { LedgerFile } from "./ledger_file.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * new LedgerFile(path).drop("AB".repeat(32));
 * const records = await LedgerFile.load(path);
 * assert.equal(records.dropped.has("AB".repeat(32)), true);
 * await Deno.remove(path);
 * ```
 */
export class LedgerFile {
  /** The file. */
  readonly path: string;

  /** @param path The file (created when missing). */
  constructor(path: string) {
    this.path = path;
  }

  /**
   * Load a ledger file.
   *
   * @param path The file.
   * @returns Its records (empty when the file does not exist).
   * @throws {SyntaxError} Naming the line, when a line is malformed.
   */
  static async load(path: string): Promise<LedgerRecords> {
    const records: LedgerRecords = { transactions: [], blocks: new Map(), dropped: new Set() };
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return records;
      throw new Error(`Cannot load ledger file ${path}: ${(err as Error).message}`);
    }
    const lines = text.split("\n");
    const seen = new Set<string>();
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.trim();
      if (raw === "") continue;
      const n = i + 1;
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(raw);
      } catch {
        if (i === lines.length - 1) break; // a torn last line from a crash
        fail(path, n, "not JSON");
      }
      if (typeof doc !== "object" || doc === null) fail(path, n, "not an object");
      switch (doc.type) {
        case "tx": {
          if (!isHex(doc.txId, 32)) fail(path, n, "bad txId");
          if (typeof doc.sourceAddress !== "string") fail(path, n, "bad sourceAddress");
          if (!Array.isArray(doc.outputs)) fail(path, n, "bad outputs");
          const outputs: LedgerOutput[] = doc.outputs.map((o: unknown) => {
            if (!Array.isArray(o) || typeof o[0] !== "string") fail(path, n, "bad output");
            return { address: o[0], amount: bigOf(path, n, o[1], "amount") };
          });
          const txId = (doc.txId as string).toUpperCase();
          if (seen.has(txId)) continue;
          seen.add(txId);
          records.transactions.push({
            txId,
            sourceAddress: doc.sourceAddress,
            outputs,
            fee: bigOf(path, n, doc.fee, "fee"),
            size: Number.isSafeInteger(doc.size) ? doc.size as number : 0,
            timestamp: Number.isSafeInteger(doc.timestamp) ? doc.timestamp as number : 0,
          });
          break;
        }
        case "block": {
          if (!isHex(doc.hash, 24)) fail(path, n, "bad block hash");
          if (!Array.isArray(doc.txs) || !doc.txs.every((t: unknown) => isHex(t, 32))) {
            fail(path, n, "bad txs");
          }
          records.blocks.set((doc.hash as string).toUpperCase(), {
            reward: bigOf(path, n, doc.reward, "reward"),
            txs: (doc.txs as string[]).map((t) => t.toUpperCase()),
          });
          break;
        }
        case "drop":
          if (!isHex(doc.txId, 32)) fail(path, n, "bad txId");
          records.dropped.add((doc.txId as string).toUpperCase());
          break;
        default:
          fail(path, n, `unknown record type ${JSON.stringify(doc.type)}`);
      }
    }
    return records;
  }

  /**
   * Record a new transaction.
   *
   * @param tx The transaction.
   */
  transaction(tx: LedgerTransaction): void {
    this.#append({
      type: "tx",
      txId: tx.txId,
      sourceAddress: tx.sourceAddress,
      outputs: tx.outputs.map((o) => [o.address, o.amount.toString()]),
      fee: tx.fee.toString(),
      size: tx.size,
      timestamp: tx.timestamp,
    });
  }

  /**
   * Record what a block included when it connected.
   *
   * @param hash Block hash (upper-case hex).
   * @param reward Its coinbase reward.
   * @param txs Included transaction ids.
   */
  block(hash: string, reward: bigint, txs: readonly string[]): void {
    this.#append({ type: "block", hash, reward: reward.toString(), txs });
  }

  /**
   * Record a dropped transaction.
   *
   * @param txId Its id.
   */
  drop(txId: string): void {
    this.#append({ type: "drop", txId });
  }

  #append(record: unknown): void {
    try {
      Deno.writeTextFileSync(this.path, JSON.stringify(record) + "\n", { append: true });
    } catch (err) {
      log.error("Cannot append to ledger file {file}: {error}", {
        file: this.path,
        error: (err as Error).message,
      });
    }
  }
}
