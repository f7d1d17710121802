/**
 * The server's HTTP wiring: starts the API server (`api/`) from `[api]` on top of the running
 * pool, its store and its upstream. `cli/server.ts` starts it after the pool and closes it
 * before the pool stops.
 *
 * @module
 */
import { logger } from "./log.ts";
import { VERSION } from "./version.ts";
import { ApiServer } from "../api/mod.ts";
import { parseListen } from "./_devnet_schema.ts";
import { ListenError } from "../net/mod.ts";
import { nameListenError } from "./_listen.ts";
import type { EdgeSettings } from "./_process_schema.ts";
import type { Pool } from "../server/pool.ts";
import type { UpstreamStatus } from "../server/upstream.ts";
import type { Store } from "../store/mod.ts";

type Values = Record<string, unknown>;

/** What the API observes. */
export interface ServerApiSources {
  /** The running pool. */
  pool: Pool;
  /** The pool's store. */
  store: Store;
  /** The upstream's current status. */
  upstream: () => UpstreamStatus;
}

/** How the server binds its API. */
export interface ServerApiOptions {
  /** Bind with SO_REUSEPORT (`process.reuse_port`). @default false */
  reusePort?: boolean;
  /** Keep the metrics even when this port does not serve them (the admin listener does). */
  keepMetrics?: boolean;
  /** `[process]`'s trusted proxies and header deadline (for `api.proxy_protocol`). */
  edge?: EdgeSettings;
}

/**
 * Start the HTTP API described by an `[api]` section. The API only observes the pool, so a port
 * that cannot be bound is logged as an error and the pool runs on without it (mining is not
 * stopped for a dashboard; the missing health endpoint is itself a signal to monitoring).
 *
 * @param a The `[api]` values.
 * @param sources Pool, store and upstream status.
 * @param options Port sharing, the metrics kept for the admin listener, and `[process]`'s
 *   trusted proxies and header deadline (for `api.proxy_protocol`).
 * @returns The server, or undefined when `api.enabled` is false or `api.listen` cannot be bound.
 */
export function startServerApi(
  a: Values,
  sources: ServerApiSources,
  options: ServerApiOptions = {},
): ApiServer | undefined {
  if (a.enabled !== true) return undefined;
  const { edge } = options;
  const log = logger("api");
  const listen = a.listen as string;
  const { hostname, port } = parseListen(listen);
  let api: ApiServer;
  try {
    api = ApiServer.start({
      hostname,
      port,
      ...sources,
      corsOrigins: a.cors_origins as string[],
      rateLimitPerSecond: a.rate_limit_per_second as number,
      rateLimitBurst: a.rate_limit_burst as number,
      trustProxy: a.trust_proxy as boolean,
      dashboard: a.dashboard as boolean,
      metrics: (a.metrics as boolean) || options.keepMetrics === true,
      metricsOnPort: a.metrics as boolean,
      metricsAllow: a.metrics_allow as string[],
      reusePort: options.reusePort === true,
      version: VERSION,
      hashrateWindowSeconds: a.hashrate_window_seconds as number,
      poolWide: a.pool_wide === "on" ||
        (a.pool_wide === "auto" && sources.store.backend === "postgres"),
      eventIntervalMs: Math.round((a.event_interval_seconds as number) * 1000),
      maxEventClients: a.max_event_clients as number,
      maxConnections: a.max_connections as number,
      maxConnectionsPerIp: a.max_connections_per_ip as number,
      exemptLoopback: a.exempt_loopback as boolean,
      proxyProtocol: a.proxy_protocol === true,
      trustedProxies: edge?.trustedProxies,
      ...(edge === undefined ? {} : { handshakeTimeoutMs: edge.handshakeTimeoutMs }),
      maxHeadBytes: a.max_header_bytes as number,
      headerTimeoutMs: Math.round((a.header_timeout_seconds as number) * 1000),
      idleTimeoutMs: Math.round((a.idle_timeout_seconds as number) * 1000),
      writeTimeoutMs: Math.round((a.write_timeout_seconds as number) * 1000),
      maxRequestsPerConnection: a.max_requests_per_connection as number,
    });
  } catch (err) {
    const named = nameListenError(new ListenError(hostname, port, err), [
      { key: "api.listen", hostname, port },
    ]);
    log.error("{why}; the pool runs without its API, dashboard and metrics", {
      why: (named as Error).message,
    });
    return undefined;
  }
  log.info("HTTP API on {api}, dashboard {dashboard}, metrics {metrics}, figures {figures}", {
    api: `${api.url}/api`,
    dashboard: a.dashboard ? `${api.url}/` : "off",
    metrics: a.metrics ? `${api.url}/metrics` : "off",
    figures: api.data.poolWide ? "pool-wide (store)" : "this process",
  });
  return api;
}
