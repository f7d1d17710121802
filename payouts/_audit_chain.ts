/**
 * The audit's `chain` check, against NodeCore's HTTP API: each confirmed block in scope is the
 * main-chain block at its height (`getblocks` by index), and no orphaned or rejected one is;
 * each sent or confirmed payment in scope is known to the node (`gettransactions`) as
 * transactions from the pool address whose outputs are exactly the payment's items; the
 * transactions of a failed payment are not. Newest first, up to the limit of each kind; only
 * while NodeCore reports itself synced (behind the pool's blocks it would call them missing).
 *
 * @module
 */
import type { Payment, Store } from "../store/mod.ts";
import { type AuditScope, type BlockEntry, type Books, inScope } from "./_audit_books.ts";
import { type CheckBuilder, hex, newestFirst } from "./_audit_check.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import { NodeCoreRpcError } from "./nodecore_rpc_error.ts";

/** Where the chain check looks. */
export interface ChainTarget {
  /** NodeCore's HTTP API. */
  rpc: NodeCoreRpc;
  /** The pool's address (the source of payments); unchecked when absent. */
  poolAddress?: string | undefined;
}

/** `gettransactions` searches at least this many blocks back. */
const MIN_SEARCH = 5000;

/** The newest `limit` (0: all), newest first. */
function newest<T extends { time: number; id: bigint }>(list: readonly T[], limit: number): T[] {
  const sorted = [...list].sort(newestFirst);
  return limit > 0 ? sorted.slice(0, limit) : sorted;
}

async function checkBlocks(
  books: Books,
  scope: AuditScope,
  rpc: NodeCoreRpc,
  chain: CheckBuilder,
): Promise<void> {
  const all = [...books.blocks.values()].filter((b) => inScope(scope, b.time));
  const confirmedAll = all.filter((b) => b.status === "confirmed");
  const lostAll = all.filter((b) => b.status === "orphaned" || b.status === "rejected");
  const looked = [...newest(confirmedAll, scope.limit), ...newest(lostAll, scope.limit)];
  chain.count("blocks", 0);
  for (const b of looked) {
    chain.count("blocks");
    await checkBlock(b, rpc, chain);
  }
  const left = confirmedAll.length + lostAll.length - looked.length;
  if (left > 0) chain.note(`${left} older block(s) not looked up (limit ${scope.limit})`);
}

async function checkBlock(b: BlockEntry, rpc: NodeCoreRpc, chain: CheckBuilder): Promise<void> {
  const onChain = await rpc.getBlockAt(b.height);
  const key = hex(b.hash);
  const there = onChain?.hash.toLowerCase();
  if (b.status === "confirmed" && there !== key) {
    chain.add({
      code: "block_not_main_chain",
      message: `Block ${b.height} ${key} is confirmed, but ` +
        (there === undefined
          ? `NodeCore has no block at height ${b.height}`
          : `NodeCore's main-chain block at height ${b.height} is ${there}`),
      block: key,
      height: b.height,
    });
  } else if (b.status !== "confirmed" && there === key) {
    chain.add({
      code: "lost_block_on_main_chain",
      message: `Block ${b.height} ${key} is ${b.status} (it credited nothing), but it is ` +
        "NodeCore's main-chain block at its height",
      block: key,
      height: b.height,
    });
  }
}

/** Multiset key of outputs. */
function outputsKey(outputs: readonly { address: string; amount: bigint }[]): string {
  return outputs.map((o) => `${o.address}=${o.amount}`).sort().join(",");
}

