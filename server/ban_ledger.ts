/**
 * IP bans kept in the store, so that they outlive the process that made them and hold for every
 * pool process on one database (a restart, a hand-over to the next version, several instances on
 * one PostgreSQL). Without it a banned attacker got a clean slate from every upgrade, and an
 * operator's ban of a week lasted until the next restart.
 *
 * - At start, {@linkcode BanLedger.load} reads the bans in force; the server applies them before
 *   its first accept.
 * - Bans this process makes (offences or the operator) and the operator's lifts are written, one
 *   row per IP, a later decision replacing an earlier one. A write that fails is kept and tried
 *   again at every sync (the newest decision per IP), so a store outage delays a ban's sharing,
 *   never loses it.
 * - Every `intervalMs` the rows the store took since the last read (by the store's clock, one
 *   for every process) are read and applied here: a ban made elsewhere is taken (as one relayed
 *   by a worker beside this one), a lift decided elsewhere after a ban here began lifts it. A read
 *   costs the changes since the last one, not the bans in force (an attacker with many addresses
 *   can have many banned). A decision of this process that the store does not
 *   have yet always wins over what the store says: a poll that reads the store before this
 *   process's own write landed can neither lift a newer ban here nor bring back a ban lifted here.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { peerIp } from "../protocol/ip_address.ts";
import {
  BAN_LIST_LIMIT,
  type BanListing,
  type BanListQuery,
  type Store,
  type StoredBan,
} from "../store/mod.ts";
import type { BanInfo } from "./bans.ts";

const log = getLogger(["vbkpool", "server", "bans"]);
const episodes = new EpisodeLog(log);

/** How long a lift decided here keeps older bans read from the store from coming back. */
const LIFT_MEMORY_MS = 3_600_000;
/** Rows applied between two turns of the event loop. */
const APPLY_CHUNK = 100;
/**
 * Most ban writes queued in the store at once: shares share its commit queue, and a flood of
 * bans (an attacker with many addresses) must never fill it.
 */
const WRITE_BATCH = 1000;

/** The store as the ledger uses it. */
export type BanStore = Pick<Store, "recordBan" | "listBans">;

/** What the ledger does to the pool: take and lift bans decided elsewhere. */
export interface BanLedgerTarget {
  /** Take a ban decided by another process; false when nothing changed here. */
  adoptBan(ban: Omit<BanInfo, "refused">, source: "store"): boolean;
  /** Lift a ban because another process lifted it; false when it was not in force here. */
  liftBan(ip: string, source: "store"): boolean;
  /** The ban in force here on an IP, if any. */
  findBan(ip: string): BanInfo | undefined;
  /** Whether bans apply here at all (`ban_enabled`; a reload may change it). */
  readonly bans: { readonly enabled: boolean };
}

/** What the pool tells the ledger (see `_penalties.ts`). */
export interface BanRecord {
  /**
   * This process banned an IP (its offences, or the operator).
   *
   * @param ban The ban.
   */
  banned(ban: BanInfo): void;
  /**
   * The operator lifted a ban here (told even when it was not in force here: another process
   * may hold it).
   *
   * @param ip The address.
   * @param at When, ms since epoch.
   * @param ban The ban that was lifted here, if any.
   */
  unbanned(ip: string, at: number, ban?: BanInfo): void;
  /**
   * Another process lifted a ban and told this one directly (a worker beside it).
   *
   * @param ip The address.
   * @param at When, ms since epoch (as heard here).
   */
  liftedElsewhere(ip: string, at: number): void;
}

/** Options for {@linkcode BanLedger}. */
export interface BanLedgerOptions {
  /** Where bans are kept. */
  store: BanStore;
  /** This process's instance id (written beside each decision). */
  instance: number;
  /** Time between two reads of the store, ms. @default 5000 */
  intervalMs?: number;
  /**
   * Rows the store took this long before the newest one read are read again (a transaction that
   * took its time may commit a row stamped before one already read): longer than the longest
   * commit the store allows, ms. @default 15000
   */
  readOverlapMs?: number;
  /** Longest wait at a stop for the last writes, ms. @default 3000 */
  stopWaitMs?: number;
  /** Longest wait for a read of the store's bans, ms. @default 10000 */
  readTimeoutMs?: number;
  /**
   * Most decisions waiting for their write (a store down through a flood of bans); past it the
   * oldest bans for offences are dropped, never the operator's bans and lifts. @default 100000
   */
  maxPending?: number;
  /** Clock, ms since epoch. @default Date.now */
  now?: () => number;
}

