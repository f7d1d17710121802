/**
 * One connection from the miner to a Stratum pool (VeriBlock's dialect): subscribe, then
 * authorize, then jobs, difficulty and share submits; every server message shape is handled
 * leniently and bad input is logged and survived. A session also watches its pool: no reply
 * to the handshake, no reply to a submit, no first job within `firstJobTimeoutMs` of the
 * handshake (a pool without work), or no new job for `jobTimeoutMs` closes it as dead, so
 * that the miner fails over.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { connectLines, type LineConnection, type TlsClientOptions } from "../net/mod.ts";
import { parsePoolUrl, type PoolUrl } from "./pool_url.ts";
import {
  encodeError,
  encodeRequest,
  encodeResult,
  type NotifyJob,
  parseServerMessage,
  parseSubscribeResult,
  type StratumId,
} from "../protocol/mod.ts";
import { submitParams } from "./work.ts";

const log = getLogger(["vbkpool", "miner"]);

/** The verdict on a submitted share. */
export type ShareOutcome =
  | { status: "accepted" }
  | {
    /** `stale`: the pool no longer knows the job; `rejected`: any other refusal. */
    status: "rejected" | "stale";
    /** The server's error code (-1 when it sent none). */
    code: number;
    /** The server's message. */
    reason: string;
  }
  | {
    /** No verdict: the connection closed or the pool never answered. */
    status: "lost";
    reason: string;
  };

/** A share to submit. */
export interface ShareSubmission {
  /** Job id. */
  jobId: string;
  /** Extranonce (signed or unsigned 64-bit; sent as 16 hex chars). */
  extranonce: bigint;
  /** Header time. */
  ntime: number;
  /** Nonce. */
  nonce: number;
}

/** Session states, in order. */
export type SessionState = "connecting" | "subscribing" | "authorizing" | "ready" | "closed";

/** Options for {@linkcode StratumSession}. */
export interface StratumSessionOptions {
  /** Pool address, `stratum+tcp://host:port` or `host:port`. */
  url: string;
  /** Worker name, `ADDRESS[.WORKER]`. */
  user: string;
  /** Password. @default "" */
  password?: string;
  /** Give up connecting after this long. @default 10000 */
  connectTimeoutMs?: number;
  /** Subscribe and authorize must be answered within this long. @default 10000 */
  handshakeTimeoutMs?: number;
  /** A submit not answered within this long means the pool is dead. @default 30000 */
  submitTimeoutMs?: number;
  /** No first job within this long of the handshake means the pool has no work. @default 30000 */
  firstJobTimeoutMs?: number;
  /**
   * No new job for this long (once one came) means the pool is dead. VeriBlock makes a block
   * every 30 s on average and a pool sends a job for each (and for transaction changes), so a
   * gap of 180 s happens about once in 400 blocks. @default 180000
   */
  jobTimeoutMs?: number;
  /** Longest accepted line. @default 16384 */
  maxLineBytes?: number;
  /** Answer to `client.get_version`. @default "vbkpool" */
  agent?: string;
  /** A job arrived (also before the handshake completed). */
  onJob?: (job: NotifyJob, receivedAt: number) => void;
  /** The share difficulty changed. */
  onDifficulty?: (difficulty: bigint, rounded: boolean) => void;
  /** The session closed. */
  onClose?: (reason: string) => void;
}

interface Pending {
  kind: "subscribe" | "authorize" | "submit";
  sentAt: number;
  resolve: (outcome: ShareOutcome) => void;
}

let nextSessionId = 1;

/** Epoch milliseconds with sub-millisecond precision. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Classify a submit response.
 *
 * @example Usage
 * ```ts
 * import { classifySubmitResponse } from "./stratum_session.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(classifySubmitResponse(true, null), { status: "accepted" });
 * assert.deepEqual(classifySubmitResponse(null, [21, "Job '3' not found"]), {
 *   status: "stale",
 *   code: 21,
 *   reason: "Job '3' not found",
 * });
 * assert.deepEqual(classifySubmitResponse(null, [23, "Share is above target"]), {
 *   status: "rejected",
 *   code: 23,
 *   reason: "Share is above target",
 * });
 * ```
 *
 * @param result The response's result.
 * @param error The response's error as `[code, message]`, or null.
 * @returns The outcome.
 */
