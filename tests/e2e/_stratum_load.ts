/**
 * End-to-end helper: Stratum miners that submit shares continuously without hashing (password
 * `d=1`: difficulty 1, every hash is a share; each submit is a unique nonce on the newest job),
 * keep a few submits in flight, follow `client.reconnect` and reconnect after any close, and
 * count everything an upgrade or a reload test compares: `true` answers, errors, submits left
 * unanswered by a close, failed connects and subscribes, the longest submit latency and the
 * longest time without a working connection.
 *
 * @module
 */
import { parseServerMessage, parseSubscribeResult } from "../../protocol/stratum_client.ts";

/** The miners' payout address (a valid VBK address). */
export const LOAD_ADDRESS = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d";

const ENCODER = new TextEncoder();

/** Counters of one miner (or the sum of several). */
export interface LoadCounts {
  /** Submits sent. */
  submitted: number;
  /** `true` answers. */
  accepted: number;
  /** Error answers, by message. */
  errors: Record<string, number>;
  /** Submits whose connection closed before their answer. */
  unanswered: number;
  /** Connections opened after the first. */
  reconnects: number;
  /** `client.reconnect` requests received. */
  reconnectRequests: number;
  /** Connects refused or subscribes not answered (a refused miner). */
  refused: number;
  /** Longest submit → answer time (ms). */
  maxLatencyMs: number;
  /** Longest time from a close to the next ready connection (ms). */
  maxOfflineMs: number;
}

/** Options of a {@linkcode LoadMiner}. */
export interface LoadMinerOptions {
  /** The Stratum port on 127.0.0.1. */
  port: number;
  /** Worker name (after the address). */
  worker: string;
  /** Submits kept in flight. @default 2 */
  depth?: number;
  /** Called with (sent at, latency ms) for each answer. */
  onAnswer?: (sentAt: number, latencyMs: number) => void;
}

/** One simulated miner. */
export class LoadMiner {
  readonly counts: LoadCounts = {
    submitted: 0,
    accepted: 0,
    errors: {},
    unanswered: 0,
    reconnects: 0,
    reconnectRequests: 0,
    refused: 0,
    maxLatencyMs: 0,
    maxOfflineMs: 0,
  };
  /** Whether a connection is subscribed, authorized and has a job. */
  ready = false;
  /** Set difficulties received on the current connection, in order. */
  difficulties: bigint[] = [];
  #o: LoadMinerOptions;
  #conn: Deno.TcpConn | undefined;
  #pending = new Map<number, number>();
  #nextId = 10;
  #nonce = 0;
  #extranonce = "";
  #jobId = "";
  #ntime = "";
  #authorized = false;
  #submitting = false;
  #stopping = false;
  #connections = 0;
  #loop: Promise<void> | undefined;
  #readyWaiters: (() => void)[] = [];
  #writes: Promise<void> = Promise.resolve();

  /**
   * @param options Port, worker, depth.
   */
  constructor(options: LoadMinerOptions) {
    this.#o = options;
  }

  /** Connect (retrying while the test runs) and follow the connection until stopped. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    return this.whenReady();
  }

  /** Resolves once a connection is ready. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** Start submitting. */
  submit(): void {
    this.#submitting = true;
    this.#fill();
  }

  /** Send one raw line on the current connection. */
  send(line: string): Promise<void> {
    return this.#write(line + "\n");
  }

