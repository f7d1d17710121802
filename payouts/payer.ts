/**
 * The payer: pays miners whose balance reached their threshold from the pool address, and never
 * pays twice. Order of a payment:
 *
 * 1. renew the payer lock, read the pool address's signature index (`getsignatureindex`), then
 *    write the intent (recipients, amounts, chain height, that index), which debits the
 *    balances in the same transaction (`pending`);
 * 2. renew the lock again and call `sendcoins` (one transaction, many outputs);
 * 3. record the transaction id (`sent`); later passes follow its confirmations (`confirmed`).
 *
 * Transaction fees are paid by the pool wallet on top of the amounts (`takeFeeFromOutputs` is
 * false): a pool fee credited to the pool address itself is never sent and covers them.
 *
 * A definite refusal by NodeCore fails the intent and returns every amount to its balance. Any
 * other failure (timeout, lost connection, crash) leaves the intent `pending` with an unknown
 * outcome, whoever wrote it, this payer included. Before anything new is paid, each `pending`
 * intent (another payer's only once older than the grace period) is reconciled against the
 * node: a pool transaction with exactly its outputs in the mempool or in the blocks since the
 * intent means it was sent, and it is recorded so. Otherwise it fails and is paid again only
 * when the ledger proves it was not executed (`outcome_rule.ts`: older than the window, and the
 * pool address's signature index has not moved since the one stored with it); until then, or
 * for ever when the proof cannot be had, it stays `pending`, new payments wait, and the problem
 * is reported (logged when it changes, and at most every `problemLogIntervalMs` otherwise) for
 * the operator to settle (`vbkpool payouts --settle`).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { alertEvents } from "../log/mod.ts";
import type { Payment, PaymentItem, SignatureIndex, Store } from "../store/mod.ts";
import { formatVbk } from "./amount.ts";
import type { NodeCoreRpc } from "./nodecore_rpc.ts";
import { NodeCoreRpcError } from "./nodecore_rpc_error.ts";
import type { Transaction } from "./nodecore_types.ts";
import { judgeUnknownOutcome, UNKNOWN_OUTCOME_WINDOW_MS } from "./outcome_rule.ts";
import {
  findMatch,
  poolSignatureIndex,
  poolTransactions,
  tryPoolSignatureIndex,
} from "./_reconcile.ts";

const log = getLogger(["vbkpool", "payouts", "payer"]);

/** A payment was sent (`what` = its transaction ids) or failed (`what` = why). */
function paymentAlert(type: "payment_sent" | "payment_failed", p: Payment, what: string): void {
  const total = formatVbk(p.total);
  const id = p.id.toString();
  const n = p.items.length;
  if (type === "payment_sent") {
    alertEvents.emit(type, `Payment ${id}: ${total} VBK to ${n} miner(s) in ${what}`, {
      id,
      total,
      recipients: n,
      transactions: what,
    });
  } else {
    alertEvents.emit(type, `Payment ${id} of ${total} VBK to ${n} miner(s) failed: ${what}`, {
      id,
      total,
      recipients: n,
      error: what,
    });
  }
}

/** Steps at which tests make the payout process die (crash injection). */
export type PayerStep = "after-intent" | "after-send" | "after-record";

/** The crash-injection steps. */
export const PAYER_STEPS: readonly PayerStep[] = ["after-intent", "after-send", "after-record"];

