/**
 * Metrics of the process itself, beside the pool's: resident memory, V8 heap, CPU seconds,
 * event-loop lag and build information (open descriptors and their limit are in
 * `net_metrics.ts`). Levels are read when `/metrics` is rendered; the event-loop lag comes from a
 * timer that fires every `lagSampleMs` (an unreferenced timer, 10 wake-ups a second by default)
 * and records how late it ran. Nothing here is on the share path.
 *
 * GC time is not exported: Deno 2.9 delivers no `gc` performance entries
 * (`PerformanceObserver` accepts the type but never reports one).
 *
 * @module
 */
import process from "node:process";
import type { MetricsRegistry } from "./metrics_registry.ts";

/** Options for {@linkcode ProcessMetrics}. */
export interface ProcessMetricsOptions {
  /** The program's version, for `vbkpool_build_info`. @default "0" */
  version?: string;
  /** Interval of the event-loop lag sampler, ms (0 = no sampler). @default 100 */
  lagSampleMs?: number;
}

/** Event-loop lag buckets, seconds (1 ms … 5 s). */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Registers the process metrics on a registry.
 *
 * @example Usage
 * ```ts
 * import { MetricsRegistry } from "./metrics_registry.ts";
 * import { ProcessMetrics } from "./process_metrics.ts";
 * import assert from "node:assert/strict";
 *
 * const registry = new MetricsRegistry();
 * const metrics = new ProcessMetrics(registry, { version: "1.2.3", lagSampleMs: 0 });
 * const text = registry.render();
 * assert.match(text, /^process_resident_memory_bytes \d+$/m);
 * assert.match(text, /^vbkpool_build_info\{version="1.2.3",deno="[\d.]+".*\} 1$/m);
 * metrics.close();
 * ```
 */
export class ProcessMetrics {
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopCollect: () => void;

  /**
   * @param registry Where to register.
   * @param options Version, lag sampling interval.
   */
  constructor(registry: MetricsRegistry, options: ProcessMetricsOptions = {}) {
    const r = registry;
    const rss = r.gauge("process_resident_memory_bytes", {
      help: "Resident memory of the process (RSS), bytes.",
    });
    const heap = r.gauge("process_heap_bytes", { help: "V8 heap allocated (heapTotal), bytes." });
    const heapUsed = r.gauge("vbkpool_heap_used_bytes", { help: "V8 heap in use, bytes." });
    const external = r.gauge("vbkpool_external_memory_bytes", {
      help: "Memory held outside the V8 heap by JavaScript objects (buffers), bytes.",
    });
    const cpu = r.counter("process_cpu_seconds_total", {
      help: "CPU time used by the process (user and system), seconds.",
    });
    const cpuUser = r.counter("process_cpu_user_seconds_total", {
      help: "User CPU time used by the process, seconds.",
    });
    const cpuSystem = r.counter("process_cpu_system_seconds_total", {
      help: "System CPU time used by the process, seconds.",
    });
    const start = r.gauge("process_start_time_seconds", {
      help: "When the process started, Unix seconds.",
    });
    const lag = r.histogram("vbkpool_event_loop_lag_seconds", {
      help: "How late a timer that should fire every 100 ms ran: the event loop's delay.",
      buckets: LAG_BUCKETS,
    });
    const lagMax = r.gauge("vbkpool_event_loop_lag_max_seconds", {
      help: "The largest event-loop delay since the previous scrape, seconds.",
    });
    const build = r.gauge("vbkpool_build_info", {
      help: "Always 1; the labels name the vbkpool, Deno, V8 and TypeScript versions.",
      labelNames: ["version", "deno", "v8", "typescript"],
    });
    build.set({
      version: options.version ?? "0",
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
    }, 1);
    // The time origin of the main isolate is the process start (a worker's is its own start);
    // floored so that it is never after now.
    start.set({}, Math.floor(performance.timeOrigin / 1000));
    let worst = 0;
    this.#stopCollect = r.onCollect(() => {
      const m = Deno.memoryUsage();
      rss.set({}, m.rss);
      heap.set({}, m.heapTotal);
      heapUsed.set({}, m.heapUsed);
      external.set({}, m.external);
      const usage = process.cpuUsage();
      cpuUser.set({}, usage.user / 1e6);
      cpuSystem.set({}, usage.system / 1e6);
      cpu.set({}, (usage.user + usage.system) / 1e6);
      lagMax.set({}, worst / 1000);
      worst = 0;
    });
    const every = options.lagSampleMs ?? 100;
    if (every > 0) {
      let expected = performance.now() + every;
      this.#timer = setInterval(() => {
        const now = performance.now();
        const late = Math.max(0, now - expected);
        expected = now + every;
        lag.observe({}, late / 1000);
        if (late > worst) worst = late;
      }, every);
      Deno.unrefTimer(this.#timer);
    }
  }

  /** Stop the lag sampler and the collection. */
  close(): void {
    clearInterval(this.#timer);
    this.#stopCollect();
  }
}
