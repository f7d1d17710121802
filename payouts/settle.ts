/**
 * The operator's side of payment intents whose outcome is unknown (`pending`): list them with
 * what each waits for ({@linkcode listUnknownOutcomes}, behind `vbkpool payouts --status`), and
 * settle one by hand ({@linkcode settlePayment}, behind `vbkpool payouts --settle ID --sent TXID`
 * and `--settle ID --not-sent [--force]`).
 *
 * Settling takes the payer lock, so it never races a running payer, and asks NodeCore first:
 * - sent in TXID: the transaction must come from the pool address with exactly the intent's
 *   outputs (refused otherwise, even with `force`); a transaction NodeCore does not know, or a
 *   node that cannot be asked, needs `force`. The intent becomes `sent` and is followed as any.
 * - not sent: refused without `force` when the pool address's signature index moved since the
 *   intent (or went back, or cannot be read, or was never stored), or when a pool transaction with
 *   exactly its outputs is in the mempool or in a block since the intent. The intent fails and its
 *   amounts return to the balances (paid again by the next pass).
 *
 * @module
 */
import type { Payment, SignatureIndex, Store } from "../store/mod.ts";
import { formatVbk } from "./amount.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import { formatSignatureIndex, judgeUnknownOutcome, type OutcomeVerdict } from "./outcome_rule.ts";
import { findMatch, outputsKey, poolTransactions, tryPoolSignatureIndex } from "./_reconcile.ts";

/** An intent whose outcome is unknown, as the operator sees it. */
export interface UnknownOutcome {
  /** The intent (`pending`). */
  payment: Payment;
  /** Its age (ms). */
  ageMs: number;
  /** The pool address's signature index now, why it could not be read, or undefined when the node was not asked. */
  current: SignatureIndex | { error: string } | undefined;
  /** The proof rule's verdict without the transaction search (undefined when the node was not asked). */
  verdict: OutcomeVerdict | undefined;
  /** What it waits for, in words. */
  waitingFor: string;
}

/** Options for {@linkcode listUnknownOutcomes}. */
export interface ListUnknownOptions {
  /** The pool's address; without it (or without a client) the node is not asked. */
  poolAddress?: string;
  /** The payer's window (ms). */
  windowMs: number;
  /** Now (ms). @default Date.now() */
  now?: number;
}

function waitingFor(p: Payment, verdict: OutcomeVerdict | undefined): string {
  const settle = `the operator: vbkpool payouts --settle ${p.id} --sent TXID, or --not-sent`;
  if (verdict === undefined) return "the next payer pass (the node was not asked)";
  switch (verdict.kind) {
    case "waiting":
      return "a transaction with its outputs (then it is recorded as sent); if none appears " +
        `and the signature index has not moved by ${new Date(verdict.until).toISOString()}, ` +
        "the next payer pass fails it and pays the amounts again";
    case "not-executed":
      return "the next payer pass: unless it finds a transaction with its outputs, it fails " +
        "it and pays the amounts again (the signature index has not moved for the window)";
    case "unknown":
      return verdict.code === "no-node"
        ? `the node (its signature index cannot be read), or ${settle} --force`
        : `${settle} --force (${verdict.code}: nothing can prove it was not sent)`;
  }
}

/**
 * The `pending` intents, oldest first, each with what it waits for.
 *
 * @example Usage
 * ```ts
 * import { listUnknownOutcomes } from "./settle.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * assert.deepEqual(await listUnknownOutcomes(store, undefined, { windowMs: 600_000 }), []);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param store The pool's store.
 * @param rpc NodeCore, when it may be asked.
 * @param options Pool address, window, clock.
 * @returns The intents.
 */
