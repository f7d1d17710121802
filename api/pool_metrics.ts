/**
 * The pool's Prometheus metrics. Share, job, block and connection counts come from
 * subscriptions to the pool's typed events (the share path does not know metrics exist);
 * levels (connections, miners, network, upstream state, the store's commit stage) are read
 * from the pool, the upstream and the store when `/metrics` is rendered.
 *
 * Store batch durations are observed at every commit when the store reports them
 * (`Store.onCommit`); for a store that does not, every `storeSampleMs` the last batch duration is
 * observed if at least one batch committed since the previous sample.
 *
 * @module
 */
import { STRATUM_ERRORS, type StratumErrorCode } from "../protocol/stratum_errors.ts";
import type { PoolEvent } from "../server/events.ts";
import type { Pool } from "../server/pool.ts";
import type { UpstreamStatus } from "../server/upstream.ts";
import type { Store } from "../store/mod.ts";
import type { LiveStats } from "./live_stats.ts";
import { DEFAULT_BUCKETS, MetricsRegistry } from "./metrics_registry.ts";
import { addressOf, poolPorts, poolSessions } from "./_sessions.ts";

/** Options for {@linkcode PoolMetrics}. */
export interface PoolMetricsOptions {
  /** The pool (its events, sessions and current job). */
  pool: Pool;
  /** The store, for its commit-stage counters. */
  store?: Store;
  /** The upstream's current status. */
  upstream?: () => UpstreamStatus;
  /** Live share statistics, for the windowed hash rate. */
  stats?: LiveStats;
  /** Registry to add to. @default a new one */
  registry?: MetricsRegistry;
  /** For a store without `onCommit`: how often its last batch duration is sampled (ms; 0 =
   * never). @default 250 */
  storeSampleMs?: number;
  /** Clock (ms), for submit latency. @default Date.now */
  now?: () => number;
}

const UPSTREAM_STATES: UpstreamStatus["state"][] = [
  "idle",
  "connecting",
  "ready",
  "backoff",
  "stopped",
];

/** Latency buckets in seconds, for submits and job broadcasts: the defaults and two finer (0.1 ms … 10 s). */
const LATENCY_BUCKETS = [0.0001, 0.00025, ...DEFAULT_BUCKETS];

/**
 * Registers the pool's metrics and keeps them up to date.
 *
 * @example Usage
 * ```ts
 * import { PoolMetrics } from "./pool_metrics.ts";
 * import { DEFAULT_PORT_DIFFICULTY, Pool } from "../server/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.start({
 *   ports: [{ ...DEFAULT_PORT_DIFFICULTY, hostname: "127.0.0.1", port: 0 }],
 *   upstream: { submitBlock: () => Promise.resolve({ accepted: false }) },
 *   vardiffTickMs: 0,
 * });
 * const metrics = new PoolMetrics({ pool });
 * pool.events.emit({ type: "banned", at: 0, ip: "10.0.0.1", until: 1, reason: "test" });
 * assert.match(metrics.registry.render(), /^vbkpool_bans_total 1$/m);
 * metrics.close();
 * await pool.stop();
 * ```
 */
