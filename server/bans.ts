/**
 * Penalties that fit shared IPs (many miners behind one NAT or proxy), then IP bans:
 *
 * 1. A connection is judged on its own submits ({@linkcode ShareCounts}, kept by its session):
 *    once `checkThreshold` of them fall within `windowSeconds`, an invalid share of at least
 *    `invalidPercent` makes it an offending connection, which the pool closes. Other
 *    connections from the same IP are not touched.
 * 2. Every connection closed for an offence (that ratio, too many protocol errors, a request
 *    flood, failed authorizations) counts against its IP. `offences` offending connections
 *    within `offenceWindowSeconds` ban the IP for `banSeconds`; the pool then closes its
 *    connections and refuses new ones.
 * 3. Bans can be listed ({@linkcode BanList.list}) and lifted ({@linkcode BanList.unban}); a
 *    connection refused while a ban lasts is counted on that ban, so its end can be logged once
 *    with the count ({@linkcode BanList.expire}).
 * 4. With `[process] workers`, offences and bans are pool-wide: an offending connection that
 *    another worker closed counts here as if it had been closed here
 *    ({@linkcode BanList.adoptOffence}: same window, same threshold, so the `offences`-th within
 *    the window bans the IP wherever the connections landed), and a ban made by another worker
 *    is taken over ({@linkcode BanList.adopt}).
 *
 * Loopback peers are exempt from both unless `exemptLoopback` is false. Time is passed in.
 *
 * @module
 */

import { isLoopback } from "../net/line_server.ts";

/** Options for {@linkcode BanList}. */
export interface BanListOptions {
  /** Whether connections are judged and IPs banned at all. @default true */
  enabled?: boolean;
  /** Submits on one connection before its invalid ratio is judged. @default 100 */
  checkThreshold?: number;
  /** Invalid share (in %) at or above which a connection is an offending one. @default 50 */
  invalidPercent?: number;
  /** A connection's submit counts older than this restart, seconds. @default 600 */
  windowSeconds?: number;
  /** Offending connections from one IP, within the offence window, that ban it. @default 3 */
  offences?: number;
  /** Window over which an IP's offending connections are counted, seconds. @default 600 */
  offenceWindowSeconds?: number;
  /** Ban length in seconds. @default 600 */
  banSeconds?: number;
  /** Loopback addresses are never judged nor banned. @default true */
  exemptLoopback?: boolean;
  /** Most IPs whose offences are tracked at once (the oldest are forgotten). @default 100000 */
  maxTracked?: number;
}

/** What a connection is closed for: the kinds of offence that count against its IP. */
export type OffenceKind = "invalid_shares" | "protocol_errors" | "flood" | "auth_failures";

/**
 * Where a ban taken or lifted here was decided: a worker beside this process (relayed by the
 * supervisor), another pool process on the same store (`ban_ledger.ts`), or this pool before its
 * restart (read from the store at start).
 */
export type BanSource = "worker" | "store" | "restored";

/** One connection's submit counts, owned by its session (see {@linkcode BanList.countShare}). */
export interface ShareCounts {
  /** Start of the current window, ms. */
  since: number;
  /** Valid submits in it. */
  valid: number;
  /** Counted invalid submits in it. */
  invalid: number;
  /** The connection is never judged (bans off, or an exempt loopback peer). */
  readonly exempt: boolean;
}

/** An IP ban. */
export interface BanInfo {
  /** The address. */
  ip: string;
  /** When it began, ms since epoch. */
  since: number;
  /** When it ends, ms since epoch. */
  until: number;
  /** Why (the kind of the last offence, or "manual"). */
  reason: string;
  /** Offending connections that led to it. */
  offences: number;
  /** Connections refused while it lasted. */
  refused: number;
}

