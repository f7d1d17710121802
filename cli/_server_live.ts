/**
 * The live handlers of `vbkpool server` (see `_reload.ts`): which configuration keys a reload
 * applies to the running pool, and how. Every key not listed here needs a restart (ports,
 * store, NodeCore endpoints, instance id, extranonce range, …).
 *
 * @module
 */
import type { ConfigValues } from "./config.ts";
import { type LogFormat, setupLogging } from "./log.ts";
import type { LogLevel } from "@logtape/logtape";
import type { LiveHandler } from "./_reload.ts";
import type { Pool, PoolLiveSettings } from "../server/pool.ts";
import { connectionLimits } from "./_port_section.ts";
import { poolOptions, stratumPorts } from "./_pool_options.ts";
import { pauseReadsAt } from "./_store_schema.ts";

/** `[stratum]` keys a reload applies to the running pool. */
export const LIVE_STRATUM_KEYS: readonly string[] = [
  "difficulty",
  "min_difficulty",
  "max_difficulty",
  "vardiff",
  "target_share_seconds",
  "retarget_seconds",
  "variance_percent",
  "max_line_bytes",
  "max_send_queue_bytes",
  "max_connections",
  "max_connections_per_ip",
  "exempt_loopback",
  "subscribe_timeout_seconds",
  "authorize_timeout_seconds",
  "idle_timeout_seconds",
  "silent_share_times",
  "silent_min_seconds",
  "max_protocol_errors",
  "requests_per_second",
  "request_burst",
  "ntime_future_seconds",
  "ban_enabled",
  "ban_check_threshold",
  "ban_invalid_percent",
  "ban_window_seconds",
  "ban_offences",
  "ban_offence_window_seconds",
  "ban_seconds",
  "mempool_update_seconds",
].map((k) => `stratum.${k}`);

/** `[ucp]` keys a reload applies (the connection caps of the UCP ports). */
export const LIVE_UCP_KEYS: readonly string[] = [
  "max_line_bytes",
  "max_send_queue_bytes",
  "max_connections",
  "max_connections_per_ip",
  "exempt_loopback",
].map((k) => `ucp.${k}`);

/**
 * What a reload changes in the pool, from the new values (the port addresses stay as bound).
 *
 * @param values The configuration from now on.
 * @returns The pool's live settings.
 * @throws {ConfigError} When the settings do not fit together (max below min).
 */
export function poolLiveSettings(values: ConfigValues): PoolLiveSettings {
  const s = values.stratum!;
  const options = poolOptions(s);
  return {
    ports: stratumPorts(s),
    connections: connectionLimits(s),
    ...(values.ucp === undefined ? {} : { ucpConnections: connectionLimits(values.ucp) }),
    limits: options.limits!,
    bans: options.bans!,
    pauseReadsAt: pauseReadsAt(values),
    updateIntervalMs: options.updateIntervalMs!,
  };
}

/**
 * The handler of the pool's difficulty, vardiff, limits and bans.
 *
 * @param pool The running pool.
 * @returns The handler.
 */
export function poolHandler(pool: Pool): LiveHandler {
  return {
    name: "pool",
    keys: [...LIVE_STRATUM_KEYS, ...LIVE_UCP_KEYS, "store.pause_reads_at"],
    check: (change) => void poolLiveSettings(change.next),
    apply: (change) => pool.configure(poolLiveSettings(change.next)),
  };
}

/**
 * The handler of `[log]`: level, format and summary period apply to the next line.
 *
 * @param options Where lines go (tests), else stderr.
 * @returns The handler.
 */
export function logHandler(options: { write?: (line: string) => void } = {}): LiveHandler {
  return {
    name: "log",
    keys: ["log"],
    apply: (change) => {
      const log = change.next.log!;
      setupLogging({
        level: log.level as LogLevel,
        format: log.format as LogFormat,
        summarySeconds: log.summary_seconds as number,
        ...options,
      });
    },
  };
}