export class PoolMetrics {
  /** The registry holding the metrics. */
  readonly registry: MetricsRegistry;
  #unsubscribe: () => void;
  #stopCollect: () => void;
  #stopStore: () => void = () => {};
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Register the metrics and subscribe to the pool's events.
   *
   * @param options The sources.
   */
  constructor(options: PoolMetricsOptions) {
    const r = this.registry = options.registry ?? new MetricsRegistry();
    const now = options.now ?? Date.now;
    const { pool, store, upstream, stats } = options;

    // Connections and miners (levels, read at render).
    const connections = r.gauge("vbkpool_connections", {
      help: "Open miner connections, by port and protocol (stratum, or ucp for legacy GPU miners).",
      labelNames: ["port", "protocol"],
    });
    const subscribed = r.gauge("vbkpool_miners_subscribed", {
      help: "Miner connections that subscribed.",
    });
    const authorized = r.gauge("vbkpool_miners_authorized", {
      help: "Miner connections with at least one authorized worker.",
    });
    const workers = r.gauge("vbkpool_workers_online", {
      help: "Distinct workers authorized on open connections.",
    });
    const addresses = r.gauge("vbkpool_addresses_online", {
      help: "Distinct payout addresses authorized on open connections.",
    });
    const inflight = r.gauge("vbkpool_inflight", {
      help: "Share records and block submissions not yet settled.",
    });
    const unrecorded = r.gauge("vbkpool_shares_unrecorded", {
      help: "Accepted shares waiting for their commit (reads pause at [store] pause_reads_at).",
    });
    const shareKeys = r.gauge("vbkpool_share_keys", {
      help: "Duplicate-check keys held: of live jobs (capped round-wide) and of idle work.",
      labelNames: ["state"],
    });
    const readPauses = r.counter("vbkpool_read_pauses_total", {
      help: "Times the pool stopped reading from miners because the store was behind.",
    });
    const readPaused = r.counter("vbkpool_read_paused_seconds_total", {
      help: "Time spent with reads paused because the store was behind.",
    });
    const mergedUpdates = r.counter("vbkpool_mempool_updates_merged_total", {
      help: "Mempool updates from NodeCore never sent to miners (a newer one came within " +
        "mempool_update_seconds, or a new block, an upstream reset or a stop dropped it).",
    });
    const opened = r.counter("vbkpool_connections_opened_total", {
      help: "Miner connections accepted.",
    });
    const closed = r.counter("vbkpool_connections_closed_total", {
      help: "Miner connections closed.",
    });
    const auths = r.counter("vbkpool_authorizations_total", {
      help: "Successful mining.authorize requests.",
    });

    // Shares.
    const shares = r.counter("vbkpool_shares_total", {
      help: "Submits by result; rejected ones by reason.",
      labelNames: ["result", "reason"],
    });
    shares.inc({ result: "accepted" }, 0);
    for (const reason of Object.keys(STRATUM_ERRORS) as StratumErrorCode[]) {
      shares.inc({ result: "rejected", reason }, 0);
    }
    const work = r.counter("vbkpool_share_difficulty_total", {
      help: "Sum of the credited difficulty of accepted shares (rate() = hashes per second).",
    });
    const submitLatency = r.histogram("vbkpool_submit_duration_seconds", {
      help: "Accepted shares: from the submit's arrival to the durable record (the miner's true).",
      buckets: LATENCY_BUCKETS,
    });
    const hashrate = r.gauge("vbkpool_hashrate", {
      help: "Hashes per second over the live window (accepted share difficulty / seconds).",
    });
    const diffChanges = r.counter("vbkpool_difficulty_changes_total", {
      help: "Share difficulty changes sent to miners (vardiff, d=N, suggest_difficulty).",
    });
    const bans = r.counter("vbkpool_bans_total", {
      help: "IPs banned (after repeated offences from several of their connections).",
    });
    const activeBans = r.gauge("vbkpool_bans_active", { help: "IP bans in force." });
    const offences = r.counter("vbkpool_offences_total", {
      help: "Connections closed for an offence, by kind (each counts towards an IP ban).",
      labelNames: ["kind"],
    });
    for (const kind of ["invalid_shares", "protocol_errors", "flood", "auth_failures"]) {
      offences.inc({ kind }, 0);
    }

    // Jobs.
    const jobs = r.counter("vbkpool_jobs_total", {
      help: "Jobs broadcast, by clean_jobs (true: a new previous block).",
      labelNames: ["clean"],
    });
    const notifications = r.counter("vbkpool_job_notifications_total", {
      help: "mining.notify messages sent by broadcasts (jobs x subscribed miners).",
    });
    const notifyLatency = r.histogram("vbkpool_job_notify_latency_seconds", {
      help: "From a template's arrival from NodeCore to the end of its broadcast (a paced " +
        "mempool update's includes its wait).",
      buckets: LATENCY_BUCKETS,
    });

    // Blocks and the network.
    const blocksFound = r.counter("vbkpool_blocks_found_total", {
      help: "Shares that met the network target (block candidates submitted upstream).",
    });
    const blockResults = r.counter("vbkpool_block_submissions_total", {
      help: "NodeCore's answers to block submissions, by result.",
      labelNames: ["result"],
    });
    blockResults.inc({ result: "accepted" }, 0);
    blockResults.inc({ result: "rejected" }, 0);
    const height = r.gauge("vbkpool_network_height", { help: "Height of the chain tip." });
    const networkDifficulty = r.gauge("vbkpool_network_difficulty", {
      help: "Network difficulty of the current job.",
    });

    this.#unsubscribe = pool.events.subscribe((event: PoolEvent) => {
      switch (event.type) {
        case "connection_open":
          opened.inc();
          break;
        case "connection_close":
          closed.inc();
          break;
        case "authorized":
          auths.inc();
          break;
        case "share_accepted":
          shares.inc({ result: "accepted" });
          work.inc({}, Number(event.share.difficulty));
          submitLatency.observe({}, Math.max(0, now() - event.share.at) / 1000);
          break;
        case "share_rejected":
          shares.inc({ result: "rejected", reason: event.reason });
          break;
        case "job_broadcast":
          jobs.inc({ clean: String(event.cleanJobs) });
          notifications.inc({}, event.sessions);
          notifyLatency.observe({}, event.latencyMs / 1000);
          break;
        case "block_found":
          blocksFound.inc();
          break;
        case "block_result":
          blockResults.inc({ result: event.accepted ? "accepted" : "rejected" });
          break;
        case "difficulty_changed":
          diffChanges.inc();
          break;
        case "banned":
          bans.inc();
          break;
        case "offence":
          offences.inc({ kind: event.kind });
          break;
      }
    });

    const collectors: (() => void)[] = [() => {
      connections.clear();
      let sub = 0;
      let auth = 0;
      const names = new Set<string>();
      const owners = new Set<string>();
      for (const p of poolPorts(pool)) {
        connections.set({ port: String(p.port), protocol: p.protocol }, p.open);
      }
      for (const session of poolSessions(pool)) {
        if (session.subscribed) sub++;
        if (session.workers.length > 0) auth++;
        for (const w of session.workers) {
          names.add(w);
          owners.add(addressOf(w));
        }
      }
      subscribed.set({}, sub);
      authorized.set({}, auth);
      workers.set({}, names.size);
      addresses.set({}, owners.size);
      inflight.set({}, pool.inflight);
      const backlog = pool.backlog.stats();
      unrecorded.set({}, backlog.pending);
      readPauses.set({}, backlog.pauses);
      readPaused.set({}, backlog.pausedMs / 1000);
      mergedUpdates.set({}, pool.mergedUpdates);
      activeBans.set({}, pool.bans.active(now()));
      const seen = pool.jobs.seenStats;
      shareKeys.set({ state: "live" }, seen.liveKeys);
      shareKeys.set({ state: "idle" }, seen.idleKeys);
      const job = pool.jobs.current;
      if (job !== undefined) {
        height.set({}, job.template.height - 1);
        networkDifficulty.set({}, Number(job.networkDifficulty));
      }
      if (stats !== undefined) hashrate.set({}, stats.pool().hashrate);
    }];

    if (upstream !== undefined) {
      const up = r.gauge("vbkpool_upstream_up", {
        help: "1 while the NodeCore connection is ready (jobs flowing), else 0.",
      });
      const state = r.gauge("vbkpool_upstream_state", {
        help: "The NodeCore connection state (1 for the current state).",
        labelNames: ["state"],
      });
      const since = r.gauge("vbkpool_upstream_state_since_timestamp_seconds", {
        help: "When the NodeCore connection entered its current state (Unix time).",
      });
      const reconnects = r.counter("vbkpool_upstream_reconnects_total", {
        help: "NodeCore connections lost or failed.",
      });
      collectors.push(() => {
        const status = upstream();
        up.set({}, status.state === "ready" ? 1 : 0);
        for (const s of UPSTREAM_STATES) state.set({ state: s }, s === status.state ? 1 : 0);
        since.set({}, status.since / 1000);
        reconnects.set({}, status.reconnects);
      });
    }

    if (store !== undefined) {
      const healthy = r.gauge("vbkpool_store_up", {
        help: "1 while the store accepts writes, else 0.",
      });
      const depth = r.gauge("vbkpool_store_queue_depth", {
        help: "Store writes waiting for a commit (queued and in flight).",
      });
      const batches = r.counter("vbkpool_store_batches_total", {
        help: "Store transactions committed.",
      });
      const committed = r.counter("vbkpool_store_operations_committed_total", {
        help: "Store writes committed.",
      });
      const failed = r.counter("vbkpool_store_operations_failed_total", {
        help: "Store writes refused or failed.",
      });
      const last = r.gauge("vbkpool_store_last_batch_seconds", {
        help: "Duration of the last store commit.",
      });
      const batchLatency = r.histogram("vbkpool_store_batch_duration_seconds", {
        help: "Store commit durations, one observation per committed batch.",
        buckets: LATENCY_BUCKETS,
      });
      collectors.push(() => {
        const s = store.stats();
        healthy.set({}, s.healthy ? 1 : 0);
        depth.set({}, s.queueDepth);
        batches.set({}, s.batches);
        committed.set({}, s.committed);
        failed.set({}, s.failed);
        last.set({}, s.lastCommitMs / 1000);
      });
      const sampleMs = options.storeSampleMs ?? 250;
      if (store.onCommit !== undefined) {
        const stop = store.onCommit((ms) => batchLatency.observe({}, ms / 1000));
        const previous = this.#stopStore;
        this.#stopStore = () => {
          previous();
          stop();
        };
      } else if (sampleMs > 0) {
        let seen = store.stats().batches;
        this.#timer = setInterval(() => {
          const s = store.stats();
          if (s.batches === seen) return;
          seen = s.batches;
          batchLatency.observe({}, s.lastCommitMs / 1000);
        }, sampleMs);
        Deno.unrefTimer(this.#timer);
      }
    }

    const stops = collectors.map((c) => r.onCollect(c));
    this.#stopCollect = () => stops.forEach((stop) => stop());
  }

  /**
   * The metrics in the Prometheus text format.
   *
   * @returns The exposition text.
   */
  render(): string {
    return this.registry.render();
  }

  /** Stop listening and sampling. */
  close(): void {
    this.#unsubscribe();
    this.#stopCollect();
    this.#stopStore();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
