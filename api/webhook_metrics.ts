/**
 * The webhooks' delivery counts on `/metrics` (read when rendered). The counts are passed as a
 * function, so `api/` does not depend on `alerts/`.
 *
 * @module
 */
import type { MetricsRegistry } from "./metrics_registry.ts";

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
