/**
 * A worker's link to its `[process] workers` supervisor (a Unix socket, newline-delimited JSON,
 * see `protocol/worker_link.ts`): the {@linkcode PoolPeers} of a worker's pool. Bans made or
 * lifted here go to the supervisor, which relays them to every worker (this one included: the
 * supervisor's order is the one every worker ends up with); offences counted here go to the
 * supervisor, which relays them to every other worker (one relayed here is counted by the pool
 * and never sent again); each change of this worker's per-IP connection counts is sent within
 * `flushMs` (batched), and the other workers' counts come back the same way.
 *
 * The link is never in the way of the pool: every call is a map update and a queued write. An
 * offence is dropped rather than queued behind more than `offenceBacklogBytes` of unsent lines
 * (an attacker sets the rate of offences; a lost one only delays a ban, which each worker's own
 * count still makes). When the link is down (logged once per outage) the worker runs on its own
 * offences, bans and counts (the other workers' counts are forgotten, so a worker never refuses
 * on stale figures), keeps the bans it makes or lifts meanwhile and its last offences (at most
 * {@linkcode MAX_PENDING_OFFENCES}), and reconnects with a back-off; then it says hello, sends
 * them and its counts, and asks for the bans in force (`sync`), dropping the ones lifted while
 * it was away.
 *
 * In a hand-over, {@linkcode SupervisorLink.handOverReady} says that this worker stopped
 * accepting and waits until the supervisor says every worker has (or a timeout).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { LineConnection } from "../net/line_connection.ts";
import {
  encodeLinkMessage,
  type LinkBan,
  type LinkCount,
  linkIp,
  type LinkOffence,
  type LinkOffenceKind,
  MAX_LINK_ENTRIES,
  MAX_LINK_LINE_BYTES,
  parseSupervisorMessage,
  type SupervisorToWorker,
  WORKER_LINK_VERSION,
  type WorkerToSupervisor,
} from "../protocol/worker_link.ts";
import type { BanInfo, OffenceKind } from "./bans.ts";
import type { PeerOffence, PoolPeers } from "./pool_peers.ts";

const log = getLogger(["vbkpool", "server", "workers"]);

/** Bans and lifted bans kept for the supervisor while the link is down (the oldest give way). */
const MAX_PENDING = 100_000;
/** Offences kept for the supervisor while the link is down (the oldest give way). */
export const MAX_PENDING_OFFENCES = 1000;

// The wire carries the pool's offence kinds: a kind added to one must be added to the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameKinds: Same<OffenceKind, LinkOffenceKind> = true;

/** Options for {@linkcode SupervisorLink}. */
export interface SupervisorLinkOptions {
  /** The supervisor's Unix socket. */
  path: string;
  /** The secret the supervisor gave this worker (32 hex digits). */
  token: string;
  /** This worker's index. */
  worker: number;
  /** A ban made by another worker (or this one's, relayed back: then nothing changes). */
  onBan(ban: LinkBan): void;
  /** A ban lifted by another worker's operator (or this one's, relayed back). */
  onUnban(ip: string): void;
  /** An offence another worker counted (never this one's). @default ignored */
  onOffence?(offence: PeerOffence): void;
  /** Unsent bytes on the link past which an offence is dropped, not queued. @default 262144 */
  offenceBacklogBytes?: number;
  /** Longest wait before a change of this worker's counts is sent, ms. @default 10 */
  flushMs?: number;
  /** First reconnect delay, doubled up to `reconnectMaxMs`. @default 100 */
  reconnectMinMs?: number;
  /** Longest reconnect delay, ms. @default 5000 */
  reconnectMaxMs?: number;
  /** Clock, ms since epoch. @default Date.now */
  now?: () => number;
}

/** The `(port, ip)` key of the count maps. */
function countKey(port: string, ip: string): string {
  return `${port}\n${ip}`;
}

