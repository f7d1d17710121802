/**
 * One connection of {@linkcode HttpServer}: reads request heads (bounded, with a deadline),
 * turns each into a standard `Request`, calls the handler and writes its `Response` — with a
 * `Content-Length`, or chunked for a stream (server-sent events), in which case the
 * connection closes when the stream ends. Keep-alive with an idle deadline and a request cap;
 * every 4xx/5xx answer closes the connection (after a short linger, so the client reads it).
 *
 * Deadlines are checked by the server's sweeper ({@linkcode HttpConnection.expire}): the head
 * and a body must arrive within `headerTimeoutMs` (then 408), an idle keep-alive connection
 * lasts `idleTimeoutMs`, the handler has `responseTimeoutMs`, and every write must finish
 * within `writeTimeoutMs` (a client that stops reading is dropped).
 *
 * One concern, a connection's request cycle and its writes; the buffered reading of heads and
 * bodies is `_http_reader.ts`.
 *
 * @module
 */
import { peerIp } from "../protocol/ip_address.ts";
import type { HttpHeadResult, HttpRequestHead } from "../protocol/http_request_head.ts";
import { encodeChunk, encodeResponseHead } from "../protocol/http_response_head.ts";
import { HttpReader } from "./_http_reader.ts";

const ENCODER = new TextEncoder();
/** Framing headers the server writes itself; a handler's are dropped. */
const HOP_BY_HOP = new Set([
  "connection",
  "content-length",
  "date",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
]);
/** Bytes read and dropped at most while lingering before a close. */
const LINGER_BYTES = 65_536;

/** Where a connection is in its request cycle (each has its own deadline). */
export type HttpPhase = "idle" | "head" | "body" | "response" | "write" | "stream" | "linger";

/** What a handler learns about the connection. */
export interface HttpRequestInfo {
  /** The client's address. */
  remoteAddr: Deno.NetAddr;
}

/** Answers one request; a rejection is answered 500. */
export type HttpHandler = (
  request: Request,
  info: HttpRequestInfo,
) => Response | Promise<Response>;

/** The limits of every connection of a server (see `HttpServerOptions` for each). */
export interface HttpLimits {
  methods: ReadonlySet<string>;
  maxHeadBytes: number;
  maxHeaders: number;
  maxBodyBytes: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  responseTimeoutMs: number;
  writeTimeoutMs: number;
  lingerMs: number;
  maxRequests: number;
}

/** Options for {@linkcode HttpConnection}. */
export interface HttpConnectionOptions {
  limits: HttpLimits;
  handler: HttpHandler;
  /** Whether a response is a stream (written as it comes, then the connection closes). */
  isStream(response: Response): boolean;
  /** Called once when the socket closes. */
  onClose(): void;
  /** A deadline passed in this phase. */
  onTimeout?(phase: HttpPhase): void;
  /** The server refused a request with this status (malformed, too large, wrong method). */
  onRefusedRequest?(status: number): void;
}

let cachedDate = "";
let cachedSecond = -1;

function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(second * 1000).toUTCString();
  }
  return cachedDate;
}

