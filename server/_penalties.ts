/**
 * What the pool does with an offence (see `bans.ts`): the offending connection is closed after
 * the answers already due and reported; the offence counts against its IP, and the ban it may
 * cause is logged once, reported and enforced on every port. Ended bans are logged once with
 * the connections they refused. With other pool processes on the same ports (workers, see
 * `pool_peers.ts`) the offences counted and the bans made and lifted here are told to them, and
 * theirs are taken here: an offence of theirs counts as one of this process's own.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { BanInfo, BanList, BanSource, OffenceKind } from "./bans.ts";
import type { PoolEvents } from "./events.ts";
import type { PeerOffence, PoolPeers } from "./pool_peers.ts";
import type { BanRecord } from "./ban_ledger.ts";
import type { Offence } from "./session_context.ts";

const log = getLogger(["vbkpool", "server", "pool"]);

/** The close reason of each kind of offence. */
const OFFENCE_REASONS = {
  invalid_shares: "too many invalid shares",
  protocol_errors: "too many bad requests",
  flood: "request flood",
  auth_failures: "too many failed authorizations",
} as const satisfies Record<OffenceKind, string>;

/** A port as the penalties see it (Stratum and UCP ports). */
export interface PenaltyPort {
  /** Close one connection after its due answers; false when it is not on this port. */
  closeConnection(id: number, reason: string): boolean;
  /** Close every connection from an IP after their due answers. */
  closeIp(ip: string, reason: string): void;
}

/** Options for {@linkcode Penalties}. */
export interface PenaltiesOptions {
  /** The ban list. */
  bans: BanList;
  /** Where offences and bans are reported. */
  events: PoolEvents;
  /** The pool's ports. */
  ports(): Iterable<PenaltyPort>;
  /** The other pool processes on the same ports. @default none */
  peers?: PoolPeers | undefined;
  /**
   * Where this process's bans and the operator's lifts are kept for the others and for the next
   * start (`ban_ledger.ts`). @default none
   */
  record?: BanRecord | undefined;
}

/** How the log names each source. */
const SOURCES = {
  worker: "another worker",
  store: "another pool process (shared store)",
  restored: "this pool before its restart",
} as const satisfies Record<BanSource, string>;

/** The pool's handling of offences and bans. */
export class Penalties {
  #o: PenaltiesOptions;

  /**
   * @param options The ban list, the event bus and the ports.
   */
  constructor(options: PenaltiesOptions) {
    this.#o = options;
  }

  /**
   * A connection offended: close it, report it, count it against its IP (a ban closes the
   * IP's connections on every port).
   *
   * @param offence The connection and what it did.
   * @param now Current time, ms since epoch.
   */
  offence(offence: Offence, now: number): void {
    const { connectionId, ip, worker, kind } = offence;
    const reason = OFFENCE_REASONS[kind];
    for (const port of this.#o.ports()) {
      if (port.closeConnection(connectionId, reason)) break;
    }
    log.debug("connection {id} from {ip} ({worker}) closed: {reason}", {
      id: connectionId,
      ip,
      worker: worker ?? "-",
      reason,
    });
    const events = this.#o.events;
    if (events.active) {
      events.emit({
        type: "offence",
        at: now,
        connectionId,
        ip,
        ...(worker === undefined ? {} : { worker: worker.slice(0, 128) }),
        kind,
      });
    }
    const bans = this.#o.bans;
    const ban = bans.offence(ip, now, kind);
    if (ban !== undefined) this.#banned(ban); // the others take the ban: no offence to tell
    else if (!bans.exempt(ip) && !bans.isBanned(ip, now)) {
      this.#o.peers?.offended({ ip, kind, at: now });
    }
  }

  /**
   * Count an offending connection that another pool process closed, as if it had been closed
   * here: when it is the `offences`-th within the window, the IP is banned here as for an
   * offence of this process's own (logged, told to the others, its connections closed on every
   * port). It is not told back to the others.
   *
   * @param offence The IP, what its connection did, and when.
   * @param now Current time, ms since epoch.
   * @returns Whether it banned the IP.
   */
  adoptOffence(offence: PeerOffence, now: number): boolean {
    const ban = this.#o.bans.adoptOffence(offence.ip, offence.at, offence.kind, now);
    if (ban === undefined) return false;
    this.#banned(ban);
    return true;
  }

