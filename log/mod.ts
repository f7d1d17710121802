/**
 * Logging helpers shared by every part of the pool: episode logging, which writes an event that
 * clients can trigger at will once, then counts it and summarises it every few seconds, so that
 * no miner, browser or upstream can fill the disk with log lines. Imports nothing of ours; every
 * folder but the pure `hash/` and `protocol/` may import it.
 *
 * @example Usage
 * ```ts
 * import { getLogger } from "@logtape/logtape";
 * import { EpisodeLog } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const episodes = new EpisodeLog(getLogger(["vbkpool", "example"]));
 * episodes.warn("refused", "refused a share of {worker}", { worker: "rig1" });
 * episodes.endAll();
 * assert.equal(episodes.size, 0);
 * ```
 *
 * @module
 */
export * from "./episode_log.ts";
export * from "./alert_events.ts";
