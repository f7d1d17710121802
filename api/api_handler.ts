/**
 * The HTTP API's request handler: routing, JSON responses, errors as JSON (404 unknown path,
 * 400 bad parameter, 405 wrong method, 429 rate limit, 503 store unavailable), CORS, per-IP rate
 * limiting, and request metrics. It knows no sockets: {@linkcode ApiServer} feeds it requests.
 *
 * Routes (all GET or HEAD; shapes in `views.ts` and `docs/api.md`):
 * `/` (dashboard), `/metrics`, `/api`, `/api/pool`, `/api/pool/hashrate`, `/api/miners/{address}`,
 * `/api/miners/{address}/hashrate`, `/api/blocks`, `/api/payments`, `/api/health`,
 * `/api/events` (server-sent events).
 *
 * @module
 */
import { peerIp } from "../protocol/ip_address.ts";
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { isValidAddress } from "../hash/address.ts";
import { BLOCK_STATUSES, PAYMENT_STATUSES, StoreUnavailableError } from "../store/mod.ts";
import { choiceParam, HttpError, intParam, onlyParams } from "./_query.ts";
import { DASHBOARD_ASSETS } from "./dashboard.ts";
import type { EventStream } from "./event_stream.ts";
import { METRICS_CONTENT_TYPE, type MetricsRegistry } from "./metrics_registry.ts";
import type { PoolData } from "./pool_data.ts";
import { IpRateLimiter } from "./rate_limiter.ts";

const log = getLogger(["vbkpool", "api"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Options for {@linkcode ApiHandler}. */
export interface ApiHandlerOptions {
  /** Origins allowed by CORS (`"*"` = any); empty = no CORS headers. @default [] */
  corsOrigins?: readonly string[];
  /** Requests per second per IP (0 = unlimited). @default 20 */
  rateLimitPerSecond?: number;
  /** Request burst per IP. @default 60 */
  rateLimitBurst?: number;
  /** Serve the dashboard at `/`. @default true */
  dashboard?: boolean;
  /** Serve `/metrics` from this registry (request metrics are added to it); none = 404. */
  metrics?: MetricsRegistry;
  /** Client addresses allowed to read `/metrics` (others: 403); empty = any. @default [] */
  metricsAllow?: readonly string[];
  /** Serve `/api/events` from this hub; none = 404. */
  events?: EventStream;
  /** Clock (ms), for rate limiting. @default Date.now */
  now?: () => number;
}

/** The API index (`GET /api`). */
export const API_ROUTES: readonly string[] = [
  "GET /api/pool",
  "GET /api/pool/hashrate?minutes=60",
  "GET /api/miners/{address}",
  "GET /api/miners/{address}/hashrate?minutes=60&worker=NAME",
  "GET /api/blocks?page=0&pageSize=20&status=submitted|pending|confirmed|orphaned|rejected",
  "GET /api/payments?page=0&pageSize=20&status=pending|sent|confirmed|failed&address=ADDRESS",
  "GET /api/health",
  "GET /api/events (text/event-stream: pool, block)",
  "GET /metrics (Prometheus text format 0.0.4)",
  "GET / (dashboard)",
];

const JSON_TYPE = "application/json; charset=utf-8";
const MAX_MINUTES = 10_080;
const MAX_ROWS = 10_000;
const WORKER_NAME = /^[\x21-\x7e]{1,128}$/;

/** A route's answer before CORS and method handling. */
type Routed = { route: string; response: Response | Promise<Response> };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": JSON_TYPE, "cache-control": "no-store", ...headers },
  });
}

function errorResponse(status: number, message: string, headers?: Record<string, string>) {
  return json(status, { error: message, status }, headers);
}

