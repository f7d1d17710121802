import assert from "node:assert/strict";
import { PoolMetrics } from "../../api/pool_metrics.ts";
import { freshTemplate } from "../server/_pool.ts";
import { until } from "../server/_store.ts";
import { ADDRESS, connectMiner, OTHER_ADDRESS, startFixture } from "./_fixture.ts";
import { parsePrometheus, sampleValue } from "./_prometheus.ts";

Deno.test("PoolMetrics counts shares, jobs, blocks and connections from the pool's events", async () => {
  const f = await startFixture();
  const metrics = new PoolMetrics({
    pool: f.pool,
    store: f.store,
    upstream: () => f.upstream,
    stats: f.stats,
    storeSampleMs: 10,
  });
  const a = await connectMiner(f.port, `${ADDRESS}.rig1`);
  const b = await connectMiner(f.port, OTHER_ADDRESS);
  try {
    assert.deepEqual(await a.submit(3), [true, true, true]);
    await a.submitBad();
    f.pool.addTemplate(freshTemplate(2));
    // A reload paces mempool updates: two come within the interval, the first is merged away
    // (the second stays held until the pool stops).
    f.pool.configure({ updateIntervalMs: 60_000 });
    const update = (n: number) => freshTemplate(2, { normalRoot: new Uint8Array(32).fill(n) });
    assert.equal(f.pool.addTemplate(update(1)), undefined);
    assert.equal(f.pool.addTemplate(update(2)), undefined);
    const share = (await f.store.listShares({ limit: 1 }))[0]!;
    f.pool.events.emit({
      type: "block_result",
      at: Date.now(),
      hash: "00",
      height: share.height,
      accepted: false,
      outcome: "refused",
      reason: "stale",
    });
    f.pool.events.emit({ type: "banned", at: 0, ip: "10.0.0.1", until: 1, reason: "test" });
    await until(() =>
      metrics.registry.render().includes("vbkpool_store_batch_duration_seconds_count 0") === false
    );
    const families = parsePrometheus(metrics.render());
    const v = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(families, name, labels);
    assert.equal(v("vbkpool_connections", { port: String(f.port), protocol: "stratum" }), 2);
    assert.equal(v("vbkpool_miners_subscribed"), 2);
    assert.equal(v("vbkpool_miners_authorized"), 2);
    assert.equal(v("vbkpool_workers_online"), 2);
    assert.equal(v("vbkpool_addresses_online"), 2);
    assert.equal(v("vbkpool_connections_opened_total"), 2);
    assert.equal(v("vbkpool_authorizations_total"), 2);
    assert.equal(v("vbkpool_shares_total", { result: "accepted" }), 3);
    assert.equal(v("vbkpool_shares_total", { result: "rejected", reason: "stale_job" }), 1);
    assert.equal(v("vbkpool_shares_total", { result: "rejected", reason: "low_difficulty" }), 0);
    assert.equal(v("vbkpool_share_difficulty_total"), 48);
    // The 3 accepted shares' keys, live or (after the new template) idle.
    assert.equal(
      v("vbkpool_share_keys", { state: "live" })! + v("vbkpool_share_keys", { state: "idle" })!,
      3,
    );
    assert.equal(v("vbkpool_submit_duration_seconds_count"), 3);
    assert.equal(v("vbkpool_jobs_total", { clean: "true" }), 1);
    assert.equal(v("vbkpool_job_notifications_total"), 2);
    assert.equal(v("vbkpool_job_notify_latency_seconds_count"), 1);
    assert.equal(v("vbkpool_mempool_updates_merged_total"), 1);
    assert.equal(v("vbkpool_block_submissions_total", { result: "rejected" }), 1);
    assert.equal(v("vbkpool_block_submissions_total", { result: "accepted" }), 0);
    assert.equal(v("vbkpool_blocks_found_total"), 0);
    assert.equal(v("vbkpool_bans_total"), 1);
    assert.equal(v("vbkpool_network_height"), f.pool.jobs.current!.template.height - 1);
    assert.equal(v("vbkpool_network_difficulty"), Number(f.pool.jobs.current!.networkDifficulty));
    assert.ok(v("vbkpool_hashrate")! > 0);
    assert.equal(v("vbkpool_upstream_up"), 1);
    assert.equal(v("vbkpool_upstream_state", { state: "ready" }), 1);
    assert.equal(v("vbkpool_upstream_state", { state: "backoff" }), 0);
    assert.equal(v("vbkpool_upstream_reconnects_total"), 2);
    assert.equal(v("vbkpool_upstream_state_since_timestamp_seconds"), 1);
    assert.equal(v("vbkpool_store_up"), 1);
    assert.ok(v("vbkpool_store_batches_total")! >= 1);
    assert.ok(v("vbkpool_store_operations_committed_total")! >= 3);
    // One observation per commit, not a sample.
    assert.equal(
      v("vbkpool_store_batch_duration_seconds_count"),
      v("vbkpool_store_batches_total"),
    );
    assert.equal(families.get("vbkpool_submit_duration_seconds")!.type, "histogram");
    f.upstream = { state: "backoff", endpoint: undefined, since: 5000, reconnects: 3 };
    const later = parsePrometheus(metrics.render());
    assert.equal(sampleValue(later, "vbkpool_upstream_up"), 0);
    assert.equal(sampleValue(later, "vbkpool_upstream_state", { state: "backoff" }), 1);
    assert.equal(sampleValue(later, "vbkpool_upstream_reconnects_total"), 3);
  } finally {
    metrics.close();
    await a.close();
    await b.close();
    await f.close();
  }
});

Deno.test("PoolMetrics without a store or upstream leaves their metrics out; close() unsubscribes", async () => {
  const f = await startFixture();
  const metrics = new PoolMetrics({ pool: f.pool });
  try {
    const families = parsePrometheus(metrics.render());
    assert.equal(families.has("vbkpool_store_up"), false);
    assert.equal(families.has("vbkpool_upstream_up"), false);
    metrics.close();
    f.pool.events.emit({ type: "banned", at: 0, ip: "10.0.0.1", until: 1, reason: "test" });
    assert.equal(sampleValue(parsePrometheus(metrics.render()), "vbkpool_bans_total"), 0);
  } finally {
    await f.close();
  }
});
