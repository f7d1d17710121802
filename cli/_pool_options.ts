/**
 * Pool options from the `[stratum]` section: the Stratum ports (with the section's difficulty
 * defaults) and the session limits, extranonce and ban settings (`vbkpool server` and its
 * configuration reload).
 *
 * @module
 */
import { ConfigError } from "./config.ts";
import type { PoolOptions } from "../server/pool.ts";
import {
  parsePortSpec,
  type PortDifficulty,
  type StratumPortOptions,
} from "../server/stratum_port.ts";
import { connectionLimits } from "./_port_section.ts";

type Values = Record<string, unknown>;

/**
 * The Stratum ports of a `[stratum]` section.
 *
 * @param s The section's values.
 * @returns One entry per `listen` item.
 * @throws {ConfigError} When a port specification is malformed.
 */
export function stratumPorts(s: Values): StratumPortOptions[] {
  const defaults: PortDifficulty = {
    difficulty: BigInt(s.difficulty as number),
    minDifficulty: BigInt(s.min_difficulty as number),
    maxDifficulty: BigInt(s.max_difficulty as number),
    vardiff: s.vardiff as boolean,
    targetShareSeconds: s.target_share_seconds as number,
    retargetSeconds: s.retarget_seconds as number,
    variancePercent: s.variance_percent as number,
  };
  if (defaults.maxDifficulty < defaults.minDifficulty) {
    throw new ConfigError(
      "Invalid configuration: stratum.max_difficulty is below stratum.min_difficulty",
      "stratum.max_difficulty",
    );
  }
  return (s.listen as string[]).map((spec) => {
    try {
      return parsePortSpec(spec, defaults);
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration value for stratum.listen: ${(err as Error).message}`,
        "stratum.listen",
      );
    }
  });
}

/**
 * Pool options (without the upstream) from a `[stratum]` section.
 *
 * @param s The section's values.
 * @returns Options for `Pool.start`.
 */
export function poolOptions(s: Values): Omit<PoolOptions, "upstream"> {
  const seconds = (key: string) => Math.round((s[key] as number) * 1000);
  return {
    ports: stratumPorts(s),
    connections: connectionLimits(s),
    limits: {
      subscribeTimeoutMs: seconds("subscribe_timeout_seconds"),
      authorizeTimeoutMs: seconds("authorize_timeout_seconds"),
      idleTimeoutMs: seconds("idle_timeout_seconds"),
      silentShareTimes: s.silent_share_times as number,
      silentMinMs: seconds("silent_min_seconds"),
      maxProtocolErrors: s.max_protocol_errors as number,
      requestsPerSecond: s.requests_per_second as number,
      requestBurst: s.request_burst as number,
      ntimeFutureSeconds: s.ntime_future_seconds as number,
      noWorkWaitMs: seconds("no_work_wait_seconds"),
      noWorkGraceMs: seconds("no_work_grace_seconds"),
    },
    extranonce: {
      instanceId: s.instance_id as number,
      rangeSize: BigInt(s.extranonce_range as number),
    },
    bans: {
      enabled: s.ban_enabled as boolean,
      checkThreshold: s.ban_check_threshold as number,
      invalidPercent: s.ban_invalid_percent as number,
      windowSeconds: s.ban_window_seconds as number,
      offences: s.ban_offences as number,
      offenceWindowSeconds: s.ban_offence_window_seconds as number,
      banSeconds: s.ban_seconds as number,
      exemptLoopback: s.exempt_loopback as boolean,
    },
    vardiffTickMs: seconds("vardiff_tick_seconds"),
    updateIntervalMs: seconds("mempool_update_seconds"),
  };
}