/**
 * Per-connection penalties and IP bans.
 *
 * @example Usage
 * ```ts
 * import { BanList } from "./bans.ts";
 * import assert from "node:assert/strict";
 *
 * const bans = new BanList({ checkThreshold: 4, invalidPercent: 50, offences: 2, banSeconds: 60 });
 * // One connection with 3 invalid submits of 4 is an offending one; its IP is not banned yet.
 * const counts = bans.shareCounts("10.0.0.1", 0);
 * bans.countShare(counts, true, 0);
 * bans.countShare(counts, false, 1);
 * bans.countShare(counts, false, 2);
 * assert.equal(bans.countShare(counts, false, 3), true);
 * assert.equal(bans.offence("10.0.0.1", 3, "invalid_shares"), undefined);
 * assert.equal(bans.isBanned("10.0.0.1", 3), false);
 * // A second offending connection from that IP bans it.
 * assert.equal(bans.offence("10.0.0.1", 10, "flood")?.until, 60_010);
 * assert.equal(bans.isBanned("10.0.0.1", 59_000), true);
 * assert.equal(bans.unban("10.0.0.1")?.offences, 2);
 * assert.equal(bans.isBanned("10.0.0.1", 59_000), false);
 * ```
 */
export class BanList {
  #enabled: boolean;
  #threshold: number;
  #percent: number;
  #windowMs: number;
  #offences: number;
  #offenceWindowMs: number;
  #banMs: number;
  #exemptLoopback: boolean;
  #maxTracked: number;
  /** Times of each IP's recent offences, oldest first (at most `offences` kept). */
  #offenceTimes = new Map<string, number[]>();
  #bans = new Map<string, BanInfo>();

  /**
   * Make a ban list.
   *
   * @param options Thresholds.
   */
  constructor(options: BanListOptions = {}) {
    this.#enabled = true;
    this.#threshold =
      this.#percent =
      this.#windowMs =
      this.#offences =
        0;
    this.#offenceWindowMs = this.#banMs = this.#maxTracked = 0;
    this.#exemptLoopback = true;
    this.configure(options);
  }

  /**
   * Change the thresholds of a running list (a configuration reload): they apply to the next
   * submit and offence; bans in force keep their end.
   *
   * @param options Thresholds; missing keys take the defaults.
   */
  configure(options: BanListOptions): void {
    this.#enabled = options.enabled ?? true;
    this.#threshold = Math.max(1, options.checkThreshold ?? 100);
    this.#percent = options.invalidPercent ?? 50;
    this.#windowMs = (options.windowSeconds ?? 600) * 1000;
    this.#offences = Math.max(1, options.offences ?? 3);
    this.#offenceWindowMs = (options.offenceWindowSeconds ?? 600) * 1000;
    this.#banMs = (options.banSeconds ?? 600) * 1000;
    this.#exemptLoopback = options.exemptLoopback ?? true;
    this.#maxTracked = Math.max(1, options.maxTracked ?? 100_000);
  }

  /** Whether connections are judged and IPs banned at all (`ban_enabled`). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Ban length in milliseconds. */
  get banMs(): number {
    return this.#banMs;
  }

  /**
   * Whether an address is never judged nor banned.
   *
   * @param ip Peer address.
   * @returns True when bans are off or the address is an exempt loopback one.
   */
  exempt(ip: string): boolean {
    return !this.#enabled || (this.#exemptLoopback && isLoopback(ip));
  }

  /**
   * Fresh submit counts for a new connection.
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   * @returns The counts (the session keeps them).
   */
  shareCounts(ip: string, now: number): ShareCounts {
    return { since: now, valid: 0, invalid: 0, exempt: this.exempt(ip) };
  }

