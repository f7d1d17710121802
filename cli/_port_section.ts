/**
 * What the `[stratum]` and `[ucp]` sections share: the field helpers, the connection-limit keys
 * (enforced by `net/` for both kinds of port) and their conversion to `ConnectionLimits`.
 *
 * @module
 */
import type { FieldSpec, SectionSpec } from "./config.ts";
import type { ConnectionLimits } from "../server/stratum_server.ts";

/**
 * An integer key.
 *
 * @example Usage
 * ```ts
 * import { integer } from "./_port_section.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(integer(5, "Five.", 1), { kind: "integer", default: 5, min: 1, doc: "Five." });
 * ```
 *
 * @param def Default.
 * @param doc Documentation line.
 * @param min Smallest value.
 * @param max Largest value (none: unbounded).
 * @returns The field.
 */
export function integer(def: number, doc: string, min = 0, max?: number): FieldSpec {
  return max === undefined
    ? { kind: "integer", default: def, min, doc }
    : { kind: "integer", default: def, min, max, doc };
}

/**
 * A number key.
 *
 * @example Usage
 * ```ts
 * import { number } from "./_port_section.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(number(1.5, "Secs."), { kind: "number", default: 1.5, min: 0, doc: "Secs." });
 * ```
 *
 * @param def Default.
 * @param doc Documentation line.
 * @param min Smallest value.
 * @returns The field.
 */
export function number(def: number, doc: string, min = 0): FieldSpec {
  return { kind: "number", default: def, min, doc };
}

/** The connection-limit keys of a port section. */
export const CONNECTION_FIELDS: SectionSpec = {
  max_line_bytes: integer(16384, "Longest request line in bytes.", 64),
  max_send_queue_bytes: integer(
    262144,
    "Bytes queued for a slow reader before it is disconnected.",
    1024,
  ),
  max_connections: integer(0, "Most connections per port (0 = unlimited)."),
  max_connections_per_ip: integer(256, "Most connections per IP and port (0 = unlimited)."),
  exempt_loopback: {
    kind: "boolean",
    default: true,
    doc: "Loopback peers skip the per-IP cap and bans.",
  },
};

/**
 * The connection limits of a loaded port section.
 *
 * @example Usage
 * ```ts
 * import { connectionLimits } from "./_port_section.ts";
 * import assert from "node:assert/strict";
 *
 * const limits = connectionLimits({
 *   max_line_bytes: 16384, max_send_queue_bytes: 262144, max_connections: 0,
 *   max_connections_per_ip: 256, exempt_loopback: true,
 * });
 * assert.equal(limits.maxConnectionsPerIp, 256);
 * ```
 *
 * @param section The section's values.
 * @returns The limits for the port's line server.
 */
export function connectionLimits(section: Record<string, unknown>): ConnectionLimits {
  return {
    maxLineBytes: section.max_line_bytes as number,
    maxSendQueueBytes: section.max_send_queue_bytes as number,
    maxConnections: section.max_connections as number,
    maxConnectionsPerIp: section.max_connections_per_ip as number,
    exemptLoopback: section.exempt_loopback as boolean,
  };
}
