/**
 * The pool's HTTP face: a JSON API, a live dashboard page (embedded HTML, CSS and JavaScript with
 * SVG charts; works offline), server-sent events, and Prometheus metrics fed by the pool's typed
 * events. Started by `vbkpool server` ({@linkcode ApiServer.start}); the endpoints and their
 * shapes are documented in `docs/api.md`. Beside it, on a port of its own, the operator's admin
 * listener ({@linkcode AdminServer.start}: bearer token, bans, connections, reload, hand-over).
 *
 * Import rule: may import `server/`, `store/`, `net/`, `protocol/` and `hash/`; only `cli/` (and
 * tests) import `api/`.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * registry.gauge("vbkpool_example", { help: "An example." }).set({}, 2);
 * assert.match(registry.render(), /^vbkpool_example 2$/m);
 * ```
 *
 * @module
 */
export * from "./admin_server.ts";
export * from "./api_handler.ts";
export * from "./api_server.ts";
export * from "./dashboard.ts";
export * from "./event_stream.ts";
export * from "./live_stats.ts";
export * from "./metrics_registry.ts";
export * from "./net_metrics.ts";
export * from "./pool_data.ts";
export * from "./pool_metrics.ts";
export * from "./process_metrics.ts";
export * from "./public_codes.ts";
export * from "./rate_limiter.ts";
export * from "./views.ts";
export * from "./webhook_metrics.ts";
