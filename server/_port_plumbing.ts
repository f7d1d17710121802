/**
 * The plumbing the Stratum and UCP ports share: binding the line server with the port's
 * connection limits, the pool's bans and the per-IP counts of the other pool processes on the
 * port (workers), wrapping each session in a line handler that keeps the port's session map and
 * reports `connection_open` / `connection_close`, and waiting for connections to close by a
 * deadline.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { formatHostPort } from "../net/host_port.ts";
import type { AddressList } from "../net/address_list.ts";
import type { LineConnection, LineHandler } from "../net/line_connection.ts";
import { LineServer } from "../net/line_server.ts";
import type { PoolPeers } from "./pool_peers.ts";
import type { PortEdge } from "./port_edge.ts";
import type { SessionContext } from "./session_context.ts";

/** Byte-level limits of a port (enforced by `net/`). */
export interface ConnectionLimits {
  /** Longest line in bytes. @default 16384 */
  maxLineBytes?: number;
  /** Bytes queued for a slow reader before it is disconnected. @default 262144 */
  maxSendQueueBytes?: number;
  /** Simultaneous connections per IP (0 = unlimited). @default 0 */
  maxConnectionsPerIp?: number;
  /** Simultaneous connections in all (0 = unlimited). @default 0 */
  maxConnections?: number;
  /** Loopback peers skip the per-IP cap and bans. @default false */
  exemptLoopback?: boolean;
  /** Proxies allowed to send a PROXY header to a `proxy_protocol` port. @default none */
  trustedProxies?: AddressList | undefined;
  /** Time for a TLS handshake or a PROXY header (ms). @default 10000 */
  handshakeTimeoutMs?: number;
  /** Bind with `SO_REUSEPORT` (a zero-downtime upgrade: old and new process on one port).
   * @default false */
  reusePort?: boolean;
}

/** The pool parts the plumbing uses: bans, events, the clock, the other processes and the
 * read gate. */
export type PortContext = Pick<SessionContext, "bans" | "events" | "now" | "peers" | "readGate">;

/** A session as the plumbing sees it. */
export interface PortSession {
  /** Handle one received line. */
  onLine(line: string): void;
  /** The connection closed. */
  onClose(reason: string): void;
}

/** Where a port listens, and how it meets its peers (TLS, PROXY protocol). */
export interface PortAddress extends PortEdge {
  /** Address to bind. */
  hostname: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
}

/** Options for {@linkcode listenLines}. */
export interface ListenLinesOptions {
  /** Connection limits; missing keys take the documented defaults. */
  connections?: ConnectionLimits | undefined;
  /** The pool parts (bans and the clock are used). */
  context: PortContext;
  /** Write replies queued together in one write. @default false */
  coalesceWrites?: boolean;
  /** The port's logger (a ban's first refusal at info, other refusals at debug once per
   * episode). */
  log: Logger;
  /** Called for each accepted connection; returns its handler. */
  onConnection(conn: LineConnection): LineHandler;
}

/**
 * Bind a port's line server.
 *
 * @param address Where to listen.
 * @param options Limits, the pool parts, the logger and the connection handler.
 * @returns The listening line server.
 * @throws {Error} When the address cannot be bound.
 */
