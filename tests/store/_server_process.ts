/**
 * Helpers for durability tests against a real `vbkpool server` process: spawn it with a store
 * (`tests/_process.ts` waits until it serves Stratum and reads its ports from its log), and
 * drive miners that submit valid shares as fast as replies come back, remembering the hash of
 * every share answered `true`.
 *
 * @module
 */
import { bytesToHex } from "../../hash/hex.ts";
import { connectLines } from "../../net/line_client.ts";
import type { LineConnection } from "../../net/line_connection.ts";
import { hashHeader, headerFromNotify, hex16, hex8 } from "../server/_pool.ts";
import { spawnVbkpool, type VbkpoolProcess, waitUntil } from "../_process.ts";

/**
 * Spawn `vbkpool server` in `cwd` with configuration from environment variables: no HTTP API,
 * info-level log (the bound ports are read from it: give every listener port 0 and call
 * `await server.serverAddresses()`).
 *
 * @param env `VBKPOOL_*` settings.
 * @param cwd Working directory (no vbkpool.toml there).
 * @returns The process; stop it with `stop("SIGTERM")` or `kill()`.
 */
export function spawnServer(env: Record<string, string>, cwd: string): VbkpoolProcess {
  return spawnVbkpool(["server"], {
    cwd,
    env: { VBKPOOL_API_ENABLED: "false", VBKPOOL_LOG_LEVEL: "info", ...env },
  });
}

/** A miner driving shares through a real connection. */
export class LoadMiner {
  /** Hashes (hex) of shares answered `true`. */
  readonly acked = new Set<string>();
  /** Replies that were errors. */
  errors = 0;
  /** The extranonce from subscribe. */
  extranonce = -1n;
  /** Difficulties received, in order. */
  readonly difficulties: bigint[] = [];
  /** Milliseconds from sending each submit to its reply. */
  readonly latencies: number[] = [];
  #conn: LineConnection;
  #worker: string;
  #notify: unknown[] | undefined;
  #nextId = 1;
  #pending = new Map<
    number,
    { hash: string; sent: number; resolve: (result: unknown) => void }
  >();
  #nonce = 0;
  #closed = false;

  private constructor(conn: LineConnection, worker: string) {
    this.#conn = conn;
    this.#worker = worker;
    void conn.start({
      onLine: (line) => this.#onLine(line),
      onClose: () => {
        this.#closed = true;
        for (const p of this.#pending.values()) p.resolve(undefined);
        this.#pending.clear();
      },
    });
  }

  /**
   * Connect, subscribe and authorize.
   *
   * @param port Stratum port.
   * @param worker Worker name (a valid address, optionally `.name`).
   * @returns The miner.
   */
  static async connect(port: number, worker: string): Promise<LoadMiner> {
    const conn = await connectLines({ hostname: "127.0.0.1", port, maxLineBytes: 1 << 20 });
    const m = new LoadMiner(conn, worker);
    const sub = await m.call("mining.subscribe", []) as { result: unknown[] };
    m.extranonce = BigInt("0x" + (sub.result[1] as string));
    const auth = await m.call("mining.authorize", [worker, ""]) as { result: unknown };
    if (auth.result !== true) throw new Error(`authorize failed: ${JSON.stringify(auth)}`);
    return m;
  }

  #onLine(line: string): void {
    // deno-lint-ignore no-explicit-any
    let msg: any;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.method === "mining.notify") this.#notify = msg.params;
    else if (msg.method === "mining.set_difficulty") this.difficulties.push(BigInt(msg.params[0]));
    else if (typeof msg.id === "number") {
      const p = this.#pending.get(msg.id);
      if (p === undefined) return;
      this.#pending.delete(msg.id);
      if (p.hash !== "") {
        this.latencies.push(performance.now() - p.sent);
        if (msg.result === true) this.acked.add(p.hash);
        else this.errors++;
      }
      p.resolve(msg);
    }
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Send a request and wait for its reply (undefined when the connection closed). */
  call(method: string, params: unknown[], hash = ""): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      if (this.#closed) return resolve(undefined);
      this.#pending.set(id, { hash, sent: performance.now(), resolve });
      this.#conn.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Wait until a job arrived. */
  async job(): Promise<void> {
    await waitUntil(() => this.#notify !== undefined || this.#closed, "a job", 60_000);
    if (this.#notify === undefined) throw new Error("no job: the connection closed");
  }

  /** Wait until a set_difficulty with `value` arrived. */
  async difficulty(value: bigint): Promise<void> {
    const got = () => this.difficulties.includes(value);
    await waitUntil(
      () => got() || this.#closed,
      () => `set_difficulty ${value} (got ${this.difficulties.join(", ")})`,
      60_000,
    );
    if (!got()) {
      throw new Error(`no set_difficulty ${value} (got ${this.difficulties.join(", ")})`);
    }
  }

  /**
   * Submit difficulty-1 shares with up to `window` in flight until `stop()` is true or the
   * connection closes.
   */
  async run(stop: () => boolean, window = 32): Promise<void> {
    await this.job();
    const inFlight = new Set<Promise<unknown>>();
    while (!stop() && !this.#closed) {
      if (inFlight.size >= window) {
        await Promise.race(inFlight);
        continue;
      }
      const params = this.#notify!;
      const ntime = parseInt(params[7] as string, 16);
      const nonce = this.#nonce++;
      const header = headerFromNotify(params, this.extranonce, ntime, nonce);
      const hash = bytesToHex(hashHeader(header));
      const p = this.call("mining.submit", [
        this.#worker,
        params[0],
        hex16(this.extranonce),
        hex8(ntime),
        hex8(nonce),
      ], hash);
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
      if (inFlight.size % 8 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(inFlight);
  }

  /** Close the connection. */
  async close(): Promise<void> {
    this.#conn.close("test done");
    await this.#conn.done;
  }
}