async function checkPayment(
  p: Payment,
  target: ChainTarget,
  tip: number,
  chain: CheckBuilder,
): Promise<void> {
  const id = p.id.toString();
  const searchLength = Math.max(MIN_SEARCH, tip - p.startHeight + 10);
  const found = await target.rpc.getTransactions(p.txIds, { searchLength });
  const byId = new Map(found.map((t) => [t.transaction.txId.toUpperCase(), t.transaction]));
  if (p.status === "failed") {
    for (const t of p.txIds.filter((t) => byId.has(t.toUpperCase()))) {
      const txId = t.toLowerCase();
      chain.add({
        code: "failed_payment_on_chain",
        message: `Payment ${id} failed (its amounts were returned to the balances), but its ` +
          `transaction ${txId} is known to NodeCore`,
        payment: id,
        txId,
      });
    }
    return;
  }
  const outputs = [];
  for (const t of p.txIds) {
    const tx = byId.get(t.toUpperCase());
    const txId = t.toLowerCase();
    if (tx === undefined) {
      chain.add({
        code: "payment_tx_missing",
        message: `Payment ${id} is ${p.status}, but NodeCore does not know its transaction ${txId}`,
        payment: id,
        txId,
      });
      return;
    }
    if (target.poolAddress !== undefined && tx.sourceAddress !== target.poolAddress) {
      chain.add({
        code: "payment_tx_source",
        message: `Transaction ${txId} of payment ${id} pays from ${tx.sourceAddress}, not the ` +
          `pool address ${target.poolAddress}`,
        payment: id,
        txId,
        address: tx.sourceAddress,
      });
    }
    outputs.push(...tx.outputs);
  }
  if (outputsKey(outputs) !== outputsKey(p.items)) {
    chain.add({
      code: "payment_tx_outputs",
      message: `The transaction(s) of payment ${id} pay ${outputsKey(outputs) || "nothing"}, ` +
        `not its items ${outputsKey(p.items)}`,
      payment: id,
      txId: p.txIds.join(",").toLowerCase(),
    });
  }
}

async function checkPayments(
  store: Store,
  books: Books,
  scope: AuditScope,
  target: ChainTarget,
  chain: CheckBuilder,
): Promise<void> {
  const tip = (await target.rpc.getInfo()).lastBlock.number;
  const withTx = [...books.payments.entries()]
    .filter(([, p]) => p.hasTx && p.status !== "pending" && inScope(scope, p.createdAt))
    .map(([id, p]) => ({ id, time: p.createdAt }));
  const looked = newest(withTx, scope.limit);
  chain.count("payments", 0);
  for (const { id } of looked) {
    const p = await store.payouts.getPayment(id);
    if (p === undefined) continue;
    chain.count("payments");
    await checkPayment(p, target, tip, chain);
  }
  if (withTx.length > looked.length) {
    chain.note(
      `${withTx.length - looked.length} older payments not looked up (limit ${scope.limit})`,
    );
  }
  const pending =
    [...books.payments.values()].filter((p) =>
      p.status === "pending" && inScope(scope, p.createdAt)
    ).length;
  if (pending > 0) {
    chain.note(`${pending} pending payment(s) not looked up: their outcome is the payer's to find`);
  }
  if (target.poolAddress === undefined) {
    chain.note("the source of payments is not checked: no pool address configured");
  }
}

/**
 * Check the store against the chain.
 *
 * @param store The store.
 * @param books What the walk gathered.
 * @param scope Since and limit.
 * @param target NodeCore and the pool address.
 * @param chain The check (failed, not thrown, when NodeCore cannot be asked).
 */
export async function checkChain(
  store: Store,
  books: Books,
  scope: AuditScope,
  target: ChainTarget,
  chain: CheckBuilder,
): Promise<void> {
  try {
    // Behind the pool's blocks, NodeCore would call them missing: first it must be synced.
    const state = await target.rpc.getStateInfo();
    const work = [...books.blocks.values()].some((b) =>
      b.status === "confirmed" || b.status === "orphaned" || b.status === "rejected"
    ) ||
      [...books.payments.values()].some((p) =>
        p.hasTx
      );
    if (!state.synced && work) {
      chain.fail(
        `NodeCore is not synced (local height ${state.localBlockchainHeight}, network ` +
          `${state.networkHeight})`,
      );
      return;
    }
    await checkBlocks(books, scope, target.rpc, chain);
    await checkPayments(store, books, scope, target, chain);
  } catch (err) {
    if (!(err instanceof NodeCoreRpcError)) throw err;
    chain.fail(err.message);
  }
}
