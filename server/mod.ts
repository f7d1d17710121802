/**
 * The pool: Stratum ports (VeriBlock dialect) whose sessions validate shares against jobs made
 * from NodeCore templates, submit blocks upstream, run vardiff and enforce limits and bans.
 *
 * The share path: `net/` (bytes → lines) → {@linkcode StratumSession} (lines → requests) →
 * {@linkcode validateShare} (request → verdict) → {@linkcode ShareRecorder} (verdict → durable
 * record) → the miner's `true`. The template path: the upstream → {@linkcode Pool.addTemplate}
 * → {@linkcode JobManager} → every session's `mining.notify`. Observers subscribe to
 * {@linkcode PoolEvents}. Legacy UCP GPU miners connect to {@linkcode UcpPort}s, whose sessions
 * share the jobs, extranonce allocator, validator, recorder and bans. With `[process] workers`,
 * a {@linkcode WorkerHub} in the supervisor and a {@linkcode SupervisorLink} in each worker (its
 * pool's {@linkcode PoolPeers}) make offences, bans and per-IP caps pool-wide.
 *
 * Import rule: may import `net/`, `protocol/`, `hash/` and `store/`; nothing imports `server/`
 * but `cli/`, tests and benchmarks.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_PORT_DIFFICULTY, Pool } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const pool = Pool.start({
 *   ports: [{ ...DEFAULT_PORT_DIFFICULTY, hostname: "127.0.0.1", port: 0 }],
 *   upstream: { submitBlock: () => Promise.resolve({ accepted: false, reason: "no upstream" }) },
 *   vardiffTickMs: 0,
 * });
 * assert.ok(pool.servers[0]!.addr.port > 0);
 * await pool.stop();
 * ```
 *
 * @module
 */

export * from "./bans.ts";
export * from "./ban_ledger.ts";
export * from "./block_recorder.ts";
export * from "./events.ts";
export * from "./extranonce.ts";
export * from "./extranonce_reservations.ts";
export * from "./instance_lease.ts";
export * from "./jobs.ts";
export * from "./pool.ts";
export * from "./session_context.ts";
export * from "./session_limits.ts";
export * from "./share_recorder.ts";
export * from "./record_backlog.ts";
export * from "./shares.ts";
export * from "./stratum_port.ts";
export * from "./port_edge.ts";
export * from "./stratum_server.ts";
export * from "./stratum_session.ts";
export * from "./store_share_recorder.ts";
export * from "./store_worker_difficulty.ts";
export * from "./ucp_port.ts";
export * from "./vardiff.ts";
export * from "./worker_difficulty.ts";
export * from "./pool_peers.ts";
export * from "./supervisor_link.ts";
export * from "./worker_hub.ts";
