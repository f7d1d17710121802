/**
 * A small, strict HTTP/1.1 server on the process's own accept loop, for the pool's API (and
 * its admin listener): `Deno.serve` gives no control over connections, header deadlines or
 * accept errors, and one failed accept there ends the process. Here every connection takes a
 * descriptor from the budget, accept errors are survived ({@linkcode acceptLoop}), and
 *
 * - a global and a per-IP connection cap, and a ban hook, refuse a socket at accept (closed at
 *   once, counted, logged by episode);
 * - the request line and headers are bounded (`maxHeadBytes`, `maxHeaders`: 414/431) and must
 *   arrive within `headerTimeoutMs` (slowloris: 408 and close); bodies are taken only with a
 *   `Content-Length` up to `maxBodyBytes` (default 0: none; 413);
 * - methods outside `methods` get 405; malformed heads 400 (see `protocol/http_request_head.ts`);
 * - keep-alive lasts `idleTimeoutMs` between requests and `maxRequestsPerConnection` requests;
 *   every 4xx/5xx answer (429 rate limits, refused event streams) closes the connection;
 * - a stream (server-sent events) is written chunk by chunk as it comes; a client that stops
 *   reading is dropped after `writeTimeoutMs`.
 *
 * With `proxyProtocol`, only `trustedProxies` may connect and each connection starts with a PROXY
 * header (v1 or v2, within `handshakeTimeoutMs`) whose client address the caps, bans and the
 * handler's `remoteAddr` see.
 *
 * Each request becomes a standard `Request` for a fetch-style handler; the answer is a standard
 * `Response`.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { peerIp } from "../protocol/ip_address.ts";
import { Episode, formatCounts } from "./_episode.ts";
import {
  HttpConnection,
  type HttpHandler,
  type HttpLimits,
  type HttpPhase,
  type HttpRequestInfo,
} from "./_http_connection.ts";
import { acceptLoop } from "./accept_loop.ts";
import { type DescriptorBudget, processDescriptors } from "./descriptor_budget.ts";
import { isLoopback } from "./line_server.ts";
import type { AddressList } from "./address_list.ts";
import { prepareConnection } from "./edge_connection.ts";

export type { HttpHandler, HttpPhase, HttpRequestInfo };

const log = getLogger(["vbkpool", "net"]);

/** Why a connection was refused at accept. */
export type HttpRefusal = "server_full" | "per_ip" | "banned" | "descriptors" | "proxy";

/** Options for {@linkcode HttpServer.listen}. */
export interface HttpServerOptions {
  /** Address to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Answers each request. */
  handler: HttpHandler;
  /** Bind with `SO_REUSEPORT` (another process may serve the same port). @default false */
  reusePort?: boolean;
  /** Names the server in the log (with its address). @default "http" */
  name?: string;
  /** Methods served; others get 405. @default ["GET", "HEAD", "OPTIONS"] */
  methods?: readonly string[];
  /** Longest request line plus headers, in bytes. @default 8192 */
  maxHeadBytes?: number;
  /** Most header fields. @default 64 */
  maxHeaders?: number;
  /** Largest request body (`Content-Length`); 0 = none. @default 0 */
  maxBodyBytes?: number;
  /** Time for a request's head (and body) to arrive, from its first byte or the accept (ms). @default 10000 */
  headerTimeoutMs?: number;
  /** Time a kept-alive connection may wait for its next request (ms). @default 15000 */
  idleTimeoutMs?: number;
  /** Time for the handler to produce a response (ms). @default 60000 */
  responseTimeoutMs?: number;
  /** Time every write may take; a client that stops reading is dropped (ms). @default 30000 */
  writeTimeoutMs?: number;
  /** After a closing answer, how long to wait for the client to close first (ms). @default 1000 */
  lingerMs?: number;
  /** Requests served on one connection before it closes. @default 1000 */
  maxRequestsPerConnection?: number;
  /** Most connections at once (0 = unlimited). @default 0 */
  maxConnections?: number;
  /** Most connections at once from one IP (0 = unlimited). @default 0 */
  maxConnectionsPerIp?: number;
  /** Loopback peers skip the per-IP cap and the ban hook. @default false */
  exemptLoopback?: boolean;
  /** Whether an IP is banned; its connections are closed at once. */
  isBanned?: (ip: string) => boolean;
  /** A connection was refused at accept. */
  onRefused?: (ip: string, reason: HttpRefusal) => void;
  /** The descriptor budget; `null` = none. @default processDescriptors() */
  descriptors?: DescriptorBudget | null;
  /**
   * Whether a response is a stream, written as it comes (then the connection closes).
   * @default content type `text/event-stream`
   */
  isStream?: (response: Response) => boolean;
  /** Deadline sweep interval (ms). @default a quarter of the shortest timeout, 50-1000 */
  sweepMs?: number;
  /** Time without a refusal that ends a refusal episode in the log (ms). @default 5000 */
  quietMs?: number;
  /**
   * Expect a PROXY protocol header first: only `trustedProxies` may connect (others are
   * refused as `proxy`, as are missing, malformed or late headers). @default false
   */
  proxyProtocol?: boolean;
  /** The proxies allowed to send PROXY headers. */
  trustedProxies?: AddressList | undefined;
  /** Time for the PROXY header (ms). @default 10000 */
  handshakeTimeoutMs?: number;
}

