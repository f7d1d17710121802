/**
 * The miner's rig API: read-only JSON for rig monitors (hash rates over 10 s / 60 s / 15 min,
 * per thread and GPU, shares, the current pool, uptime, kernel, version), served by `net/`'s
 * strict HTTP server with small caps, loopback by default, optionally behind a bearer token.
 *
 * - `GET /api/summary` — everything below in one document;
 * - `GET /api/threads` — the per-thread rates only;
 * - other paths: 404, other methods: 405, a missing or wrong token: 401 (all JSON errors).
 *
 * @module
 */
import { HttpServer, type HttpServerStats } from "../net/http_server.ts";
import type { HashRates, MinerStats } from "./miner.ts";

/** Options for {@linkcode RigApi.listen}. */
export interface RigApiOptions {
  /** Address to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** The statistics to serve (called per request). */
  stats: () => MinerStats;
  /** Program version, shown in every answer. */
  version: string;
  /** The configured pools, in order of preference. @default [] */
  pools?: readonly string[];
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Most connections at once. @default 16 */
  maxConnections?: number;
  /** Longest request head, bytes (over it: 431). @default 4096 */
  maxHeadBytes?: number;
}

/** Rates rounded to whole H/s, keyed like xmrig's windows. */
export interface RigRates {
  /** Over 10 s. */
  "10s": number;
  /** Over 60 s. */
  "60s": number;
  /** Over 15 min (the time so far while less has passed). */
  "15m": number;
}

/** One thread's line of {@linkcode RigSummary.threads}. */
export interface RigThread {
  /** Thread index (the GPU slot is last). */
  index: number;
  /** Its kernel: "wasm-simd", "wasm", "ts" or "webgpu". */
  kernel: string;
  /** Its rates, H/s. */
  hashrate: RigRates;
}

/** The document of `GET /api/summary`. */
export interface RigSummary {
  /** vbkpool's version. */
  version: string;
  /** Seconds since the miner started. */
  uptimeSeconds: number;
  /** The kernels in use, distinct, comma-separated ("wasm-simd" or "wasm-simd, webgpu"). */
  kernel: string;
  /** Whether mining is paused (hotkey `p`). */
  paused: boolean;
  /** Total rates, H/s. */
  hashrate: RigRates;
  /** Hashes tried since start. */
  hashes: number;
  /** Per-thread rates. */
  threads: RigThread[];
  /** The GPU slot, when one mines. */
  gpu: { adapter: string | null; hashrate: RigRates } | null;
  /** The pool in use (null while not connected). */
  pool: {
    url: string;
    index: number | null;
    difficulty: string | null;
    job: { id: string; height: number } | null;
  } | null;
  /** The configured pools, in order of preference. */
  pools: string[];
  /** Successful connections so far. */
  connections: number;
  /** Share counts, latency and the latest rejections. */
  shares: {
    accepted: number;
    rejected: number;
    stale: number;
    lost: number;
    blocks: number;
    rejectReasons: Record<string, number>;
    lastRejections: { reason: string; at: string }[];
    latencyMs: { samples: number; p50: number; max: number };
  };
}

function rates(r: HashRates): RigRates {
  return { "10s": Math.round(r.s10), "60s": Math.round(r.s60), "15m": Math.round(r.m15) };
}

/**
 * The rig API document for a statistics snapshot.
 *
 * @example Usage
 * ```ts
 * import { rigSummary } from "./rig_api.ts";
 * import assert from "node:assert/strict";
 *
 * const r = { s10: 3.6e6, s60: 3.5e6, m15: 3.4e6 };
 * const doc = rigSummary({
 *   startedAt: 0, uptimeMs: 65_000, kernels: ["wasm-simd"], pool: "stratum+tcp://127.0.0.1:3333",
 *   poolIndex: 0, difficulty: 65536n, job: { id: "7", height: 12 }, hashrate: 3.6e6,
 *   threadHashrates: [3.6e6], hashes: 1000, accepted: 10, rejected: 0, stale: 0, lost: 0,
 *   blocks: 0, rejectReasons: {}, connections: 1, jobSwitchMs: [], rates: r, threadRates: [r],
 *   paused: false, latency: { samples: 10, p50Ms: 2, maxMs: 9 }, lastRejections: [],
 * }, { version: "1.0.0", pools: ["stratum+tcp://127.0.0.1:3333"] });
 * assert.equal(doc.hashrate["10s"], 3_600_000);
 * assert.equal(doc.pool?.difficulty, "65536");
 * assert.equal(doc.gpu, null);
 * ```
 *
 * @param stats A statistics snapshot.
 * @param info Version and configured pools.
 * @returns The document.
 */
