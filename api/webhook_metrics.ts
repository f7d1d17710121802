/**
 * Alert metrics: every alert event of this process by type (`vbkpool_alert_events_total`, what
 * the Prometheus rules in `ops/prometheus/alerts.yml` watch beside the webhooks), and the
 * webhooks' delivery counts (read when rendered; passed as a function, so `api/` does not
 * depend on `alerts/`).
 *
 * @module
 */
import { ALERT_EVENT_TYPES, type AlertEvents, alertEvents } from "../log/mod.ts";
import type { MetricsRegistry } from "./metrics_registry.ts";

/**
 * Register `vbkpool_alert_events_total{type}` (every type shown from 0) and count the bus's
 * events into it.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import { registerAlertMetrics } from "./webhook_metrics.ts";
 * import { AlertEvents } from "../log/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const bus = new AlertEvents();
 * const stop = registerAlertMetrics(registry, bus);
 * bus.emit("block_orphaned", "Block 7 is orphaned", {});
 * assert.match(registry.render(), /^vbkpool_alert_events_total\{type="block_orphaned"\} 1$/m);
 * stop();
 * ```
 *
 * @param registry Where to register.
 * @param bus The alert bus. @default the process's `alertEvents`
 * @returns A function that stops counting.
 */
export function registerAlertMetrics(
  registry: MetricsRegistry,
  bus: AlertEvents = alertEvents,
): () => void {
  const events = registry.counter("vbkpool_alert_events_total", {
    help: "Alert events of this process by type (block_found, block_confirmed, " +
      "block_orphaned, payment_sent, payment_failed, upstream_down, upstream_up, " +
      "store_failing, store_recovered, hashrate_drop), as sent to the webhooks.",
    labelNames: ["type"],
  });
  for (const type of ALERT_EVENT_TYPES) events.inc({ type }, 0);
  return bus.subscribe((e) => events.inc({ type: e.type }));
}

/** Delivery counts since start (what `Webhooks.stats()` returns). */
export interface WebhookCounts {
  /** Events delivered. */
  sent: number;
  /** Events given up. */
  failed: number;
  /** Attempts retried. */
  retried: number;
  /** Events dropped from a full queue. */
  dropped: number;
  /** Events waiting now. */
  queued: number;
}

/**
 * Register `vbkpool_webhook_deliveries_total{result}` and `vbkpool_webhook_queued`.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import { registerWebhookMetrics } from "./webhook_metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * registerWebhookMetrics(registry, () => ({ sent: 3, failed: 1, retried: 2, dropped: 0, queued: 1 }));
 * assert.match(registry.render(), /^vbkpool_webhook_deliveries_total\{result="sent"\} 3$/m);
 * ```
 *
 * @param registry Where to register.
 * @param counts The counts, read at each render.
 * @returns A function that stops updating them.
 */
export function registerWebhookMetrics(
  registry: MetricsRegistry,
  counts: () => WebhookCounts,
): () => void {
  const deliveries = registry.counter("vbkpool_webhook_deliveries_total", {
    help: "Webhook deliveries by result: sent, failed (given up), retried (an attempt that " +
      "failed and was retried), dropped (a full queue).",
    labelNames: ["result"],
  });
  const queued = registry.gauge("vbkpool_webhook_queued", {
    help: "Alert events waiting for their webhooks.",
  });
  return registry.onCollect(() => {
    const c = counts();
    for (const result of ["sent", "failed", "retried", "dropped"] as const) {
      deliveries.set({ result }, c[result]);
    }
    queued.set({}, c.queued);
  });
}
