/**
 * The {@linkcode PayoutStore} shared by both backends: checks every input, sends writes through
 * the store's group commit as `{ kind: "payout" }` operations and reads through the driver.
 *
 * @module
 */
import type { StoreDriver } from "./_driver.ts";
import { checkBig, checkHash, checkInt, checkName, checkTime, type WriteOp } from "./_ops.ts";
import {
  checkBalanceQuery,
  checkBlockCredit,
  checkChangeQuery,
  checkId,
  checkNewPayment,
  checkOwner,
  checkPaymentQuery,
  checkTxIds,
  checkWindowRead,
  type PayoutRead,
  type PayoutWriteOp,
} from "./_payouts_ops.ts";
import { signatureIndexToText } from "./_rows.ts";
import type { PayoutStore } from "./payout_store.ts";
import type {
  Balance,
  BalanceChange,
  BalanceChangeQuery,
  BalanceQuery,
  BlockCredit,
  LockOptions,
  NewPayment,
  Payment,
  PaymentItem,
  PaymentQuery,
  ShareCursor,
} from "./payout_types.ts";
import type { StoredShare } from "./store_types.ts";

/** What {@linkcode DriverPayoutStore} needs from its store. */
export interface PayoutStoreBackend {
  /** Queue a write; resolves with its value after the commit, rejects with its error. */
  write(op: WriteOp): Promise<unknown>;
  /** Run a read, wrapping failures as the store does. */
  read<T>(action: string, fn: () => Promise<T>): Promise<T>;
  /** The driver. */
  driver: StoreDriver;
}

/** The payout part of a store. */
export class DriverPayoutStore implements PayoutStore {
  #b: PayoutStoreBackend;

  /** @param backend The store's write and read paths. */
  constructor(backend: PayoutStoreBackend) {
    this.#b = backend;
  }

  #write(op: PayoutWriteOp): Promise<unknown> {
    return this.#b.write({ kind: "payout", op });
  }

  #read<T>(action: string, q: PayoutRead): Promise<T> {
    return this.#b.read(action, () => this.#b.driver.payoutRead(q) as Promise<T>);
  }

  async creditBlock(hash: Uint8Array, credit: BlockCredit): Promise<boolean> {
    const op: PayoutWriteOp = {
      kind: "creditBlock",
      hash: checkHash(hash, "hash", "credit block").slice(),
      credit: checkBlockCredit(credit),
      time: Date.now(),
    };
    return await this.#write(op) as boolean;
  }

  async balance(address: string): Promise<bigint> {
    return await this.#read("get balance", {
      kind: "balance",
      address: checkName(address, "address", "get balance", false),
    });
  }

  async listBalances(query?: BalanceQuery): Promise<Balance[]> {
    return await this.#read("list balances", { kind: "balances", ...checkBalanceQuery(query) });
  }

  async listBalanceChanges(query?: BalanceChangeQuery): Promise<BalanceChange[]> {
    return await this.#read("list balance changes", checkChangeQuery(query));
  }

  async setPaymentThreshold(address: string, threshold: bigint | undefined): Promise<void> {
    const action = "set payment threshold";
    await this.#write({
      kind: "setThreshold",
      address: checkName(address, "address", action, false),
      threshold: threshold === undefined ? null : checkBig(threshold, "threshold", action),
      time: Date.now(),
    });
  }

  async listPayable(minimum: bigint, limit: number): Promise<PaymentItem[]> {
    const action = "list payable balances";
    return await this.#read(action, {
      kind: "payable",
      minimum: checkBig(minimum, "minimum", action),
      limit: checkInt(limit, "limit", action, 1, 1_000_000),
    });
  }

  async createPayment(owner: string, payment: NewPayment): Promise<Payment> {
    const p = checkNewPayment(payment);
    return await this.#write({
      kind: "createPayment",
      owner: checkOwner(owner, "create payment"),
      items: p.items,
      startHeight: p.startHeight,
      signatureIndex: p.signatureIndex === undefined
        ? null
        : signatureIndexToText(p.signatureIndex),
      time: Date.now(),
    }) as Payment;
  }

  async markPaymentSent(owner: string, id: bigint, txIds: readonly string[]): Promise<Payment> {
    const action = "mark payment sent";
    return await this.#write({
      kind: "markSent",
      owner: checkOwner(owner, action),
      id: checkId(id, action),
      txIds: checkTxIds(txIds, action),
      time: Date.now(),
    }) as Payment;
  }

  async confirmPayment(
    owner: string,
    id: bigint,
    options: { confirmations: number; final: boolean },
  ): Promise<Payment> {
    const action = "confirm payment";
    return await this.#write({
      kind: "confirmPayment",
      owner: checkOwner(owner, action),
      id: checkId(id, action),
      confirmations: checkInt(options?.confirmations, "confirmations", action),
      final: options.final === true,
      time: Date.now(),
    }) as Payment;
  }

  async failPayment(owner: string, id: bigint, reason: string): Promise<Payment> {
    const action = "fail payment";
    if (typeof reason !== "string") {
      throw new TypeError(`Cannot ${action}: reason must be a string`);
    }
    return await this.#write({
      kind: "failPayment",
      owner: checkOwner(owner, action),
      id: checkId(id, action),
      reason: reason.slice(0, 1000),
      time: Date.now(),
    }) as Payment;
  }

  async notePayment(id: bigint, problem: string): Promise<void> {
    const action = "note payment";
    if (typeof problem !== "string") {
      throw new TypeError(`Cannot ${action}: problem must be a string`);
    }
    await this.#write({
      kind: "notePayment",
      id: checkId(id, action),
      problem: problem.slice(0, 1000),
      time: Date.now(),
    });
  }

  async getPayment(id: bigint): Promise<Payment | undefined> {
    return await this.#read("get payment", { kind: "payment", id: checkId(id, "get payment") });
  }

  async listPayments(query?: PaymentQuery): Promise<Payment[]> {
    return await this.#read("list payments", checkPaymentQuery(query));
  }

  async acquireLock(owner: string, options: LockOptions): Promise<boolean> {
    const action = "acquire payout lock";
    const now = options?.now === undefined ? Date.now() : checkTime(options.now, "now", action);
    return await this.#write({
      kind: "acquireLock",
      owner: checkOwner(owner, action),
      ttlMs: checkInt(options?.ttlMs, "ttlMs", action, 1, 2 ** 31 - 1),
      now,
    }) as boolean;
  }

  async releaseLock(owner: string): Promise<void> {
    await this.#write({ kind: "releaseLock", owner: checkOwner(owner, "release payout lock") });
  }

  async windowShares(
    until: number,
    options: { cursor?: ShareCursor; limit?: number } = {},
  ): Promise<StoredShare[]> {
    return await this.#read("list window shares", checkWindowRead(until, options));
  }
}