export function rigSummary(
  stats: MinerStats,
  info: { version: string; pools?: readonly string[] },
): RigSummary {
  const threads = stats.threadRates.map((r, index) => ({
    index,
    kernel: stats.kernels[index] ?? "unknown",
    hashrate: rates(r),
  }));
  const gpu = threads.find((t) => t.kernel === "webgpu");
  return {
    version: info.version,
    uptimeSeconds: Math.floor(stats.uptimeMs / 1000),
    kernel: [...new Set(stats.kernels)].join(", "),
    paused: stats.paused,
    hashrate: rates(stats.rates),
    hashes: stats.hashes,
    threads,
    gpu: gpu ? { adapter: stats.gpuAdapter ?? null, hashrate: gpu.hashrate } : null,
    pool: stats.pool === undefined ? null : {
      url: stats.pool,
      index: stats.poolIndex ?? null,
      difficulty: stats.difficulty?.toString() ?? null,
      job: stats.job ?? null,
    },
    pools: [...(info.pools ?? [])],
    connections: stats.connections,
    shares: {
      accepted: stats.accepted,
      rejected: stats.rejected,
      stale: stats.stale,
      lost: stats.lost,
      blocks: stats.blocks,
      rejectReasons: { ...stats.rejectReasons },
      lastRejections: stats.lastRejections.map((r) => ({
        reason: r.reason,
        at: new Date(r.at).toISOString(),
      })),
      latencyMs: {
        samples: stats.latency.samples,
        p50: Math.round(stats.latency.p50Ms * 10) / 10,
        max: Math.round(stats.latency.maxMs * 10) / 10,
      },
    },
  };
}

const ENCODER = new TextEncoder();

/** Equal-length comparison whose time does not depend on where the texts differ. */
function sameSecret(a: string, b: string): boolean {
  const x = ENCODER.encode(a), y = ENCODER.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

/**
 * The rig API server.
 *
 * @example Usage
 * ```ts ignore
 * import { RigApi } from "./rig_api.ts";
 *
 * const api = RigApi.listen({ port: 4068, stats: () => miner.stats(), version: "1.0.0" });
 * // curl http://127.0.0.1:4068/api/summary
 * await api.close();
 * ```
 */
export class RigApi {
  #server: HttpServer;

  private constructor(server: HttpServer) {
    this.#server = server;
  }

  /**
   * Bind and serve.
   *
   * @param options Address, statistics source, token and caps.
   * @returns The running API.
   * @throws {Deno.errors.AddrInUse} When the address is taken.
   */
  static listen(options: RigApiOptions): RigApi {
    const { token } = options;
    const handler = (request: Request): Response => {
      if (token !== undefined) {
        const auth = request.headers.get("authorization") ?? "";
        const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
        if (m === null || !sameSecret(m[1]!, token)) {
          return json(401, { error: auth === "" ? "missing bearer token" : "wrong bearer token" }, {
            "www-authenticate": 'Bearer realm="vbkpool-miner"',
          });
        }
      }
      const path = new URL(request.url).pathname;
      const doc = () => rigSummary(options.stats(), options);
      if (path === "/api/summary" || path === "/api" || path === "/") return json(200, doc());
      if (path === "/api/threads") {
        const d = doc();
        return json(200, { version: d.version, hashrate: d.hashrate, threads: d.threads });
      }
      return json(404, { error: `no such path: ${path}`, paths: ["/api/summary", "/api/threads"] });
    };
    const server = HttpServer.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      name: "rig API",
      handler,
      methods: ["GET", "HEAD"],
      maxHeadBytes: options.maxHeadBytes ?? 4096,
      maxHeaders: 32,
      maxConnections: options.maxConnections ?? 16,
      headerTimeoutMs: 5000,
      idleTimeoutMs: 10_000,
      responseTimeoutMs: 5000,
      writeTimeoutMs: 5000,
      maxRequestsPerConnection: 100,
    });
    return new RigApi(server);
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** The HTTP server's counters (refusals, timeouts, requests it answered itself). */
  get httpStats(): HttpServerStats {
    return this.#server.stats;
  }

  /**
   * Stop serving.
   *
   * @returns Once every connection is closed.
   */
  close(): Promise<void> {
    return this.#server.close(1000);
  }
}
