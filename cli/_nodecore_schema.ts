/**
 * The `[nodecore]` configuration section: the pool's UCP upstream (see `config_schema.ts` and
 * `server/upstream.ts`).
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { isValidAddress } from "../hash/address.ts";
import { checkHostPort } from "./_devnet_schema.ts";

/** Keys of `[nodecore]`. */
export const NODECORE_SCHEMA: SectionSpec = {
  endpoints: {
    kind: "string_list",
    default: [],
    doc: "NodeCore UCP endpoints host:port, most preferred first; empty = embedded devnet.",
    check: (value) =>
      (value as string[]).every((e) => checkHostPort(e) === undefined)
        ? undefined
        : 'a list of host:port, e.g. ["127.0.0.1:8501"]',
  },
  address: {
    kind: "string",
    default: "",
    doc: "The pool's VBK address, sent as the MINING_AUTH username (NodeCore's solo pool).",
    check: (value) =>
      value === "" || isValidAddress(value as string) ? undefined : "a valid VBK address",
  },
  password: {
    kind: "string",
    default: "",
    doc: "MINING_AUTH password.",
  },
  update_frequency_ms: {
    kind: "integer",
    default: 5000,
    min: 0,
    max: 2147483647,
    doc: "update_frequency_ms sent in MINING_SUBSCRIBE.",
  },
  connect_timeout_ms: {
    kind: "integer",
    default: 5000,
    min: 1,
    doc: "TCP connect timeout.",
  },
  handshake_timeout_ms: {
    kind: "integer",
    default: 15000,
    min: 1,
    doc: "Time from connect to NodeCore's first MINING_JOB.",
  },
  job_timeout_ms: {
    kind: "integer",
    default: 300000,
    min: 1,
    doc: "A connection with no MINING_JOB or MEMPOOL_UPDATE for this long is treated as dead.",
  },
  submit_timeout_ms: {
    kind: "integer",
    default: 15000,
    min: 1,
    doc: "How long a block submit waits for MINING_SUBMIT_SUCCESS/FAILURE.",
  },
  backoff_min_ms: {
    kind: "integer",
    default: 500,
    min: 1,
    doc: "First reconnect delay (doubles per failed attempt, with jitter).",
  },
  backoff_max_ms: {
    kind: "integer",
    default: 30000,
    min: 1,
    doc: "Longest reconnect delay.",
  },
  failback_interval_ms: {
    kind: "integer",
    default: 30000,
    min: 100,
    doc: "How often preferred endpoints are probed while on a fallback.",
  },
};
