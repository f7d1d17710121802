/**
 * Every configuration section and key of vbkpool, with defaults and descriptions. The committed
 * `vbkpool.example.toml` is rendered from this table (`deno task gen:example`).
 *
 * @module
 */
import type { ConfigSchema } from "./config.ts";
import { LOG_FORMATS, LOG_LEVELS } from "./log.ts";
import { ADMIN_SCHEMA } from "./_admin_schema.ts";
import { ALERTS_SCHEMA } from "./_alerts_schema.ts";
import { API_SCHEMA } from "./_api_schema.ts";
import { DEVNET_SCHEMA, parseListen } from "./_devnet_schema.ts";
import { NODECORE_SCHEMA } from "./_nodecore_schema.ts";
import { PROCESS_SCHEMA } from "./_process_schema.ts";
import { DEVNET_WALLET_SCHEMA, PAYOUTS_SCHEMA, WALLET_SCHEMA } from "./_payouts_schema.ts";
import { STORE_SCHEMA } from "./_store_schema.ts";
import { STRATUM_SCHEMA } from "./_stratum_schema.ts";
import { UCP_SCHEMA } from "./_ucp_schema.ts";

/**
 * The rig API address: `HOST:PORT`, or a port alone for loopback.
 *
 * @example Usage
 * ```ts
 * import { parseRigListen } from "./config_schema.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseRigListen("4068"), { hostname: "127.0.0.1", port: 4068 });
 * assert.deepEqual(parseRigListen("0.0.0.0:4068"), { hostname: "0.0.0.0", port: 4068 });
 * ```
 *
 * @param text The setting.
 * @returns Host and port.
 * @throws {SyntaxError} When it is neither.
 */
export function parseRigListen(text: string): { hostname: string; port: number } {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const port = Number(t);
    if (port > 65535) throw new SyntaxError(`port ${t} is not in 0..65535`);
    return { hostname: "127.0.0.1", port };
  }
  return parseListen(t);
}

function checkRigListen(value: unknown): string | undefined {
  if (String(value).trim() === "") return undefined;
  try {
    parseRigListen(String(value));
    return undefined;
  } catch {
    return 'HOST:PORT or PORT, e.g. "127.0.0.1:4068" or "4068" (empty: off)';
  }
}

/** Short descriptions of each section, used in the example file. */
export const SECTION_DOCS: Record<string, string> = {
  admin: "The operator's listener of vbkpool server and its client vbkpool admin (off by default).",
  alerts: "Webhooks for operators (vbkpool server and payouts): blocks, payments, upstream, " +
    "store, hash rate. See docs/operations.md for the events and how to verify signatures.",
  api: "The pool's HTTP server (vbkpool server): JSON API, live dashboard, Prometheus metrics.",
  log: "Logging (always to stderr).",
  mine: "The miner (vbkpool mine): pools, worker name, threads, timeouts.",
  devnet: "The embedded devnet (`vbkpool devnet`, and `server` when [nodecore] has no endpoints).",
  nodecore: "The pool's NodeCore connection (UCP). No endpoints = an embedded devnet.",
  process: "The vbkpool server process as a whole: descriptors kept for the store and upstream, " +
    "trusted PROXY-protocol senders, the TLS/PROXY handshake deadline, port sharing and the " +
    "hand-over of a zero-downtime upgrade.",
  payouts:
    "The payout service (vbkpool payouts, or in-process with enabled): confirmations, PPLNS, fees, payments.",
  wallet: "NodeCore's HTTP JSON-RPC API, used by the payout service (the devnet serves it too).",
  store: "Where the pool keeps shares, blocks and worker state: SQLite (default) or PostgreSQL.",
  stratum:
    "The pool's Stratum ports (vbkpool server): difficulty, vardiff, extranonces, limits, bans.",
  ucp:
    "The pool's UCP ports for legacy GPU miners (NodeCore's CUDA/OpenCL miners); off by default.",
};

