/**
 * The process's file-descriptor budget for accepted sockets. Every listener (Stratum, UCP, the
 * HTTP API) takes one unit per connection it keeps and gives it back when the connection
 * closes; when taking would leave fewer than `reserve` descriptors free under the soft
 * `RLIMIT_NOFILE` (`ulimit -n`, systemd's `LimitNOFILE=`), the new socket is closed at once and
 * counted instead. So miners and browsers can never use the descriptors the store (SQLite
 * files, PostgreSQL connections), the upstream NodeCore connection and the payout service need.
 *
 * What is open besides the sockets (listeners, the store, the runtime's own) is counted from
 * `/proc/self/fd` on Linux, at most once per `refreshMs`; elsewhere it is taken as 0, so the
 * reserve must cover it. With no known limit (not Linux, `ulimit -n unlimited`) every socket is
 * admitted (and still counted). Refusals are logged by episode: one line when they start, a
 * counted summary every minute while they last, one when they end.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { Episode } from "./_episode.ts";

const log = getLogger(["vbkpool", "net"]);

/** Options for {@linkcode DescriptorBudget}. */
export interface DescriptorBudgetOptions {
  /** The descriptor limit; undefined = unknown (no budget: every socket is admitted). */
  limit?: number | undefined;
  /** Descriptors kept free for everything that is not an accepted socket. @default 64 */
  reserve?: number;
  /** Counts the open descriptors (undefined = cannot). @default countOpenDescriptors */
  countOpen?: () => number | undefined;
  /** Shortest time between two counts (ms). @default 1000 */
  refreshMs?: number;
  /** Time without a refusal that ends a refusal episode in the log (ms). @default 5000 */
  quietMs?: number;
  /** Clock (ms). @default Date.now */
  now?: () => number;
}

/**
 * The soft limit on open descriptors of this process (`ulimit -n`), from `/proc/self/limits`.
 *
 * @example Usage
 * ```ts
 * import { readDescriptorLimit } from "./descriptor_budget.ts";
 * import assert from "node:assert/strict";
 *
 * const limit = readDescriptorLimit();
 * assert.ok(limit === undefined || limit > 0);
 * ```
 *
 * @returns The limit, or undefined when it is unlimited or cannot be read (not Linux).
 */
export function readDescriptorLimit(): number | undefined {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How many descriptors this process has open, from `/proc/self/fd`.
 *
 * @example Usage
 * ```ts
 * import { countOpenDescriptors } from "./descriptor_budget.ts";
 * import assert from "node:assert/strict";
 *
 * const open = countOpenDescriptors();
 * assert.ok(open === undefined || open >= 3);
 * ```
 *
 * @returns The count, or undefined when it cannot be read (not Linux).
 */
export function countOpenDescriptors(): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    // The directory listing holds one descriptor of its own while it is read.
    return Math.max(0, n - 1);
  } catch {
    return undefined;
  }
}

/**
 * A budget of descriptors for accepted sockets.
 *
 * @example Usage
 * ```ts
 * import { DescriptorBudget } from "./descriptor_budget.ts";
 * import assert from "node:assert/strict";
 *
 * // 100 descriptors, 64 kept free, 30 open when first counted (29 besides the socket being
 * // admitted): room for 7 sockets.
 * const budget = new DescriptorBudget({ limit: 100, reserve: 64, countOpen: () => 30 });
 * let taken = 0;
 * while (budget.tryTake()) taken++;
 * assert.equal(taken, 7);
 * assert.equal(budget.refused, 1);
 * budget.release();
 * assert.equal(budget.tryTake(), true);
 * budget.close();
 * ```
 */
export class DescriptorBudget {
  #limit: number | undefined;
  #reserve: number;
  #countOpen: () => number | undefined;
  #refreshMs: number;
  #now: () => number;
  #sockets = 0;
  #others = 0;
  #countedAt = -Infinity;
  #refused = 0;
  #episode: Episode;

