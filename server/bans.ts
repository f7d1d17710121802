/**
 * IP bans for a high invalid-share ratio. Each IP's valid and invalid submits are counted over
 * a window; once a window holds `checkThreshold` submits, an invalid share of at least
 * `invalidPercent` bans the IP for `banSeconds`, and the counts restart. Time is passed in.
 *
 * @module
 */

import { isLoopback } from "../net/line_server.ts";

/** Options for {@linkcode BanList}. */
export interface BanListOptions {
  /** Whether bans happen at all. @default true */
  enabled?: boolean;
  /** Submits in a window before the ratio is judged. @default 100 */
  checkThreshold?: number;
  /** Invalid share (in %) at or above which an IP is banned. @default 50 */
  invalidPercent?: number;
  /** Window length in seconds; counts older than this restart. @default 600 */
  windowSeconds?: number;
  /** Ban length in seconds. @default 600 */
  banSeconds?: number;
  /** Loopback addresses are never banned. @default true */
  exemptLoopback?: boolean;
  /** Most IPs tracked at once (the oldest are forgotten). @default 100000 */
  maxTracked?: number;
}

interface Counts {
  since: number;
  valid: number;
  invalid: number;
}

/**
 * Invalid-share-ratio bans.
 *
 * @example Usage
 * ```ts
 * import { BanList } from "./bans.ts";
 * import assert from "node:assert/strict";
 *
 * const bans = new BanList({ checkThreshold: 4, invalidPercent: 50, banSeconds: 60 });
 * bans.record("10.0.0.1", true, 0);
 * bans.record("10.0.0.1", false, 1);
 * bans.record("10.0.0.1", false, 2);
 * assert.equal(bans.record("10.0.0.1", false, 3), true); // 3 of 4 invalid: banned
 * assert.equal(bans.isBanned("10.0.0.1", 59_000), true);
 * assert.equal(bans.isBanned("10.0.0.1", 63_001), false);
 * ```
 */
export class BanList {
  #enabled: boolean;
  #threshold: number;
  #percent: number;
  #windowMs: number;
  #banMs: number;
  #exemptLoopback: boolean;
  #maxTracked: number;
  #counts = new Map<string, Counts>();
  #bans = new Map<string, number>();

  /**
   * Make a ban list.
   *
   * @param options Thresholds.
   */
  constructor(options: BanListOptions = {}) {
    this.#enabled = options.enabled ?? true;
    this.#threshold = Math.max(1, options.checkThreshold ?? 100);
    this.#percent = options.invalidPercent ?? 50;
    this.#windowMs = (options.windowSeconds ?? 600) * 1000;
    this.#banMs = (options.banSeconds ?? 600) * 1000;
    this.#exemptLoopback = options.exemptLoopback ?? true;
    this.#maxTracked = Math.max(1, options.maxTracked ?? 100_000);
  }

  /** Ban length in milliseconds. */
  get banMs(): number {
    return this.#banMs;
  }

  /**
   * Count one submit.
   *
   * @param ip Peer address.
   * @param valid Whether the share was accepted.
   * @param now Current time in ms.
   * @returns True when this submit got the IP banned.
   */
  record(ip: string, valid: boolean, now: number): boolean {
    if (!this.#enabled || (this.#exemptLoopback && isLoopback(ip))) return false;
    let counts = this.#counts.get(ip);
    if (counts === undefined || now - counts.since > this.#windowMs) {
      this.#counts.delete(ip);
      counts = { since: now, valid: 0, invalid: 0 };
      this.#counts.set(ip, counts);
      if (this.#counts.size > this.#maxTracked) {
        const oldest = this.#counts.keys().next().value;
        if (oldest !== undefined) this.#counts.delete(oldest);
      }
    }
    if (valid) counts.valid++;
    else counts.invalid++;
    const total = counts.valid + counts.invalid;
    if (total < this.#threshold) return false;
    this.#counts.delete(ip);
    if (counts.invalid * 100 < this.#percent * total) return false;
    this.ban(ip, now);
    return true;
  }

  /**
   * Ban an IP now.
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   */
  ban(ip: string, now: number): void {
    if (this.#exemptLoopback && isLoopback(ip)) return;
    this.#bans.set(ip, now + this.#banMs);
  }

  /**
   * Whether an IP is banned.
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   * @returns True while a ban lasts.
   */
  isBanned(ip: string, now: number): boolean {
    const until = this.#bans.get(ip);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#bans.delete(ip);
    return false;
  }
}
