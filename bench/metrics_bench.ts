/**
 * The cost of metrics on the share path, and of a scrape: vbkpool's own registry
 * (`api/metrics_registry.ts`, with the process metrics of `api/process_metrics.ts`) against
 * prom-client 15 (npm, with `collectDefaultMetrics`). Per accepted share the pool does what the
 * "share" benches do: one labelled counter increment and one histogram observation (what
 * `PoolMetrics` does per `share_accepted` event). prom-client is loaded at run time only (it is
 * not a dependency of vbkpool).
 *
 * ```sh
 * deno bench -A bench/metrics_bench.ts
 * ```
 *
 * @module
 */
import { MetricsRegistry } from "../api/metrics_registry.ts";
import { ProcessMetrics } from "../api/process_metrics.ts";

const ours = new MetricsRegistry();
const oursShares = ours.counter("vbkpool_shares_total", {
  help: "Shares.",
  labelNames: ["port", "result"],
});
const oursLatency = ours.histogram("vbkpool_submit_seconds", { help: "Latency." });
const processMetrics = new ProcessMetrics(ours, { version: "bench" });

// Not in deno.json: fetched from npm on the first run (a variable keeps it out of `deno check`).
const PROM_CLIENT = "npm:prom-client@15.1.3";
// deno-lint-ignore no-explicit-any
const prom: any = (await import(PROM_CLIENT)).default;
const theirs = new prom.Registry();
prom.collectDefaultMetrics({ register: theirs });
const theirShares = new prom.Counter({
  name: "vbkpool_shares_total",
  help: "Shares.",
  labelNames: ["port", "result"],
  registers: [theirs],
});
const theirLatency = new prom.Histogram({
  name: "vbkpool_submit_seconds",
  help: "Latency.",
  registers: [theirs],
});

const labels = { port: "3333", result: "accepted" };
let v = 0;

Deno.bench({
  name: "vbkpool registry: counter.inc + histogram.observe",
  group: "share",
  baseline: true,
  fn() {
    oursShares.inc(labels);
    oursLatency.observe({}, (v++ % 100) / 1000);
  },
});

Deno.bench({
  name: "prom-client: counter.inc + histogram.observe",
  group: "share",
  fn() {
    theirShares.inc(labels);
    theirLatency.observe((v++ % 100) / 1000);
  },
});

Deno.bench({
  name: "vbkpool registry: render /metrics (with process metrics)",
  group: "scrape",
  baseline: true,
  fn() {
    ours.render();
  },
});

Deno.bench({
  name: "prom-client: render /metrics (with default metrics)",
  group: "scrape",
  async fn() {
    await theirs.metrics();
  },
});

addEventListener("unload", () => {
  processMetrics.close();
  prom.register.clear();
});
