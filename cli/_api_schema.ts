/**
 * The `[api]` configuration section: the pool's HTTP server (JSON API, dashboard, server-sent
 * events, Prometheus metrics), started by `vbkpool server` (see `config_schema.ts`,
 * `cli/_server_api.ts` and `api/`).
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { parseListen } from "./_devnet_schema.ts";

function checkListen(value: unknown): string | undefined {
  try {
    parseListen(String(value));
    return undefined;
  } catch {
    return 'HOST:PORT, e.g. "127.0.0.1:8080" or "[::1]:8080" (port 0: any free port)';
  }
}

function checkOrigins(value: unknown): string | undefined {
  for (const origin of value as string[]) {
    if (origin === "*") continue;
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      return `"*" or origins like "https://pool.example.com" (no path), got ${
        JSON.stringify(origin)
      }`;
    }
  }
  return undefined;
}

function checkAddresses(value: unknown): string | undefined {
  for (const ip of value as string[]) {
    if (!/^[\d.]+$|^[\da-fA-F:]+$/.test(ip)) {
      return `IP addresses like "127.0.0.1" or "::1", got ${JSON.stringify(ip)}`;
    }
  }
  return undefined;
}

/** Keys of `[api]`. */
export const API_SCHEMA: SectionSpec = {
  enabled: {
    kind: "boolean",
    default: true,
    doc: "Serve the HTTP API, dashboard and metrics (false: no HTTP port at all).",
  },
  listen: {
    kind: "string",
    default: "127.0.0.1:8080",
    doc: "HTTP address (HOST:PORT). Use 0.0.0.0:8080 to serve other machines.",
    check: checkListen,
  },
  proxy_protocol: {
    kind: "boolean",
    default: false,
    doc: "Each connection starts with a PROXY v1/v2 header from one of process.trusted_proxies " +
      "(only they may connect); rate limits, caps and bans then apply to the client's address.",
  },
  dashboard: { kind: "boolean", default: true, doc: "Serve the live dashboard page at /." },
  metrics: { kind: "boolean", default: true, doc: "Serve Prometheus metrics at /metrics." },
  metrics_allow: {
    kind: "string_list",
    default: [],
    doc: "Client addresses allowed to read /metrics on this port (others: 403); empty = any. " +
      "[admin] metrics serves them behind the admin token instead.",
    check: checkAddresses,
  },
  cors_origins: {
    kind: "string_list",
    default: [],
    doc: 'Origins allowed to call the API from a browser (CORS); "*" allows any; empty = none.',
    check: checkOrigins,
  },
  rate_limit_per_second: {
    kind: "number",
    default: 20,
    min: 0,
    max: 1000000,
    doc: "Requests per second per client IP (token bucket; over it: 429); 0 = unlimited.",
  },
  rate_limit_burst: {
    kind: "integer",
    default: 60,
    min: 1,
    max: 1000000,
    doc: "Request burst per client IP.",
  },
  trust_proxy: {
    kind: "boolean",
    default: false,
    doc: "Behind a reverse proxy: rate-limit by the last X-Forwarded-For address.",
  },
  hashrate_window_seconds: {
    kind: "number",
    default: 600,
    min: 10,
    max: 86400,
    doc: "Seconds the live hash rates (pool, miners, workers) are averaged over.",
  },
  pool_wide: {
    kind: "string",
    default: "auto",
    choices: ["auto", "on", "off"],
    doc: "Hash rate, shares, miners and workers in the API: on = every instance sharing the " +
      "store (from its per-minute rollups, one cached query per 5 s); off = this process's " +
      "live figures; auto = on with PostgreSQL (the store several servers share), off with SQLite.",
  },
  event_interval_seconds: {
    kind: "number",
    default: 5,
    min: 0.5,
    max: 3600,
    doc: "Seconds between live pool updates sent to dashboards (/api/events).",
  },
  max_event_clients: {
    kind: "integer",
    default: 64,
    min: 1,
    max: 100000,
    doc: "Live-update (/api/events) clients served at once.",
  },
  max_connections: {
    kind: "integer",
    default: 256,
    min: 0,
    max: 1000000,
    doc: "HTTP connections at once; more are closed at accept (0 = unlimited).",
  },
  max_connections_per_ip: {
    kind: "integer",
    default: 32,
    min: 0,
    max: 1000000,
    doc: "HTTP connections at once from one client IP (0 = unlimited).",
  },
  exempt_loopback: {
    kind: "boolean",
    default: true,
    doc: "Loopback clients (a reverse proxy on this host) skip the per-IP cap, not the global one.",
  },
  max_header_bytes: {
    kind: "integer",
    default: 8192,
    min: 256,
    max: 1048576,
    doc: "Longest request line plus headers in bytes (over it: 414 or 431, and close).",
  },
  header_timeout_seconds: {
    kind: "number",
    default: 10,
    min: 0.1,
    max: 3600,
    doc: "Seconds for a request's line and headers to arrive (slow clients: 408, and close).",
  },
  idle_timeout_seconds: {
    kind: "number",
    default: 15,
    min: 0.1,
    max: 3600,
    doc: "Seconds a kept-alive connection may wait for its next request.",
  },
  write_timeout_seconds: {
    kind: "number",
    default: 30,
    min: 0.1,
    max: 3600,
    doc: "Seconds a client may take to read a response or event before it is dropped.",
  },
  max_requests_per_connection: {
    kind: "integer",
    default: 1000,
    min: 1,
    max: 1000000,
    doc: "Requests served on one kept-alive connection before it is closed.",
  },
};
