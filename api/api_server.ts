/**
 * The pool's HTTP server: the JSON API, the live dashboard, server-sent events and `/metrics`,
 * over one port. It observes the pool (events, sessions, current job), the upstream status and
 * the store; nothing in the pool knows it exists.
 *
 * It is served by `net/`'s own HTTP/1.1 server ({@linkcode HttpServer}), not `Deno.serve`: the
 * process's accept loop (accept errors survived, descriptor budget), connection caps (global
 * and per IP), header, idle and write deadlines, bounded heads, and 4xx/5xx answers (429,
 * refused event streams) that close their connection — so no client can crash or starve the
 * pool through this port.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { HttpServer, type HttpServerStats } from "../net/http_server.ts";
import type { AddressList } from "../net/address_list.ts";
import { peerIp } from "../protocol/ip_address.ts";
import type { DescriptorBudget } from "../net/descriptor_budget.ts";
import type { Pool } from "../server/pool.ts";
import type { UpstreamStatus } from "../server/upstream.ts";
import type { Store } from "../store/mod.ts";
import { ApiHandler } from "./api_handler.ts";
import { EventStream } from "./event_stream.ts";
import { LiveStats } from "./live_stats.ts";
import { NetMetrics } from "./net_metrics.ts";
import { PoolData } from "./pool_data.ts";
import { PoolMetrics } from "./pool_metrics.ts";
import { ProcessMetrics } from "./process_metrics.ts";
import { blockEventView } from "./views.ts";

const log = getLogger(["vbkpool", "api"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Options for {@linkcode ApiServer.start}. */
export interface ApiServerOptions {
  /** Address to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Port to bind (0 = any free one). @default 8080 */
  port?: number;
  /** The running pool. */
  pool: Pool;
  /** The pool's store. */
  store: Store;
  /** The upstream's current status. */
  upstream: () => UpstreamStatus;
  /** Origins allowed by CORS (`"*"` = any); empty = no CORS headers. @default [] */
  corsOrigins?: readonly string[];
  /** Requests per second per IP (0 = unlimited). @default 20 */
  rateLimitPerSecond?: number;
  /** Request burst per IP. @default 60 */
  rateLimitBurst?: number;
  /** Take the client address from the last `X-Forwarded-For` entry (behind a reverse proxy). @default false */
  trustProxy?: boolean;
  /** Serve the dashboard at `/`. @default true */
  dashboard?: boolean;
  /** Keep the metrics (for `/metrics` here or on the admin listener). @default true */
  metrics?: boolean;
  /** Serve `/metrics` on this port (with `metrics`). @default true */
  metricsOnPort?: boolean;
  /** Client addresses allowed to read `/metrics` here (others: 403); empty = any. @default [] */
  metricsAllow?: readonly string[];
  /** Bind with `SO_REUSEPORT` (a zero-downtime upgrade). @default false */
  reusePort?: boolean;
  /** The program's version, for `vbkpool_build_info`. @default "0" */
  version?: string;
  /** Seconds the live hash rate is averaged over. @default 600 */
  hashrateWindowSeconds?: number;
  /**
   * Hash rates, shares, miners and workers of every instance sharing the store (from its
   * per-minute rollups, cached 5 s) instead of this process's. @default false
   */
  poolWide?: boolean;
  /** Interval of the `pool` server-sent event (ms). @default 5000 */
  eventIntervalMs?: number;
  /** Server-sent-event clients at once. @default 64 */
  maxEventClients?: number;
  /** Connections at once (0 = unlimited). @default 256 */
  maxConnections?: number;
  /** Connections at once from one IP (0 = unlimited). @default 32 */
  maxConnectionsPerIp?: number;
  /**
   * Loopback clients (a reverse proxy on this host) skip the per-IP cap; the global cap still
   * counts them. @default true
   */
  exemptLoopback?: boolean;
  /**
   * Each connection starts with a PROXY protocol header from one of `trustedProxies` (only
   * they may connect); the client address it names is the one rate limits, caps and bans see.
   * @default false
   */
  proxyProtocol?: boolean;
  /** Proxies allowed to send PROXY headers. */
  trustedProxies?: AddressList | undefined;
  /** Time for a PROXY header (ms). @default 10000 */
  handshakeTimeoutMs?: number;
  /** Longest request line plus headers, in bytes. @default 8192 */
  maxHeadBytes?: number;
  /** Time for a request's head to arrive (ms). @default 10000 */
  headerTimeoutMs?: number;
  /** Time a kept-alive connection may wait for its next request (ms). @default 15000 */
  idleTimeoutMs?: number;
  /** Time every write may take before a client that stopped reading is dropped (ms). @default 30000 */
  writeTimeoutMs?: number;
  /** Requests served on one connection before it closes. @default 1000 */
  maxRequestsPerConnection?: number;
  /** The descriptor budget its connections take from; `null` = none. @default the process's */
  descriptors?: DescriptorBudget | null;
}

