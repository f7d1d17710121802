/**
 * A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered in
 * the text exposition format 0.0.4 (`# HELP`, `# TYPE`, one sample per line; histograms as
 * cumulative `_bucket{le=…}` lines ending at `+Inf`, then `_sum` and `_count`). Collectors
 * registered with {@linkcode MetricsRegistry.onCollect} run before each render, so values
 * polled from elsewhere (connections, upstream state, store counters) are always fresh.
 *
 * One file (~470 lines, half of them JSDoc) because the three metric kinds share one private
 * base (label checks, samples, rendering) and exist only to be rendered by the registry.
 *
 * @module
 */

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

/** Options shared by every metric. */
export interface MetricOptions {
  /** One-line description (the `# HELP` text). */
  help: string;
  /** Label names the metric may carry (a sample may leave some out). @default [] */
  labelNames?: readonly string[];
}

/** Options for {@linkcode MetricsRegistry.histogram}. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds of the buckets, strictly increasing and finite (`+Inf` is implied). @default DEFAULT_BUCKETS */
  buckets?: readonly number[];
}

/** Default histogram buckets, in seconds (0.5 ms … 10 s). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A sample value as the text format writes it.
 *
 * @example Usage
 * ```ts
 * import { formatValue } from "./metrics_registry.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatValue(1.5), "1.5");
 * assert.equal(formatValue(Infinity), "+Inf");
 * assert.equal(formatValue(NaN), "NaN");
 * ```
 *
 * @param value The number.
 * @returns Its text.
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function checkName(name: string): void {
  if (typeof name !== "string" || !METRIC_NAME.test(name)) {
    throw new TypeError(`Cannot register metric: "${name}" is not a valid metric name`);
  }
}

function checkLabelNames(name: string, labelNames: readonly string[], reserved: string[]): void {
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith("__") || reserved.includes(label)) {
      throw new TypeError(`Cannot register metric "${name}": "${label}" is not a valid label name`);
    }
  }
  if (new Set(labelNames).size !== labelNames.length) {
    throw new TypeError(`Cannot register metric "${name}": label names repeat`);
  }
}

/** Base of every metric: the label handling and the sample map. */
abstract class Metric<S> {
  /** The metric family name. */
  readonly name: string;
  /** The `# HELP` text. */
  readonly help: string;
  /** The label names. */
  readonly labelNames: readonly string[];
  /** Samples by label key. */
  protected readonly samples: Map<string, { labels: string; state: S }> = new Map();

  constructor(name: string, options: MetricOptions, reserved: string[] = []) {
    checkName(name);
    const labelNames = options.labelNames ?? [];
    checkLabelNames(name, labelNames, reserved);
    this.name = name;
    this.help = options.help;
    this.labelNames = labelNames;
  }

  /** Create the unlabeled sample (a metric without labels always shows a value). */
  seed(): void {
    if (this.labelNames.length === 0) this.state({});
  }

  /** The `# TYPE` word. */
  abstract readonly type: "counter" | "gauge" | "histogram";

  /** A fresh sample state. */
  protected abstract initial(): S;

  /** The sample lines of one label set. */
  protected abstract lines(labels: string, state: S): string[];

  /** The state of a label set (created on first use). */
  protected state(labels: Labels): S {
    const text = this.#labelText(labels);
    let sample = this.samples.get(text);
    if (sample === undefined) {
      sample = { labels: text, state: this.initial() };
      this.samples.set(text, sample);
    }
    return sample.state;
  }

  /** Forget every label set (for gauges that mirror a changing set). */
  clear(): void {
    this.samples.clear();
  }

  /**
   * The metric as text lines (HELP, TYPE, then samples by label text).
   *
   * @returns The lines.
   */
  render(): string[] {
    const out = [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ];
    const keys = [...this.samples.keys()].sort();
    for (const key of keys) {
      const sample = this.samples.get(key)!;
      out.push(...this.lines(sample.labels, sample.state));
    }
    return out;
  }

  #labelText(labels: Labels): string {
    // Per share on the hot path: one pass, no array, escaping only when needed.
    let text = "";
    let used = 0;
    for (const key of this.labelNames) {
      const value = labels[key];
      if (value === undefined) continue;
      if (typeof value !== "string") {
        throw new TypeError(`Cannot use label "${key}": the value must be a string`);
      }
      used++;
      const escaped = NEEDS_ESCAPE.test(value) ? escapeLabel(value) : value;
      text += `${text === "" ? "" : ","}${key}="${escaped}"`;
    }
    if (used !== Object.keys(labels).length) {
      for (const key of Object.keys(labels)) {
        if (!this.labelNames.includes(key)) {
          throw new TypeError(
            `Cannot use label "${key}": metric "${this.name}" has no such label`,
          );
        }
      }
    }
    return text;
  }
}

