/**
 * `vbkpool mine`'s engine: a multi-threaded vBlake miner for VeriBlock Stratum pools. Web
 * Worker threads run the WebAssembly kernel (the TypeScript reference where WebAssembly is
 * unavailable), each on its own part of the search space; one Stratum session at a time feeds
 * them, with failover across pools, reconnects with backoff, fail-back to a preferred pool and
 * dead-pool detection. Also the status line and reports (10 s / 60 s / 15 min rates, share
 * latency, the last rejections), the read-only rig API for rig monitors, and the fixed workload
 * of `vbkpool bench --verify`.
 *
 * Import rule: may import `net/`, `protocol/` and `hash/`; nothing imports `miner/` but `cli/`
 * (and tests and benchmarks).
 *
 * @example Usage
 * ```ts
 * import { buildThreadWork, formatHashrate, submitParams } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const job = {
 *   jobId: "3", height: 1000, version: 2,
 *   previousHash: new Uint8Array(12), previousKeystone: new Uint8Array(9),
 *   secondKeystone: new Uint8Array(9), popRoot: new Uint8Array(32),
 *   normalRoot: new Uint8Array(32), metapackageHash: new Uint8Array(32),
 *   timestamp: 1_560_000_000, bits: 0x0600e8d4, cleanJobs: true,
 * };
 * const work = buildThreadWork(job, {
 *   generation: 1, sessionId: 1, extranonce: 0x7c000000000f4240n, thread: 1, threads: 2, target: 1n,
 * });
 * assert.equal(submitParams("V.w", work.jobId, { ...work, ntime: job.timestamp, nonce: 7 })[2], "7c000000000f4241");
 * assert.equal(formatHashrate(3.6e6), "3.60 MH/s");
 * ```
 *
 * @module
 */
export * from "./backoff.ts";
export * from "./miner.ts";
export * from "./mining_worker.ts";
export * from "./pool_list.ts";
export * from "./rate_meter.ts";
export * from "./rig_api.ts";
export * from "./status.ts";
export * from "./stratum_session.ts";
export * from "./threads.ts";
export * from "./verify_workload.ts";
export * from "./work.ts";
export * from "./work_loop.ts";
