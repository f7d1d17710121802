/**
 * A TCP listener for newline-delimited text: accepts connections (through the shared
 * {@linkcode acceptLoop}: descriptor budget, accept errors survived with back-off), enforces a
 * per-IP connection cap and a ban hook, sweeps deadlines once a second, and stops cleanly.
 * Other processes on the same port (`SO_REUSEPORT` workers) can share the per-IP cap: their
 * count comes in through `peerConnections`, this server's goes out through `onIpCount`, and
 * {@linkcode LineServer.trimExcess} closes this server's share of a burst that several of them
 * admitted before they heard of each other.
 * A port may serve TLS (certificate reloadable, see {@linkcode EdgeListener}) or take a PROXY
 * protocol header from trusted proxies; either way the handshake or header runs under a
 * deadline before the connection is counted as a line connection, and the caps, bans and
 * callbacks see the peer's real address.
 *
 * @module
 */
import { peerIp } from "../protocol/ip_address.ts";
import type { AddressList } from "./address_list.ts";
import { type DescriptorBudget, processDescriptors } from "./descriptor_budget.ts";
import { EdgeRefusal, prepareConnection } from "./edge_connection.ts";
import { EdgeListener, type TlsReload } from "./edge_listener.ts";
import { LineConnection, type LineConnectionOptions, type LineHandler } from "./line_connection.ts";
import type { TlsFiles } from "./tls_certificate.ts";

/** How a port meets its peers: TLS, the PROXY protocol, and the deadline for either. */
export interface EdgeOptions {
  /** Serve TLS with this certificate and key (plain TCP when absent). */
  tls?: TlsFiles | undefined;
  /**
   * Expect a PROXY protocol header (v1 or v2) first: only peers in `trustedProxies` may
   * connect, and each must send one. @default false
   */
  proxyProtocol?: boolean;
  /** The proxies allowed to send PROXY headers. */
  trustedProxies?: AddressList | undefined;
  /** Time for a TLS handshake or a PROXY header (ms). @default 10000 */
  handshakeTimeoutMs?: number;
}

/** Options for {@linkcode LineServer}. */
export interface LineServerOptions extends LineConnectionOptions, EdgeOptions {
  /** Address to bind. @default "127.0.0.1" */
  hostname?: string;
  /**
   * Bind with `SO_REUSEPORT`, so that another process (the next version of the pool, during a
   * zero-downtime upgrade) can listen on the same port; the kernel spreads new connections
   * between them. @default false
   */
  reusePort?: boolean;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Most simultaneous connections from one IP (0 = unlimited). @default 0 */
  maxConnectionsPerIp?: number;
  /** Most simultaneous connections in all (0 = unlimited). @default 0 */
  maxConnections?: number;
  /** Loopback peers skip the per-IP cap and the ban hook. @default false */
  exemptLoopback?: boolean;
  /** Whether an IP is banned; banned peers are closed at once. */
  isBanned?: (ip: string) => boolean;
  /**
   * Connections from an IP that other processes on this port hold: they count against
   * `maxConnectionsPerIp` here. Asked on every accept of a capped peer. @default none
   */
  peerConnections?: (ip: string) => number;
  /**
   * Connections that other processes on this port hold in all: they count against
   * `maxConnections` here. Asked on every accept while `maxConnections` is set. @default none
   */
  peerTotal?: () => number;
  /** Told each time this server's count of connections from an IP changes. @default none */
  onIpCount?: (ip: string, count: number) => void;
  /**
   * Only connections younger than this are closed by {@linkcode LineServer.trimExcess} (the
   * excess of a burst is new; miners that have been here a while stay). @default 5000
   */
  trimWindowMs?: number;
  /** Called for each accepted connection; returns the connection's handler. */
  onConnection: (conn: LineConnection) => LineHandler;
  /** Called when a connection is refused (cap or ban), for metrics and logs. */
  onRefused?: (ip: string, reason: string) => void;
  /** Deadline sweep interval. @default 1000 */
  sweepMs?: number;
  /** Names the port in the log (with its address), e.g. `"stratum"`. @default "tcp" */
  name?: string;
  /**
   * The descriptor budget each connection takes from; `null` = none (the embedded devnet,
   * which stands in for a NodeCore process of its own). @default processDescriptors()
   */
  descriptors?: DescriptorBudget | null;
}

/**
 * Whether an address is loopback.
 *
 * @example Usage
 * ```ts
 * import { isLoopback } from "./line_server.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isLoopback("127.0.0.1"), true);
 * assert.equal(isLoopback("10.0.0.1"), false);
 * ```
 *
 * @param ip Address text.
 * @returns `true` for 127.0.0.0/8 and ::1.
 */
export function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1" || ip.startsWith("::ffff:127.");
}

