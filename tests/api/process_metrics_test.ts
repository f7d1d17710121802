import assert from "node:assert/strict";
import { MetricsRegistry, ProcessMetrics } from "../../api/mod.ts";
import { waitUntil } from "../_process.ts";

function sample(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  assert.ok(m !== null, `${name} in\n${text}`);
  return Number(m[1]);
}

Deno.test("ProcessMetrics: memory, CPU, start time, event-loop lag and build info are present and sane", async () => {
  const registry = new MetricsRegistry();
  const metrics = new ProcessMetrics(registry, { version: "9.9.9", lagSampleMs: 10 });
  try {
    const first = registry.render();
    const rss = sample(first, "process_resident_memory_bytes");
    const heap = sample(first, "process_heap_bytes");
    const used = sample(first, "vbkpool_heap_used_bytes");
    assert.ok(rss > 10 * 2 ** 20 && rss < 64 * 2 ** 30, `rss ${rss}`);
    assert.ok(used > 0 && used <= heap && heap < rss, `heap ${used}/${heap}, rss ${rss}`);
    const start = sample(first, "process_start_time_seconds");
    const now = Date.now() / 1000;
    assert.ok(start <= now && start > now - 3600, `start ${start}`);
    assert.match(
      first,
      new RegExp(
        `^vbkpool_build_info\\{version="9\\.9\\.9",deno="${Deno.version.deno}",v8="[^"]+",typescript="[^"]+"\\} 1$`,
        "m",
      ),
    );
    // CPU time grows with work; user + system = total.
    const cpu0 = sample(first, "process_cpu_seconds_total");
    const end = performance.now() + 50;
    let x = 0;
    while (performance.now() < end) x += Math.sqrt(x + 1);
    assert.ok(x > 0);
    // The lag sampler ran a few times (its histogram counts) and saw the busy loop above.
    await waitUntil(
      () => sample(registry.render(), "vbkpool_event_loop_lag_seconds_count") >= 3,
      "lag samples",
      10_000,
    );
    const later = registry.render();
    const cpu1 = sample(later, "process_cpu_seconds_total");
    assert.ok(cpu1 > cpu0, `cpu ${cpu0} → ${cpu1}`);
    const user = sample(later, "process_cpu_user_seconds_total");
    const system = sample(later, "process_cpu_system_seconds_total");
    assert.ok(Math.abs(user + system - cpu1) < 1e-3);
    const lagSum = sample(later, "vbkpool_event_loop_lag_seconds_sum");
    assert.ok(lagSum >= 0.03, `lag sum ${lagSum} after a 50 ms busy loop`);
    // The max is since the previous scrape: no timer ran between these two.
    assert.equal(sample(registry.render(), "vbkpool_event_loop_lag_max_seconds"), 0);
  } finally {
    metrics.close();
  }
});