/** The configuration schema. */
export const SCHEMA: ConfigSchema = {
  log: {
    level: {
      kind: "string",
      default: "info",
      choices: LOG_LEVELS,
      doc: "Lowest level written: trace, debug, info, warning, error, fatal.",
    },
    format: {
      kind: "string",
      default: "pretty",
      choices: LOG_FORMATS,
      doc: "pretty (human-readable text) or json (one JSON object per line).",
    },
    summary_seconds: {
      kind: "number",
      default: 10,
      min: 1,
      max: 3600,
      doc: "A line that miners, browsers or NodeCore can repeat at will (a refused share, a " +
        "bad request, a failed upstream attempt) is logged once, then counted: one summary " +
        "with the count every this many seconds while it goes on, one line when it ends.",
    },
  },
  devnet: { ...DEVNET_SCHEMA, ...DEVNET_WALLET_SCHEMA },
  nodecore: NODECORE_SCHEMA,
  payouts: PAYOUTS_SCHEMA,
  wallet: WALLET_SCHEMA,
  store: STORE_SCHEMA,
  stratum: STRATUM_SCHEMA,
  api: API_SCHEMA,
  admin: ADMIN_SCHEMA,
  ucp: UCP_SCHEMA,
  process: PROCESS_SCHEMA,
  alerts: ALERTS_SCHEMA,
  mine: {
    pools: {
      kind: "string_list",
      default: [],
      doc: 'Pools in order of preference, e.g. ["stratum+tcp://127.0.0.1:3333"]; TLS: ' +
        '"stratum+ssl://HOST:PORT", optionally "#sha256=HEX" (pin the certificate\'s SHA-256 ' +
        'fingerprint) and/or "#ca=FILE" (trust a self-signed certificate), joined by &.',
    },
    user: {
      kind: "string",
      default: "",
      doc: "Worker name: a VeriBlock address, optionally followed by .WORKER.",
    },
    password: { kind: "string", default: "", doc: "Password sent with mining.authorize." },
    threads: {
      kind: "integer",
      default: 0,
      min: 0,
      max: 256,
      doc: "CPU mining threads; 0 means one per CPU core (none with gpu = true).",
    },
    kernel: {
      kind: "string",
      default: "auto",
      choices: ["auto", "wasm-simd", "wasm", "ts"],
      doc: "vBlake kernel: auto (fastest that passes its self-test), wasm-simd, wasm or ts.",
    },
    gpu: {
      kind: "boolean",
      default: false,
      doc: "Also mine on the GPU (WebGPU); with threads = 0, on the GPU alone.",
    },
    gpu_batch: {
      kind: "integer",
      default: 0,
      min: 0,
      max: 2147483648,
      doc: "Nonces per GPU dispatch; 0 tunes the batch toward ~75 ms per dispatch.",
    },
    split: {
      kind: "string",
      default: "extranonce",
      choices: ["extranonce", "nonce"],
      doc: "Search split: extranonce (thread i uses the pool's extranonce + i) or nonce.",
    },
    default_difficulty: {
      kind: "integer",
      default: 1048576,
      min: 1,
      doc: "Share difficulty until the pool sends mining.set_difficulty.",
    },
    quiet: { kind: "boolean", default: false, doc: "No live status line or status log lines." },
    status_interval: {
      kind: "number",
      default: 30,
      min: 1,
      max: 86400,
      doc: "Seconds between status log lines when stdout is not a terminal.",
    },
    connect_timeout: {
      kind: "number",
      default: 10,
      min: 0.1,
      max: 600,
      doc: "Seconds to connect and to get subscribe/authorize replies.",
    },
    submit_timeout: {
      kind: "number",
      default: 30,
      min: 0.1,
      max: 3600,
      doc: "Seconds without a reply to a submit before the pool counts as dead.",
    },
    first_job_timeout: {
      kind: "number",
      default: 30,
      min: 0.1,
      max: 86400,
      doc: "Seconds after connecting without a first job before the pool counts as dead (a " +
        "pool with no work) and the next pool is tried.",
    },
    job_timeout: {
      kind: "number",
      default: 180,
      min: 1,
      max: 86400,
      doc: "Seconds without a new job while mining before the pool counts as dead (a block " +
        "comes every 30 s on average; a 180 s gap about once in 400 blocks).",
    },
    failback_interval: {
      kind: "number",
      default: 60,
      min: 0.1,
      max: 86400,
      doc: "Seconds between probes of a preferred pool while mining on a fallback.",
    },
    backoff_min: {
      kind: "number",
      default: 1,
      min: 0.01,
      max: 3600,
      doc: "First reconnect delay in seconds (doubles per failure, with jitter).",
    },
    backoff_max: {
      kind: "number",
      default: 60,
      min: 0.01,
      max: 86400,
      doc: "Largest reconnect delay in seconds.",
    },
    hashrate_window: {
      kind: "number",
      default: 30,
      min: 1,
      max: 3600,
      doc: "Seconds over which the summary's per-thread rates (threadHashrates in --json) are " +
        "averaged; the status line shows 10 s / 60 s / 15 min rates.",
    },
    thread_rates: {
      kind: "boolean",
      default: false,
      doc: "Also show each thread's 10 s hash rate (MH/s) in the status line.",
    },
    api_listen: {
      kind: "string",
      default: "",
      doc: "Rig API (read-only JSON for rig monitors) on HOST:PORT, or PORT alone for " +
        "127.0.0.1:PORT; empty = off.",
      check: checkRigListen,
    },
    api_token: {
      kind: "string",
      default: "",
      doc: "Bearer token the rig API requires (best set as VBKPOOL_MINE_API_TOKEN or through " +
        "api_token_file); empty = none.",
    },
    api_token_file: {
      kind: "string",
      default: "",
      doc: "File holding the rig API's bearer token (its first line); overrides api_token.",
    },
  },
};

