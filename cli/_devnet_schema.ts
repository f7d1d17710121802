/**
 * The `[devnet]` configuration section (see `config_schema.ts`).
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { parseHostPort } from "../net/mod.ts";

/**
 * Parse a listen address "host:port"; port 0 (any free port) is allowed.
 *
 * @param text The address.
 * @returns Host and port.
 * @throws {SyntaxError} When it is not host:port.
 */
export function parseListen(text: string): { hostname: string; port: number } {
  const zero = /:0+$/.test(text.trim());
  const { hostname, port } = parseHostPort(zero ? text.trim().replace(/:0+$/, ":1") : text);
  return { hostname, port: zero ? 0 : port };
}

/**
 * Check a "host:port" configuration value.
 *
 * @param value The value.
 * @returns What was expected when it is wrong, else `undefined`.
 */
export function checkHostPort(value: unknown): string | undefined {
  try {
    parseListen(String(value));
    return undefined;
  } catch {
    return "host:port, e.g. 127.0.0.1:8501";
  }
}

/** Keys of `[devnet]`. */
export const DEVNET_SCHEMA: SectionSpec = {
  listen: {
    kind: "string",
    default: "127.0.0.1:8501",
    doc: "Address the devnet serves UCP on (NodeCore's pool port is 8501). The server's " +
      "embedded devnet uses a free loopback port unless this is set.",
    check: checkHostPort,
  },
  block_time: {
    kind: "integer",
    default: 10,
    min: 1,
    max: 3600,
    doc: "Target block time in seconds (VeriBlock mainnet: 30).",
  },
  window: {
    kind: "integer",
    default: 100,
    min: 2,
    max: 10000,
    doc: "LWMA retarget window N in blocks (VeriBlock: 100); no retarget below height N.",
  },
  min_difficulty: {
    kind: "integer",
    default: 4_000_000,
    min: 1,
    doc: "Difficulty floor and genesis difficulty (4e6: one CPU thread finds a block in ~2 s).",
  },
  share_difficulty: {
    kind: "integer",
    default: 16_777_216,
    min: 1,
    doc: "Share difficulty of the mining_target sent in jobs (NodeCore CPU pool: 2^24).",
  },
  mempool_interval: {
    kind: "number",
    default: 20,
    min: 0,
    max: 86400,
    doc: "Seconds between simulated-transaction MINING_MEMPOOL_UPDATEs; 0 turns them off.",
  },
  rival_share: {
    kind: "number",
    default: 0,
    min: 0,
    max: 0.95,
    doc:
      "Share of the main chain mined by a simulated rival (real PoW on its own thread); 0 = off.",
  },
  rival_reorg_share: {
    kind: "number",
    default: 0.2,
    min: 0,
    max: 1,
    doc: "Chance the rival withholds a find (selfish mining) to orphan pool blocks with it later.",
  },
  chain_file: {
    kind: "string",
    default: "",
    doc: "JSON-lines file the chain is loaded from and appended to; empty = memory only.",
  },
};