export function classifySubmitResponse(
  result: unknown,
  error: [number, string] | null,
): ShareOutcome {
  if (error === null) {
    return result === true
      ? { status: "accepted" }
      : { status: "rejected", code: -1, reason: `rejected (result ${clip(result)})` };
  }
  const [code, reason] = error;
  const stale = code === 21 || /\bstale\b|job\b.*\bnot found/i.test(reason);
  return { status: stale ? "stale" : "rejected", code, reason };
}

function clip(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? text.slice(0, 40) + "..." : text;
}

/**
 * A miner's connection to one pool.
 *
 * @example Usage
 * ```ts ignore
 * import { StratumSession } from "./stratum_session.ts";
 *
 * const session = new StratumSession({
 *   url: "stratum+tcp://127.0.0.1:3333",
 *   user: "VAddress.rig1",
 *   onJob: (job) => console.log("job", job.jobId),
 * });
 * await session.open(); // subscribed and authorized
 * const outcome = await session.submit({ jobId: "3", extranonce: 1n, ntime: 0, nonce: 0 });
 * session.close("done");
 * ```
 */
export class StratumSession {
  /** Process-unique session id. */
  readonly id: number = nextSessionId++;
  /** The pool address as given. */
  readonly url: string;
  /** Resolves with the close reason once the session has closed. */
  readonly closed: Promise<string>;
  #options: StratumSessionOptions;
  #state: SessionState = "connecting";
  #conn: LineConnection | undefined;
  #pending = new Map<string, Pending>();
  #nextId = 1;
  #timer: ReturnType<typeof setInterval> | undefined;
  #openedAt = Date.now();
  #lastJobAt = 0;
  #extranonce: bigint | undefined;
  #difficulty: bigint | undefined;
  #job: NotifyJob | undefined;
  #jobReceivedAt = 0;
  #closeReason = "";
  #reconnectDelayMs: number | undefined;
  #resolveClosed!: (reason: string) => void;
  #handshake: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #jobWaiters: (() => void)[] = [];
  #badLines = 0;

