/**
 * Settings of the pool's UCP port for legacy GPU miners (re-exported by `ucp_port.ts`, which
 * is where to import them from): the port, its share difficulty and its per-connection limits,
 * plus the context a UCP session shares with the rest of the pool.
 *
 * @module
 */

import { parseHostPort } from "../net/line_client.ts";
import type { SharedSessionContext } from "./stratum_server.ts";
import { type PortEdge, PortEdgeWords } from "./port_edge.ts";

/** A UCP port. */
export interface UcpPortOptions extends PortEdge {
  /** Address to bind. */
  hostname: string;
  /** Port to bind (0 picks a free one). */
  port: number;
  /**
   * Share difficulty: every MINING_JOB carries `mining_target` = floor((2^192 − 1) / difficulty),
   * and shares are credited at this difficulty. 2^32 is what NodeCore's CUDA and OpenCL miners
   * report (they ignore `mining_target`); 2^24 is the CPU-pool target the Java miner requires.
   */
  difficulty: bigint;
  /** A SOLO port: blocks found here are credited to their finder alone. @default false */
  solo?: boolean;
}

/** The share difficulty of a UCP port unless configured: 2^32, a GPU miner's share. */
export const DEFAULT_UCP_DIFFICULTY: bigint = 1n << 32n;

const DIFF_RE = /^[1-9]\d{0,57}$/;
const MAX_DIFFICULTY = (1n << 192n) - 1n;

/**
 * Parse a UCP port specification: `HOST:PORT` (port 0 picks a free one), optionally followed
 * by `diff=N`, the port's share difficulty, `solo` (or `solo=on|off`: a SOLO port),
 * `tls cert=FILE key=FILE` (a TLS port) and `proxy_protocol` (a PROXY header first).
 *
 * @example Usage
 * ```ts
 * import { parseUcpPortSpec } from "./_ucp_config.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseUcpPortSpec("0.0.0.0:8501", 1n << 32n), {
 *   hostname: "0.0.0.0",
 *   port: 8501,
 *   difficulty: 4294967296n,
 * });
 * assert.equal(parseUcpPortSpec("127.0.0.1:8502 diff=16777216", 1n << 32n).difficulty, 1n << 24n);
 * assert.equal(parseUcpPortSpec("127.0.0.1:8503 solo", 1n << 32n).solo, true);
 * assert.throws(() => parseUcpPortSpec("127.0.0.1:8501 diff=0", 1n), SyntaxError);
 * ```
 *
 * @param text The specification.
 * @param difficulty The share difficulty when `diff=` is absent.
 * @returns The port's settings.
 * @throws {SyntaxError} When the text is malformed or the difficulty is out of range.
 */
export function parseUcpPortSpec(text: string, difficulty: bigint): UcpPortOptions {
  if (typeof text !== "string") throw new SyntaxError("Cannot parse UCP port: not a string");
  const fail = (why: string): never => {
    throw new SyntaxError(`Cannot parse UCP port ${JSON.stringify(text)}: ${why}`);
  };
  const words = text.trim().split(/\s+/);
  const first = words[0] ?? "";
  let hostname: string;
  let port: number;
  const zero = /^(.+):0$/.exec(first);
  if (zero) {
    hostname = zero[1]!.replace(/^\[(.*)\]$/, "$1");
    port = 0;
  } else {
    try {
      ({ hostname, port } = parseHostPort(first));
    } catch {
      return fail("expected HOST:PORT first");
    }
  }
  let diff = difficulty;
  let solo: boolean | undefined;
  const edge = new PortEdgeWords();
  for (const word of words.slice(1)) {
    if (edge.take(word)) continue;
    if (word === "solo" || word === "solo=on" || word === "solo=off") {
      solo = word !== "solo=off";
      continue;
    }
    if (!word.startsWith("diff=")) fail(`unknown word ${JSON.stringify(word)}`);
    const value = word.slice(5);
    if (!DIFF_RE.test(value)) fail("diff must be a positive integer");
    diff = BigInt(value);
  }
  if (diff < 1n || diff > MAX_DIFFICULTY) fail("the difficulty must be in 1..2^192-1");
  let edgeOptions: PortEdge = {};
  try {
    edgeOptions = edge.finish();
  } catch (err) {
    fail((err as Error).message);
  }
  return {
    hostname,
    port,
    difficulty: diff,
    ...(solo === undefined ? {} : { solo }),
    ...edgeOptions,
  };
}

/** Per-connection protocol limits of a UCP session. */
export interface UcpLimits {
  /** Time from connecting to a successful MINING_AUTH, ms. @default 15000 */
  authorizeTimeoutMs: number;
  /** Time from connecting to a successful MINING_SUBSCRIBE, ms. @default 30000 */
  subscribeTimeoutMs: number;
  /** Time without any line once subscribed, ms. @default 600000 */
  idleTimeoutMs: number;
  /** Malformed or invalid lines (or flood refusals) before the connection is closed. @default 3 */
  maxProtocolErrors: number;
  /** Failed MINING_AUTH attempts before the connection is closed. @default 3 */
  maxAuthFailures: number;
  /** Longest username (`address.worker`) accepted, in characters. @default 128 */
  maxWorkerLength: number;
  /** Submits awaiting their durable record before further submits are refused. @default 256 */
  maxPendingSubmits: number;
  /** Sustained lines per second (token bucket refill). @default 200 */
  requestsPerSecond: number;
  /** Line burst (token bucket size). @default 400 */
  requestBurst: number;
  /**
   * Least time between two messages written to one connection, ms. Legacy miners read with one
   * `recv()` per message (and during setup expect exactly one message per `recv()`), so two
   * messages that reach the miner's socket buffer together lose the second one.
   * 0 writes at once. @default 50
   */
  writeGapMs: number;
  /** Messages waiting for their write gap before the peer counts as too slow. @default 1024 */
  maxQueuedMessages: number;
  /** Jobs remembered per connection (older ones are stale for it). @default 64 */
  maxJobsPerSession: number;
}

/**
 * The default UCP limits.
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_UCP_LIMITS } from "./_ucp_config.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_UCP_LIMITS.writeGapMs, 50);
 * ```
 */
export const DEFAULT_UCP_LIMITS: Readonly<UcpLimits> = {
  authorizeTimeoutMs: 15_000,
  subscribeTimeoutMs: 30_000,
  idleTimeoutMs: 600_000,
  maxProtocolErrors: 3,
  maxAuthFailures: 3,
  maxWorkerLength: 128,
  maxPendingSubmits: 256,
  requestsPerSecond: 200,
  requestBurst: 400,
  writeGapMs: 50,
  maxQueuedMessages: 1024,
  maxJobsPerSession: 64,
};

/**
 * What a UCP session shares with the pool: the Stratum sessions' shared parts (jobs,
 * extranonce allocator, recorder, bans, events, hash, clock, block submission; `limits` gives
 * the share checks' ntime window and duplicate-set bound) plus the UCP port and its limits.
 */
export interface UcpSessionContext extends Omit<SharedSessionContext, "difficulties"> {
  /** The bound port and its share difficulty. */
  readonly ucpPort: UcpPortOptions;
  /** The UCP limits. */
  readonly ucpLimits: UcpLimits;
  /** `mining_target` for the port's difficulty. */
  readonly target: bigint;
  /** The same target as 24 big-endian bytes. */
  readonly targetBytes: Uint8Array;
}