/**
 * A worker's link to its supervisor. Create, give it to the pool as `peers`, then
 * {@linkcode SupervisorLink.start}; {@linkcode SupervisorLink.close} at the end.
 *
 * @example Usage
 * ```ts
 * import { SupervisorLink, WorkerHub } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const hub = await WorkerHub.listen({ workers: 2 });
 * const seen: string[] = [];
 * const links = [0, 1].map((worker) =>
 *   new SupervisorLink({
 *     path: hub.path,
 *     token: hub.token,
 *     worker,
 *     onBan: (ban) => seen.push(`${worker} ${ban.ip}`),
 *     onUnban: () => {},
 *   })
 * );
 * for (const link of links) link.start();
 * await Promise.all(links.map((link) => link.ready(5000)));
 * links[0]!.banned({ ip: "10.0.0.1", since: 0, until: 2 ** 50, reason: "flood", offences: 3, refused: 0 });
 * links[0]!.connectionsHere("0.0.0.0:3333", "10.0.0.2", 4);
 * while (links[1]!.connectionsElsewhere("0.0.0.0:3333", "10.0.0.2") !== 4) {
 *   await new Promise((r) => setTimeout(r, 10));
 * }
 * assert.ok(seen.includes("1 10.0.0.1"));
 * for (const link of links) await link.close();
 * await hub.close();
 * ```
 */
export class SupervisorLink implements PoolPeers {
  #o: SupervisorLinkOptions;
  #now: () => number;
  #conn: LineConnection | undefined;
  /** Set once the supervisor answered a sync on the current link. */
  #synced = false;
  #closed = false;
  /** This worker's counts (only non-zero ones). */
  #own = new Map<string, number>();
  /** Keys of `#own` changed since the last flush. */
  #dirty = new Set<string>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The other workers' counts, as the supervisor last said (empty while the link is down). */
  #others = new Map<string, number>();
  /** The others' counts summed per port. */
  #otherTotals = new Map<string, number>();
  /** Who is told of the IPs whose count elsewhere went up, by port. */
  #watchers = new Map<string, (ips: string[]) => void>();
  /** Bans this worker believes in force (to drop the ones lifted while the link was down). */
  #known = new Map<string, number>();
  /** Bans (LinkBan) and lifted bans (null) made while the link was down, by IP. */
  #pending = new Map<string, LinkBan | null>();
  /** Offences counted here while the link was down, oldest first. */
  #pendingOffences: LinkOffence[] = [];
  /** IPs banned or unbanned here after the sync was asked for: the answer may predate them. */
  #sinceSync = new Set<string>();
  /** IPs in the sync answer so far. */
  #snapshot = new Set<string>();
  #ready: Promise<void>;
  #resolveReady!: () => void;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  /** Whether the loss of the link was logged (reset once it is back). */
  #down = false;
  /** A wait in {@linkcode SupervisorLink.handOverReady} (said again after a reconnect). */
  #handOverWait: { go(): void; cancel(): void } | undefined;

  /**
   * Make the link (it connects on {@linkcode SupervisorLink.start}).
   *
   * @param options Socket, token, worker index and where relayed bans go.
   */
  constructor(options: SupervisorLinkOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#ready = new Promise((resolve) => this.#resolveReady = resolve);
  }

  /** Whether the link is up and has the bans in force. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Connect, and reconnect whenever the link drops, until {@linkcode SupervisorLink.close}. */
  start(): void {
    this.#running ??= this.#run();
  }

  /**
   * Wait for the first answer to a sync (the bans in force), at most `timeoutMs`.
   *
   * @param timeoutMs Longest wait.
   * @returns True when synced, false after the timeout (the worker then starts on its own).
   */
  async ready(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    await Promise.race([this.#ready, timeout]);
    clearTimeout(timer);
    return this.#synced;
  }

  /**
   * A hand-over: tell the supervisor that this worker no longer accepts connections, and wait
   * until it says that every worker has stopped accepting (so that a miner asked to reconnect
   * reaches the next pool, not another worker of this one), at most `timeoutMs`.
   *
   * @param timeoutMs Longest wait.
   * @param signal Ends the wait early (a stop came).
   * @returns True once every worker stopped accepting; false after the timeout, an abort or
   * the link's close.
   */
  async handOverReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#closed || signal?.aborted) return false;
    let go = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort = () => {};
    await new Promise<void>((resolve) => {
      this.#handOverWait = {
        go: () => {
          go = true;
          resolve();
        },
        cancel: resolve,
      };
      timer = setTimeout(resolve, timeoutMs);
      onAbort = () => resolve();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#send({ type: "handover_ready" });
    });
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    this.#handOverWait = undefined;
    return go;
  }

