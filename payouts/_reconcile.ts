/**
 * What the payer and the operator's `--settle` both ask NodeCore about an intent: the pool
 * address's transactions in the mempool and in the blocks since the intent, the one whose
 * outputs are exactly the intent's (a multiset of address=amount), and the pool address's
 * signature index.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { PaymentItem, SignatureIndex } from "../store/mod.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import { NodeCoreRpcError } from "./nodecore_rpc_error.ts";
import type { Output, Transaction } from "./nodecore_types.ts";

const log = getLogger(["vbkpool", "payouts", "payer"]);

/** Multiset key of outputs: "address=amount" sorted. */
export function outputsKey(outputs: readonly Output[]): string {
  return outputs.map((o) => `${o.address}=${o.amount}`).sort().join(",");
}

/**
 * The pool transaction with exactly `items` as outputs, not already recorded on a payment.
 *
 * @param txs Pool transactions.
 * @param items The intent's recipients.
 * @param known Transaction ids recorded on payments.
 * @returns The transaction, or undefined.
 */
export function findMatch(
  txs: readonly Transaction[],
  items: readonly PaymentItem[],
  known: ReadonlySet<string>,
): Transaction | undefined {
  const key = outputsKey(items);
  return txs.find((t) => !known.has(t.txId) && outputsKey(t.outputs) === key);
}

/** Options for {@linkcode poolTransactions}. */
export interface PoolScanOptions {
  /** The pool's address. */
  poolAddress: string;
  /** Most blocks searched. */
  maxScanBlocks: number;
}

/**
 * Transactions from the pool address in the mempool and in the main-chain blocks from..tip.
 *
 * @param rpc NodeCore.
 * @param range First height and the tip.
 * @param options Pool address, scan limit.
 * @returns The transactions.
 */
export async function poolTransactions(
  rpc: NodeCoreRpc,
  range: { from: number; tip: number },
  options: PoolScanOptions,
): Promise<Transaction[]> {
  const { from, tip } = range;
  const out = (await rpc.getPendingTransactions()).filter((t) =>
    t.sourceAddress === options.poolAddress
  );
  const start = Math.max(0, from, tip - options.maxScanBlocks + 1);
  if (start > from) {
    log.warn("Reconciliation searches only blocks {start}..{tip} (maxScanBlocks)", {
      start,
      tip,
    });
  }
  for (let h = start; h <= tip; h++) {
    const block = await rpc.getBlockAt(h);
    if (block === undefined) continue;
    for (const t of block.transactions) {
      if (t.sourceAddress === options.poolAddress) out.push(t);
    }
  }
  return out;
}

/**
 * The pool address's signature index.
 *
 * @param rpc NodeCore.
 * @param poolAddress The pool's address.
 * @returns Its index.
 * @throws {NodeCoreRpcError} When the call fails or the reply does not name the address.
 */
export async function poolSignatureIndex(
  rpc: NodeCoreRpc,
  poolAddress: string,
): Promise<SignatureIndex> {
  const entry = (await rpc.getSignatureIndex([poolAddress])).find((x) => x.address === poolAddress);
  if (entry === undefined) {
    throw new NodeCoreRpcError(
      `Cannot call getsignatureindex: malformed reply: no index for ${poolAddress}`,
      { kind: "malformed", method: "getsignatureindex" },
    );
  }
  return { blockchainIndex: entry.blockchainIndex, poolIndex: entry.poolIndex };
}

/**
 * {@linkcode poolSignatureIndex}, with a failure as `{ error }`.
 *
 * @param rpc NodeCore.
 * @param poolAddress The pool's address.
 * @returns The index, or why it could not be read.
 */
export async function tryPoolSignatureIndex(
  rpc: NodeCoreRpc,
  poolAddress: string,
): Promise<SignatureIndex | { error: string }> {
  try {
    return await poolSignatureIndex(rpc, poolAddress);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
