/**
 * Live pool statistics from the pool's events: accepted shares and rejected submits over a
 * sliding window, for the pool, each address and each worker. Hash rate = Σ credited share
 * difficulty ÷ seconds covered (a vBlake share at difficulty D stands for about D hashes).
 * This instance's view only; per-minute history of every instance comes from the store.
 *
 * @module
 */
import type { PoolEvent, PoolEvents } from "../server/events.ts";
import { RateWindow } from "./_rate_window.ts";

/** Options for {@linkcode LiveStats}. */
export interface LiveStatsOptions {
  /** Window length in seconds. @default 600 */
  windowSeconds?: number;
  /** Bucket length in seconds (the window moves in these steps). @default 10 */
  bucketSeconds?: number;
  /** Addresses plus workers tracked at most (beyond that, new ones count for the pool only). @default 100000 */
  maxKeys?: number;
  /** Clock (ms). @default Date.now */
  now?: () => number;
}

/** Rates over the window. */
export interface RateStats {
  /** Hashes per second: Σ accepted share difficulty ÷ `seconds`. */
  hashrate: number;
  /** Accepted shares per second. */
  sharesPerSecond: number;
  /** Accepted shares in the window. */
  accepted: number;
  /** Rejected submits in the window. */
  rejected: number;
  /** Seconds the rates are averaged over (the window, or less right after start). */
  seconds: number;
  /** Time of the last accepted share (ms), or undefined when none in the window. */
  lastShareAt: number | undefined;
}

/**
 * Sliding-window share statistics fed by {@linkcode PoolEvents}.
 *
 * @example Usage
 * ```ts
 * import { LiveStats } from "./live_stats.ts";
 * import { PoolEvents } from "../server/events.ts";
 * import assert from "node:assert/strict";
 *
 * let now = 1_000_000;
 * const events = new PoolEvents();
 * const stats = new LiveStats(events, { windowSeconds: 60, now: () => now });
 * const share = {
 *   at: now, connectionId: 1, ip: "127.0.0.1", port: 3333, worker: "V1.rig", address: "V1",
 *   workerName: "rig", jobId: "1", upstreamJobId: 7, height: 10, extranonce: 1n, ntime: 0,
 *   nonce: 0, hash: "00", difficulty: 3000n, achievedDifficulty: 3000n,
 *   networkDifficulty: 1000000n, block: false, solo: false,
 * };
 * events.emit({ type: "share_accepted", at: now, share });
 * now += 30_000;
 * assert.equal(stats.pool().hashrate, 100);
 * assert.deepEqual(stats.workers("V1"), ["V1.rig"]);
 * stats.close();
 * ```
 */
export class LiveStats {
  #windowMs: number;
  #bucketMs: number;
  #buckets: number;
  #maxKeys: number;
  #now: () => number;
  #startedAt: number;
  #pool: RateWindow;
  #addresses = new Map<string, RateWindow>();
  #workers = new Map<string, RateWindow>();
  #byAddress = new Map<string, Set<string>>();
  #nextSweep = 0;
  #unsubscribe: () => void;

  /**
   * Start listening.
   *
   * @param events The pool's event bus.
   * @param options Window, buckets, limits and clock.
   * @throws {RangeError} When the window or bucket length is not positive.
   */
  constructor(events: PoolEvents, options: LiveStatsOptions = {}) {
    const windowSeconds = options.windowSeconds ?? 600;
    const bucketSeconds = Math.min(options.bucketSeconds ?? 10, windowSeconds);
    if (!(windowSeconds > 0) || !(bucketSeconds > 0)) {
      throw new RangeError("Cannot keep live stats: window and bucket lengths must be positive");
    }
    this.#bucketMs = Math.round(bucketSeconds * 1000);
    this.#buckets = Math.max(1, Math.ceil((windowSeconds * 1000) / this.#bucketMs));
    this.#windowMs = this.#buckets * this.#bucketMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#pool = new RateWindow(this.#buckets, this.#bucketMs);
    this.#unsubscribe = events.subscribe((event) => this.#on(event));
  }

