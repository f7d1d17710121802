/**
 * The `[process]` configuration section: limits of the `vbkpool server` process as a whole —
 * the file-descriptor budget every listener (Stratum, UCP, HTTP API) shares, so that miners'
 * and browsers' sockets never use the descriptors the store and the upstream need (see
 * `net/descriptor_budget.ts`) — and {@linkcode configureDescriptors}, which applies it.
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { logger } from "./log.ts";
import {
  countOpenDescriptors,
  processDescriptors,
  readDescriptorLimit,
} from "../net/descriptor_budget.ts";
import { AddressList, checkAddressList } from "../net/address_list.ts";

/** Keys of `[process]`. */
export const PROCESS_SCHEMA: SectionSpec = {
  descriptor_limit: {
    kind: "integer",
    default: 0,
    min: 0,
    max: 1e9,
    doc: "Descriptors the process may open; 0 = its soft limit (ulimit -n, systemd LimitNOFILE=; " +
      "read from /proc/self/limits on Linux, elsewhere no budget unless set here).",
  },
  descriptor_reserve: {
    kind: "integer",
    default: 64,
    min: 0,
    max: 1e9,
    doc: "Descriptors kept free for the store, the upstream and payouts: every listener closes " +
      "new sockets at once rather than use them.",
  },
  trusted_proxies: {
    kind: "string_list",
    default: [],
    doc: 'Load balancers allowed to send PROXY protocol headers, e.g. ["10.0.0.0/8", ' +
      '"192.0.2.10"] (addresses or CIDR blocks), to the ports marked proxy_protocol ' +
      "(stratum.listen, ucp.listen, api.proxy_protocol); only they may connect to those ports.",
    check: (value) => checkAddressList(value as string[]),
  },
  handshake_timeout_seconds: {
    kind: "number",
    default: 10,
    min: 0.1,
    max: 3600,
    doc: "Time a new connection has for its TLS handshake or its PROXY header before it is " +
      "closed.",
  },
  reuse_port: {
    kind: "boolean",
    default: false,
    doc: "Bind the Stratum, UCP and API ports with SO_REUSEPORT, so that the next version can " +
      "start on the same ports before this one hands its miners over (zero-downtime upgrade, " +
      "see README); both processes need it. With workers, a second supervisor may then start " +
      "beside a running one. Off: a port in use is an error.",
  },
  workers: {
    kind: "integer",
    default: 1,
    min: 1,
    max: 32,
    doc: "Pool processes on the same ports (SO_REUSEPORT), one per core to use: each has its own " +
      "instance id (stratum.instance_id, then one less each), the first serves the API, admin and payouts. " +
      "Needs fixed ports and nodecore.endpoints; with several, PostgreSQL is the better store.",
  },
  handover_window_seconds: {
    kind: "number",
    default: 10,
    min: 0,
    max: 3600,
    doc: "On SIGUSR2 (or vbkpool admin handover) the pool stops accepting and asks its miners " +
      "to reconnect (client.reconnect) spread over this many seconds, then exits.",
  },
};

/** The `[process]` settings every port's edge uses (PROXY protocol, handshake deadline). */
export interface EdgeSettings {
  /** Proxies allowed to send PROXY headers. */
  trustedProxies: AddressList;
  /** Time for a TLS handshake or a PROXY header (ms). */
  handshakeTimeoutMs: number;
}

/**
 * The edge settings of a loaded `[process]` section.
 *
 * @example Usage
 * ```ts
 * import { edgeSettings } from "./_process_schema.ts";
 * import assert from "node:assert/strict";
 *
 * const edge = edgeSettings({ trusted_proxies: ["10.0.0.0/8"], handshake_timeout_seconds: 5 });
 * assert.equal(edge.trustedProxies.has("10.2.3.4"), true);
 * assert.equal(edge.handshakeTimeoutMs, 5000);
 * ```
 *
 * @param p The `[process]` values.
 * @returns The settings.
 */
export function edgeSettings(p: Record<string, unknown>): EdgeSettings {
  return {
    trustedProxies: AddressList.parse((p.trusted_proxies as string[] | undefined) ?? []),
    handshakeTimeoutMs: Math.round(((p.handshake_timeout_seconds as number) ?? 10) * 1000),
  };
}

/** With room for fewer connections than this, the start-up log says so as a warning. */
const LOW_ROOM = 256;

/** The process budget as applied. */
export interface DescriptorSettings {
  /** The limit in use; undefined = none known (no budget). */
  limit: number | undefined;
  /** Descriptors kept free. */
  reserve: number;
}

/**
 * Configure the process-wide descriptor budget from `[process]` and log what it allows. Called
 * by `vbkpool server` before its store and listeners open.
 *
 * @example Usage
 * ```ts
 * import { configureDescriptors } from "./_process_schema.ts";
 * import assert from "node:assert/strict";
 *
 * const applied = configureDescriptors({ descriptor_limit: 100000, descriptor_reserve: 64 });
 * assert.deepEqual(applied, { limit: 100000, reserve: 64 });
 * configureDescriptors({ descriptor_limit: 0, descriptor_reserve: 64 });
 * ```
 *
 * @param p The `[process]` values.
 * @returns The limit and reserve in use.
 */
export function configureDescriptors(p: Record<string, unknown>): DescriptorSettings {
  const log = logger("server");
  const configured = p.descriptor_limit as number;
  const limit = configured > 0 ? configured : readDescriptorLimit();
  const reserve = p.descriptor_reserve as number;
  processDescriptors().configure({ limit, reserve });
  if (limit === undefined) {
    log.info(
      "No descriptor limit known (not Linux, or unlimited): listeners admit every socket; set " +
        "[process] descriptor_limit to keep {reserve} descriptors for the store and upstream",
      { reserve },
    );
    return { limit, reserve };
  }
  const open = countOpenDescriptors() ?? 0;
  const room = Math.max(0, limit - reserve - open);
  const source = configured > 0 ? "process.descriptor_limit" : "ulimit -n";
  const message = "Descriptors: limit {limit} ({source}), {reserve} kept for the store and the " +
    "upstream, room for about {room} miner and HTTP connections";
  if (room < LOW_ROOM) {
    log.warn(message + "; raise it (ulimit -n, systemd LimitNOFILE=) for a public pool", {
      limit,
      source,
      reserve,
      room,
    });
  } else {
    log.info(message, { limit, source, reserve, room });
  }
  return { limit, reserve };
}