/** Options for {@linkcode schemaKeys}. */
export interface SchemaKeysOptions {
  /** Only these keys of the section. */
  only?: readonly string[];
  /** Every key of the section but these. */
  except?: readonly string[];
}

/**
 * Some keys of one section as `section.key` names, for a command that reads only part of it
 * (`Command.sections`).
 *
 * @example Usage
 * ```ts
 * import { schemaKeys } from "./config_schema.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(schemaKeys("wallet", { except: ["url"] }), [
 *   "wallet.password",
 *   "wallet.timeout_seconds",
 * ]);
 * ```
 *
 * @param section The section.
 * @param options Which keys.
 * @returns The names, in the schema's order.
 * @throws {RangeError} When the section or a key named in `only`/`except` does not exist.
 */
export function schemaKeys(section: string, options: SchemaKeysOptions = {}): string[] {
  const spec = SCHEMA[section];
  if (spec === undefined) throw new RangeError(`Cannot select keys: no section [${section}]`);
  for (const key of [...options.only ?? [], ...options.except ?? []]) {
    if (!(key in spec)) throw new RangeError(`Cannot select keys: no key ${section}.${key}`);
  }
  return Object.keys(spec)
    .filter((k) => options.only === undefined || options.only.includes(k))
    .filter((k) => !options.except?.includes(k))
    .map((k) => `${section}.${k}`);
}

/**
 * Every `section.key` a list of sections and keys (as in `Command.sections`) stands for, each
 * once, in the list's order; unknown names are skipped.
 *
 * @example Usage
 * ```ts
 * import { expandKeys } from "./config_schema.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(expandKeys(["log", "nodecore.address", "log.level"]), [
 *   "log.level",
 *   "log.format",
 *   "log.summary_seconds",
 *   "nodecore.address",
 * ]);
 * ```
 *
 * @param entries Sections (`"stratum"`) and keys (`"nodecore.address"`).
 * @returns The keys.
 */
export function expandKeys(entries: readonly string[]): string[] {
  const out = new Set<string>();
  for (const entry of entries) {
    const [section, key] = entry.split(".", 2) as [string, string | undefined];
    const spec = SCHEMA[section];
    if (spec === undefined) continue;
    if (key === undefined) {
      for (const k of Object.keys(spec)) out.add(`${section}.${k}`);
    } else if (key in spec) out.add(entry);
  }
  return [...out];
}