/**
 * A running API server.
 *
 * @example Usage
 * ```ts
 * import { ApiServer } from "./api_server.ts";
 * import { DEFAULT_PORT_DIFFICULTY, Pool } from "../server/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const pool = Pool.start({
 *   ports: [{ ...DEFAULT_PORT_DIFFICULTY, hostname: "127.0.0.1", port: 0 }],
 *   upstream: { submitBlock: () => Promise.resolve({ accepted: false }) },
 *   vardiffTickMs: 0,
 * });
 * const api = ApiServer.start({
 *   port: 0, pool, store,
 *   upstream: () => ({ state: "connecting", endpoint: "127.0.0.1:8501", since: 0, reconnects: 0 }),
 * });
 * const response = await fetch(`${api.url}/api/health`);
 * assert.equal(response.status, 503);
 * assert.deepEqual((await response.json()).reasons, ["upstream_unavailable"]);
 * await api.close();
 * await pool.stop();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ApiServer {
  /** Live share statistics. */
  readonly stats: LiveStats;
  /** The data behind the endpoints. */
  readonly data: PoolData;
  /** The metrics, when served. */
  readonly metrics: PoolMetrics | undefined;
  #server: HttpServer;
  #events: EventStream;
  #netMetrics: NetMetrics | undefined;
  #processMetrics: ProcessMetrics | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: () => void;
  #closed: Promise<void> | undefined;

  private constructor(options: ApiServerOptions) {
    const pool = options.pool;
    this.stats = new LiveStats(pool.events, {
      windowSeconds: options.hashrateWindowSeconds ?? 600,
    });
    this.data = new PoolData({
      pool,
      store: options.store,
      upstream: options.upstream,
      stats: this.stats,
    }, {
      poolWide: options.poolWide ?? false,
      windowSeconds: options.hashrateWindowSeconds ?? 600,
    });
    this.metrics = options.metrics === false ? undefined : new PoolMetrics({
      pool,
      store: options.store,
      upstream: options.upstream,
      stats: this.stats,
    });
    this.#events = new EventStream({ maxClients: options.maxEventClients ?? 64 });
    const handler = new ApiHandler(this.data, {
      corsOrigins: options.corsOrigins ?? [],
      rateLimitPerSecond: options.rateLimitPerSecond ?? 20,
      rateLimitBurst: options.rateLimitBurst ?? 60,
      dashboard: options.dashboard ?? true,
      ...(this.metrics === undefined || options.metricsOnPort === false
        ? {}
        : { metrics: this.metrics.registry }),
      metricsAllow: options.metricsAllow ?? [],
      events: this.#events,
    });
    const trustProxy = options.trustProxy ?? false;
    // NodeCore's reason and endpoint stay out of the stream (the pool logs them).
    this.#unsubscribe = pool.events.subscribe((event) => {
      if (event.type === "block_result") this.#events.send("block", blockEventView(event));
    });
    try {
      this.#server = HttpServer.listen({
        hostname: options.hostname ?? "127.0.0.1",
        port: options.port ?? 8080,
        name: "api",
        reusePort: options.reusePort === true,
        maxConnections: options.maxConnections ?? 256,
        maxConnectionsPerIp: options.maxConnectionsPerIp ?? 32,
        exemptLoopback: options.exemptLoopback ?? true,
        maxHeadBytes: options.maxHeadBytes ?? 8192,
        proxyProtocol: options.proxyProtocol ?? false,
        trustedProxies: options.trustedProxies,
        handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
        headerTimeoutMs: options.headerTimeoutMs ?? 10_000,
        idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
        writeTimeoutMs: options.writeTimeoutMs ?? 30_000,
        maxRequestsPerConnection: options.maxRequestsPerConnection ?? 1000,
        ...(options.descriptors === undefined ? {} : { descriptors: options.descriptors }),
        handler: (request, info) => {
          let ip = info.remoteAddr.hostname;
          if (trustProxy) {
            const forwarded = request.headers.get("x-forwarded-for");
            const last = forwarded?.split(",").at(-1)?.trim();
            if (last !== undefined && last !== "") ip = peerIp(last.slice(0, 64));
          }
          return handler.handle(request, ip);
        },
      });
    } catch (err) {
      this.#teardown();
      throw err;
    }
    if (this.metrics !== undefined) {
      this.#netMetrics = new NetMetrics(this.metrics.registry, {
        http: () => this.#server.stats,
        ...(options.descriptors === undefined ? {} : { descriptors: options.descriptors }),
      });
      this.#processMetrics = new ProcessMetrics(this.metrics.registry, {
        version: options.version ?? "0",
      });
    }
    const intervalMs = options.eventIntervalMs ?? 5000;
    this.#timer = setInterval(() => this.#publish(), intervalMs);
  }

  /**
   * Bind the port and start serving.
   *
   * @param options Address, sources and API settings.
   * @returns The running server.
   * @throws {Deno.errors.AddrInUse} When the address is taken.
   */
  static start(options: ApiServerOptions): ApiServer {
    return new ApiServer(options);
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** `http://host:port` of the bound address. */
  get url(): string {
    const { hostname, port } = this.addr;
    return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  }

  /** Server-sent-event clients connected now. */
  get eventClients(): number {
    return this.#events.clients;
  }

  /** The HTTP server's counters: connections, refusals, timeouts, requests it refused. */
  get httpStats(): HttpServerStats {
    return this.#server.stats;
  }

  /** Stop serving: end the event streams, finish requests in flight and close the port. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#teardown();
      await this.#server.close();
    })();
    return this.#closed;
  }

  #teardown(): void {
    clearInterval(this.#timer);
    this.#netMetrics?.close();
    this.#processMetrics?.close();
    this.#unsubscribe();
    this.#events.close();
    this.metrics?.close();
    this.stats.close();
  }

  #publish(): void {
    if (this.#events.clients === 0) return;
    this.data.pool().then((view) => this.#events.send("pool", view), (err) => {
      episodes.debug("pool-event", "cannot build the pool event: {error}", {
        error: String(err),
      });
    });
  }
}