  /** Writes go one after another (a write may be partial). */
  #write(text: string): Promise<void> {
    const conn = this.#conn;
    if (conn === undefined) return Promise.resolve();
    const bytes = ENCODER.encode(text);
    this.#writes = this.#writes.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    }).catch(() => {});
    return this.#writes;
  }

  /** Submits waiting for their answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Stop submitting, wait (bounded) for the answers due, and close. */
  async stop(): Promise<void> {
    this.#submitting = false;
    const deadline = Date.now() + 15_000;
    while (this.#pending.size > 0 && this.ready && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.#stopping = true;
    try {
      this.#conn?.close();
    } catch {
      // Closed already.
    }
    await this.#loop;
  }

  async #run(): Promise<void> {
    let offlineSince = Date.now();
    while (!this.#stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port: this.#o.port });
      } catch {
        this.counts.refused++;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.#connections++ > 0) this.counts.reconnects++;
      this.#conn = conn;
      this.#extranonce = this.#jobId = "";
      this.#authorized = false;
      this.difficulties = [];
      const subscribed = await this.#follow(conn, () => {
        const now = Date.now();
        this.counts.maxOfflineMs = Math.max(this.counts.maxOfflineMs, now - offlineSince);
      });
      this.ready = false;
      offlineSince = Date.now();
      this.counts.unanswered += this.#pending.size;
      this.#pending.clear();
      if (!subscribed && !this.#stopping) this.counts.refused++;
    }
  }

  /** Read one connection to its end; true when it got ready. */
  async #follow(conn: Deno.TcpConn, onReady: () => void): Promise<boolean> {
    let wasReady = false;
    const w = `${LOAD_ADDRESS}.${this.#o.worker}`;
    try {
      void this.#write(
        '{"id":1,"method":"mining.subscribe","params":["load/1.0"]}\n' +
          `{"id":2,"method":"mining.authorize","params":["${w}","d=1"]}\n`,
      );
      const lines = conn.readable.pipeThrough(new TextDecoderStream());
      let rest = "";
      for await (const chunk of lines) {
        rest += chunk;
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          this.#onLine(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
          if (!this.ready && this.#authorized && this.#extranonce !== "" && this.#jobId !== "") {
            this.ready = wasReady = true;
            onReady();
            for (const resolve of this.#readyWaiters.splice(0)) resolve();
            this.#fill();
          }
        }
      }
    } catch {
      // Reset by the pool.
    }
    try {
      conn.close();
    } catch {
      // Closed already.
    }
    return wasReady;
  }

  #onLine(line: string): void {
    const m = parseServerMessage(line);
    switch (m.kind) {
      case "notify":
        // Only jobs sent at difficulty 1 (after the authorize's d=1) are mined.
        if (this.difficulties.at(-1) !== 1n) return;
        this.#jobId = m.job.jobId;
        this.#ntime = m.job.timestamp.toString(16).padStart(8, "0");
        return;
      case "set_difficulty":
        this.difficulties.push(m.difficulty);
        return;
      case "reconnect":
        this.counts.reconnectRequests++;
        return;
      case "response":
        return this.#onResponse(m.id, m.result, m.error);
    }
  }

  #onResponse(id: unknown, result: unknown, error: [number, string] | null): void {
    if (id === 1) {
      if (error === null) {
        this.#extranonce = parseSubscribeResult(result).extranonce.toString(16).padStart(16, "0");
      }
      return;
    }
    if (id === 2) {
      this.#authorized = result === true;
      return;
    }
    const sentAt = this.#pending.get(id as number);
    if (sentAt === undefined) return;
    this.#pending.delete(id as number);
    const latency = Date.now() - sentAt;
    this.counts.maxLatencyMs = Math.max(this.counts.maxLatencyMs, latency);
    this.#o.onAnswer?.(sentAt, latency);
    if (result === true) this.counts.accepted++;
    else {
      const key = error === null ? "false" : error[1];
      this.counts.errors[key] = (this.counts.errors[key] ?? 0) + 1;
    }
    this.#fill();
  }

  #fill(): void {
    if (!this.#submitting || !this.ready || this.#conn === undefined) return;
    let out = "";
    while (this.#pending.size < (this.#o.depth ?? 2)) {
      const id = this.#nextId++;
      const nonce = (this.#nonce++ >>> 0).toString(16).padStart(8, "0");
      this.#pending.set(id, Date.now());
      this.counts.submitted++;
      out += `{"id":${id},"method":"mining.submit","params":["${LOAD_ADDRESS}.${this.#o.worker}",` +
        `"${this.#jobId}","${this.#extranonce}","${this.#ntime}","${nonce}"]}\n`;
    }
    if (out !== "") void this.#write(out);
  }
}

/**
 * The sum of several miners' counts (maxima for the longest times).
 *
 * @param miners The miners.
 * @returns The totals.
 */
export function totalCounts(miners: readonly LoadMiner[]): LoadCounts {
  const total: LoadCounts = {
    submitted: 0,
    accepted: 0,
    errors: {},
    unanswered: 0,
    reconnects: 0,
    reconnectRequests: 0,
    refused: 0,
    maxLatencyMs: 0,
    maxOfflineMs: 0,
  };
  for (const { counts: c } of miners) {
    total.submitted += c.submitted;
    total.accepted += c.accepted;
    total.unanswered += c.unanswered;
    total.reconnects += c.reconnects;
    total.reconnectRequests += c.reconnectRequests;
    total.refused += c.refused;
    total.maxLatencyMs = Math.max(total.maxLatencyMs, c.maxLatencyMs);
    total.maxOfflineMs = Math.max(total.maxOfflineMs, c.maxOfflineMs);
    for (const [k, n] of Object.entries(c.errors)) total.errors[k] = (total.errors[k] ?? 0) + n;
  }
  return total;
}