  /**
   * @param options Pool, credentials, timeouts and callbacks.
   */
  constructor(options: StratumSessionOptions) {
    this.#options = options;
    this.url = options.url;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /** The current state. */
  get state(): SessionState {
    return this.#state;
  }

  /** The extranonce from the subscribe result (unsigned 64-bit), once subscribed. */
  get extranonce(): bigint | undefined {
    return this.#extranonce;
  }

  /** The last difficulty the pool set, if any. */
  get difficulty(): bigint | undefined {
    return this.#difficulty;
  }

  /** The last job, if any. */
  get job(): NotifyJob | undefined {
    return this.#job;
  }

  /** When the last job arrived (epoch ms, sub-ms precision). */
  get jobReceivedAt(): number {
    return this.#jobReceivedAt;
  }

  /** Why the session closed ("" while open). */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** The delay the pool asked for with `client.reconnect`, if it did. */
  get reconnectDelayMs(): number | undefined {
    return this.#reconnectDelayMs;
  }

  /** Submits waiting for a verdict. */
  get pendingSubmits(): number {
    let n = 0;
    for (const p of this.#pending.values()) if (p.kind === "submit") n++;
    return n;
  }

  /** Lines from the pool that were ignored as malformed. */
  get badLines(): number {
    return this.#badLines;
  }

  /**
   * Connect, subscribe and authorize.
   *
   * @param options `requireJob`: also wait for the first job (within the handshake timeout).
   * @returns Resolves once ready.
   * @throws {Error} When connecting, subscribing or authorizing fails or times out; the
   * session is closed then.
   */
  async open(options: { requireJob?: boolean } = {}): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => this.#handshake = { resolve, reject });
    ready.catch(() => {});
    try {
      const url = parsePoolUrl(this.url);
      this.#conn = await connectLines({
        hostname: url.hostname,
        port: url.port,
        connectTimeoutMs: this.#options.connectTimeoutMs ?? 10000,
        maxLineBytes: this.#options.maxLineBytes ?? 16384,
        tls: url.tls ? await tlsOptions(url) : undefined,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.close(`connect failed: ${message}`);
      throw new Error(`Cannot connect to ${this.url}: ${message}`);
    }
    if (this.#state === "closed") {
      this.#conn.close(this.#closeReason);
      throw new Error(`Cannot connect to ${this.url}: ${this.#closeReason}`);
    }
    this.#openedAt = Date.now();
    const conn = this.#conn;
    conn.start({
      onLine: (line) => this.#onLine(line),
      onClose: (reason) => this.close(`connection closed: ${reason}`),
    });
    const tickMs = Math.max(
      20,
      Math.min(
        1000,
        (this.#options.submitTimeoutMs ?? 30000) / 4,
        (this.#options.handshakeTimeoutMs ?? 10000) / 4,
        (this.#options.firstJobTimeoutMs ?? 30000) / 4,
        (this.#options.jobTimeoutMs ?? 180000) / 4,
      ),
    );
    this.#timer = setInterval(() => this.#tick(), tickMs);
    this.#state = "subscribing";
    this.#request("subscribe", "mining.subscribe", []);
    await ready;
    if (options.requireJob && this.#job === undefined) {
      await new Promise<void>((resolve) => this.#jobWaiters.push(resolve));
      if ((this.#state as SessionState) === "closed") {
        throw new Error(`Cannot use ${this.url}: ${this.#closeReason}`);
      }
    }
  }

  /**
   * Submit a share.
   *
   * @param share Job id, extranonce, time and nonce.
   * @returns The verdict; never rejects (`lost` when the session closes first).
   */
  submit(share: ShareSubmission): Promise<ShareOutcome> {
    if (this.#state !== "ready") {
      return Promise.resolve({ status: "lost", reason: `session is ${this.#state}` });
    }
    return new Promise((resolve) => {
      const params = submitParams(this.#options.user, share.jobId, share);
      this.#request("submit", "mining.submit", params, resolve);
    });
  }

  /**
   * Close the session (idempotent). Pending submits resolve as `lost`.
   *
   * @param reason Why.
   */
  close(reason: string): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#closeReason = reason;
    clearInterval(this.#timer);
    this.#conn?.close(reason);
    for (const p of this.#pending.values()) p.resolve({ status: "lost", reason });
    this.#pending.clear();
    this.#handshake?.reject(new Error(`Cannot use ${this.url}: ${reason}`));
    this.#handshake = undefined;
    for (const w of this.#jobWaiters.splice(0)) w();
    this.#resolveClosed(reason);
    try {
      this.#options.onClose?.(reason);
    } catch (err) {
      log.error("Session close handler failed: {error}", { error: String(err) });
    }
  }

  #request(
    kind: Pending["kind"],
    method: string,
    params: unknown[],
    resolve: (outcome: ShareOutcome) => void = () => {},
  ): void {
    const id = this.#nextId++;
    this.#pending.set(String(id), { kind, sentAt: Date.now(), resolve });
    if (!this.#conn?.send(encodeRequest({ id, method, params }))) {
      this.close("send failed");
    }
  }

  #tick(): void {
    if (this.#state === "closed") return;
    const now = Date.now();
    const o = this.#options;
    if (this.#state !== "ready") {
      const limit = o.handshakeTimeoutMs ?? 10000;
      if (now - this.#openedAt > limit) {
        this.close(`dead: no reply to ${this.#state.replace(/ing$/, "e")} within ${limit} ms`);
      }
      return;
    }
    const submitLimit = o.submitTimeoutMs ?? 30000;
    for (const p of this.#pending.values()) {
      if (p.kind === "submit" && now - p.sentAt > submitLimit) {
        this.close(`dead: no reply to a submit within ${submitLimit} ms`);
        return;
      }
    }
    if (this.#job === undefined) {
      const firstLimit = o.firstJobTimeoutMs ?? 30000;
      if (now - this.#lastJobAt > firstLimit) {
        this.close(`dead: no job within ${firstLimit} ms of connecting`);
        return;
      }
    } else {
      const jobLimit = o.jobTimeoutMs ?? 180000;
      if (now - this.#lastJobAt > jobLimit) {
        this.close(`dead: no job for ${jobLimit} ms`);
        return;
      }
    }
    if (this.#handshake === undefined && this.#jobWaiters.length > 0) {
      const limit = o.handshakeTimeoutMs ?? 10000;
      if (now - this.#openedAt > limit) this.close(`dead: no job within ${limit} ms`);
    }
  }

  #onLine(line: string): void {
    if (this.#state === "closed") return;
    const message = parseServerMessage(line);
    switch (message.kind) {
      case "response":
        this.#onResponse(message.id, message.result, message.error);
        break;
      case "notify": {
        this.#job = message.job;
        this.#jobReceivedAt = preciseNow();
        this.#lastJobAt = Date.now();
        this.#options.onJob?.(message.job, this.#jobReceivedAt);
        for (const w of this.#jobWaiters.splice(0)) w();
        break;
      }
      case "set_difficulty":
        if (message.rounded) {
          log.warning("Pool {pool} sent a fractional difficulty; using {difficulty}", {
            pool: this.url,
            difficulty: String(message.difficulty),
          });
        }
        this.#difficulty = message.difficulty;
        this.#options.onDifficulty?.(message.difficulty, message.rounded);
        break;
      case "reconnect":
        this.#reconnectDelayMs = (message.waitSeconds ?? 0) * 1000;
        if (message.host !== undefined || message.port !== undefined) {
          log.warning("Pool {pool} asked to reconnect to {host}:{port}; reconnecting to itself", {
            pool: this.url,
            host: message.host ?? "",
            port: message.port ?? "",
          });
        }
        this.close("pool asked to reconnect");
        break;
      case "unknown_method":
        this.#onServerRequest(message.id, message.method, message.params);
        break;
      case "invalid":
        this.#badLines++;
        log.warning("Ignoring a bad line from pool {pool}: {reason}: {line}", {
          pool: this.url,
          reason: message.reason,
          line: line.length > 120 ? line.slice(0, 120) + "..." : line,
        });
        break;
    }
  }

  #onServerRequest(id: StratumId, method: string, params: unknown[]): void {
    if (method === "client.show_message") {
      log.info("Message from pool {pool}: {text}", { pool: this.url, text: String(params[0]) });
    } else {
      log.debug("Pool {pool} called unknown method {method}", { pool: this.url, method });
    }
    if (id === null) return;
    if (method === "client.get_version") {
      this.#conn?.send(encodeResult(id, this.#options.agent ?? "vbkpool"));
    } else {
      this.#conn?.send(encodeError(id, "unknown_method", { detail: method }));
    }
  }

  #onResponse(id: StratumId, result: unknown, error: [number, string] | null): void {
    const pending = this.#pending.get(String(id));
    if (pending === undefined) {
      log.debug("Pool {pool} answered unknown request {id}", { pool: this.url, id: String(id) });
      return;
    }
    this.#pending.delete(String(id));
    switch (pending.kind) {
      case "subscribe": {
        if (error !== null) return this.close(`subscribe refused: ${error[1]} (${error[0]})`);
        try {
          this.#extranonce = parseSubscribeResult(result).extranonce;
        } catch (err) {
          return this.close(`bad subscribe result: ${(err as Error).message}`);
        }
        this.#state = "authorizing";
        this.#request("authorize", "mining.authorize", [
          this.#options.user,
          this.#options.password ?? "",
        ]);
        break;
      }
      case "authorize": {
        if (error !== null || result !== true) {
          const why = error !== null ? `${error[1]} (${error[0]})` : `result ${clip(result)}`;
          return this.close(`authorization refused: ${why}`);
        }
        this.#state = "ready";
        this.#lastJobAt = Date.now();
        this.#handshake?.resolve();
        this.#handshake = undefined;
        break;
      }
      case "submit":
        pending.resolve(classifySubmitResponse(result, error));
        break;
    }
  }
}

/** The TLS verification of a `stratum+ssl://` pool: its pin, and its CA file read now. */
async function tlsOptions(url: PoolUrl): Promise<TlsClientOptions> {
  const out: TlsClientOptions = {};
  if (url.sha256 !== undefined) out.sha256 = url.sha256;
  if (url.caFile !== undefined) {
    try {
      out.caCerts = [await Deno.readTextFile(url.caFile)];
    } catch (err) {
      throw new Error(`Cannot read ca=${url.caFile}: ${(err as Error).message}`);
    }
  }
  return out;
}
