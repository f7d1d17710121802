/**
 * A tiny scripted Stratum pool for miner tests, over real loopback TCP. It is the miner's
 * counterpart, not a mock of our code: it speaks VeriBlock's dialect, validates submitted
 * shares with vBlake against its difficulty, and can be told to misbehave (garbage lines,
 * odd message shapes, silence, restarts).
 *
 * @module
 */
import {
  difficultyToTarget,
  encodeBits,
  encodeHeader,
  hashToBigInt,
  headerMerkleRoot,
  merkle16,
  vblake,
} from "../../hash/mod.ts";
import { encodeNotify, LineFramer, type NotifyJob, parseSubmitParams } from "../../protocol/mod.ts";
import { waitUntil } from "../_wait.ts";

const ENC = new TextEncoder();

/** How the fake pool behaves. */
export interface FakePoolOptions {
  /** Port to bind (0: any). */
  port?: number;
  /** Raw `set_difficulty` param, e.g. "65536", 65536 or "524288.0". @default "1048576" */
  difficulty?: string | number;
  /** The difficulty it validates shares against (defaults to the parsed `difficulty`). */
  validateDifficulty?: bigint;
  /** Network difficulty in the job bits. @default 2^50 (no blocks) */
  networkDifficulty?: bigint;
  /** Order of the first messages after subscribe. @default "difficulty-first" */
  greeting?: "difficulty-first" | "notify-first" | "notify-only" | "none";
  /** Subscribe result shape. @default "pair" */
  subscriptions?: "pair" | "list";
  /** Answer ids as numbers (when the miner sent numbers) or as strings. @default "echo" */
  ids?: "echo" | "string";
  /** Answer submits. @default true */
  answerSubmits?: boolean;
  /** Answer subscribe/authorize. @default true */
  answerHandshake?: boolean;
  /** Authorize result. @default true */
  authorize?: boolean;
  /** Extranonce of the first connection. @default 0x7c000000000f4240n */
  extranonceBase?: bigint;
}

/** A submit the fake pool received, with its verdict. */
export interface FakeSubmit {
  /** Raw params. */
  params: unknown[];
  /** Verdict sent ("accepted", "stale", "low", "bad", or "silent"). */
  verdict: string;
  /** Whether the hash met the network target. */
  block: boolean;
}

interface Client {
  conn: Deno.Conn;
  extranonce: bigint;
  closed: boolean;
}

/** A scripted Stratum pool on 127.0.0.1. */
export class FakePool {
  /** The options (mutable between connections). */
  options: FakePoolOptions;
  /** Every submit received. */
  readonly submits: FakeSubmit[] = [];
  /** Every line received, in order. */
  readonly lines: string[] = [];
  /** Connections accepted so far. */
  connections = 0;
  #listener: Deno.Listener;
  #clients = new Set<Client>();
  #jobs = new Map<string, NotifyJob>();
  #job: NotifyJob;
  #nextJob = 1;
  #nextExtranonce: bigint;
  #loop: Promise<void>;
  #tasks = new Set<Promise<void>>();

  /**
   * @param options Behaviour.
   */
  constructor(options: FakePoolOptions = {}) {
    this.options = options;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
    this.#nextExtranonce = options.extranonceBase ?? 0x7c000000000f4240n;
    this.#job = this.#makeJob(true);
    this.#loop = this.#acceptLoop();
  }

  /** The bound port. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** `stratum+tcp://127.0.0.1:PORT`. */
  get url(): string {
    return `stratum+tcp://127.0.0.1:${this.port}`;
  }

  /** The current job. */
  get job(): NotifyJob {
    return this.#job;
  }