function sampleLine(name: string, labels: string, value: number): string {
  return labels === ""
    ? `${name} ${formatValue(value)}`
    : `${name}{${labels}} ${formatValue(value)}`;
}

/**
 * A monotonically increasing count.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const shares = new MetricsRegistry().counter("shares_total", {
 *   help: "Shares.",
 *   labelNames: ["result"],
 * });
 * shares.inc({ result: "accepted" });
 * shares.inc({ result: "accepted" }, 2);
 * assert.equal(shares.get({ result: "accepted" }), 3);
 * ```
 */
export class Counter extends Metric<{ value: number }> {
  /** `counter`. */
  readonly type = "counter";

  protected initial(): { value: number } {
    return { value: 0 };
  }

  protected lines(labels: string, state: { value: number }): string[] {
    return [sampleLine(this.name, labels, state.value)];
  }

  /**
   * Add to the count.
   *
   * @param labels The label set. @default {}
   * @param value How much (≥ 0). @default 1
   * @throws {RangeError} When `value` is negative or not finite.
   */
  inc(labels: Labels = {}, value = 1): void {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new RangeError(`Cannot increase counter "${this.name}": ${value} is not a count`);
    }
    this.state(labels).value += value;
  }

  /**
   * Mirror a count kept elsewhere (it must never go down, as counters do not).
   *
   * @param labels The label set.
   * @param value The current total.
   */
  set(labels: Labels, value: number): void {
    this.state(labels).value = value;
  }

  /**
   * The current count.
   *
   * @param labels The label set. @default {}
   * @returns The value (0 for a label set never used).
   */
  get(labels: Labels = {}): number {
    return this.state(labels).value;
  }
}

/**
 * A value that goes up and down.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const miners = new MetricsRegistry().gauge("miners", { help: "Miners online." });
 * miners.set({}, 5);
 * miners.inc({}, -2);
 * assert.equal(miners.get(), 3);
 * ```
 */
export class Gauge extends Metric<{ value: number }> {
  /** `gauge`. */
  readonly type = "gauge";

  protected initial(): { value: number } {
    return { value: 0 };
  }

  protected lines(labels: string, state: { value: number }): string[] {
    return [sampleLine(this.name, labels, state.value)];
  }

  /**
   * Set the value.
   *
   * @param labels The label set.
   * @param value The value.
   */
  set(labels: Labels, value: number): void {
    this.state(labels).value = value;
  }

  /**
   * Add to the value.
   *
   * @param labels The label set. @default {}
   * @param value How much (may be negative). @default 1
   */
  inc(labels: Labels = {}, value = 1): void {
    this.state(labels).value += value;
  }