/** Counters of an {@linkcode HttpServer}. */
export interface HttpServerStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted (and kept) so far. */
  accepted: number;
  /** Connections refused at accept, by reason. */
  refused: Record<HttpRefusal, number>;
  /** Deadlines passed, by phase (`head`/`body`: slow request, `idle`: keep-alive, …). */
  timeouts: Partial<Record<HttpPhase, number>>;
  /** Requests the server answered itself (malformed, too large, wrong method), by status. */
  rejected: Record<string, number>;
}

/** Wait until every promise settled or `ms` passed, whichever is first. */
async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((r) => timer = setTimeout(r, ms));
  await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
}

function isEventStream(response: Response): boolean {
  return (response.headers.get("content-type") ?? "").startsWith("text/event-stream");
}

/**
 * A listening HTTP/1.1 server.
 *
 * @example Usage
 * ```ts
 * import { HttpServer } from "./http_server.ts";
 * import assert from "node:assert/strict";
 *
 * const server = HttpServer.listen({
 *   port: 0,
 *   handler: (request) => new Response(`hello ${new URL(request.url).pathname}`),
 * });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/there`);
 * assert.equal(await response.text(), "hello /there");
 * await server.close();
 * ```
 */
export class HttpServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;

  #listener: Deno.Listener;
  #o: HttpServerOptions;
  #limits: HttpLimits;
  #connections = new Set<HttpConnection>();
  #serving = new Set<Promise<void>>();
  #perIp = new Map<string, number>();
  #stats: HttpServerStats = {
    connections: 0,
    accepted: 0,
    refused: { server_full: 0, per_ip: 0, banned: 0, descriptors: 0, proxy: 0 },
    timeouts: {},
    rejected: {},
  };
  #refusals: Episode;
  #sweeper: ReturnType<typeof setInterval>;
  #accepting: Promise<void>;
  #stopped = false;
  #closed: Promise<void> | undefined;
  /** Sockets from a trusted proxy whose PROXY header has not arrived yet. */
  #pending = new Set<Deno.Conn>();

  private constructor(listener: Deno.Listener, options: HttpServerOptions) {
    this.#listener = listener;
    this.#o = options;
    this.addr = listener.addr as Deno.NetAddr;
    this.#limits = {
      methods: new Set(options.methods ?? ["GET", "HEAD", "OPTIONS"]),
      maxHeadBytes: Math.max(256, options.maxHeadBytes ?? 8192),
      maxHeaders: options.maxHeaders ?? 64,
      maxBodyBytes: Math.max(0, options.maxBodyBytes ?? 0),
      headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
      responseTimeoutMs: options.responseTimeoutMs ?? 60_000,
      writeTimeoutMs: options.writeTimeoutMs ?? 30_000,
      lingerMs: options.lingerMs ?? 1000,
      maxRequests: Math.max(1, options.maxRequestsPerConnection ?? 1000),
    };
    const name = `${options.name ?? "http"} ${this.addr.hostname}:${this.addr.port}`;
    this.#refusals = new Episode({
      quietMs: options.quietMs ?? 5000,
      onStart: (reason) =>
        log.warn("Refusing connections on {listener}: {reason}; counted until it stops", {
          listener: name,
          reason,
        }),
      onSummary: (counts, count, ms) =>
        log.warn("Still refusing connections on {listener}: {count} in {seconds} s ({reasons})", {
          listener: name,
          count,
          seconds: Math.round(ms / 1000),
          reasons: formatCounts(counts),
        }),
      onEnd: (counts, count, ms) =>
        log.info(
          "No more refusals on {listener}: {count} connections refused over {seconds} s " +
            "({reasons})",
          {
            listener: name,
            count,
            seconds: Math.round(ms / 1000),
            reasons: formatCounts(counts),
          },
        ),
    });
    const l = this.#limits;
    const shortest = Math.min(l.headerTimeoutMs, l.idleTimeoutMs, l.writeTimeoutMs, l.lingerMs);
    const sweepMs = options.sweepMs ?? Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    this.#sweeper = setInterval(() => this.sweep(Date.now()), sweepMs);
    this.#accepting = acceptLoop(listener, {
      name,
      descriptors: options.descriptors === undefined ? processDescriptors() : options.descriptors,
      stopped: () => this.#stopped,
      onConnection: (conn, release) => this.#accept(conn, release),
      onRefused: (ip) => this.#count(ip, "descriptors"),
    });
  }

  /**
   * Bind and start serving.
   *
   * @param options Address, handler and limits.
   * @returns The running server.
   * @throws {Deno.errors.AddrInUse} When the address is taken.
   */
  static listen(options: HttpServerOptions): HttpServer {
    const listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
    return new HttpServer(listener, options);
  }

  /** Counters: connections, refusals, timeouts, requests answered by the server itself. */
  get stats(): HttpServerStats {
    return {
      ...this.#stats,
      connections: this.#connections.size,
      refused: { ...this.#stats.refused },
      timeouts: { ...this.#stats.timeouts },
      rejected: { ...this.#stats.rejected },
    };
  }

  /**
   * Close every connection whose deadline has passed (a 408 first for a request cut short).
   *
   * @param now Current time (ms).
   */
  sweep(now: number): void {
    for (const conn of this.#connections) {
      if (conn.deadline <= now) conn.expire(now);
    }
  }

  /**
   * Stop: no new connections, idle ones closed now, requests under way finished (streams
   * should be ended by their owner first); whatever is still open after `graceMs` is closed.
   *
   * @param graceMs Longest wait for requests under way (ms). @default 5000
   * @returns Once every connection has closed and the accept loop has ended.
   */
  close(graceMs = 5000): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopped = true;
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
      for (const conn of this.#pending) closeSocket(conn);
      for (const conn of this.#connections) conn.drain();
      await settleWithin([...this.#serving], graceMs);
      for (const conn of this.#connections) conn.close();
      // A handler that never answers keeps its (closed) connection's loop: not waited for.
      await settleWithin([...this.#serving], 1000);
      clearInterval(this.#sweeper);
      await this.#accepting;
      this.#refusals.close();
    })();
    return this.#closed;
  }

  #count(ip: string, reason: HttpRefusal): void {
    this.#stats.refused[reason]++;
    // Descriptor refusals are logged once for the whole process, by the budget.
    if (reason !== "descriptors") this.#refusals.hit(reason);
    this.#o.onRefused?.(ip, reason);
  }

  #refusal(ip: string): HttpRefusal | undefined {
    const o = this.#o;
    const exempt = o.exemptLoopback === true && isLoopback(ip);
    if (!exempt && o.isBanned?.(ip)) return "banned";
    if (o.maxConnections && this.#connections.size >= o.maxConnections) return "server_full";
    const perIp = this.#perIp.get(ip) ?? 0;
    if (!exempt && o.maxConnectionsPerIp && perIp >= o.maxConnectionsPerIp) return "per_ip";
    return undefined;
  }

  /** A new socket: straight to {@linkcode HttpServer.#admit}, or after its PROXY header. */
  #accept(raw: Deno.Conn, release: () => void): void {
    const o = this.#o;
    if (o.proxyProtocol !== true) return this.#admit(raw, release);
    const proxyIp = peerIp((raw.remoteAddr as Deno.NetAddr).hostname ?? "");
    const full = o.maxConnections &&
      this.#connections.size + this.#pending.size >= o.maxConnections;
    if (o.trustedProxies?.has(proxyIp) !== true || this.#stopped || full) {
      closeSocket(raw);
      release();
      return this.#count(proxyIp, full ? "server_full" : "proxy");
    }
    this.#pending.add(raw);
    prepareConnection(raw, {
      proxyHeader: true,
      timeoutMs: o.handshakeTimeoutMs ?? 10_000,
    }).then(
      ({ conn }) => {
        this.#pending.delete(raw);
        this.#admit(conn, release);
      },
      () => {
        this.#pending.delete(raw);
        release();
        this.#count(proxyIp, "proxy");
      },
    );
  }

  #admit(socket: Deno.Conn, release: () => void): void {
    const ip = peerIp((socket.remoteAddr as Deno.NetAddr).hostname ?? "");
    const refusal = this.#stopped ? "server_full" : this.#refusal(ip);
    if (refusal !== undefined) {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
      release();
      return this.#count(ip, refusal);
    }
    this.#stats.accepted++;
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    const conn: HttpConnection = new HttpConnection(socket, {
      limits: this.#limits,
      handler: this.#o.handler,
      isStream: this.#o.isStream ?? isEventStream,
      onClose: () => {
        this.#connections.delete(conn);
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
        release();
      },
      onTimeout: (phase) => {
        this.#stats.timeouts[phase] = (this.#stats.timeouts[phase] ?? 0) + 1;
      },
      onRefusedRequest: (status) => {
        this.#stats.rejected[status] = (this.#stats.rejected[status] ?? 0) + 1;
      },
    });
    this.#connections.add(conn);
    const serving = conn.serve();
    this.#serving.add(serving);
    void serving.then(() => this.#serving.delete(serving));
  }
}

function closeSocket(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