  /**
   * @param options The limit, the reserve and how to count what is open.
   */
  constructor(options: DescriptorBudgetOptions = {}) {
    this.#limit = options.limit;
    this.#reserve = Math.max(0, options.reserve ?? 64);
    this.#countOpen = options.countOpen ?? countOpenDescriptors;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#episode = new Episode({
      quietMs: options.quietMs ?? 5000,
      now: this.#now,
      onStart: () =>
        log.warn(
          "Descriptor budget exhausted: refusing new connections on every port ({sockets} " +
            "sockets open, {others} other descriptors, limit {limit}, {reserve} kept free for " +
            "the store and the upstream); raise ulimit -n / LimitNOFILE",
          this.#facts(),
        ),
      onSummary: (_, count, ms) =>
        log.warn("Descriptor budget still exhausted: {count} connections refused in {seconds} s", {
          count,
          seconds: Math.round(ms / 1000),
        }),
      onEnd: (_, count, ms) =>
        log.info(
          "Descriptor budget has room again: {count} connections refused over {seconds} s " +
            "({sockets} sockets open)",
          { count, seconds: Math.round(ms / 1000), sockets: this.#sockets },
        ),
    });
  }

  /**
   * Change the limit and the reserve (the process-wide budget is configured by `vbkpool
   * server` once it has read its settings).
   *
   * @param options The new limit and reserve; missing ones stay.
   */
  configure(options: Pick<DescriptorBudgetOptions, "limit" | "reserve">): void {
    if ("limit" in options) this.#limit = options.limit;
    if (options.reserve !== undefined) this.#reserve = Math.max(0, options.reserve);
    this.#countedAt = -Infinity;
  }

  /** The descriptor limit, when known. */
  get limit(): number | undefined {
    return this.#limit;
  }

  /** Descriptors kept free. */
  get reserve(): number {
    return this.#reserve;
  }

  /** Accepted sockets held now. */
  get sockets(): number {
    return this.#sockets;
  }

  /** Descriptors open besides the sockets, at the last count. */
  get others(): number {
    return this.#others;
  }

  /** How many sockets may be held at once, as of the last count (Infinity without a limit). */
  get capacity(): number {
    if (this.#limit === undefined) return Infinity;
    return Math.max(0, this.#limit - this.#reserve - this.#others);
  }

  /** Sockets refused so far for lack of descriptors. */
  get refused(): number {
    return this.#refused;
  }

  /**
   * Take a descriptor for a socket just accepted (already open).
   *
   * @returns `true` when the socket may stay; `false` when it must be closed at once (counted).
   */
  tryTake(): boolean {
    if (this.#limit !== undefined) this.#refresh();
    if (this.#sockets + 1 > this.capacity) {
      this.#refused++;
      this.#episode.hit("descriptors");
      return false;
    }
    this.#sockets++;
    return true;
  }

  /** Give back the descriptor of a socket that has closed. */
  release(): void {
    if (this.#sockets > 0) this.#sockets--;
  }

  /** End a refusal episode under way (logging its summary) and stop its timer. */
  close(): void {
    this.#episode.close();
  }

  #refresh(): void {
    const now = this.#now();
    if (now - this.#countedAt < this.#refreshMs) return;
    this.#countedAt = now;
    const open = this.#countOpen();
    // The socket being admitted is open but not held yet: it is not one of the others.
    if (open !== undefined) this.#others = Math.max(0, open - this.#sockets - 1);
  }

  #facts(): Record<string, unknown> {
    return {
      sockets: this.#sockets,
      others: this.#others,
      limit: this.#limit,
      reserve: this.#reserve,
    };
  }
}

let processBudget: DescriptorBudget | undefined;

/**
 * The process-wide budget every listener uses unless given another. Until it is configured
 * (`vbkpool server` does, from `[process]`), it has no limit: sockets are counted, never
 * refused.
 *
 * @example Usage
 * ```ts
 * import { processDescriptors } from "./descriptor_budget.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(processDescriptors(), processDescriptors());
 * ```
 *
 * @returns The budget.
 */
export function processDescriptors(): DescriptorBudget {
  processBudget ??= new DescriptorBudget();
  return processBudget;
}
