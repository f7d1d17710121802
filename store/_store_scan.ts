/**
 * The {@linkcode StoreScan} shared by both backends: checks every page request and reads through
 * the driver's `scanRead`.
 *
 * @module
 */
import type { StoreDriver } from "./_driver.ts";
import { checkBig, checkInt, checkName, checkTime, INT64_MAX } from "./_ops.ts";
import type { ScanRead } from "./_scan_read.ts";
import type { Balance, BalanceChange, Payment } from "./payout_types.ts";
import type {
  AddressPage,
  DuplicateShareQuery,
  DuplicateShares,
  IdPage,
  StoreScan,
} from "./store_scan.ts";
import type { Block } from "./store_types.ts";

/** Largest page. */
const MAX_PAGE = 100_000;

function checkObject(value: unknown, action: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot ${action}: the page must be an object`);
  }
  return value as Record<string, unknown>;
}

function idPage(
  kind: "blocks" | "changes" | "payments",
  value: unknown,
  action: string,
): ScanRead {
  const p = checkObject(value, action);
  return {
    kind,
    after: p.after === undefined ? 0n : checkBig(p.after, "after", action, 0n, INT64_MAX),
    limit: p.limit === undefined ? 1000 : checkInt(p.limit, "limit", action, 1, MAX_PAGE),
  };
}

/** What {@linkcode DriverStoreScan} needs from its store. */
export interface StoreScanBackend {
  /** Run a read, wrapping failures as the store does. */
  read<T>(action: string, fn: () => Promise<T>): Promise<T>;
  /** The driver. */
  driver: StoreDriver;
}

/** The whole-table walks of a store. */
export class DriverStoreScan implements StoreScan {
  #b: StoreScanBackend;

  /** @param backend The store's read path. */
  constructor(backend: StoreScanBackend) {
    this.#b = backend;
  }

  #read<T>(action: string, q: ScanRead): Promise<T> {
    return this.#b.read(action, () => this.#b.driver.scanRead(q) as Promise<T>);
  }

  async blocks(page: IdPage = {}): Promise<Block[]> {
    const action = "scan blocks";
    return await this.#read(action, idPage("blocks", page, action));
  }

  async balanceChanges(page: IdPage = {}): Promise<BalanceChange[]> {
    const action = "scan balance changes";
    return await this.#read(action, idPage("changes", page, action));
  }

  async balances(page: AddressPage = {}): Promise<Balance[]> {
    const action = "scan balances";
    const p = checkObject(page, action);
    return await this.#read(action, {
      kind: "balances",
      after: p.after === undefined ? undefined : checkName(p.after, "after", action),
      limit: p.limit === undefined ? 1000 : checkInt(p.limit, "limit", action, 1, MAX_PAGE),
    });
  }

  async payments(page: IdPage = {}): Promise<Payment[]> {
    const action = "scan payments";
    return await this.#read(action, idPage("payments", page, action));
  }

  async duplicateShares(query: DuplicateShareQuery = {}): Promise<DuplicateShares> {
    const action = "find duplicate shares";
    const q = checkObject(query, action);
    return await this.#read(action, {
      kind: "duplicateShares",
      since: q.since === undefined ? undefined : checkTime(q.since, "since", action),
      limit: q.limit === undefined ? 100 : checkInt(q.limit, "limit", action, 1, MAX_PAGE),
    });
  }
}
