/**
 * The `[stratum]` configuration section: the pool's Stratum ports, difficulty and vardiff,
 * extranonce allocation and hardening limits (see `config_schema.ts` and `cli/server.ts`).
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { CONNECTION_FIELDS, integer, number } from "./_port_section.ts";
import { DEFAULT_PORT_DIFFICULTY, parsePortSpec } from "../server/stratum_port.ts";

function checkPorts(value: unknown): string | undefined {
  const list = value as string[];
  if (list.length === 0) return "at least one HOST:PORT";
  for (const spec of list) {
    try {
      parsePortSpec(spec, DEFAULT_PORT_DIFFICULTY);
    } catch (err) {
      return `HOST:PORT [diff=N] [min=N] [max=N] [vardiff=on|off] [target=S] [solo] ` +
        `[tls cert=FILE key=FILE] [proxy_protocol] (${
          err instanceof Error ? err.message : String(err)
        })`;
    }
  }
  return undefined;
}

/** Keys of `[stratum]`. */
export const STRATUM_SCHEMA: SectionSpec = {
  listen: {
    kind: "string_list",
    default: ["127.0.0.1:3333"],
    doc: 'Stratum ports: "HOST:PORT", optionally with words diff=N min=N max=N vardiff=on|off ' +
      "target=S that override the keys below for that port, solo (a SOLO port: each block " +
      "found there is credited to its finder alone, after payouts.solo_fees), tls cert=FILE " +
      "key=FILE (a TLS port, stratum+ssl://; SIGHUP reloads the files) and proxy_protocol (each " +
      "connection starts with a PROXY v1/v2 header from one of process.trusted_proxies).",
    check: checkPorts,
  },
  difficulty: integer(Number(DEFAULT_PORT_DIFFICULTY.difficulty), "Start share difficulty.", 1),
  min_difficulty: integer(
    Number(DEFAULT_PORT_DIFFICULTY.minDifficulty),
    "Lowest share difficulty (vardiff, d=N, suggest_difficulty).",
    1,
  ),
  max_difficulty: integer(
    Number(DEFAULT_PORT_DIFFICULTY.maxDifficulty),
    "Highest share difficulty (vardiff also never goes above the network difficulty).",
    1,
  ),
  vardiff: { kind: "boolean", default: true, doc: "Adjust each miner's share difficulty." },
  target_share_seconds: number(10, "Vardiff: desired seconds between shares.", 0.001),
  retarget_seconds: number(10, "Vardiff: minimum seconds between two changes."),
  variance_percent: {
    kind: "number",
    default: 30,
    min: 0,
    max: 99,
    doc: "Vardiff: no change while the share time is within this % of the target.",
  },
  vardiff_tick_seconds: number(
    5,
    "How often vardiff re-checks every miner (lowers miners gone quiet); 0 = never.",
  ),
  instance_id: integer(31, "Pool instance id, the top bits of every extranonce (0..31).", 0, 31),
  extranonce_range: integer(1_000_000, "Extranonce values owned by each connection.", 1),
  instance_lease_seconds: number(
    15,
    "The server holds its instance_id in the store (renewed every third of this): a second " +
      "server with the same id on the same database is refused; after a crash, a restart on " +
      "the same host takes it at once, one on another host waits up to this long for the " +
      "old lease to run out.",
    1,
  ),
  ...CONNECTION_FIELDS,
  subscribe_timeout_seconds: number(15, "Time from connecting to mining.subscribe.", 0.001),
  authorize_timeout_seconds: number(60, "Time from connecting to mining.authorize.", 0.001),
  idle_timeout_seconds: number(600, "Time without any request once mining.", 0.001),
  silent_share_times: number(
    18,
    "With vardiff, a miner that sends nothing (no share, no request) for this many target " +
      "share times is closed (at least silent_min_seconds, at most idle_timeout_seconds); " +
      "vardiff lowers a slow miner first (after ~11) and each lower difficulty restarts the " +
      "count. 0 = idle_timeout_seconds only.",
  ),
  silent_min_seconds: number(60, "The least time a silent miner is given (silent_share_times)."),
  max_protocol_errors: integer(
    3,
    "Malformed requests or flood refusals before a connection is closed.",
    1,
  ),
  requests_per_second: number(200, "Sustained requests per second per connection.", 0.001),
  request_burst: integer(400, "Request burst per connection.", 1),
  ntime_future_seconds: integer(300, "How far a share's ntime may be ahead of the clock."),
  no_work_wait_seconds: number(
    5,
    "With no job from NodeCore for this long, a new miner's subscribe is refused (error 20 " +
      '"No work available"; UCP: MINING_SUBSCRIBE_FAILURE) and closed, so that it fails over.',
    0.1,
  ),
  no_work_grace_seconds: number(
    30,
    "With no job from NodeCore for this long, miners that had work are sent client.reconnect " +
      "and closed (UCP miners are closed), so that they fail over.",
    0.1,
  ),
  mempool_update_seconds: {
    kind: "number",
    default: 1,
    min: 0,
    max: 3600,
    doc: "Least time between two jobs of the same block sent to the miners (a new transaction " +
      "set from NodeCore); one that comes sooner waits, replaced by any newer one. New blocks " +
      "are always sent at once. 0 = every update at once.",
  },
  ban_enabled: {
    kind: "boolean",
    default: true,
    doc: "Close connections with a high invalid-share ratio; ban IPs that repeat offences.",
  },
  ban_check_threshold: integer(100, "Submits on one connection before its ratio is judged.", 1),
  ban_invalid_percent: {
    kind: "number",
    default: 50,
    min: 0,
    max: 100,
    doc: "Invalid share (in %) at which a connection is closed as an offending one.",
  },
  ban_window_seconds: number(600, "Window over which a connection's submits are counted.", 1),
  ban_offences: integer(
    3,
    "Connections from one IP closed for offences (invalid shares, bad requests, floods, " +
      "failed authorizations) within ban_offence_window_seconds that ban the IP.",
    1,
  ),
  ban_offence_window_seconds: number(600, "Window over which an IP's offences are counted.", 1),
  ban_seconds: number(600, "Ban length.", 1),
  ban_sync_seconds: {
    kind: "number",
    default: 5,
    min: 0,
    max: 3600,
    // A read of the store every millisecond is no setting; 0 is the way to turn it off.
    check: (value) =>
      value !== 0 && (value as number) < 0.5 ? "0 (off), or at least 0.5 seconds" : undefined,
    doc: "IP bans are kept in the store and read again this often, so that they outlive a " +
      "restart or a hand-over and hold for every pool process on the store; 0 = each process " +
      "keeps its bans in memory only (else at least 0.5).",
  },
  stats_interval_seconds: number(60, "Seconds between pool status log lines; 0 = none."),
};