export async function listUnknownOutcomes(
  store: Store,
  rpc: NodeCoreRpc | undefined,
  options: ListUnknownOptions,
): Promise<UnknownOutcome[]> {
  const open = (await store.payouts.listPayments({ status: "pending", limit: 10_000 })).reverse();
  if (open.length === 0) return [];
  const now = options.now ?? Date.now();
  const ask = rpc !== undefined && options.poolAddress !== undefined;
  const current = ask ? await tryPoolSignatureIndex(rpc, options.poolAddress!) : undefined;
  return open.map((payment) => {
    const verdict = current === undefined ? undefined : judgeUnknownOutcome({
      createdAt: payment.createdAt,
      stored: payment.signatureIndex,
      current,
      now,
      windowMs: options.windowMs,
    });
    return {
      payment,
      ageMs: now - payment.createdAt,
      current,
      verdict,
      waitingFor: waitingFor(payment, verdict),
    };
  });
}

/** Options for {@linkcode settlePayment}. */
export interface SettleOptions {
  /** The intent. */
  id: bigint;
  /** What the operator says happened: sent in a transaction, or not sent. */
  outcome: { sent: string } | "not-sent";
  /** The pool's address. */
  poolAddress: string;
  /** This settler's lock owner id (unique). */
  owner: string;
  /** Settle even when the node cannot confirm it (never against outputs that differ). @default false */
  force?: boolean;
  /** Lock lifetime (ms). @default 120000 */
  lockTtlMs?: number;
  /** Most blocks searched for a matching transaction. @default 10000 */
  maxScanBlocks?: number;
}

/** What {@linkcode settlePayment} did. */
export type SettleResult =
  | { ok: true; payment: Payment; checks: string[] }
  | { ok: false; reason: string; checks: string[] };

/**
 * Settle an intent whose outcome is unknown, under the payer lock.
 *
 * @example Usage
 * ```ts
 * import { settlePayment } from "./settle.ts";
 * import { NodeCoreRpc } from "./nodecore_rpc.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const pool = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
 * const result = await settlePayment(store, new NodeCoreRpc(), {
 *   id: 1n,
 *   outcome: "not-sent",
 *   poolAddress: pool,
 *   owner: "operator",
 * });
 * assert.ok(!result.ok);
 * assert.equal(result.reason, "there is no payment 1");
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param store The pool's store.
 * @param rpc NodeCore.
 * @param options The intent, the outcome, the pool address, the lock owner, force.
 * @returns The settled payment, or why it was refused (nothing changed then).
 */
export async function settlePayment(
  store: Store,
  rpc: NodeCoreRpc,
  options: SettleOptions,
): Promise<SettleResult> {
  const ttlMs = options.lockTtlMs ?? 120_000;
  if (!await store.payouts.acquireLock(options.owner, { ttlMs })) {
    return {
      ok: false,
      checks: [],
      reason: "a payout process holds the payer lock (vbkpool payouts, or the server with " +
        "[payouts] enabled); stop it, or wait until its lock expires (lock_ttl_seconds), and retry",
    };
  }
  try {
    const p = await store.payouts.getPayment(options.id);
    if (p === undefined) {
      return { ok: false, checks: [], reason: `there is no payment ${options.id}` };
    }
    if (p.status !== "pending") {
      return {
        ok: false,
        checks: [],
        reason:
          `payment ${p.id} is ${p.status}: only a pending payment (outcome unknown) is settled`,
      };
    }
    return options.outcome === "not-sent"
      ? await settleNotSent(store, rpc, p, options)
      : await settleSent(store, rpc, p, { ...options, txId: options.outcome.sent });
  } finally {
    await store.payouts.releaseLock(options.owner);
  }
}

function describeOutputs(outputs: readonly { address: string; amount: bigint }[]): string {
  const total = outputs.reduce((s, o) => s + o.amount, 0n);
  return `${outputs.length} output(s), ${formatVbk(total)} VBK`;
}

async function knownTxIds(store: Store): Promise<Set<string>> {
  const known = new Set<string>();
  for (const x of await store.payouts.listPayments({ limit: 1_000_000 })) {
    for (const id of x.txIds) known.add(id);
  }
  return known;
}