/**
 * Answers API, dashboard and metrics requests.
 *
 * @example Usage
 * ```ts
 * import { ApiHandler } from "./api_handler.ts";
 * import { LiveStats } from "./live_stats.ts";
 * import { PoolData } from "./pool_data.ts";
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
 * const stats = new LiveStats(pool.events);
 * const upstream = () => ({ state: "ready" as const, endpoint: "n:1", since: 0, reconnects: 0 });
 * const handler = new ApiHandler(new PoolData({ pool, store, upstream, stats }), {
 *   corsOrigins: ["*"],
 * });
 * const response = await handler.handle(new Request("http://pool/api/nothing"), "127.0.0.1");
 * assert.equal(response.status, 404);
 * assert.equal(response.headers.get("access-control-allow-origin"), "*");
 * assert.deepEqual(await response.json(), {
 *   error: 'Cannot find "/api/nothing": no such endpoint',
 *   status: 404,
 * });
 * stats.close();
 * await pool.stop();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ApiHandler {
  #data: PoolData;
  #cors: readonly string[];
  #limiter: IpRateLimiter;
  #dashboard: boolean;
  #metrics: MetricsRegistry | undefined;
  #metricsAllow: ReadonlySet<string>;
  #events: EventStream | undefined;
  #now: () => number;
  #count: ((route: string, code: number, seconds: number) => void) | undefined;

  /**
   * @param data Where the answers come from.
   * @param options CORS, rate limit, and which optional endpoints exist.
   */
  constructor(data: PoolData, options: ApiHandlerOptions = {}) {
    this.#data = data;
    this.#cors = options.corsOrigins ?? [];
    this.#limiter = new IpRateLimiter({
      perSecond: options.rateLimitPerSecond ?? 20,
      burst: options.rateLimitBurst ?? 60,
    });
    this.#dashboard = options.dashboard ?? true;
    this.#metrics = options.metrics;
    // Keyed as peers are (`::ffff:a.b.c.d` is a.b.c.d, IPv6 in its canonical text).
    this.#metricsAllow = new Set((options.metricsAllow ?? []).map((ip) => peerIp(ip)));
    this.#events = options.events;
    this.#now = options.now ?? Date.now;
    if (this.#metrics !== undefined) {
      const requests = this.#metrics.counter("vbkpool_api_requests_total", {
        help: "HTTP API requests, by route and status code.",
        labelNames: ["route", "code"],
      });
      const duration = this.#metrics.histogram("vbkpool_api_request_duration_seconds", {
        help: "Time to produce an HTTP API response (for /api/events: to open the stream).",
        labelNames: ["route"],
      });
      this.#count = (route, code, seconds) => {
        requests.inc({ route, code: String(code) });
        duration.observe({ route }, seconds);
      };
    }
  }

  /**
   * Answer one request.
   *
   * @param request The request.
   * @param ip The client's address (for the rate limit).
   * @returns The response; never rejects.
   */
  async handle(request: Request, ip: string): Promise<Response> {
    const started = performance.now();
    const cors = this.#corsHeaders(request);
    let route = "other";
    let response: Response;
    try {
      const decision = this.#limiter.take(ip, this.#now());
      if (!decision.allowed) {
        route = "rate_limited";
        response = errorResponse(429, "Cannot answer: too many requests from this address", {
          "retry-after": String(decision.retryAfterSeconds),
        });
      } else if (request.method === "OPTIONS") {
        route = "preflight";
        response = new Response(null, { status: 204, headers: this.#preflight(request) });
      } else if (request.method !== "GET" && request.method !== "HEAD") {
        route = "method_not_allowed";
        response = errorResponse(405, `Cannot ${request.method.slice(0, 16)}: only GET is served`, {
          allow: "GET, HEAD, OPTIONS",
        });
      } else {
        const routed = this.#route(request, ip);
        route = routed.route;
        response = await routed.response;
      }
    } catch (err) {
      response = this.#failure(err);
    }
    for (const [key, value] of Object.entries(cors)) response.headers.set(key, value);
    response.headers.set("x-content-type-options", "nosniff");
    this.#count?.(route, response.status, (performance.now() - started) / 1000);
    if (request.method === "HEAD" && response.body !== null) {
      await response.body.cancel();
      return new Response(null, { status: response.status, headers: response.headers });
    }
    return response;
  }

  #failure(err: unknown): Response {
    if (err instanceof HttpError) return errorResponse(err.status, err.message);
    if (err instanceof StoreUnavailableError) {
      return errorResponse(503, "Cannot answer: the store is unavailable", { "retry-after": "5" });
    }
    episodes.warn("failed", "API request failed: {error}", {
      error: err instanceof Error ? err.message : String(err),
    });
    return errorResponse(500, "Cannot answer: internal error");
  }

  #route(request: Request, ip: string): Routed {
    const url = new URL(request.url);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    const q = url.searchParams;
    const asset = this.#dashboard ? DASHBOARD_ASSETS[path] : undefined;
    if (asset !== undefined) {
      return {
        route: "dashboard",
        response: new Response(asset.body, {
          headers: {
            "content-type": asset.contentType,
            "cache-control": "no-cache",
            ...asset.headers,
          },
        }),
      };
    }
    if (path === "/metrics" && this.#metrics !== undefined) {
      if (this.#metricsAllow.size > 0 && !this.#metricsAllow.has(ip)) {
        return { route: "metrics", response: errorResponse(403, "metrics are not served to you") };
      }
      onlyParams(q, [], "render metrics");
      return {
        route: "metrics",
        response: new Response(this.#metrics.render(), {
          headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
        }),
      };
    }
    if (path === "/api") return { route: "index", response: json(200, { routes: API_ROUTES }) };
    if (path === "/api/pool") {
      onlyParams(q, [], "show the pool");
      return { route: "pool", response: this.#data.pool().then((v) => json(200, v)) };
    }
    if (path === "/api/pool/hashrate") {
      onlyParams(q, ["minutes"], "show the pool hash rate");
      const minutes = intParam(q, "minutes", {
        def: 60,
        min: 1,
        max: MAX_MINUTES,
        action: "show the pool hash rate",
      });
      return {
        route: "pool_hashrate",
        response: this.#data.hashrate({ minutes }).then((points) => json(200, { minutes, points })),
      };
    }
    if (path === "/api/blocks") {
      const action = "list blocks";
      onlyParams(q, ["page", "pageSize", "status"], action);
      const { page, pageSize } = this.#page(q, action);
      const status = choiceParam(q, "status", { choices: BLOCK_STATUSES, action });
      return {
        route: "blocks",
        response: this.#data.blocks({ page, pageSize, ...(status === undefined ? {} : { status }) })
          .then((v) => json(200, v)),
      };
    }
    if (path === "/api/payments") {
      const action = "list payments";
      onlyParams(q, ["page", "pageSize", "status", "address"], action);
      const { page, pageSize } = this.#page(q, action);
      const status = choiceParam(q, "status", { choices: PAYMENT_STATUSES, action });
      const address = q.has("address") ? this.#address(q.get("address")!, action) : undefined;
      return {
        route: "payments",
        response: this.#data.payments({
          page,
          pageSize,
          ...(status === undefined ? {} : { status }),
          ...(address === undefined ? {} : { address }),
        }).then((v) => json(200, v)),
      };
    }
    if (path === "/api/health") {
      onlyParams(q, [], "check health");
      const view = this.#data.health();
      return { route: "health", response: json(view.status === "ok" ? 200 : 503, view) };
    }
    if (path === "/api/events" && this.#events !== undefined) {
      onlyParams(q, [], "stream events");
      // A client that goes away cancels the body stream (the HTTP server watches for it);
      // request.signal is not used.
      const stream = this.#events.open();
      return {
        route: "events",
        response: stream ?? errorResponse(503, "Cannot stream events: too many clients", {
          "retry-after": "10",
        }),
      };
    }
    const miner = /^\/api\/miners\/([^/]+)(\/hashrate)?$/.exec(path);
    if (miner !== null) return this.#miner(q, miner[1]!, miner[2] !== undefined);
    return {
      route: "not_found",
      response: errorResponse(404, `Cannot find "${path.slice(0, 128)}": no such endpoint`),
    };
  }

  #miner(q: URLSearchParams, raw: string, history: boolean): Routed {
    let text: string;
    try {
      text = decodeURIComponent(raw);
    } catch {
      text = raw;
    }
    if (!history) {
      const action = "show the miner";
      onlyParams(q, [], action);
      const address = this.#address(text, action);
      return { route: "miner", response: this.#data.miner(address).then((v) => json(200, v)) };
    }
    const action = "show the miner's hash rate";
    onlyParams(q, ["minutes", "worker"], action);
    const address = this.#address(text, action);
    const minutes = intParam(q, "minutes", { def: 60, min: 1, max: MAX_MINUTES, action });
    const worker = q.get("worker") ?? undefined;
    if (worker !== undefined && (q.getAll("worker").length > 1 || !WORKER_NAME.test(worker))) {
      throw new HttpError(
        400,
        `Cannot ${action}: "worker" must be a worker name (1-128 visible chars)`,
      );
    }
    return {
      route: "miner_hashrate",
      response: this.#data.hashrate({
        minutes,
        address,
        ...(worker === undefined ? {} : { worker }),
      })
        .then((points) =>
          json(200, { address, ...(worker === undefined ? {} : { worker }), minutes, points })
        ),
    };
  }

  #address(text: string, action: string): string {
    if (!isValidAddress(text)) {
      throw new HttpError(
        400,
        `Cannot ${action}: "${text.slice(0, 64)}" is not a VeriBlock address`,
      );
    }
    return text;
  }

  #page(q: URLSearchParams, action: string): { page: number; pageSize: number } {
    const pageSize = intParam(q, "pageSize", { def: 20, min: 1, max: 100, action });
    const page = intParam(q, "page", {
      def: 0,
      min: 0,
      max: Math.floor(MAX_ROWS / pageSize) - 1,
      action,
    });
    return { page, pageSize };
  }

  #corsHeaders(request: Request): Record<string, string> {
    if (this.#cors.length === 0) return {};
    if (this.#cors.includes("*")) return { "access-control-allow-origin": "*" };
    const origin = request.headers.get("origin");
    if (origin === null || !this.#cors.includes(origin)) return { vary: "origin" };
    return { "access-control-allow-origin": origin, vary: "origin" };
  }

  #preflight(request: Request): Record<string, string> {
    if (this.#cors.length === 0) return { allow: "GET, HEAD, OPTIONS" };
    const headers: Record<string, string> = {
      allow: "GET, HEAD, OPTIONS",
      "access-control-allow-methods": "GET, HEAD, OPTIONS",
      "access-control-max-age": "600",
    };
    const asked = request.headers.get("access-control-request-headers");
    if (asked !== null && /^[\w\-, ]{0,256}$/.test(asked)) {
      headers["access-control-allow-headers"] = asked;
    }
    return headers;
  }
}
