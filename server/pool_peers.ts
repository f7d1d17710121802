/**
 * The other pool processes on the same ports (`[process] workers`): what a pool tells them and
 * asks of them so that offences, IP bans and connection caps (per IP and per port) hold for the
 * whole pool. A
 * process of its own has none. The worker side is {@linkcode SupervisorLink}
 * (`supervisor_link.ts`); the pool takes the offences and bans it relays with
 * {@linkcode Pool.adoptOffence}, {@linkcode Pool.adoptBan} and {@linkcode Pool.liftBan}.
 *
 * @module
 */

import type { BanInfo, OffenceKind } from "./bans.ts";

/** A connection closed for an offence, as told to the other pool processes. */
export interface PeerOffence {
  /** Its peer address. */
  ip: string;
  /** What it did. */
  kind: OffenceKind;
  /** When it was closed, ms since epoch. */
  at: number;
}

/** The other pool processes on the same ports, as a pool sees them. */
export interface PoolPeers {
  /**
   * Connections from an IP that the other processes hold on a port (they count against the
   * port's `max_connections_per_ip` here). Must be cheap: it is asked on every accept.
   *
   * @param port The port as `host:port`.
   * @param ip The peer address.
   * @returns Their count (0 when unknown).
   */
  connectionsElsewhere(port: string, ip: string): number;
  /**
   * Connections (and handshakes) the other processes hold on a port in all: they count against
   * the port's `max_connections` here. Must be cheap: it is asked on every accept.
   *
   * @param port The port as `host:port`.
   * @returns Their count (0 when unknown).
   */
  totalElsewhere(port: string): number;
  /**
   * This process now holds `count` connections from `ip` on `port` (told on every change).
   *
   * @param port The port as `host:port`.
   * @param ip The peer address.
   * @param count Connections (and handshakes) from it here now.
   */
  connectionsHere(port: string, ip: string, count: number): void;
  /**
   * Be told of the IPs whose count elsewhere went up on a port: a burst that several processes
   * admitted before they heard of each other's connections may now exceed the cap, and this
   * port closes its share of the excess (see `LineServer.trimExcess`).
   *
   * @param port The port as `host:port`.
   * @param listener Called with the IPs (one call per update from the others).
   */
  watchElsewhere(port: string, listener: (ips: string[]) => void): void;
  /**
   * A connection here was closed for an offence that did not ban its IP here: the others count
   * it too (and ban the IP if it crosses the threshold there). Not told of offences that other
   * processes told this one (no echo), nor of one that banned the IP (the ban is told instead).
   *
   * @param offence The IP, the kind and when.
   */
  offended(offence: PeerOffence): void;
  /**
   * This process banned an IP (its offences, or the operator): the others should too.
   *
   * @param ban The ban.
   */
  banned(ban: BanInfo): void;
  /**
   * The operator lifted a ban here: the others should too.
   *
   * @param ip The address.
   */
  unbanned(ip: string): void;
}