async function settleSent(
  store: Store,
  rpc: NodeCoreRpc,
  p: Payment,
  options: SettleOptions & { txId: string },
): Promise<SettleResult> {
  const checks: string[] = [];
  const refuse = (reason: string): SettleResult => ({ ok: false, reason, checks });
  if (!/^[0-9a-fA-F]{64}$/.test(options.txId)) {
    return refuse(`${JSON.stringify(options.txId)} is not a transaction id (64 hex digits)`);
  }
  const txId = options.txId.toUpperCase();
  // Messages show hashes in lower case like the logs; NodeCore and the store use upper case.
  const shown = txId.toLowerCase();
  if ((await knownTxIds(store)).has(txId)) {
    return refuse(`transaction ${shown} is already recorded on a payment`);
  }
  let infos;
  try {
    infos = await rpc.getTransactions([txId]);
  } catch (err) {
    const why = `cannot ask the node about ${shown} (${(err as Error).message})`;
    if (options.force !== true) return refuse(`${why}; --force records it unchecked`);
    checks.push(`${why}: recorded unchecked (--force)`);
  }
  const tx = infos?.find((i) => i.transaction.txId === txId)?.transaction;
  if (infos !== undefined && tx === undefined) {
    const why = `NodeCore does not know transaction ${shown}`;
    if (options.force !== true) return refuse(`${why}; --force records it anyway`);
    checks.push(`${why}: recorded anyway (--force)`);
  }
  if (tx !== undefined) {
    if (tx.sourceAddress !== options.poolAddress) {
      return refuse(`transaction ${shown} is from ${tx.sourceAddress}, not the pool address`);
    }
    if (outputsKey(tx.outputs) !== outputsKey(p.items)) {
      return refuse(
        `transaction ${shown} pays ${describeOutputs(tx.outputs)}, not exactly the intent's ` +
          `${describeOutputs(p.items)}`,
      );
    }
    checks.push(`transaction ${shown} is from the pool address with exactly the intent's outputs`);
  }
  const sent = await store.payouts.markPaymentSent(options.owner, p.id, [txId]);
  await store.payouts.notePayment(p.id, `settled by the operator: sent in ${shown}`);
  return {
    ok: true,
    payment: { ...sent, error: `settled by the operator: sent in ${shown}` },
    checks,
  };
}

async function settleNotSent(
  store: Store,
  rpc: NodeCoreRpc,
  p: Payment,
  options: SettleOptions,
): Promise<SettleResult> {
  const checks: string[] = [];
  const objections: string[] = [];
  try {
    const tip = (await rpc.getInfo()).lastBlock.number;
    const txs = await poolTransactions(rpc, { from: p.startHeight, tip }, {
      poolAddress: options.poolAddress,
      maxScanBlocks: options.maxScanBlocks ?? 10_000,
    });
    const match = findMatch(txs, p.items, await knownTxIds(store));
    if (match === undefined) {
      checks.push(
        `no pool transaction with its outputs in the mempool or blocks ${p.startHeight}..${tip}`,
      );
    } else {
      const shown = match.txId.toLowerCase(); // NodeCore's upper case, shown like the logs
      objections.push(
        `transaction ${shown} has exactly its outputs: it was sent (--sent ${shown})`,
      );
    }
  } catch (err) {
    objections.push(
      `cannot search the node for a matching transaction (${(err as Error).message})`,
    );
  }
  const current = await tryPoolSignatureIndex(rpc, options.poolAddress);
  const verdict = judgeUnknownOutcome({
    createdAt: p.createdAt,
    stored: p.signatureIndex,
    current,
    now: Date.now(),
    windowMs: 0,
  });
  if (verdict.kind === "unknown") objections.push(verdict.problem);
  else {
    checks.push(
      `the pool address's signature index has not moved since the intent ` +
        `(${formatSignatureIndex(p.signatureIndex!)})`,
    );
  }
  if (objections.length > 0 && options.force !== true) {
    return {
      ok: false,
      checks,
      reason: `the node does not confirm it was not sent: ${objections.join("; ")}; ` +
        "--force settles it anyway",
    };
  }
  checks.push(...objections.map((o) => `${o}: settled anyway (--force)`));
  const failed = await store.payouts.failPayment(
    options.owner,
    p.id,
    `settled by the operator: not sent${
      options.force === true && objections.length > 0 ? " (--force)" : ""
    }`,
  );
  return { ok: true, payment: failed, checks };
}