  /**
   * Ban an IP by the operator's decision: logged, reported, and its connections closed on every
   * port.
   *
   * @param ip The address.
   * @param options When, and for how long (default the configured ban length).
   * @returns The ban, or undefined for an exempt address (loopback with `exempt_loopback`).
   */
  ban(ip: string, options: { now: number; seconds?: number }): BanInfo | undefined {
    const ban = this.#o.bans.ban(ip, options.now, {
      reason: "manual",
      ...(options.seconds === undefined ? {} : { seconds: options.seconds }),
    });
    if (ban !== undefined) this.#banned(ban);
    return ban;
  }

  /**
   * Lift an IP ban (logged once, with the connections it refused).
   *
   * @param ip The address.
   * @param now Current time, ms since epoch.
   * @returns Whether a ban was lifted.
   */
  unban(ip: string, now: number): boolean {
    // Told even when not banned here: another process may have it still.
    this.#o.peers?.unbanned(ip);
    const ban = this.#o.bans.unban(ip);
    this.#o.record?.unbanned(ip, now, ban);
    if (ban === undefined) return false;
    log.info("ban of {ip} lifted by the operator; {refused} connections were refused during it", {
      ip,
      refused: ban.refused,
    });
    return true;
  }

  /**
   * Take a ban another pool process made: logged once (a ban already in force here that ends as
   * late is not), and the IP's connections closed on every port.
   *
   * @param ban The ban.
   * @param now Current time, ms since epoch.
   * @param source Where it was decided.
   * @returns Whether it changed anything here.
   */
  adopt(ban: Omit<BanInfo, "refused">, now: number, source: BanSource = "worker"): boolean {
    const adopted = this.#o.bans.adopt(ban, now);
    if (adopted === undefined) return false;
    const properties = {
      ip: adopted.ip,
      source: SOURCES[source],
      seconds: Math.max(0, Math.round((adopted.until - now) / 1000)),
      reason: OFFENCE_REASONS[adopted.reason as OffenceKind] ?? adopted.reason,
    };
    const message = "banned {ip} for {seconds} s by {source} ({reason}); its connections here " +
      "are closed and new ones refused";
    // From the store: counted in one line per read (or at start) by the ledger and the server.
    if (source === "worker") log.warn(message, properties);
    else log.debug(message, properties);
    this.#enforce(adopted);
    return true;
  }

  /**
   * Lift a ban because another pool process lifted it (logged once when it was in force here).
   *
   * @param ip The address.
   * @param source Where it was lifted.
   * @param now Current time, ms since epoch.
   * @returns Whether a ban was lifted here.
   */
  lift(ip: string, source: BanSource, now: number): boolean {
    // A store read that still has the ban must not bring it back here.
    if (source === "worker") this.#o.record?.liftedElsewhere(ip, now);
    const ban = this.#o.bans.unban(ip);
    if (ban === undefined) return false;
    const message = "ban of {ip} lifted by {source}; {refused} connections were refused here " +
      "during it";
    const properties = { ip, source: SOURCES[source], refused: ban.refused };
    // From the store: counted in one line per read by the ledger.
    if (source === "worker") log.info(message, properties);
    else log.debug(message, properties);
    return true;
  }

  /**
   * Forget the bans that have ended, logging each once.
   *
   * @param now Current time, ms since epoch.
   */
  expire(now: number): void {
    for (const ended of this.#o.bans.expire(now)) {
      log.info("ban of {ip} ended; {refused} connections were refused during it", {
        ip: ended.ip,
        refused: ended.refused,
      });
    }
  }

  #banned(ban: BanInfo): void {
    if (ban.reason === "manual") {
      log.warn("banned {ip} for {seconds} s by the operator; its connections are closed", {
        ip: ban.ip,
        seconds: Math.round((ban.until - ban.since) / 1000),
      });
    } else {
      log.warn(
        "banned {ip} for {seconds} s: {offences} of its connections were closed for offences " +
          "(the last: {reason}); its connections are closed and new ones refused",
        {
          ip: ban.ip,
          seconds: Math.round((ban.until - ban.since) / 1000),
          offences: ban.offences,
          reason: OFFENCE_REASONS[ban.reason as OffenceKind] ?? ban.reason,
        },
      );
    }
    this.#o.peers?.banned(ban);
    this.#o.record?.banned(ban);
    this.#enforce(ban);
  }

  /** Report a ban in force here and close its IP's connections on every port. */
  #enforce(ban: BanInfo): void {
    const events = this.#o.events;
    if (events.active) {
      events.emit({
        type: "banned",
        at: ban.since,
        ip: ban.ip,
        until: ban.until,
        reason: ban.reason,
      });
    }
    for (const port of this.#o.ports()) port.closeIp(ban.ip, "banned");
  }
}