/**
 * The pool's bans as kept in the store.
 *
 * @example Usage
 * ```ts
 * import { BanLedger } from "./ban_ledger.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const ledger = new BanLedger({ store, instance: 0 });
 * const now = Date.now();
 * ledger.banned({
 *   ip: "198.51.100.7", since: now, until: now + 60_000, reason: "manual", offences: 0, refused: 0,
 * });
 * await ledger.flush();
 * assert.equal((await new BanLedger({ store, instance: 1 }).load())[0]?.ip, "198.51.100.7");
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class BanLedger implements BanRecord {
  #store: BanStore;
  #instance: number;
  #intervalMs: number;
  #overlapMs: number;
  #stopWaitMs: number;
  #readTimeoutMs: number;
  #maxPending: number;
  #dropped = 0;
  #now: () => number;
  #pending = new Map<string, StoredBan>();
  #dirty = false;
  #failing = false;
  #flushing: Promise<boolean> | undefined;
  /** Lifts decided here: IP → when. */
  #lifted = new Map<string, number>();
  #target: BanLedgerTarget | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  /** The newest row read, by the store's clock. */
  #cursor = 0;
  /** Bans were off: the next read starts from the beginning. */
  #readAll = false;
  /** The last read was a full page: the next starts at its end, without the overlap. */
  #skipOverlap = false;
  #stopped = false;

  /**
   * @param options The store, this instance and the period.
   */
  constructor(options: BanLedgerOptions) {
    this.#store = options.store;
    this.#instance = options.instance;
    this.#intervalMs = options.intervalMs ?? 5000;
    this.#overlapMs = options.readOverlapMs ?? 15_000;
    this.#stopWaitMs = options.stopWaitMs ?? 3000;
    this.#readTimeoutMs = options.readTimeoutMs ?? 10_000;
    this.#maxPending = options.maxPending ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Decisions of this process not written yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * The bans in force in the store now (at start, before the ports open).
   *
   * @returns Each as the pool takes it.
   * @throws {Error} (as a rejection) when the store cannot be read.
   */
  async load(): Promise<Omit<BanInfo, "refused">[]> {
    const now = this.#now();
    const listing = await within(this.#store.listBans({ now }), this.#readTimeoutMs);
    if (listing === undefined) throw new Error(`no answer within ${this.#readTimeoutMs} ms`);
    this.#cursor = Math.max(this.#cursor, listing.cursor);
    // Without `writtenSince` the store lists only the bans in force.
    return listing.bans.map((row) => banOf(canonical(row)));
  }

  /**
   * Start applying the store's bans and lifts to the pool, every `intervalMs`.
   *
   * @param target The pool.
   */
  start(target: BanLedgerTarget): void {
    this.#target = target;
    this.#readAll = !target.bans.enabled;
    this.#schedule();
  }

  banned(ban: BanInfo): void {
    this.#lifted.delete(ban.ip);
    this.#queue({ ...banOf(ban), lifted: false, updatedAt: ban.since, instance: this.#instance });
  }

  unbanned(ip: string, at: number, ban?: BanInfo): void {
    this.#lifted.set(ip, at);
    const { since, until, reason, offences } = ban ?? {
      since: at,
      until: at,
      reason: "manual",
      offences: 0,
    };
    this.#queue({
      ip,
      since,
      until,
      reason,
      offences,
      lifted: true,
      updatedAt: at,
      instance: this.#instance,
    });
  }

  /**
   * Write the decisions waiting for it (those that fail stay for the next try). One writing runs
   * at a time, `WRITE_BATCH` rows at once: decisions that come meanwhile join it.
   *
   * @returns Whether all were written.
   */
  async flush(): Promise<boolean> {
    this.#dirty = true;
    // One under way takes these rows too (it passes again while `dirty`), unless it fails first
    // or ended before it saw them: then they are written now.
    if (this.#flushing !== undefined && await this.#flushing && !this.#dirty) return true;
    this.#flushing ??= this.#drain().finally(() => this.#flushing = undefined);
    return await this.#flushing;
  }

  async #drain(): Promise<boolean> {
    while (this.#dirty) {
      this.#dirty = false;
      const rows = [...this.#pending.values()];
      for (let i = 0; i < rows.length; i += WRITE_BATCH) {
        if (!await this.#write(rows.slice(i, i + WRITE_BATCH))) return false;
      }
    }
    return true;
  }

  async #write(batch: StoredBan[]): Promise<boolean> {
    const results = await Promise.allSettled(batch.map((row) => this.#store.recordBan(row)));
    let ok = true;
    results.forEach((result, i) => {
      const row = batch[i]!;
      if (result.status === "rejected") {
        if (isRefused(result.reason)) this.#forget(row, result.reason);
        else ok = false;
        return;
      }
      // A newer decision for the IP that came meanwhile stays queued.
      if (this.#pending.get(row.ip) === row) this.#pending.delete(row.ip);
    });
    return ok;
  }

  /**
   * One round: write what waits, then read the store and apply it (also called by the timer).
   *
   * @returns When it is done; never rejects (a failing store is logged once per episode).
   */
  sync(): Promise<void> {
    this.#running ??= this.#round().catch((err) => {
      // A row or a pool that throws must not end the process, nor the syncs after it.
      episodes.warn("apply", "cannot apply IP bans from the store: {error}", {
        error: err instanceof Error ? err.message : String(err),
      });
    }).finally(() => this.#running = undefined);
    return this.#running;
  }

  /**
   * Stop reading, and write what waits, for at most `stopWaitMs`: a store that is down (or a read
   * that hangs on a lost database) must not keep the process from stopping. What is not written
   * then is lost, logged with its count.
   *
   * @returns When the last writes are settled or the wait is over.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = Date.now() + this.#stopWaitMs;
    const left = () => Math.max(0, deadline - Date.now());
    await within(this.#running ?? Promise.resolve(), left());
    if (this.#pending.size === 0) return;
    const written = await within(this.#flushQuietly(), left());
    if (written !== true) {
      log.warn("{n} ban decisions were not written to the store before the stop", {
        n: this.#pending.size,
      });
    }
  }

  /**
   * A lift another process decided and told this one (a worker beside it): no row is written
   * here, but a read of the store that still has the ban must not bring it back.
   *
   * @param ip The address.
   * @param at When this process heard of it, ms since epoch.
   */
  liftedElsewhere(ip: string, at: number): void {
    this.#lifted.set(ip, at);
  }

  #queue(row: StoredBan): void {
    this.#pending.delete(row.ip);
    this.#pending.set(row.ip, row);
    if (this.#pending.size > this.#maxPending) this.#shed();
    // While the store fails, the syncs try again (not every new decision: a flood of them).
    if (!this.#stopped && !this.#failing) void this.#flushQuietly();
  }

  /**
   * Too many decisions wait (the store has been down through a flood of bans): drop the oldest
   * ban made for offences; the operator's bans and lifts are kept.
   */
  #shed(): void {
    for (const [ip, row] of this.#pending) {
      if (row.lifted || row.reason === "manual") continue;
      this.#pending.delete(ip);
      this.#dropped++;
      episodes.warn(
        "shed",
        "more than {max} IP bans wait for the store: the oldest bans for offences are not kept " +
          "there (they hold here until they end)",
        { max: this.#maxPending },
      );
      return;
    }
  }

  /** Decisions dropped because too many waited for the store. */
  get dropped(): number {
    return this.#dropped;
  }

  async #flushQuietly(): Promise<boolean> {
    try {
      const ok = await this.flush();
      this.#failing = !ok;
      if (ok) episodes.end("write");
      else episodes.warn("write", "cannot write IP bans to the store; tried again every sync");
      return ok;
    } catch {
      return false;
    }
  }

  /** A decision the store refuses for its values (not for an outage) is dropped, logged. */
  #forget(row: StoredBan, err: unknown): void {
    if (this.#pending.get(row.ip) === row) this.#pending.delete(row.ip);
    log.warn("ban decision for {ip} not kept in the store: {error}", {
      ip: row.ip.slice(0, 64),
      error: err instanceof Error ? err.message : String(err),
    });
  }

  async #round(): Promise<void> {
    if (this.#pending.size > 0) await this.#flushQuietly();
    // Rows read before the pool takes them would be lost to the cursor.
    if (this.#target === undefined || this.#stopped) return;
    // Bans off (`ban_enabled = false`): nothing is read, nothing lost; once they are on again
    // (a reload), everything in force is read, as at a start.
    if (!this.#target.bans.enabled) {
      this.#readAll = true;
      return;
    }
    if (this.#readAll) {
      this.#readAll = false;
      this.#cursor = 0;
    }
    const now = this.#now();
    const query: BanListQuery = {
      now,
      writtenSince: this.#skipOverlap ? this.#cursor : Math.max(0, this.#cursor - this.#overlapMs),
    };
    let listing: BanListing | undefined;
    try {
      // A read that hangs (a lost database) is given up; the next round reads the same rows.
      listing = await within(this.#store.listBans(query), this.#readTimeoutMs);
      if (listing === undefined) throw new Error(`no answer within ${this.#readTimeoutMs} ms`);
    } catch (err) {
      episodes.warn("read", "cannot read IP bans from the store: {error}", {
        error: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    episodes.end("read");
    // Never past the store's clock: set back, it would stamp new rows below the cursor.
    this.#cursor = Math.min(Math.max(this.#cursor, listing.cursor), listing.storeNow);
    // A full page (a flood of bans within the overlap): the next read starts after it, or it
    // would read the same page again and again.
    this.#skipOverlap = listing.bans.length >= BAN_LIST_LIMIT;
    await this.#apply(this.#target, listing.bans);
    this.#forgetOldLifts(now);
  }

  /** Apply rows, `APPLY_CHUNK` at a time (each ban closes its IP's connections on every port). */
  async #apply(target: BanLedgerTarget, rows: StoredBan[]): Promise<void> {
    let banned = 0;
    let lifted = 0;
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % APPLY_CHUNK === 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (this.#stopped) return;
      }
      const row = canonical(rows[i]!);
      // This process decided later than the row (its write may not have landed yet).
      const mine = this.#pending.get(row.ip);
      if (mine !== undefined && mine.updatedAt >= row.updatedAt) continue;
      const liftedAt = this.#lifted.get(row.ip);
      if (row.lifted) {
        const ban = target.findBan(row.ip);
        if (ban !== undefined && ban.since <= row.updatedAt && target.liftBan(row.ip, "store")) {
          lifted++;
        }
      } else if (
        row.until > this.#now() && (liftedAt === undefined || liftedAt < row.updatedAt) &&
        target.adoptBan(banOf(row), "store")
      ) banned++;
    }
    // One line per read, not per ban (an attacker's flood of bans reaches every process).
    if (banned > 0 || lifted > 0) {
      log.info(
        "from the store: {banned} IP bans made and {lifted} lifted by other pool processes",
        { banned, lifted },
      );
    }
  }

  #forgetOldLifts(now: number): void {
    for (const [ip, at] of this.#lifted) {
      if (now - at > LIFT_MEMORY_MS && !this.#pending.has(ip)) this.#lifted.delete(ip);
    }
  }

  #schedule(): void {
    if (this.#stopped || this.#intervalMs <= 0) return;
    this.#timer = setTimeout(async () => {
      try {
        await this.sync();
      } finally {
        this.#schedule();
      }
    }, this.#intervalMs);
  }
}

/** A row keyed as the pool keys peers (a row written as `::ffff:a.b.c.d` matches a.b.c.d). */
function canonical(row: StoredBan): StoredBan {
  const ip = peerIp(row.ip);
  return ip === row.ip ? row : { ...row, ip };
}

function banOf(row: Omit<BanInfo, "refused">): Omit<BanInfo, "refused"> {
  const { ip, since, until, reason, offences } = row;
  return { ip, since, until, reason, offences };
}

/** The store refused the values themselves (TypeError/RangeError from its checks). */
function isRefused(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError;
}

/** `promise`'s value, or undefined once `ms` have passed (the promise runs on, unobserved). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    // A wait that outlives a stop (a read hanging on a lost database) keeps nothing alive.
    Deno.unrefTimer(timer);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