function errorResponse(status: number, message: string, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify({ error: message, status }), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

function headError(result: Extract<HttpHeadResult, { ok: false }>): Response {
  const why = result.status === 414 || result.status === 431
    ? "the request head is too large"
    : result.reason;
  return errorResponse(result.status, `Cannot read the request: ${why}`);
}

/** One client connection. */
export class HttpConnection {
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** When the current phase's deadline passes (ms since epoch); `Infinity` when none. */
  deadline = Infinity;

  #conn: Deno.Conn;
  #o: HttpConnectionOptions;
  #limits: HttpLimits;
  #phase: HttpPhase = "head";
  #reader: HttpReader;
  #requests = 0;
  #expired = false;
  #draining = false;
  #closed = false;
  #stream: ReadableStreamDefaultReader<Uint8Array> | undefined;

  /**
   * @param conn The accepted socket.
   * @param options Limits, the handler and the callbacks.
   */
  constructor(conn: Deno.Conn, options: HttpConnectionOptions) {
    this.#conn = conn;
    this.#o = options;
    this.#limits = options.limits;
    // The pool's key for the peer (IPv4-mapped IPv6 as IPv4), as the Stratum ports use.
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remoteAddr = { ...addr, hostname: peerIp(addr.hostname ?? "") };
    this.#reader = new HttpReader(conn, {
      maxHeadBytes: options.limits.maxHeadBytes,
      maxHeaders: options.limits.maxHeaders,
      maxBodyBytes: options.limits.maxBodyBytes,
      stopped: () => this.#closed || this.#expired,
    });
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch {
      // Not every socket type has the option.
    }
    this.#setPhase("head");
  }

  /** The phase the connection is in. */
  get phase(): HttpPhase {
    return this.#phase;
  }

  /** Whether it is between requests (nothing received of the next one). */
  get idle(): boolean {
    return (this.#phase === "idle" || this.#phase === "head") && this.#reader.buffered === 0;
  }

  /** Whether the socket is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Serve requests until the connection closes.
   *
   * @returns Settles (never rejects) once the connection has closed.
   */
  async serve(): Promise<void> {
    try {
      while (!this.#closed && !(this.#draining && this.idle) && await this.#serveOne()) {
        // The next request on a kept-alive connection.
      }
    } catch {
      // Nothing from one connection may escape it.
    } finally {
      // After a 408 the answer's own linger closes the socket (or the sweeper does).
      if (!this.#expired) this.close();
    }
  }

  /**
   * Finish the request under way, then close (server shutdown); close now when idle.
   */
  drain(): void {
    this.#draining = true;
    if (this.idle) this.close();
  }

  /**
   * The deadline passed: answer 408 to a client that started a request and did not finish it
   * (then close after a linger), close any other connection at once.
   *
   * @param now Current time (ms).
   */
  expire(now: number): void {
    if (this.#closed) return;
    const phase = this.#phase;
    this.#o.onTimeout?.(phase);
    const partial = (phase === "head" && this.#reader.buffered > 0) || phase === "body";
    if (this.#expired || !partial) return this.close();
    this.#expired = true;
    this.#phase = "linger";
    this.deadline = now + this.#limits.lingerMs;
    void this.#respond(
      errorResponse(408, "Cannot read the request: it did not arrive in time"),
      undefined,
      false,
    );
  }

  /** Close the socket now (idempotent); a stream being written is cancelled. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.deadline = Infinity;
    this.#stream?.cancel().catch(() => {});
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.#o.onClose();
  }

  /** One request: `true` when the connection stays open for the next. */
  async #serveOne(): Promise<boolean> {
    if (this.#requests > 0) this.#setPhase(this.#reader.buffered > 0 ? "head" : "idle");
    const result = await this.#reader.readHead(() => {
      if (this.#phase === "idle") this.#setPhase("head");
    });
    if (result === null) return false;
    if (!result.ok) return this.#refuse(headError(result));
    const head = result.head;
    this.#requests++;
    const limits = this.#limits;
    if (!limits.methods.has(head.method)) {
      const allow = [...limits.methods].join(", ");
      return this.#refuse(
        errorResponse(405, `Cannot ${head.method.slice(0, 16)}: the method is not allowed`, {
          allow,
        }),
      );
    }
    if (head.contentLength > limits.maxBodyBytes) {
      return this.#refuse(errorResponse(413, "Cannot read the request: the body is too large"));
    }
    const body = head.contentLength > 0 ? await this.#readBody(head) : null;
    if (head.contentLength > 0 && body === null) return false;
    const request = this.#request(head, body);
    if (request === undefined) {
      return this.#refuse(errorResponse(400, "Cannot read the request: malformed request"));
    }
    this.#setPhase("response");
    const response = await this.#call(request);
    if (this.#closed) {
      await response.body?.cancel().catch(() => {});
      return false;
    }
    const keepAlive = head.keepAlive && !this.#draining && response.status < 400 &&
      this.#requests < limits.maxRequests;
    return await this.#respond(response, head, keepAlive);
  }

  async #call(request: Request): Promise<Response> {
    try {
      return await this.#o.handler(request, { remoteAddr: this.remoteAddr });
    } catch {
      return errorResponse(500, "Cannot answer: internal error");
    }
  }

  #refuse(response: Response): Promise<boolean> {
    this.#o.onRefusedRequest?.(response.status);
    return this.#respond(response, undefined, false);
  }

  #request(head: HttpRequestHead, body: Uint8Array<ArrayBuffer> | null): Request | undefined {
    const local = this.#conn.localAddr as Deno.NetAddr;
    const host = head.host ??
      `${local.hostname.includes(":") ? `[${local.hostname}]` : local.hostname}:${local.port}`;
    try {
      return new Request(`http://${host}${head.path === "*" ? "/" : head.path}`, {
        method: head.method,
        headers: head.headers,
        ...(body === null ? {} : { body }),
      });
    } catch {
      return undefined;
    }
  }

  async #readBody(head: HttpRequestHead): Promise<Uint8Array<ArrayBuffer> | null> {
    this.#setPhase("body");
    if (head.expectContinue && this.#reader.buffered < head.contentLength) {
      if (!await this.#write(ENCODER.encode("HTTP/1.1 100 Continue\r\n\r\n"))) return null;
      this.#setPhase("body");
    }
    return await this.#reader.readBody(head);
  }

  // Writing.

  #setPhase(phase: HttpPhase): void {
    this.#phase = phase;
    const l = this.#limits;
    const ms = phase === "idle"
      ? l.idleTimeoutMs
      : phase === "head" || phase === "body"
      ? l.headerTimeoutMs
      : phase === "response"
      ? l.responseTimeoutMs
      : phase === "write"
      ? l.writeTimeoutMs
      : phase === "linger"
      ? l.lingerMs
      : Infinity;
    this.deadline = Date.now() + ms;
  }

  /** Write everything, within the write deadline; `false` when the socket failed or closed. */
  async #write(bytes: Uint8Array): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#phase !== "linger") this.#setPhase("write");
    try {
      let off = 0;
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  /**
   * Write a response. `head` undefined: an answer of the server's own (before or instead of
   * the handler). Returns whether the connection stays open for another request.
   */
  async #respond(
    response: Response,
    head: HttpRequestHead | undefined,
    keepAlive: boolean,
  ): Promise<boolean> {
    const status = response.status;
    const bodiless = status < 200 || status === 204 || status === 304 || head?.method === "HEAD";
    // `isStream` first: reading `response.body` turns a static body into a (slower) stream.
    const stream = !bodiless && this.#o.isStream(response) && response.body !== null;
    const headers: [string, string][] = [];
    for (const [name, value] of response.headers) {
      if (!HOP_BY_HOP.has(name)) headers.push([name, value]);
    }
    headers.push(["date", httpDate()]);
    if (stream) return await this.#respondStream(response, head, headers);
    let body: Uint8Array | undefined;
    try {
      if (!bodiless) body = new Uint8Array(await response.arrayBuffer());
      else await response.body?.cancel();
    } catch {
      this.close();
      return false;
    }
    if (body !== undefined) headers.push(["content-length", String(body.length)]);
    if (keepAlive) {
      if (head?.version === "1.0") headers.push(["connection", "keep-alive"]);
      // Tells clients when an idle connection closes, so they do not send on a closing one.
      const seconds = Math.floor(this.#limits.idleTimeoutMs / 1000);
      if (seconds > 0) headers.push(["keep-alive", `timeout=${seconds}`]);
    } else {
      headers.push(["connection", "close"]);
    }
    const bytes = encodeResponseHead(status, headers);
    let out = bytes;
    if (body !== undefined && body.length > 0) {
      out = new Uint8Array(bytes.length + body.length);
      out.set(bytes);
      out.set(body, bytes.length);
    }
    if (!await this.#write(out)) return false;
    if (keepAlive) return true;
    await this.#closeGracefully();
    return false;
  }

  async #respondStream(
    response: Response,
    head: HttpRequestHead | undefined,
    headers: [string, string][],
  ): Promise<boolean> {
    const chunked = head?.version !== "1.0";
    if (chunked) headers.push(["transfer-encoding", "chunked"]);
    headers.push(["connection", "close"]);
    const reader = response.body!.getReader();
    this.#stream = reader;
    if (!await this.#write(encodeResponseHead(response.status, headers))) return false;
    // A client that goes away (or talks over the stream) ends it.
    void this.#watchPeer().then(() => this.close());
    while (!this.#closed) {
      this.#setPhase("stream");
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch {
        break;
      }
      if (next.done) {
        if (chunked) await this.#write(encodeChunk(new Uint8Array(0)));
        break;
      }
      if (next.value.length === 0) continue;
      if (!await this.#write(chunked ? encodeChunk(next.value) : next.value)) break;
    }
    this.#stream = undefined;
    reader.cancel().catch(() => {});
    await this.#closeGracefully();
    return false;
  }

  /** Settles when the client closes, or sends more than a head's worth during a stream. */
  async #watchPeer(): Promise<void> {
    while (!this.#closed) {
      if (this.#reader.buffered >= this.#limits.maxHeadBytes) return;
      if (!await this.#reader.fill()) return;
    }
  }

  /** Half-close, read (and drop) what the client still sends until it closes, then close. */
  async #closeGracefully(): Promise<void> {
    if (this.#closed) return;
    try {
      await (this.#conn as Deno.TcpConn).closeWrite();
    } catch {
      return this.close();
    }
    this.#phase = "linger";
    this.deadline = Date.now() + this.#limits.lingerMs;
    let dropped = 0;
    while (!this.#closed && dropped < LINGER_BYTES) {
      dropped += this.#reader.buffered;
      this.#reader.discard();
      if (!await this.#reader.fill()) break;
    }
    this.close();
  }
}
