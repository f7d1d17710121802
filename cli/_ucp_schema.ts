/**
 * The `[ucp]` configuration section: the pool's UCP ports for legacy GPU miners (NodeCore's
 * CUDA miner and its OpenCL port), their share difficulty and hardening limits (the same
 * shape as `[stratum]`; invalid-share bans use `[stratum]`'s ban keys, one ban list for every
 * port). Off unless `listen` has an entry.
 *
 * @module
 */
import { ConfigError, type SectionSpec } from "./config.ts";
import { CONNECTION_FIELDS, connectionLimits, integer, number } from "./_port_section.ts";
import {
  DEFAULT_UCP_DIFFICULTY,
  DEFAULT_UCP_LIMITS,
  parseUcpPortSpec,
  type UcpPortOptions,
} from "../server/ucp_port.ts";
import type { PoolUcpOptions } from "../server/pool.ts";

type Values = Record<string, unknown>;

function checkPorts(value: unknown): string | undefined {
  for (const spec of value as string[]) {
    try {
      parseUcpPortSpec(spec, DEFAULT_UCP_DIFFICULTY);
    } catch (err) {
      return `HOST:PORT [diff=N] [solo] [tls cert=FILE key=FILE] [proxy_protocol] (${
        err instanceof Error ? err.message : String(err)
      })`;
    }
  }
  return undefined;
}

/** Keys of `[ucp]`. */
export const UCP_SCHEMA: SectionSpec = {
  listen: {
    kind: "string_list",
    default: [],
    doc: 'UCP ports for legacy GPU miners, e.g. ["0.0.0.0:8501"] ("HOST:PORT", optionally ' +
      "with diff=N, solo (a SOLO port), tls cert=FILE key=FILE and proxy_protocol as in " +
      "stratum.listen); empty = no UCP port.",
    check: checkPorts,
  },
  difficulty: integer(
    Number(DEFAULT_UCP_DIFFICULTY),
    "Share difficulty (mining_target); 4294967296 (2^32) is what the CUDA/OpenCL miners " +
      "report, 16777216 (2^24) the CPU-pool target the Java miner requires.",
    1,
  ),
  write_gap_ms: integer(
    DEFAULT_UCP_LIMITS.writeGapMs,
    "Least milliseconds between two messages to one miner (legacy miners read one message " +
      "per recv); 0 = no pacing.",
    0,
    10_000,
  ),
  ...CONNECTION_FIELDS,
  authorize_timeout_seconds: number(
    DEFAULT_UCP_LIMITS.authorizeTimeoutMs / 1000,
    "Time from connecting to a successful MINING_AUTH.",
    0.001,
  ),
  subscribe_timeout_seconds: number(
    DEFAULT_UCP_LIMITS.subscribeTimeoutMs / 1000,
    "Time from connecting to a successful MINING_SUBSCRIBE.",
    0.001,
  ),
  idle_timeout_seconds: number(
    DEFAULT_UCP_LIMITS.idleTimeoutMs / 1000,
    "Time without any message once mining (a slow GPU sends only shares).",
    0.001,
  ),
  max_protocol_errors: integer(
    DEFAULT_UCP_LIMITS.maxProtocolErrors,
    "Malformed messages or flood refusals before a connection is closed.",
    1,
  ),
  requests_per_second: number(
    DEFAULT_UCP_LIMITS.requestsPerSecond,
    "Sustained messages per second per connection.",
    0.001,
  ),
  request_burst: integer(DEFAULT_UCP_LIMITS.requestBurst, "Message burst per connection.", 1),
};

/**
 * The pool's UCP options from a `[ucp]` section, or undefined when it lists no port.
 *
 * @example Usage
 * ```ts
 * import { ucpOptions } from "./_ucp_schema.ts";
 * import assert from "node:assert/strict";
 *
 * const values = {
 *   listen: ["127.0.0.1:8501"], difficulty: 65536, write_gap_ms: 50, max_line_bytes: 16384,
 *   max_send_queue_bytes: 262144, max_connections: 0, max_connections_per_ip: 256,
 *   exempt_loopback: true, authorize_timeout_seconds: 15, subscribe_timeout_seconds: 30,
 *   idle_timeout_seconds: 600, max_protocol_errors: 3, requests_per_second: 200,
 *   request_burst: 400,
 * };
 * const ucp = ucpOptions(values)!;
 * assert.equal(ucp.ports[0]!.port, 8501);
 * assert.equal(ucp.ports[0]!.difficulty, 65536n);
 * assert.equal(ucp.limits?.authorizeTimeoutMs, 15000);
 * assert.equal(ucpOptions({ ...values, listen: [] }), undefined);
 * ```
 *
 * @param u The section's values.
 * @returns Options for `Pool.start`'s `ucp`, or undefined.
 * @throws {ConfigError} When a port specification is malformed.
 */
export function ucpOptions(u: Values): PoolUcpOptions | undefined {
  const listen = u.listen as string[];
  if (listen.length === 0) return undefined;
  const difficulty = BigInt(u.difficulty as number);
  const ports: UcpPortOptions[] = listen.map((spec) => {
    try {
      return parseUcpPortSpec(spec, difficulty);
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration value for ucp.listen: ${(err as Error).message}`,
        "ucp.listen",
      );
    }
  });
  const ms = (key: string) => Math.round((u[key] as number) * 1000);
  return {
    ports,
    connections: connectionLimits(u),
    limits: {
      writeGapMs: u.write_gap_ms as number,
      authorizeTimeoutMs: ms("authorize_timeout_seconds"),
      subscribeTimeoutMs: ms("subscribe_timeout_seconds"),
      idleTimeoutMs: ms("idle_timeout_seconds"),
      maxProtocolErrors: u.max_protocol_errors as number,
      requestsPerSecond: u.requests_per_second as number,
      requestBurst: u.request_burst as number,
    },
  };
}