  /**
   * Count one submit of a connection (stale and rate-limited refusals are not counted) and
   * judge its ratio once the window holds `checkThreshold` submits (the counts then restart).
   *
   * @param counts The connection's counts (updated in place).
   * @param valid Whether the share was accepted.
   * @param now Current time in ms.
   * @returns True when the connection has just become an offending one.
   */
  countShare(counts: ShareCounts, valid: boolean, now: number): boolean {
    if (counts.exempt) return false;
    if (now - counts.since > this.#windowMs) {
      counts.since = now;
      counts.valid = 0;
      counts.invalid = 0;
    }
    if (valid) counts.valid++;
    else counts.invalid++;
    const total = counts.valid + counts.invalid;
    if (total < this.#threshold) return false;
    const offending = counts.invalid * 100 >= this.#percent * total;
    counts.since = now;
    counts.valid = 0;
    counts.invalid = 0;
    return offending;
  }

  /**
   * Count an offending connection against its IP; bans the IP at the `offences`-th within the
   * offence window.
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   * @param reason What the connection did.
   * @returns The new ban when this offence banned the IP, else undefined.
   */
  offence(ip: string, now: number, reason: OffenceKind): BanInfo | undefined {
    return this.#count(ip, now, now, reason);
  }

  /**
   * Count an offending connection that another pool process closed (see `pool_peers.ts`) as if
   * it had been closed here at `at`: same window, same threshold. One older than the window
   * counts for nothing.
   *
   * @example Usage
   * ```ts
   * import { BanList } from "./bans.ts";
   * import assert from "node:assert/strict";
   *
   * const bans = new BanList({ offences: 3, offenceWindowSeconds: 60 });
   * assert.equal(bans.offence("10.0.0.1", 10_000, "flood"), undefined);
   * // Another worker's, closed before this one's; then one 70 s old (outside the window).
   * assert.equal(bans.adoptOffence("10.0.0.1", 5_000, "protocol_errors", 10_100), undefined);
   * assert.equal(bans.adoptOffence("10.0.0.1", 1_000, "flood", 71_000), undefined);
   * // The third within the window bans the IP from now.
   * const ban = bans.adoptOffence("10.0.0.1", 11_000, "flood", 11_050);
   * assert.deepEqual([ban?.since, ban?.offences, ban?.reason], [11_050, 3, "flood"]);
   * ```
   *
   * @param ip Peer address.
   * @param at When the other process closed it, ms (a time after `now` counts as `now`).
   * @param reason What the connection did.
   * @param now Current time in ms.
   * @returns The new ban when this offence banned the IP, else undefined.
   */
  adoptOffence(ip: string, at: number, reason: OffenceKind, now: number): BanInfo | undefined {
    const when = Math.min(at, now);
    if (now - when > this.#offenceWindowMs) return undefined;
    return this.#count(ip, when, now, reason);
  }

  /** Count an offence of `at` (at most `now`); ban from `now` at the threshold. */
  #count(ip: string, at: number, now: number, reason: OffenceKind): BanInfo | undefined {
    if (this.exempt(ip) || this.isBanned(ip, now)) return undefined;
    let times = this.#offenceTimes.get(ip);
    if (times === undefined) {
      times = [];
      this.#offenceTimes.set(ip, times);
      if (this.#offenceTimes.size > this.#maxTracked) {
        const oldest = this.#offenceTimes.keys().next().value;
        if (oldest !== undefined) this.#offenceTimes.delete(oldest);
      }
    }
    while (times.length > 0 && now - times[0]! > this.#offenceWindowMs) times.shift();
    // Another process's offence may be older than the last one here: keep the times in order.
    let i = times.length;
    while (i > 0 && times[i - 1]! > at) i--;
    times.splice(i, 0, at);
    if (times.length < this.#offences) return undefined;
    const count = times.length;
    this.#offenceTimes.delete(ip);
    return this.#ban(ip, now, { reason, offences: count });
  }

  /**
   * Ban an IP now (an operator's decision, or a test's).
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   * @param options Why (default "manual") and for how long (default the configured ban length).
   * @returns The ban, or undefined for an exempt address.
   */
  ban(
    ip: string,
    now: number,
    options: { reason?: string; seconds?: number } = {},
  ): BanInfo | undefined {
    if (this.exempt(ip)) return undefined;
    const ms = options.seconds === undefined ? this.#banMs : options.seconds * 1000;
    return this.#ban(ip, now, { reason: options.reason ?? "manual", offences: 0 }, ms);
  }

  /**
   * Take a ban made by another pool process (a worker beside this one, see `pool_peers.ts`): it
   * applies here too, until its end. A ban in force here that ends as late or later is kept.
   *
   * @param ban The ban (`refused` is each process's own count: the one here is kept).
   * @param now Current time in ms.
   * @returns The ban now in force when this changed it (new here, or a later end), else
   *   undefined (already as banned, ended, or an exempt address).
   */
  adopt(ban: Omit<BanInfo, "refused">, now: number): BanInfo | undefined {
    if (this.exempt(ban.ip) || ban.until <= now) return undefined;
    const current = this.#bans.get(ban.ip);
    const live = current !== undefined && now < current.until;
    if (live && current.until >= ban.until) return undefined;
    this.#offenceTimes.delete(ban.ip);
    const { ip, since, until, reason, offences } = ban;
    const next: BanInfo = {
      ip,
      since,
      until,
      reason,
      offences,
      refused: live ? current.refused : 0,
    };
    this.#bans.delete(ip);
    this.#bans.set(ip, next);
    return { ...next };
  }

  /**
   * Whether an IP is banned.
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   * @returns True while a ban lasts.
   */
  isBanned(ip: string, now: number): boolean {
    const ban = this.#bans.get(ip);
    return ban !== undefined && now < ban.until;
  }

  /**
   * The ban in force on an IP.
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   * @returns A copy, or undefined when the IP is not banned.
   */
  find(ip: string, now: number): BanInfo | undefined {
    const ban = this.#bans.get(ip);
    return ban !== undefined && now < ban.until ? { ...ban } : undefined;
  }

  /**
   * Count a connection refused because its IP is banned.
   *
   * @param ip Peer address.
   * @param now Current time in ms.
   * @returns Refusals during this ban so far (1 for the first), or 0 when not banned.
   */
  refused(ip: string, now: number): number {
    const ban = this.#bans.get(ip);
    if (ban === undefined || now >= ban.until) return 0;
    return ++ban.refused;
  }

  /**
   * Lift a ban (and forget the IP's recent offences).
   *
   * @param ip Peer address.
   * @returns The ban that was lifted, or undefined when there was none.
   */
  unban(ip: string): BanInfo | undefined {
    this.#offenceTimes.delete(ip);
    const ban = this.#bans.get(ip);
    this.#bans.delete(ip);
    return ban === undefined ? undefined : { ...ban };
  }

  /**
   * The bans in force.
   *
   * @param now Current time in ms.
   * @returns Copies, oldest first.
   */
  list(now: number): BanInfo[] {
    const out: BanInfo[] = [];
    for (const ban of this.#bans.values()) if (now < ban.until) out.push({ ...ban });
    return out;
  }

  /**
   * How many bans are in force.
   *
   * @param now Current time in ms.
   * @returns The count.
   */
  active(now: number): number {
    let n = 0;
    for (const ban of this.#bans.values()) if (now < ban.until) n++;
    return n;
  }

  /**
   * Forget the bans that have ended.
   *
   * @param now Current time in ms.
   * @returns The bans that ended since the last call.
   */
  expire(now: number): BanInfo[] {
    const ended: BanInfo[] = [];
    for (const [ip, ban] of this.#bans) {
      if (now < ban.until) continue;
      this.#bans.delete(ip);
      ended.push(ban);
    }
    return ended;
  }

  #ban(
    ip: string,
    now: number,
    what: { reason: string; offences: number },
    ms = this.#banMs,
  ): BanInfo {
    const ban: BanInfo = { ip, since: now, until: now + ms, refused: 0, ...what };
    this.#bans.delete(ip);
    this.#bans.set(ip, ban);
    return { ...ban };
  }
}