  /** Clients connected now. */
  get clientCount(): number {
    return [...this.#clients].filter((c) => !c.closed).length;
  }

  /** Accepted submits so far. */
  get accepted(): number {
    return this.submits.filter((s) => s.verdict === "accepted").length;
  }

  /**
   * Make and send a new job to every client.
   *
   * @param clean The clean_jobs flag.
   * @returns The job.
   */
  newJob(clean = true): NotifyJob {
    this.#job = this.#makeJob(clean);
    this.broadcast(encodeNotify(this.#job));
    return this.#job;
  }

  /**
   * Send a raw line to every client.
   *
   * @param line Text without newline.
   */
  broadcast(line: string): void {
    for (const c of this.#clients) this.#send(c, line);
  }

  /**
   * Close every client connection (the listener stays).
   */
  dropClients(): void {
    for (const c of this.#clients) this.#closeClient(c);
  }

  /** Stop listening and close every connection. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    this.dropClients();
    await this.#loop;
    await Promise.allSettled([...this.#tasks]);
  }

  #makeJob(clean: boolean): NotifyJob {
    const id = this.#nextJob++;
    const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
    const job: NotifyJob = {
      jobId: String(id),
      height: 1000 + id,
      version: 2,
      previousHash: fill(12, id),
      previousKeystone: fill(9, 2),
      secondKeystone: fill(9, 3),
      popRoot: fill(32, 4),
      normalRoot: fill(32, 5),
      metapackageHash: fill(32, id & 0xff),
      timestamp: Math.floor(Date.now() / 1000) - 5,
      bits: encodeBits(this.options.networkDifficulty ?? 2n ** 50n),
      cleanJobs: clean,
    };
    if (clean) this.#jobs.clear();
    this.#jobs.set(job.jobId, job);
    return job;
  }

  #validateDifficulty(): bigint {
    if (this.options.validateDifficulty !== undefined) return this.options.validateDifficulty;
    const raw = String(this.options.difficulty ?? "1048576");
    return BigInt(raw.replace(/\.0*$/, ""));
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return;
      }
      this.connections++;
      const client: Client = { conn, extranonce: this.#nextExtranonce, closed: false };
      this.#nextExtranonce += 1_000_000n;
      this.#clients.add(client);
      const task = this.#serve(client);
      this.#tasks.add(task);
      void task.finally(() => this.#tasks.delete(task));
    }
  }

  #send(client: Client, line: string): void {
    if (client.closed) return;
    client.conn.write(ENC.encode(line + "\n")).catch(() => this.#closeClient(client));
  }

  #closeClient(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    try {
      client.conn.close();
    } catch {
      // already closed
    }
  }

  async #serve(client: Client): Promise<void> {
    const framer = new LineFramer({ maxLineBytes: 16384 });
    const buf = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await client.conn.read(buf);
        if (n === null) break;
        for (const line of framer.push(buf.subarray(0, n))) this.#onLine(client, line);
      }
    } catch {
      // closed
    }
    this.#closeClient(client);
    this.#clients.delete(client);
  }

  #reply(client: Client, id: unknown, result: unknown, error: unknown = null): void {
    const shown = this.options.ids === "string" ? String(id) : id;
    this.#send(client, JSON.stringify({ id: shown, result, error }));
  }

  #onLine(client: Client, line: string): void {
    this.lines.push(line);
    const req = JSON.parse(line) as { id: unknown; method: string; params: unknown[] };
    const o = this.options;
    switch (req.method) {
      case "mining.subscribe": {
        if (o.answerHandshake === false) return;
        const pair = ["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"];
        const subs = o.subscriptions === "list" ? [pair, ["mining.set_difficulty", "x"]] : pair;
        this.#reply(client, req.id, [subs, client.extranonce.toString(16).padStart(16, "0"), 8]);
        const diff = JSON.stringify({
          id: null,
          method: "mining.set_difficulty",
          params: [o.difficulty ?? "1048576"],
        });
        const notify = encodeNotify(this.#job);
        switch (o.greeting ?? "difficulty-first") {
          case "difficulty-first":
            this.#send(client, diff);
            this.#send(client, notify);
            break;
          case "notify-first":
            this.#send(client, notify);
            this.#send(client, diff);
            break;
          case "notify-only":
            this.#send(client, notify);
            break;
          case "none":
            break;
        }
        return;
      }
      case "mining.authorize":
        if (o.answerHandshake === false) return;
        this.#reply(client, req.id, o.authorize ?? true);
        return;
      case "mining.submit":
        this.#onSubmit(client, req.id, req.params);
        return;
      default:
        this.#reply(client, req.id, null, [-3, "Method not found", null]);
    }
  }

  #onSubmit(client: Client, id: unknown, params: unknown[]): void {
    if (this.options.answerSubmits === false) {
      this.submits.push({ params, verdict: "silent", block: false });
      return;
    }
    const parsed = parseSubmitParams(params);
    if (!parsed.ok) {
      this.submits.push({ params, verdict: "bad", block: false });
      this.#reply(client, id, null, [-2, "Invalid parameters", null]);
      return;
    }
    const s = parsed.submit;
    const job = this.#jobs.get(s.jobId);
    if (job === undefined) {
      this.submits.push({ params, verdict: "stale", block: false });
      this.#reply(client, id, null, [21, `Job '${s.jobId}' not found`, null]);
      return;
    }
    const root = headerMerkleRoot(job, BigInt.asIntN(64, s.extranonce));
    const header = encodeHeader({
      ...job,
      merkleRoot: merkle16(root),
      timestamp: s.ntime,
      nonce: s.nonce,
    });
    const value = hashToBigInt(vblake(header));
    const block = value < difficultyToTarget(this.options.networkDifficulty ?? 2n ** 50n);
    const ok = block || value < difficultyToTarget(this.#validateDifficulty());
    const timeOk = s.ntime >= job.timestamp && s.ntime <= Date.now() / 1000 + 1000;
    if (ok && timeOk) {
      this.submits.push({ params, verdict: "accepted", block });
      this.#reply(client, id, true);
    } else {
      this.submits.push({ params, verdict: "low", block: false });
      this.#reply(client, id, null, [23, "Share is above target", null]);
    }
  }
}

/**
 * Wait until `check` is true: the shared {@linkcode waitUntil} with this folder's argument order.
 *
 * @param check Condition.
 * @param timeoutMs Bound.
 * @param what Description for the error.
 */
export async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  await waitUntil(check, what, { timeoutMs, intervalMs: 20 });
}
