/**
 * Metrics of the process's sockets, read when `/metrics` is rendered: open descriptors and the
 * limit (the usual `process_open_fds` / `process_max_fds`), the descriptor budget every
 * listener shares (its reserve, the sockets it holds, how many it allows, sockets refused for
 * lack of descriptors), accept errors by code, and the HTTP API server's own counters
 * (connections, refusals at accept, deadlines passed, requests it answered itself).
 *
 * @module
 */
import { acceptErrorCounts } from "../net/accept_loop.ts";
import {
  countOpenDescriptors,
  type DescriptorBudget,
  processDescriptors,
  readDescriptorLimit,
} from "../net/descriptor_budget.ts";
import type { HttpServerStats } from "../net/http_server.ts";
import type { MetricsRegistry } from "./metrics_registry.ts";

/** Options for {@linkcode NetMetrics}. */
export interface NetMetricsOptions {
  /** The API server's counters. */
  http?: () => HttpServerStats;
  /** The budget; `null` = none. @default processDescriptors() */
  descriptors?: DescriptorBudget | null;
}

const REFUSALS = ["server_full", "per_ip", "banned", "descriptors", "proxy"] as const;

/**
 * Registers the socket metrics on a registry.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import { NetMetrics } from "./net_metrics.ts";
 * import { DescriptorBudget } from "../net/descriptor_budget.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const budget = new DescriptorBudget({ limit: 1024, reserve: 64, countOpen: () => 10 });
 * const metrics = new NetMetrics(registry, { descriptors: budget });
 * budget.tryTake();
 * const text = registry.render();
 * assert.match(text, /^vbkpool_descriptor_sockets 1$/m);
 * assert.match(text, /^vbkpool_descriptor_capacity 951$/m);
 * metrics.close();
 * budget.close();
 * ```
 */
export class NetMetrics {
  #stop: () => void;

  /**
   * @param registry Where to add the metrics.
   * @param options The sources.
   */
  constructor(registry: MetricsRegistry, options: NetMetricsOptions = {}) {
    const r = registry;
    const budget = options.descriptors === undefined ? processDescriptors() : options.descriptors;
    const open = r.gauge("process_open_fds", { help: "Open file descriptors of the process." });
    const max = r.gauge("process_max_fds", {
      help: "The process's limit on open file descriptors (soft RLIMIT_NOFILE, ulimit -n).",
    });
    const reserve = r.gauge("vbkpool_descriptor_reserve", {
      help: "Descriptors kept free for the store and the upstream: listeners refuse sockets " +
        "before they would use them.",
    });
    const sockets = r.gauge("vbkpool_descriptor_sockets", {
      help: "Accepted sockets held by every listener (Stratum, UCP, HTTP API).",
    });
    const capacity = r.gauge("vbkpool_descriptor_capacity", {
      help: "Accepted sockets the descriptor budget allows at once (+Inf: no known limit).",
    });
    const refusals = r.counter("vbkpool_descriptor_refusals_total", {
      help: "Sockets closed at once because the descriptor budget was exhausted.",
    });
    const acceptErrors = r.counter("vbkpool_accept_errors_total", {
      help: "Failed accepts on every listener, by error code (EMFILE, ENFILE, ECONNABORTED, ...).",
      labelNames: ["code"],
    });
    const collectors = [() => {
      const count = countOpenDescriptors();
      if (count !== undefined) open.set({}, count);
      const limit = budget?.limit ?? readDescriptorLimit();
      if (limit !== undefined) max.set({}, limit);
      if (budget !== null) {
        reserve.set({}, budget.reserve);
        sockets.set({}, budget.sockets);
        capacity.set({}, budget.capacity);
        refusals.set({}, budget.refused);
      }
      for (const [code, n] of Object.entries(acceptErrorCounts())) acceptErrors.set({ code }, n);
    }];
    const http = options.http;
    if (http !== undefined) {
      const connections = r.gauge("vbkpool_api_connections", {
        help: "Open HTTP API connections.",
      });
      const refused = r.counter("vbkpool_api_connections_refused_total", {
        help: "HTTP API connections closed at accept, by reason (server_full, per_ip, banned, " +
          "descriptors; proxy: not a trusted proxy, or no valid PROXY header in time).",
        labelNames: ["reason"],
      });
      const timeouts = r.counter("vbkpool_api_timeouts_total", {
        help: "HTTP API deadlines passed, by phase (head/body: slow request, idle: keep-alive, " +
          "response, write: a client that stopped reading).",
        labelNames: ["phase"],
      });
      const rejected = r.counter("vbkpool_api_refused_requests_total", {
        help: "Requests the HTTP server answered itself (malformed, too large, wrong method), " +
          "by status code.",
        labelNames: ["code"],
      });
      for (const reason of REFUSALS) refused.inc({ reason }, 0);
      collectors.push(() => {
        const s = http();
        connections.set({}, s.connections);
        for (const reason of REFUSALS) refused.set({ reason }, s.refused[reason]);
        for (const [phase, n] of Object.entries(s.timeouts)) timeouts.set({ phase }, n ?? 0);
        for (const [code, n] of Object.entries(s.rejected)) rejected.set({ code }, n);
      });
    }
    const stops = collectors.map((c) => r.onCollect(c));
    this.#stop = () => stops.forEach((stop) => stop());
  }

  /** Stop collecting. */
  close(): void {
    this.#stop();
  }
}