  /** The window length in seconds. */
  get windowSeconds(): number {
    return this.#windowMs / 1000;
  }

  /**
   * The whole pool's rates (this instance).
   *
   * @returns The rates.
   */
  pool(): RateStats {
    return this.#rates(this.#pool);
  }

  /**
   * One address's rates (every worker of it).
   *
   * @param address Payout address.
   * @returns The rates (zero when nothing was seen in the window).
   */
  address(address: string): RateStats {
    return this.#rates(this.#addresses.get(address));
  }

  /**
   * One worker's rates.
   *
   * @param worker Worker name as authorized: "address" or "address.name".
   * @returns The rates (zero when nothing was seen in the window).
   */
  worker(worker: string): RateStats {
    return this.#rates(this.#workers.get(worker));
  }

  /**
   * The workers of an address with activity in the window.
   *
   * @param address Payout address.
   * @returns Worker names as authorized, sorted.
   */
  workers(address: string): string[] {
    this.#sweep(this.#now());
    return [...this.#byAddress.get(address) ?? []].sort();
  }

  /** Stop listening. */
  close(): void {
    this.#unsubscribe();
  }

  #on(event: PoolEvent): void {
    if (event.type === "share_accepted") {
      const now = this.#now();
      const share = event.share;
      const difficulty = Number(share.difficulty);
      this.#pool.accept(now, difficulty);
      this.#window(this.#addresses, share.address, share.address)?.accept(now, difficulty);
      this.#window(this.#workers, share.worker, share.address)?.accept(now, difficulty);
      this.#sweep(now);
    } else if (event.type === "share_rejected") {
      const now = this.#now();
      this.#pool.reject(now);
      const worker = event.worker;
      if (worker === undefined || event.reason === "unauthorized") return;
      const dot = worker.indexOf(".");
      const address = dot < 0 ? worker : worker.slice(0, dot);
      this.#window(this.#addresses, address, address)?.reject(now);
      this.#window(this.#workers, worker, address)?.reject(now);
      this.#sweep(now);
    }
  }

  #window(map: Map<string, RateWindow>, key: string, address: string): RateWindow | undefined {
    let window = map.get(key);
    if (window !== undefined) return window;
    if (this.#addresses.size + this.#workers.size >= this.#maxKeys) return undefined;
    window = new RateWindow(this.#buckets, this.#bucketMs);
    map.set(key, window);
    if (map === this.#workers) {
      let set = this.#byAddress.get(address);
      if (set === undefined) this.#byAddress.set(address, set = new Set());
      set.add(key);
    }
    return window;
  }

  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + this.#bucketMs;
    const cutoff = now - this.#windowMs;
    for (const [key, window] of this.#addresses) {
      if (window.lastActivityAt < cutoff) this.#addresses.delete(key);
    }
    for (const [key, window] of this.#workers) {
      if (window.lastActivityAt >= cutoff) continue;
      this.#workers.delete(key);
      const dot = key.indexOf(".");
      const address = dot < 0 ? key : key.slice(0, dot);
      const set = this.#byAddress.get(address);
      set?.delete(key);
      if (set?.size === 0) this.#byAddress.delete(address);
    }
  }

  #rates(window: RateWindow | undefined): RateStats {
    const now = this.#now();
    const start = Math.max(this.#startedAt, this.#pool.windowStart(now));
    const seconds = Math.max(1, (now - start) / 1000);
    if (window === undefined) {
      return {
        hashrate: 0,
        sharesPerSecond: 0,
        accepted: 0,
        rejected: 0,
        seconds,
        lastShareAt: undefined,
      };
    }
    const totals = window.totals(now);
    return {
      hashrate: totals.difficulty / seconds,
      sharesPerSecond: totals.accepted / seconds,
      accepted: totals.accepted,
      rejected: totals.rejected,
      seconds,
      lastShareAt: window.lastShareAt > 0 && window.lastShareAt >= now - this.#windowMs
        ? window.lastShareAt
        : undefined,
    };
  }
}
