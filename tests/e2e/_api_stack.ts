/**
 * End-to-end helper for the HTTP API: an in-process devnet (a real vBlake chain over UCP), the
 * real `vbkpool server` as a subprocess connected to it (SQLite store in a temporary folder,
 * Stratum and `[api]` on port 0, the bound ports read from its log), and a scripted Stratum
 * miner that mines real shares and blocks with the WASM kernel.
 *
 * @module
 */
import { decodeBits, difficultyToTarget, meetsTarget } from "../../hash/difficulty.ts";
import { type Devnet, startDevnet } from "../../devnet/mod.ts";
import { hashHeader, headerFromNotify, hex16, hex8, mine } from "../server/_pool.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";
import { POOL_ADDRESS } from "./_pool_stack.ts";
import { spawnVbkpool, waitUntil } from "../_process.ts";

/** Share difficulty of the stack's Stratum port. */
export const SHARE_DIFFICULTY = 64n;

/** The devnet, the server subprocess and its addresses. */
export interface ApiStack {
  devnet: Devnet;
  /** `http://127.0.0.1:PORT`. */
  api: string;
  stratumPort: number;
  /** The SQLite file of the server's store. */
  storePath: string;
  /** The server's log so far. */
  log(): string;
  /** GET a path (the server trusts X-Forwarded-For, so a test may pose as another client). */
  get(path: string, init?: RequestInit): Promise<Response>;
  /** GET a path and parse its JSON (expects `status`, default 200). */
  json<T = Record<string, unknown>>(path: string, status?: number): Promise<T>;
  /** Stop the server (SIGINT; expects exit 0), then the devnet. */
  stop(): Promise<void>;
}

/** Options for {@linkcode startApiStack}. */
export interface ApiStackOptions {
  /** Run the server under this `ulimit -n`. */
  ulimit?: number;
}

/**
 * Start the devnet and `vbkpool server` with the API (Stratum and API on free ports, read back
 * from its log), and wait until the API is healthy.
 */
