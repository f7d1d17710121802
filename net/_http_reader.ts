/**
 * The reading side of an HTTP connection: one buffer per connection (2 KiB, growing up to the
 * head and body limits), request heads found and parsed as bytes arrive (each byte searched
 * once), bodies by `Content-Length`. Waiters share one outstanding read, so a stream's
 * watch for the client going away and a linger can both wait on the socket.
 *
 * @module
 */
import {
  findHeadEnd,
  type HttpHeadResult,
  type HttpRequestHead,
  oversizedHeadStatus,
  parseRequestHead,
} from "../protocol/http_request_head.ts";

const CR = 0x0d;
const LF = 0x0a;

/** Options for {@linkcode HttpReader}. */
export interface HttpReaderOptions {
  /** Longest head (request line and headers) in bytes. */
  maxHeadBytes: number;
  /** Most header fields. */
  maxHeaders: number;
  /** Largest body in bytes. */
  maxBodyBytes: number;
  /** Whether reading should stop (the connection is closed or timed out). */
  stopped(): boolean;
}

/** Buffered reads of request heads and bodies from one socket. */
export class HttpReader {
  #conn: Deno.Conn;
  #o: HttpReaderOptions;
  #buf: Uint8Array<ArrayBuffer>;
  #start = 0;
  #end = 0;
  #scanned = 0;
  #reading: Promise<boolean> | undefined;

  /**
   * @param conn The socket.
   * @param options Limits and the stop condition.
   */
  constructor(conn: Deno.Conn, options: HttpReaderOptions) {
    this.#conn = conn;
    this.#o = options;
    this.#buf = new Uint8Array(Math.min(2048, this.#capacity()));
  }

  /** Bytes received and not consumed yet. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Read more bytes into the buffer. Callers waiting at the same time share one read.
   *
   * @returns `false` at the end of the stream, on an error, or once stopped.
   */
  fill(): Promise<boolean> {
    this.#reading ??= this.#readMore();
    return this.#reading;
  }

  /** Drop what is buffered (lingering before a close). */
  discard(): void {
    this.#start = this.#end = 0;
  }

  /**
   * Read the next request head.
   *
   * @param onFirstByte Called when the first byte of it is buffered (ends an idle wait).
   * @returns The parsed head or the status to refuse it with; `null` when the socket ended.
   */
  async readHead(onFirstByte: () => void): Promise<HttpHeadResult | null> {
    this.#scanned = 0;
    let started = false;
    while (true) {
      // Empty lines before a request line are ignored (RFC 9112, section 2.2).
      while (this.#scanned === 0 && this.#start < this.#end) {
        const b = this.#buf[this.#start];
        if (b !== CR && b !== LF) break;
        this.#start++;
      }
      const buffered = this.buffered;
      if (buffered > 0) {
        if (!started) onFirstByte();
        started = true;
        const result = this.#head(buffered);
        if (result !== undefined) return result;
      }
      if (!await this.fill()) return null;
    }
  }

  /**
   * Read a body of `head.contentLength` bytes (at most `maxBodyBytes`).
   *
   * @param head The request's head.
   * @returns The body, or `null` when the socket ended first.
   */
  async readBody(head: HttpRequestHead): Promise<Uint8Array<ArrayBuffer> | null> {
    const length = head.contentLength;
    while (this.buffered < length) {
      if (!await this.fill()) return null;
    }
    const body = this.#buf.slice(this.#start, this.#start + length);
    this.#start += length;
    return body;
  }

  /** A complete head in the buffer, an oversized one, or undefined to read on. */
  #head(buffered: number): HttpHeadResult | undefined {
    const view = this.#buf.subarray(this.#start, this.#end);
    const end = findHeadEnd(view, Math.max(0, this.#scanned - 2));
    const max = this.#o.maxHeadBytes;
    if (end > max || (end < 0 && buffered >= max)) {
      const status = oversizedHeadStatus(view.subarray(0, max));
      return { ok: false, status, reason: "request head too large" };
    }
    if (end < 0) {
      this.#scanned = buffered;
      return undefined;
    }
    const result = parseRequestHead(view.subarray(0, end), { maxHeaders: this.#o.maxHeaders });
    this.#start += end;
    this.#scanned = 0;
    return result;
  }

  #capacity(): number {
    return this.#o.maxHeadBytes + this.#o.maxBodyBytes;
  }

  async #readMore(): Promise<boolean> {
    if (this.#end === this.#buf.length) this.#makeRoom();
    let n: number | null = null;
    if (this.#end < this.#buf.length) {
      try {
        n = await this.#conn.read(this.#buf.subarray(this.#end));
      } catch {
        n = null;
      }
    }
    this.#reading = undefined;
    if (n === null || this.#o.stopped()) return false;
    this.#end += n;
    return true;
  }

  /** Move the unread bytes to the front, growing the buffer (up to the limits) when needed. */
  #makeRoom(): void {
    const used = this.buffered;
    const grow = used >= this.#buf.length >> 1 && this.#buf.length < this.#capacity();
    if (grow) {
      const next = new Uint8Array(Math.min(this.#buf.length * 2, this.#capacity()));
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = used;
  }
}