/** Options for {@linkcode Payer}. */
export interface PayerOptions {
  /** This payer's unique id (the lock owner). */
  owner: string;
  /** The pool's address: the source of every payment. */
  poolAddress: string;
  /** Pool minimum payment in atomic units (a miner's own threshold overrides it). */
  minimumPayment: bigint;
  /** Recipients per transaction at most. @default 100 */
  maxRecipients?: number;
  /** Transactions per pass at most. @default 10 */
  maxPaymentsPerRun?: number;
  /** Confirmations after which a payment is `confirmed`. @default 3 */
  paymentConfirmations?: number;
  /** How long the lock lasts without renewal, ms. @default 120000 */
  lockTtlMs?: number;
  /**
   * Another payer's `pending` intent written less than this long ago is not reconciled yet (it
   * may still be sending), ms. @default 30000
   */
  reconcileGraceMs?: number;
  /**
   * A `pending` intent is proven not executed (failed, paid again) only once it is this old,
   * ms: longer than NodeCore takes to execute and propagate a transaction. @default 600000
   */
  unknownOutcomeWindowMs?: number;
  /** An unchanged problem of an open payment is logged again after this long, ms. @default 600000 */
  problemLogIntervalMs?: number;
  /** Most blocks searched when reconciling one intent. @default 10000 */
  maxScanBlocks?: number;
  /** Pay only while NodeCore is synced. @default true */
  requireSynced?: boolean;
  /** Test hook: called at each step (a test makes the process exit there). */
  onStep?: (step: PayerStep, payment: Payment) => void;
}