export async function startApiStack(
  env: Record<string, string> = {},
  options: ApiStackOptions = {},
): Promise<ApiStack> {
  const devnet = await startDevnet({ port: 0, mempoolIntervalMs: 0, minDifficulty: 20_000n });
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-api-e2e-" });
  const storePath = `${dir}/pool.sqlite`;
  const server = spawnVbkpool([
    "server",
    "--listen",
    `127.0.0.1:0 diff=${SHARE_DIFFICULTY} min=1 vardiff=off`,
    "--nodecore",
    `127.0.0.1:${devnet.addr.port}`,
    "--address",
    POOL_ADDRESS,
  ], {
    cwd: dir,
    env: {
      VBKPOOL_STORE_URL: storePath,
      VBKPOOL_NODECORE_BACKOFF_MIN_MS: "50",
      VBKPOOL_NODECORE_BACKOFF_MAX_MS: "500",
      VBKPOOL_API_LISTEN: "127.0.0.1:0",
      VBKPOOL_API_EVENT_INTERVAL_SECONDS: "1",
      VBKPOOL_API_TRUST_PROXY: "true",
      ...env,
    },
    ...(options.ulimit === undefined ? {} : { ulimit: options.ulimit }),
  });
  let stopped = false;
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    const code = await server.stop("SIGINT");
    await devnet.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (code !== 0) throw new Error(`vbkpool server exited with ${code}:\n${server.err}`);
  }
  let api: string;
  let stratumPort: number;
  try {
    const addresses = await server.serverAddresses();
    if (addresses.api === undefined || addresses.stratum[0] === undefined) {
      throw new Error(`no API or Stratum address in the log:\n${server.err}`);
    }
    api = addresses.api;
    stratumPort = addresses.stratum[0];
    await waitUntil(async () => {
      try {
        const r = await fetch(`${api}/api/health`);
        await r.body?.cancel();
        return r.status === 200;
      } catch {
        return false;
      }
    }, "the API to become healthy");
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const get = (path: string, init?: RequestInit) => fetch(`${api}${path}`, init);
  return {
    devnet,
    api,
    stratumPort,
    storePath,
    log: () => server.err,
    get,
    async json<T>(path: string, status = 200): Promise<T> {
      const response = await get(path);
      const body = await response.json();
      if (response.status !== status) {
        throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(body)}`);
      }
      return body as T;
    },
    stop,
  };
}

/** A scripted miner on the stack's Stratum port. */
export class ScriptedMiner {
  readonly client: TestClient;
  readonly worker: string;
  readonly extranonce: bigint;
  #nonce = 0;

  private constructor(client: TestClient, worker: string, extranonce: bigint) {
    this.client = client;
    this.worker = worker;
    this.extranonce = extranonce;
  }

  /** Connect, subscribe and authorize, and wait for the first job. */
  static async connect(port: number, worker: string): Promise<ScriptedMiner> {
    const client = await TestClient.connect(port);
    const { extranonce } = await subscribeAndAuthorize(client, worker);
    await client.notification("mining.notify");
    return new ScriptedMiner(client, worker, extranonce);
  }

  #job(): unknown[] {
    const notes = this.client.lines.filter((l) => l.json?.method === "mining.notify");
    return notes.at(-1)!.json.params as unknown[];
  }

  /** The header time to use with a job: now, but never before the job's template time. */
  #ntime(params: unknown[]): number {
    return Math.max(Math.floor(Date.now() / 1000), parseInt(params[7] as string, 16));
  }

  async #submit(params: unknown[], ntime: number, nonce: number): Promise<unknown> {
    const reply = await this.client.call("mining.submit", [
      this.worker,
      params[0],
      hex16(this.extranonce),
      hex8(ntime),
      hex8(nonce),
    ]);
    return reply.json.result ?? reply.json.error;
  }

  /**
   * Mine and submit `n` shares on the newest job (never one that would also be a block, so
   * the counts stay exact); returns the replies.
   */
  async shares(n: number): Promise<unknown[]> {
    const params = this.#job();
    const ntime = this.#ntime(params);
    const network = difficultyToTarget(decodeBits(parseInt(params[8] as string, 16)));
    const nonces = mine(params, this.extranonce, {
      ntime,
      difficulty: SHARE_DIFFICULTY,
      startNonce: this.#nonce,
      count: 1 << 16,
    }).filter((nonce) =>
      !meetsTarget(hashHeader(headerFromNotify(params, this.extranonce, ntime, nonce)), network)
    ).slice(0, n);
    this.#nonce = (nonces.at(-1) ?? this.#nonce + (1 << 16)) + 1;
    const out = [];
    for (const nonce of nonces) out.push(await this.#submit(params, ntime, nonce));
    return out;
  }

  /**
   * Mine a share that meets the network target on the newest job and submit it; when it is
   * accepted, wait for the job of the next height.
   */
  async block(): Promise<unknown> {
    const params = this.#job();
    const ntime = this.#ntime(params);
    const network = decodeBits(parseInt(params[8] as string, 16));
    const [nonce] = mine(params, this.extranonce, {
      ntime,
      difficulty: network,
      startNonce: this.#nonce,
      count: 1 << 26,
    });
    if (nonce === undefined) throw new Error("no block-quality nonce found");
    this.#nonce = nonce + 1;
    const reply = await this.#submit(params, ntime, nonce);
    if (reply === true) {
      // Wait for the job on top of the new block, so later shares are not stale.
      const height = parseInt(params[1] as string, 16);
      await this.client.waitFor((l) =>
        l.json?.method === "mining.notify" && parseInt(l.json.params[1], 16) > height
      );
    }
    return reply;
  }

  /** A submit for a job that does not exist (rejected: stale_job). */
  async stale(): Promise<unknown> {
    const params = this.#job();
    return await this.#submit(["gone", ...params.slice(1)], this.#ntime(params), 1);
  }

  /** Disconnect. */
  close(): Promise<void> {
    return this.client.close();
  }
}