/** A listening line server. Create with {@linkcode LineServer.listen}. */
export class LineServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Live connections by id. */
  readonly connections: Map<number, LineConnection> = new Map();

  #edge!: EdgeListener;
  #options: LineServerOptions;
  #perIp = new Map<string, number>();
  /** Sockets in their TLS handshake or PROXY header. */
  #pending = new Set<Deno.Conn>();
  #sweeper: ReturnType<typeof setInterval>;
  /** The read gate's shut time at the last sweep (deadlines are pushed back by its growth). */
  #shutSeen = 0;
  #stopped = false;

  private constructor(options: LineServerOptions) {
    this.#options = options;
    this.#edge = EdgeListener.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      name: options.name ?? "tcp",
      tls: options.tls,
      reusePort: options.reusePort === true,
      descriptors: options.descriptors === undefined ? processDescriptors() : options.descriptors,
      onConnection: (conn, release) => this.#accept(conn, release),
      onRefused: (ip) => options.onRefused?.(ip, "out of descriptors"),
    });
    this.addr = this.#edge.addr;
    this.#shutSeen = options.readGate?.shutMs() ?? 0;
    this.#sweeper = setInterval(() => this.sweep(Date.now()), options.sweepMs ?? 1000);
  }

  /**
   * Bind and start accepting.
   *
   * @param options Address, limits, TLS and PROXY settings, and the connection callback.
   * @returns The running server.
   * @throws {ListenError} When the address cannot be bound (it names the address).
   * @throws {Error} When the TLS certificate or key cannot be read or do not match.
   */
  static listen(options: LineServerOptions): LineServer {
    return new LineServer(options);
  }

  /** The TLS certificate served (undefined on a plain port). */
  get certificate(): EdgeListener["certificate"] {
    return this.#edge.certificate;
  }

  /**
   * Re-read the TLS certificate and key: new connections get the new pair, connected peers
   * stay. A pair that cannot be read or does not match is refused and the old one kept.
   *
   * @returns What was done.
   * @throws {Error} When the port is plain TCP or the new pair is refused.
   */
  reloadTls(): Promise<TlsReload> {
    return this.#edge.reloadTls();
  }

  /**
   * Change the connection limits of a running server (a configuration reload): caps apply to
   * the next accept, line and queue sizes to connections accepted from now on.
   *
   * @param limits The new limits.
   */
  setLimits(
    limits: Pick<
      LineServerOptions,
      | "maxConnections"
      | "maxConnectionsPerIp"
      | "exemptLoopback"
      | "maxLineBytes"
      | "maxSendQueueBytes"
    >,
  ): void {
    this.#options = { ...this.#options, ...limits };
  }

  /**
   * Close every connection whose deadline has passed. With a read gate, none while it is shut,
   * and every deadline moves back by the time it was shut.
   *
   * @param now Current time in ms.
   */
  sweep(now: number): void {
    const gate = this.#options.readGate;
    if (gate !== undefined) {
      // While the gate is shut nothing is read, so no deadline that waits for a peer's line
      // runs: a pool whose store is behind must not close its miners as silent.
      const shut = gate.shutMs();
      const added = shut - this.#shutSeen;
      this.#shutSeen = shut;
      if (added > 0) {
        for (const conn of this.connections.values()) conn.deadline += added;
      }
      if (!gate.open) return;
    }
    for (const conn of this.connections.values()) {
      if (conn.deadline <= now) conn.close(conn.deadlineReason);
    }
  }

  /**
   * Close this server's share of the connections from these IPs that exceed the per-IP cap
   * together with the other processes' (`peerConnections`): of an excess E, with `own` here and
   * `others` elsewhere, `ceil(E × own / (own + others))` of the newest connections younger than
   * `trimWindowMs`. Every process doing the same from the same counts removes the excess, and at
   * most one connection per process more. Without `peerConnections` or a cap it does nothing.
   *
   * @param ips The IPs whose count elsewhere went up.
   * @param now Current time in ms.
   * @returns How many connections were closed.
   */
  trimExcess(ips: Iterable<string>, now: number = Date.now()): number {
    const o = this.#options;
    const max = o.maxConnectionsPerIp;
    if (!max || o.peerConnections === undefined) return 0;
    const over = new Set<string>();
    for (const ip of ips) {
      if (o.exemptLoopback === true && isLoopback(ip)) continue;
      if ((this.#perIp.get(ip) ?? 0) + o.peerConnections(ip) > max) over.add(ip);
    }
    if (over.size === 0) return 0;
    // Per IP: its connections still reading (oldest first), and those already closing.
    const since = now - (o.trimWindowMs ?? 5000);
    const live = new Map<string, { young: LineConnection[]; closing: number }>();
    for (const conn of this.connections.values()) {
      if (!over.has(conn.remoteIp)) continue;
      let entry = live.get(conn.remoteIp);
      if (entry === undefined) live.set(conn.remoteIp, entry = { young: [], closing: 0 });
      if (!conn.reading) entry.closing++;
      else if (conn.openedAt >= since) entry.young.push(conn);
    }
    let closed = 0;
    for (const [ip, { young, closing }] of live) {
      const own = (this.#perIp.get(ip) ?? 0) - closing;
      const others = o.peerConnections(ip);
      const excess = own + others - max;
      if (own <= 0 || excess <= 0) continue;
      // The newest go first: connections are kept in the order they came.
      const share = Math.min(young.length, Math.ceil(excess * own / (own + others)));
      for (const conn of young.slice(young.length - share)) {
        conn.closeAfterFlush("too many connections from this IP");
        closed++;
      }
    }
    return closed;
  }

  /**
   * Stop accepting new connections; existing ones stay open.
   */
  stopAccepting(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#edge.stop();
    // Half-open peers (handshake, PROXY header) are not connections yet: they go now.
    for (const conn of this.#pending) closeQuietly(conn);
  }

  /**
   * Stop accepting, close every connection and wait for their read loops to end.
   *
   * @param reason Close reason given to each connection.
   */
  async close(reason = "server shutting down"): Promise<void> {
    this.stopAccepting();
    clearInterval(this.#sweeper);
    const done = [...this.connections.values()].map((c) => {
      c.close(reason);
      return c.done;
    });
    await Promise.allSettled([this.#edge.done, ...done]);
  }

  #refuse(conn: Deno.Conn, release: () => void, ip: string, reason: string): void {
    try {
      conn.close();
    } catch {
      // Ignore.
    }
    release();
    this.#options.onRefused?.(ip, reason);
  }

  /** A new socket: straight to {@linkcode LineServer.#admit}, or through its handshake. */
  #accept(raw: Deno.Conn, release: () => void): void {
    const o = this.#options;
    const proxied = o.proxyProtocol === true;
    if (o.tls === undefined && !proxied) return this.#admit(raw, release);
    const socketIp = ipOf(raw);
    const viaProxy = proxied && o.trustedProxies?.has(socketIp) === true;
    // The PROXY protocol forbids guessing: on such a port only trusted proxies may connect.
    if (proxied && !viaProxy) return this.#refuse(raw, release, socketIp, "not a trusted proxy");
    // A direct peer is screened (and holds its per-IP slot) during its handshake; behind a
    // proxy, the real address is screened once the header names it.
    if (!viaProxy) {
      const refusal = this.#refusal(socketIp);
      if (refusal !== undefined) return this.#refuse(raw, release, socketIp, refusal);
      this.#count(socketIp, +1);
    } else if (this.#full()) return this.#refuse(raw, release, socketIp, "server full");
    this.#pending.add(raw);
    prepareConnection(raw, {
      tls: this.#edge.certificate,
      proxyHeader: viaProxy,
      timeoutMs: o.handshakeTimeoutMs ?? 10000,
    }).then(
      ({ conn }) => {
        this.#pending.delete(raw);
        if (!viaProxy) this.#count(socketIp, -1);
        if (this.#stopped) return this.#refuse(conn, release, socketIp, "server shutting down");
        this.#admit(conn, release);
      },
      (err) => {
        this.#pending.delete(raw);
        if (!viaProxy) this.#count(socketIp, -1);
        release();
        o.onRefused?.(socketIp, err instanceof EdgeRefusal ? err.message : String(err));
      },
    );
  }

  #full(): boolean {
    const o = this.#options;
    const max = o.maxConnections;
    if (max === undefined || max <= 0) return false;
    return this.connections.size + this.#pending.size + (o.peerTotal?.() ?? 0) >= max;
  }

  #refusal(ip: string): string | undefined {
    const o = this.#options;
    const exempt = o.exemptLoopback === true && isLoopback(ip);
    if (!exempt && o.isBanned?.(ip)) return "banned";
    if (this.#full()) return "server full";
    if (exempt || !o.maxConnectionsPerIp) return undefined;
    const count = (this.#perIp.get(ip) ?? 0) + (o.peerConnections?.(ip) ?? 0);
    if (count >= o.maxConnectionsPerIp) return "too many connections from this IP";
    return undefined;
  }

  #count(ip: string, delta: number): void {
    const n = Math.max(0, (this.#perIp.get(ip) ?? 0) + delta);
    if (n === 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
    this.#options.onIpCount?.(ip, n);
  }

  #admit(conn: Deno.Conn, release: () => void): void {
    const ip = ipOf(conn);
    const o = this.#options;
    const refusal = this.#refusal(ip);
    if (refusal !== undefined) return this.#refuse(conn, release, ip, refusal);
    const lc = new LineConnection(conn, o);
    this.connections.set(lc.id, lc);
    this.#count(ip, +1);
    let handler: LineHandler;
    try {
      handler = o.onConnection(lc);
    } catch {
      lc.close("internal error");
      handler = { onLine() {} };
    }
    void lc.start({
      onLine: (line) => handler.onLine(line),
      onClose: (reason) => {
        release();
        this.connections.delete(lc.id);
        this.#count(ip, -1);
        handler.onClose?.(reason);
      },
    });
  }
}

/** The peer's address as the pool keys it (IPv4-mapped IPv6 as IPv4: see `peerIp`). */
function ipOf(conn: Deno.Conn): string {
  return peerIp((conn.remoteAddr as Deno.NetAddr).hostname ?? "");
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