  /** Stop: close the link, no reconnect. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#handOverWait?.cancel();
    clearTimeout(this.#flushTimer);
    this.#conn?.close("worker stopping");
    this.#wake?.();
    await this.#running;
  }

  connectionsElsewhere(port: string, ip: string): number {
    return this.#others.size === 0 ? 0 : this.#others.get(countKey(port, ip)) ?? 0;
  }

  totalElsewhere(port: string): number {
    return this.#otherTotals.get(port) ?? 0;
  }

  watchElsewhere(port: string, listener: (ips: string[]) => void): void {
    this.#watchers.set(port, listener);
  }

  connectionsHere(port: string, ip: string, count: number): void {
    const key = countKey(port, ip);
    if (count > 0) this.#own.set(key, count);
    else this.#own.delete(key);
    if (this.#conn === undefined) return; // the whole table goes after the next hello
    this.#dirty.add(key);
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#o.flushMs ?? 10);
  }

  banned(ban: BanInfo): void {
    if (!linkIp(ban.ip)) return; // cannot match a peer's address anyway
    const { ip, since, until, reason, offences } = ban;
    this.#known.set(ip, until);
    this.#publish(ip, { ip, since, until, reason, offences });
  }

  unbanned(ip: string): void {
    if (!linkIp(ip)) return;
    this.#known.delete(ip);
    this.#publish(ip, null);
  }

  offended(offence: PeerOffence): void {
    if (!linkIp(offence.ip)) return;
    const { ip, kind, at } = offence;
    const conn = this.#conn;
    if (conn === undefined) {
      this.#pendingOffences.push({ ip, kind, at });
      if (this.#pendingOffences.length > MAX_PENDING_OFFENCES) this.#pendingOffences.shift();
      return;
    }
    // Behind a backlog the supervisor is not reading: drop it rather than grow the queue.
    if (conn.queuedBytes > (this.#o.offenceBacklogBytes ?? 262_144)) return;
    this.#send({ type: "offence", offence: { ip, kind, at } });
  }

  #publish(ip: string, ban: LinkBan | null): void {
    if (this.#conn === undefined) {
      this.#pending.delete(ip);
      this.#pending.set(ip, ban);
      if (this.#pending.size > MAX_PENDING) {
        this.#pending.delete(this.#pending.keys().next().value!);
      }
      return;
    }
    if (!this.#synced) this.#sinceSync.add(ip);
    this.#send(ban === null ? { type: "unban", ip } : { type: "ban", ban });
  }

  #send(message: WorkerToSupervisor): void {
    this.#conn?.send(encodeLinkMessage(message));
  }

  #flush(): void {
    this.#flushTimer = undefined;
    if (this.#conn === undefined || this.#dirty.size === 0) return;
    const counts: LinkCount[] = [];
    for (const key of this.#dirty) {
      const [port, ip] = key.split("\n") as [string, string];
      counts.push([port, ip, this.#own.get(key) ?? 0]);
    }
    this.#dirty.clear();
    this.#sendCounts(counts);
  }

  #sendCounts(counts: LinkCount[]): void {
    for (let i = 0; i < counts.length; i += MAX_LINK_ENTRIES) {
      this.#send({ type: "counts", counts: counts.slice(i, i + MAX_LINK_ENTRIES) });
    }
  }

  async #run(): Promise<void> {
    let delay = this.#o.reconnectMinMs ?? 100;
    while (!this.#closed) {
      let socket: Deno.Conn;
      try {
        socket = await Deno.connect({ transport: "unix", path: this.#o.path });
      } catch (err) {
        this.#lost(`cannot connect: ${err instanceof Error ? err.message : String(err)}`);
        await this.#sleep(delay);
        delay = Math.min(this.#o.reconnectMaxMs ?? 5000, delay * 2);
        continue;
      }
      if (this.#closed) {
        socket.close();
        break;
      }
      const reason = await this.#serve(socket);
      if (this.#synced) delay = this.#o.reconnectMinMs ?? 100;
      this.#synced = false;
      if (this.#closed) break;
      this.#lost(reason);
      await this.#sleep(delay);
      delay = Math.min(this.#o.reconnectMaxMs ?? 5000, delay * 2);
    }
  }

  /** Run one link until it closes; returns why it closed. */
  async #serve(socket: Deno.Conn): Promise<string> {
    const conn = new LineConnection(socket, {
      maxLineBytes: MAX_LINK_LINE_BYTES,
      maxSendQueueBytes: 64 * MAX_LINK_LINE_BYTES,
      coalesceWrites: true,
    });
    this.#conn = conn;
    this.#snapshot.clear();
    this.#sinceSync.clear();
    this.#send({
      type: "hello",
      version: WORKER_LINK_VERSION,
      worker: this.#o.worker,
      token: this.#o.token,
    });
    // What happened while the link was down, then this worker's whole table, then the ask.
    for (const [ip, ban] of this.#pending) {
      this.#send(ban === null ? { type: "unban", ip } : { type: "ban", ban });
    }
    this.#pending.clear();
    // After the bans: an offence of an IP banned meanwhile then counts for nothing elsewhere.
    for (const offence of this.#pendingOffences) this.#send({ type: "offence", offence });
    this.#pendingOffences = [];
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#dirty.clear();
    const table: LinkCount[] = [];
    for (const [key, n] of this.#own) {
      const [port, ip] = key.split("\n") as [string, string];
      table.push([port, ip, n]);
    }
    this.#sendCounts(table);
    this.#send({ type: "sync" });
    // Waiting in a hand-over: the supervisor forgot it with the old link.
    if (this.#handOverWait !== undefined) this.#send({ type: "handover_ready" });
    let reason = "closed";
    await conn.start({
      onLine: (line) => this.#onLine(conn, line),
      onClose: (why) => reason = why,
    });
    this.#conn = undefined;
    this.#others.clear();
    this.#otherTotals.clear();
    return reason;
  }

  #onLine(conn: LineConnection, line: string): void {
    const parsed = parseSupervisorMessage(line);
    if (!parsed.ok) {
      conn.close(`bad message from the supervisor: ${parsed.error}`);
      return;
    }
    this.#handle(parsed.message);
  }

  #handle(message: SupervisorToWorker): void {
    switch (message.type) {
      case "ban":
        this.#adopt(message.ban);
        break;
      case "unban":
        this.#known.delete(message.ip);
        this.#o.onUnban(message.ip);
        break;
      case "offence":
        this.#o.onOffence?.(message.offence);
        break;
      case "bans":
        for (const ban of message.bans) {
          this.#snapshot.add(ban.ip);
          if (!this.#sinceSync.has(ban.ip)) this.#adopt(ban);
        }
        if (message.done) this.#finishSync();
        break;
      case "counts":
        this.#othersCounted(message.counts);
        break;
      case "handover_go":
        this.#handOverWait?.go();
        break;
    }
  }

  /** Take the others' counts; tell each port's watcher of the IPs that went up. */
  #othersCounted(counts: LinkCount[]): void {
    const raised = new Map<string, string[]>();
    for (const [port, ip, n] of counts) {
      const key = countKey(port, ip);
      if (n > (this.#others.get(key) ?? 0) && this.#watchers.has(port)) {
        const ips = raised.get(port);
        if (ips === undefined) raised.set(port, [ip]);
        else ips.push(ip);
      }
      const total = (this.#otherTotals.get(port) ?? 0) + n - (this.#others.get(key) ?? 0);
      if (total > 0) this.#otherTotals.set(port, total);
      else this.#otherTotals.delete(port);
      if (n > 0) this.#others.set(key, n);
      else this.#others.delete(key);
    }
    for (const [port, ips] of raised) this.#watchers.get(port)!(ips);
  }

  #adopt(ban: LinkBan): void {
    this.#known.set(ban.ip, ban.until);
    this.#o.onBan(ban);
  }

  /** The sync's answer is complete: drop the bans lifted while the link was down. */
  #finishSync(): void {
    const now = this.#now();
    for (const [ip, until] of this.#known) {
      if (until <= now) this.#known.delete(ip);
      else if (!this.#snapshot.has(ip) && !this.#sinceSync.has(ip)) {
        this.#known.delete(ip);
        this.#o.onUnban(ip);
      }
    }
    this.#snapshot.clear();
    this.#sinceSync.clear();
    this.#synced = true;
    if (this.#down) {
      this.#down = false;
      log.info(
        "link to the supervisor is back: offences, bans and connection caps are pool-wide again",
      );
    }
    this.#resolveReady();
  }

  #lost(reason: string): void {
    if (this.#down) return;
    this.#down = true;
    log.warn(
      "link to the supervisor lost ({reason}): this worker's offences, bans and connection " +
        "caps (per IP and per port) are its own until it is back",
      { reason },
    );
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