/** What one pass did. */
export interface PayReport {
  /** Why the pass did nothing, when it did nothing. */
  skipped?: string;
  /** Payments sent now. */
  sent: Payment[];
  /** Payments confirmed now. */
  confirmed: Payment[];
  /** Payments that failed now (amounts back in the balances). */
  failed: Payment[];
  /** `pending` intents found on the node by reconciliation. */
  recovered: Payment[];
  /** Payments still open with a problem (unknown outcome, unknown transaction). */
  problems: { payment: Payment; problem: string }[];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Pays balances above their threshold, crash-safely.
 *
 * @example Usage
 * ```ts
 * import { Payer } from "./payer.ts";
 * import { NodeCoreRpc } from "./nodecore_rpc.ts";
 * import { startDevnet } from "../devnet/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, rpcPort: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const rpc = new NodeCoreRpc({ url: `http://127.0.0.1:${devnet.rpcAddr!.port}/api` });
 * const payer = new Payer(store, rpc, {
 *   owner: `payouts-${Deno.pid}`,
 *   poolAddress: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX",
 *   minimumPayment: 10n * 10n ** 8n,
 * });
 * await devnet.rival.mineBlock(); // a synced node needs a height > 0
 * const report = await payer.run();
 * assert.equal(report.sent.length, 0); // nobody is owed anything yet
 * await payer.unlock();
 * await store.close();
 * await devnet.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Payer {
  #store: Store;
  #rpc: NodeCoreRpc;
  #o: Required<Omit<PayerOptions, "onStep">> & PayerOptions;
  /** The last problem logged per open payment, and when. */
  #logged = new Map<bigint, { problem: string; at: number }>();

  /**
   * @param store The pool's store.
   * @param rpc NodeCore's HTTP API (the wallet holding the pool address).
   * @param options Owner, pool address, thresholds, limits.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(store: Store, rpc: NodeCoreRpc, options: PayerOptions) {
    this.#store = store;
    this.#rpc = rpc;
    this.#o = {
      maxRecipients: 100,
      maxPaymentsPerRun: 10,
      paymentConfirmations: 3,
      lockTtlMs: 120_000,
      reconcileGraceMs: 30_000,
      unknownOutcomeWindowMs: UNKNOWN_OUTCOME_WINDOW_MS,
      problemLogIntervalMs: 600_000,
      maxScanBlocks: 10_000,
      requireSynced: true,
      ...options,
    };
    if (typeof options.minimumPayment !== "bigint" || options.minimumPayment <= 0n) {
      throw new RangeError("Cannot create payer: minimumPayment must be a bigint > 0");
    }
    for (const key of ["maxRecipients", "maxPaymentsPerRun", "paymentConfirmations"] as const) {
      const v = this.#o[key];
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`Cannot create payer: ${key} must be an integer >= 1, got ${v}`);
      }
    }
    for (
      const key of ["reconcileGraceMs", "unknownOutcomeWindowMs", "problemLogIntervalMs"] as const
    ) {
      const v = this.#o[key];
      if (!Number.isFinite(v) || v < 0) {
        throw new RangeError(`Cannot create payer: ${key} must be a number >= 0, got ${v}`);
      }
    }
  }

  /** This payer's lock owner id. */
  get owner(): string {
    return this.#o.owner;
  }

  /**
   * Take or renew the payer lock.
   *
   * @returns True when this payer holds it.
   */
  lock(): Promise<boolean> {
    return this.#store.payouts.acquireLock(this.#o.owner, { ttlMs: this.#o.lockTtlMs });
  }

  /** Give the lock up. */
  unlock(): Promise<void> {
    return this.#store.payouts.releaseLock(this.#o.owner);
  }

  /**
   * One pass: reconcile open payments, then pay what is due.
   *
   * @returns What happened.
   * @throws {NodeCoreRpcError} When NodeCore cannot be asked before anything was sent.
   * @throws {StoreUnavailableError} When the store fails.
   */
  async run(): Promise<PayReport> {
    const report: PayReport = { sent: [], confirmed: [], failed: [], recovered: [], problems: [] };
    if (!await this.lock()) {
      report.skipped = "another payout process holds the payer lock";
      return report;
    }
    if (this.#o.requireSynced) {
      const state = await this.#rpc.getStateInfo();
      if (!state.synced) {
        report.skipped = `NodeCore is not synced (local ${state.localBlockchainHeight}, ` +
          `network ${state.networkHeight})`;
        log.warn("Payer waits: {why}", { why: report.skipped });
        return report;
      }
    }
    const tip = (await this.#rpc.getInfo()).lastBlock.number;
    const blocked = await this.#reconcile(tip, report);
    if (blocked) {
      report.skipped = "a payment's outcome is still unknown";
      return report;
    }
    await this.#payDue(tip, report);
    return report;
  }

  /** Follow open payments; true when one is still unresolved and new payments must wait. */
  async #reconcile(tip: number, report: PayReport): Promise<boolean> {
    const open = (await this.#store.payouts.listPayments({
      status: ["pending", "sent"],
      limit: 10_000,
    })).reverse();
    let unresolved = false;
    let pool: Transaction[] | undefined;
    let index: SignatureIndex | { error: string } | undefined;
    const known = new Set<string>();
    for (const p of await this.#store.payouts.listPayments({ limit: 10_000 })) {
      for (const id of p.txIds) known.add(id);
    }
    for (let p of open) {
      if (p.status === "pending") {
        const age = Date.now() - p.createdAt;
        if (p.owner !== this.#o.owner && age < this.#o.reconcileGraceMs) {
          unresolved = true;
          const problem = `outcome unknown: written by payer ${p.owner}, which may still be ` +
            "sending it; reconciled once it is older than the grace period";
          await this.#problem(report, p, problem, "warn");
          continue;
        }
        // The transactions first, then the index: a transaction created in between is either
        // found or has moved the index, never missed by both.
        pool ??= await poolTransactions(this.#rpc, {
          from: Math.min(...open.map((o) => o.startHeight)),
          tip,
        }, this.#o);
        const match = findMatch(pool, p.items, known);
        if (match === undefined) {
          index ??= await tryPoolSignatureIndex(this.#rpc, this.#o.poolAddress);
          if (!await this.#judge(p, index, report)) unresolved = true;
          continue;
        }
        known.add(match.txId);
        p = await this.#store.payouts.markPaymentSent(this.#o.owner, p.id, [match.txId]);
        report.recovered.push(p);
        paymentAlert("payment_sent", p, match.txId.toLowerCase());
        log.warn("Payment {id}, whose outcome was unknown, was sent: transaction {txId}", {
          id: p.id.toString(),
          txId: match.txId.toLowerCase(),
        });
      }
      await this.#follow(p, report);
    }
    const troubled = new Set(report.problems.map((x) => x.payment.id));
    for (const id of this.#logged.keys()) if (!troubled.has(id)) this.#logged.delete(id);
    return unresolved;
  }

  /**
   * Apply the proof rule to a `pending` intent no transaction was found for.
   *
   * @returns True when it is resolved (proven not executed: failed, amounts returned).
   */
  async #judge(
    p: Payment,
    index: SignatureIndex | { error: string },
    report: PayReport,
  ): Promise<boolean> {
    const verdict = judgeUnknownOutcome({
      createdAt: p.createdAt,
      stored: p.signatureIndex,
      current: index,
      now: Date.now(),
      windowMs: this.#o.unknownOutcomeWindowMs,
    });
    if (verdict.kind === "waiting") {
      await this.#problem(report, p, verdict.problem, "warn");
      return false;
    }
    if (verdict.kind === "unknown") {
      const problem = verdict.code === "no-node"
        ? verdict.problem
        : `${verdict.problem}; settle it by hand (vbkpool payouts --settle ${p.id})`;
      await this.#problem(report, p, problem, "error");
      return false;
    }
    const failed = await this.#store.payouts.failPayment(this.#o.owner, p.id, verdict.reason);
    report.failed.push(failed);
    log.warn(
      "Payment {id} was not executed ({why}); {total} VBK returned to {n} balance(s)",
      { id: p.id.toString(), why: verdict.reason, total: formatVbk(p.total), n: p.items.length },
    );
    return true;
  }

  /** Report an open payment's problem; note it on the payment and log it, rate-limited. */
  async #problem(
    report: PayReport,
    p: Payment,
    problem: string,
    level: "warn" | "error" = "error",
  ): Promise<void> {
    report.problems.push({ payment: p, problem });
    if (p.error !== problem) await this.#store.payouts.notePayment(p.id, problem);
    const now = Date.now();
    const last = this.#logged.get(p.id);
    if (last?.problem === problem && now - last.at < this.#o.problemLogIntervalMs) return;
    this.#logged.set(p.id, { problem, at: now });
    log[level]("Payment {id} ({total} VBK to {n} miner(s)): {problem}", {
      id: p.id.toString(),
      total: formatVbk(p.total),
      n: p.items.length,
      problem,
    });
  }

  /** Check a sent payment's confirmations. */
  async #follow(p: Payment, report: PayReport): Promise<void> {
    const infos = await this.#rpc.getTransactions(p.txIds);
    const byId = new Map(infos.map((i) => [i.transaction.txId, i]));
    const missing = p.txIds.filter((id) => !byId.has(id));
    if (missing.length > 0) {
      const problem = `transaction ${missing.join(", ")} is unknown to the node ` +
        "(dropped?); the payment stays open, check it by hand";
      await this.#problem(report, p, problem);
      return;
    }
    const confirmations = Math.min(...infos.map((i) => i.confirmations));
    const final = confirmations >= this.#o.paymentConfirmations;
    if (final || confirmations !== p.confirmations) {
      const updated = await this.#store.payouts.confirmPayment(this.#o.owner, p.id, {
        confirmations,
        final,
      });
      if (final) {
        report.confirmed.push(updated);
        log.info("Payment {id} confirmed ({c} confirmations)", {
          id: p.id.toString(),
          c: confirmations,
        });
      }
    }
  }

  async #payDue(tip: number, report: PayReport): Promise<void> {
    // The pool address's own balance (a fee credited to it) is never sent: it stays in the
    // wallet and pays the transaction fees.
    const due = (await this.#store.payouts.listPayable(
      this.#o.minimumPayment,
      this.#o.maxRecipients * this.#o.maxPaymentsPerRun + 1,
    )).filter((item) => item.address !== this.#o.poolAddress)
      .slice(0, this.#o.maxRecipients * this.#o.maxPaymentsPerRun);
    if (due.length === 0) return;
    const [wallet] = await this.#rpc.getBalance([this.#o.poolAddress]);
    let available = wallet?.unlockedAmount ?? 0n;
    const affordable: PaymentItem[] = [];
    for (const item of due) {
      if (item.amount > available) continue;
      affordable.push(item);
      available -= item.amount;
    }
    if (affordable.length < due.length) {
      log.warn("The pool wallet {pool} cannot pay {n} due balance(s) now (unlocked {have} VBK)", {
        pool: this.#o.poolAddress,
        n: due.length - affordable.length,
        have: formatVbk(wallet?.unlockedAmount ?? 0n),
      });
    }
    for (let i = 0; i < affordable.length; i += this.#o.maxRecipients) {
      const items = affordable.slice(i, i + this.#o.maxRecipients);
      const ok = await this.#pay(items, tip, report);
      if (!ok) return;
    }
  }

  /** Pay one batch; false when the pass must stop. */
  async #pay(items: PaymentItem[], tip: number, report: PayReport): Promise<boolean> {
    if (!await this.lock()) return false;
    let signatureIndex: SignatureIndex;
    try {
      signatureIndex = await poolSignatureIndex(this.#rpc, this.#o.poolAddress);
    } catch (err) {
      // Nothing is written without the index: without it, a lost answer could never be settled.
      if (report.sent.length === 0) throw err;
      log.error("Payer stops: {why}", { why: messageOf(err) });
      return false;
    }
    let p = await this.#store.payouts.createPayment(this.#o.owner, {
      items,
      startHeight: tip,
      signatureIndex,
    });
    this.#o.onStep?.("after-intent", p);
    if (!await this.lock()) {
      log.warn("Payment {id}: lost the payer lock before sending; it is reconciled later", {
        id: p.id.toString(),
      });
      return false;
    }
    let txIds: string[];
    try {
      txIds = await this.#rpc.sendCoins({
        sourceAddress: this.#o.poolAddress,
        amounts: items,
        takeFeeFromOutputs: false,
      });
    } catch (err) {
      const why = messageOf(err);
      if (err instanceof NodeCoreRpcError && err.nodeDidNothing) {
        p = await this.#store.payouts.failPayment(this.#o.owner, p.id, why);
        report.failed.push(p);
        paymentAlert("payment_failed", p, why);
        log.error(
          "Payment {id} of {total} VBK to {n} miner(s) was refused by NodeCore: {why}; " +
            "the balances are unchanged",
          {
            id: p.id.toString(),
            total: formatVbk(p.total),
            n: items.length,
            why,
          },
        );
        return false;
      }
      if (err instanceof NodeCoreRpcError && err.txIds.length > 0) {
        p = await this.#store.payouts.markPaymentSent(this.#o.owner, p.id, [...err.txIds]);
        await this.#store.payouts.notePayment(p.id, why);
        report.sent.push(p);
        report.problems.push({ payment: p, problem: why });
        log.error("Payment {id}: NodeCore reported an error but also transaction(s) {ids}: {why}", {
          id: p.id.toString(),
          ids: err.txIds.join(", ").toLowerCase(),
          why,
        });
        return false;
      }
      await this.#store.payouts.notePayment(p.id, `outcome unknown: ${why}`).catch(() => {});
      report.problems.push({ payment: p, problem: why });
      paymentAlert("payment_failed", p, `outcome unknown: ${why}`);
      log.error(
        "Payment {id}: the outcome of sendcoins is unknown ({why}); nothing else is paid " +
          "until the node shows it sent, or proves it was not executed",
        { id: p.id.toString(), why },
      );
      return false;
    }
    this.#o.onStep?.("after-send", p);
    p = await this.#store.payouts.markPaymentSent(this.#o.owner, p.id, txIds);
    this.#o.onStep?.("after-record", p);
    report.sent.push(p);
    paymentAlert("payment_sent", p, txIds.join(", ").toLowerCase());
    log.info("Payment {id}: {total} VBK to {n} miner(s) in transaction {txIds}", {
      id: p.id.toString(),
      total: formatVbk(p.total),
      n: items.length,
      txIds: txIds.join(", ").toLowerCase(),
    });
    return true;
  }
}