export function listenLines(address: PortAddress, options: ListenLinesOptions): LineServer {
  const limits = options.connections ?? {};
  const ctx = options.context;
  // Refusals come as fast as a client can connect: one line per kind, then counted.
  const refusals = new EpisodeLog(options.log);
  // The port as the workers name it (they bind the same fixed address); set once bound.
  let key = "";
  const peers = ctx.peers;
  const server = LineServer.listen({
    hostname: address.hostname,
    port: address.port,
    maxLineBytes: limits.maxLineBytes ?? 16384,
    maxSendQueueBytes: limits.maxSendQueueBytes ?? 262144,
    maxConnectionsPerIp: limits.maxConnectionsPerIp ?? 0,
    maxConnections: limits.maxConnections ?? 0,
    exemptLoopback: limits.exemptLoopback ?? false,
    tls: address.tls,
    proxyProtocol: address.proxyProtocol ?? false,
    trustedProxies: limits.trustedProxies,
    handshakeTimeoutMs: limits.handshakeTimeoutMs ?? 10000,
    coalesceWrites: options.coalesceWrites ?? false,
    reusePort: limits.reusePort ?? false,
    readGate: ctx.readGate,
    isBanned: (ip) => ctx.bans.isBanned(ip, ctx.now()),
    ...(peers === undefined ? {} : {
      peerConnections: (ip: string) => peers.connectionsElsewhere(key, ip),
      peerTotal: () => peers.totalElsewhere(key),
      onIpCount: (ip: string, count: number) => peers.connectionsHere(key, ip, count),
    }),
    onRefused: (ip, reason) => {
      // A ban's refusals: the first is logged, the rest counted (the pool logs the count
      // when the ban ends).
      if (reason === "banned" && ctx.bans.refused(ip, ctx.now()) === 1) {
        options.log.info("refusing connections from banned {ip} until its ban ends", { ip });
      } else if (
        reason === "out of descriptors" || reason.startsWith("too many") || reason === "server full"
      ) {
        refusals.debug(reason, "refused {ip}: {reason}", { ip, reason });
      } else {
        // TLS handshakes, PROXY headers and untrusted senders: one line per kind, then counted.
        const kind = reason.replace(/:.*$/, "");
        refusals.info(kind, "closed {ip} before its first request: {reason}", { ip, reason });
      }
    },
    onConnection: options.onConnection,
    // "stratum" or "ucp": names the port in net/'s accept-error and descriptor log lines.
    name: options.log.category.at(-1) ?? "tcp",
  });
  key = formatHostPort(address.hostname, server.addr.port);
  if (peers !== undefined) {
    watchBursts(server, {
      peers,
      key,
      onTrimmed: (n) =>
        refusals.debug(
          "trimmed",
          "closed {n} new connections over the per-IP cap with the other workers' ones",
          { n },
        ),
    });
  }
  return server;
}

/**
 * Time from a rise of the other processes' count of an IP to this port's look at its excess:
 * by then every process has the burst's counts and none has closed anything yet, so their
 * shares of the excess are taken from the same figures and add up to it.
 */
const TRIM_DELAY_MS = 50;

/**
 * A burst admitted here and elsewhere before the counts met: once they have, close this port's
 * share of what exceeds the per-IP cap (`LineServer.trimExcess`).
 */
function watchBursts(
  server: LineServer,
  at: { peers: PoolPeers; key: string; onTrimmed(n: number): void },
): void {
  const raised = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  at.peers.watchElsewhere(at.key, (ips) => {
    for (const ip of ips) raised.add(ip);
    timer ??= setTimeout(() => {
      timer = undefined;
      const list = [...raised];
      raised.clear();
      const n = server.trimExcess(list);
      if (n > 0) at.onTrimmed(n);
    }, TRIM_DELAY_MS);
  });
}

/** Options for {@linkcode attachSession}. */
export interface AttachSessionOptions<S> {
  /** The port's sessions by connection id (the session is kept there while open). */
  sessions: Map<number, S>;
  /** The pool parts (events and the clock are used). */
  context: PortContext;
  /** The local port reported in the events. */
  port: number;
}

/**
 * Register a new connection's session and report `connection_open`; the returned handler
 * passes lines to the session and, on close, forgets it, tells it, and reports
 * `connection_close`.
 *
 * @param conn The accepted connection.
 * @param session The session created for it.
 * @param options The session map, the pool parts and the local port.
 * @returns The connection's handler.
 */
export function attachSession<S extends PortSession>(
  conn: LineConnection,
  session: S,
  options: AttachSessionOptions<S>,
): LineHandler {
  const { sessions, context: ctx, port } = options;
  sessions.set(conn.id, session);
  if (ctx.events.active) {
    ctx.events.emit({
      type: "connection_open",
      at: ctx.now(),
      connectionId: conn.id,
      ip: conn.remoteIp,
      port,
    });
  }
  return {
    onLine: (line: string) => session.onLine(line),
    onClose: (reason: string) => {
      sessions.delete(conn.id);
      session.onClose(reason);
      if (ctx.events.active) {
        ctx.events.emit({
          type: "connection_close",
          at: ctx.now(),
          connectionId: conn.id,
          ip: conn.remoteIp,
          port,
          reason,
          bytesIn: conn.bytesIn,
          bytesOut: conn.bytesOut,
        });
      }
    },
  };
}

/**
 * Wait until every connection has closed or the deadline has passed, whichever is first.
 *
 * @param conns The connections (already told to close).
 * @param deadline Time, ms since epoch, after which waiting stops.
 * @returns Once they are all closed or the deadline has passed.
 */
export async function waitClosed(
  conns: readonly LineConnection[],
  deadline: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((r) =>
    timer = setTimeout(r, Math.max(0, deadline - Date.now()))
  );
  await Promise.race([Promise.allSettled(conns.map((c) => c.done)), timeout]);
  clearTimeout(timer);
}