  /**
   * The current value.
   *
   * @param labels The label set. @default {}
   * @returns The value (0 for a label set never used).
   */
  get(labels: Labels = {}): number {
    return this.state(labels).value;
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Observations counted in buckets, with their sum and count.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const latency = new MetricsRegistry().histogram("latency_seconds", {
 *   help: "Latency.",
 *   buckets: [0.01, 0.1],
 * });
 * latency.observe({}, 0.05);
 * latency.observe({}, 3);
 * assert.deepEqual(latency.get(), { count: 2, sum: 3.05 });
 * ```
 */
export class Histogram extends Metric<HistogramState> {
  /** `histogram`. */
  readonly type = "histogram";
  /** Bucket upper bounds (without `+Inf`). */
  readonly buckets: readonly number[];

  /**
   * @param name Metric name.
   * @param options Help, labels and buckets.
   * @throws {RangeError} When the buckets are not strictly increasing finite numbers.
   */
  constructor(name: string, options: HistogramOptions) {
    super(name, options, ["le"]);
    const buckets = options.buckets ?? DEFAULT_BUCKETS;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (!Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!)) {
        throw new RangeError(
          `Cannot register histogram "${name}": buckets must be finite and strictly increasing`,
        );
      }
    }
    this.buckets = [...buckets];
  }

  protected initial(): HistogramState {
    return { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  protected lines(labels: string, state: HistogramState): string[] {
    const sep = labels === "" ? "" : ",";
    const out: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      cumulative += state.counts[i]!;
      out.push(
        `${this.name}_bucket{${labels}${sep}le="${formatValue(this.buckets[i]!)}"} ${cumulative}`,
      );
    }
    out.push(`${this.name}_bucket{${labels}${sep}le="+Inf"} ${state.count}`);
    out.push(sampleLine(`${this.name}_sum`, labels, state.sum));
    out.push(sampleLine(`${this.name}_count`, labels, state.count));
    return out;
  }

  /**
   * Count one observation.
   *
   * @param labels The label set.
   * @param value The observed value (NaN is ignored).
   */
  observe(labels: Labels, value: number): void {
    if (Number.isNaN(value)) return;
    const state = this.state(labels);
    const i = this.buckets.findIndex((bound) => value <= bound);
    if (i >= 0) state.counts[i]!++;
    state.sum += value;
    state.count++;
  }

  /**
   * Observations so far.
   *
   * @param labels The label set. @default {}
   * @returns Their count and sum.
   */
  get(labels: Labels = {}): { count: number; sum: number } {
    const state = this.state(labels);
    return { count: state.count, sum: state.sum };
  }
}

/**
 * Metrics by name, rendered together.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const shares = registry.counter("shares_total", { help: "Shares.", labelNames: ["result"] });
 * shares.inc({ result: "accepted" });
 * const latency = registry.histogram("latency_seconds", { help: "Latency.", buckets: [0.1, 1] });
 * latency.observe({}, 0.5);
 * assert.equal(
 *   registry.render(),
 *   [
 *     "# HELP shares_total Shares.",
 *     "# TYPE shares_total counter",
 *     'shares_total{result="accepted"} 1',
 *     "# HELP latency_seconds Latency.",
 *     "# TYPE latency_seconds histogram",
 *     'latency_seconds_bucket{le="0.1"} 0',
 *     'latency_seconds_bucket{le="1"} 1',
 *     'latency_seconds_bucket{le="+Inf"} 1',
 *     "latency_seconds_sum 0.5",
 *     "latency_seconds_count 1",
 *     "",
 *   ].join("\n"),
 * );
 * ```
 */
export class MetricsRegistry {
  #metrics = new Map<string, Counter | Gauge | Histogram>();
  #collectors = new Set<() => void>();

  /**
   * Register a counter.
   *
   * @param name Metric name (by convention ending in `_total`).
   * @param options Help and label names.
   * @returns The counter.
   * @throws {TypeError} When a name is invalid or already registered.
   */
  counter(name: string, options: MetricOptions): Counter {
    return this.#add(new Counter(name, options));
  }

  /**
   * Register a gauge.
   *
   * @param name Metric name.
   * @param options Help and label names.
   * @returns The gauge.
   * @throws {TypeError} When a name is invalid or already registered.
   */
  gauge(name: string, options: MetricOptions): Gauge {
    return this.#add(new Gauge(name, options));
  }

  /**
   * Register a histogram.
   *
   * @param name Metric name.
   * @param options Help, label names and buckets.
   * @returns The histogram.
   * @throws {TypeError} When a name is invalid or already registered.
   * @throws {RangeError} When the buckets are not strictly increasing.
   */
  histogram(name: string, options: HistogramOptions): Histogram {
    return this.#add(new Histogram(name, options));
  }

  /**
   * Run `collect` before every render (to copy values polled from elsewhere into gauges).
   * An exception in a collector is ignored.
   *
   * @param collect The collector.
   * @returns A function that removes it.
   */
  onCollect(collect: () => void): () => void {
    this.#collectors.add(collect);
    return () => this.#collectors.delete(collect);
  }

  /**
   * Every metric in the text exposition format 0.0.4, in registration order.
   *
   * @returns The text (ends with a newline).
   */
  render(): string {
    for (const collect of this.#collectors) {
      try {
        collect();
      } catch {
        // A failing collector leaves its metrics as they were.
      }
    }
    const lines: string[] = [];
    for (const metric of this.#metrics.values()) lines.push(...metric.render());
    return lines.join("\n") + "\n";
  }

  #add<M extends Counter | Gauge | Histogram>(metric: M): M {
    if (this.#metrics.has(metric.name)) {
      throw new TypeError(`Cannot register metric: "${metric.name}" is already registered`);
    }
    this.#metrics.set(metric.name, metric);
    metric.seed();
    return metric;
  }
}

/** The content type of {@linkcode MetricsRegistry.render}'s output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
