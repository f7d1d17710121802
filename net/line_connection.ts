/**
 * One TCP connection carrying newline-delimited text: a read loop with bounded framing, a
 * bounded send queue that writes one message per write, a deadline, and a single close path.
 *
 * @module
 */
import { LineFramer, LineTooLongError } from "../protocol/line_framer.ts";

const ENCODER = new TextEncoder();

/** Why a connection closed. */
export type CloseReason = string;

/** Callbacks of whoever owns a connection. */
export interface LineHandler {
  /** One complete line (without "\n"). Exceptions are caught and close the connection. */
  onLine(line: string): void;
  /** Called once, after the socket closed. */
  onClose?(reason: CloseReason): void;
}

/** Options for {@linkcode LineConnection}. */
export interface LineConnectionOptions {
  /** Longest accepted line in bytes. @default 16384 */
  maxLineBytes?: number;
  /** Most bytes waiting to be written before the peer counts as too slow. @default 262144 */
  maxSendQueueBytes?: number;
  /** Read buffer size. @default 4096 */
  readBufferBytes?: number;
}

let nextId = 1;

/**
 * A line-oriented wrapper around a `Deno.Conn`. Call {@linkcode LineConnection.start} with a
 * handler to begin reading.
 */
export class LineConnection {
  /** Process-unique connection id. */
  readonly id: number = nextId++;
  /** Peer IP address. */
  readonly remoteIp: string;
  /** Peer port. */
  readonly remotePort: number;
  /** When the connection was opened (ms since epoch). */
  readonly openedAt: number = Date.now();
  /** Deadline (ms since epoch) checked by the owner's sweeper; `Infinity` when none. */
  deadline = Infinity;
  /** Reason used when the deadline passes. */
  deadlineReason = "timeout";
  /** Bytes received so far. */
  bytesIn = 0;
  /** Bytes sent so far. */
  bytesOut = 0;

  #conn: Deno.Conn;
  #framer: LineFramer;
  #maxQueue: number;
  #readSize: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #closed = false;
  #closeReason: CloseReason = "";
  #handler: LineHandler | undefined;
  #done: Promise<void> | undefined;
  #afterFlush: CloseReason | undefined;
  #closedSignal: Promise<void>;
  #signalClosed!: () => void;

  /**
   * Wrap a connected socket.
   *
   * @param conn The socket.
   * @param options Limits.
   */
  constructor(conn: Deno.Conn, options: LineConnectionOptions = {}) {
    this.#conn = conn;
    this.#closedSignal = new Promise((resolve) => this.#signalClosed = resolve);
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.remoteIp = addr.hostname ?? "";
    this.remotePort = addr.port ?? 0;
    this.#framer = new LineFramer({ maxLineBytes: options.maxLineBytes ?? 16384 });
    this.#maxQueue = options.maxSendQueueBytes ?? 262144;
    this.#readSize = options.readBufferBytes ?? 4096;
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
      (conn as Deno.TcpConn).setKeepAlive?.(true);
    } catch {
      // Not every socket type supports these options.
    }
  }

  /** Whether the connection has closed (or is closing). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection closed, once it has. */
  get closeReason(): CloseReason {
    return this.#closeReason;
  }

  /** Bytes waiting in the send queue. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Start the read loop.
   *
   * @param handler Receives lines and the close notification.
   * @returns A promise that settles when the connection has closed.
   */
  start(handler: LineHandler): Promise<void> {
    this.#handler = handler;
    this.#done = this.#readLoop();
    return this.#done;
  }

  /** Settles when the connection has closed. */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  /**
   * Set (or clear with `undefined`) the deadline, relative to now.
   *
   * @param ms Milliseconds from now.
   * @param reason Close reason when it passes.
   */
  setTimeout(ms: number | undefined, reason = "timeout"): void {
    this.deadline = ms === undefined ? Infinity : Date.now() + ms;
    this.deadlineReason = reason;
  }

  /**
   * Queue one line for sending (a "\n" is appended); each line is written by its own write.
   *
   * @param line Text without the newline.
   * @returns `false` if the connection is closed or the peer is too slow (it is then closed).
   */
  send(line: string): boolean {
    if (this.#closed) return false;
    const message = ENCODER.encode(line + "\n");
    if (this.#queued + message.length > this.#maxQueue) {
      this.close("send queue full (slow reader)");
      return false;
    }
    this.#queue.push(message);
    this.#queued += message.length;
    if (!this.#writing) void this.#writeLoop();
    return true;
  }

  /**
   * Send queued lines, then close.
   *
   * @param reason Close reason.
   */
  closeAfterFlush(reason: CloseReason): void {
    if (this.#closed) return;
    if (!this.#writing && this.#queue.length === 0) return this.close(reason);
    this.#afterFlush = reason;
    // A peer that never reads must not keep the connection open.
    const timer = setTimeout(() => this.close(reason), 5000);
    void this.#closedSignal.then(() => clearTimeout(timer));
  }

  /**
   * Close now; queued data is dropped. Safe to call more than once.
   *
   * @param reason Why.
   */
  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#queue = [];
    this.#queued = 0;
    this.#signalClosed();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const message = this.#queue[0]!;
        let off = 0;
        while (off < message.length) {
          off += await this.#conn.write(message.subarray(off));
        }
        this.#queue.shift();
        this.#queued -= message.length;
        this.bytesOut += message.length;
      }
    } catch {
      this.close("write failed");
    } finally {
      this.#writing = false;
    }
    if (this.#afterFlush !== undefined && this.#queue.length === 0) this.close(this.#afterFlush);
  }

  #deliver(lines: string[]): boolean {
    for (const line of lines) {
      if (this.#closed) return false;
      try {
        this.#handler!.onLine(line);
      } catch {
        this.close("internal error");
        return false;
      }
    }
    return !this.#closed;
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(this.#readSize);
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.close("closed by peer");
          break;
        }
        this.bytesIn += n;
        let lines: string[];
        try {
          lines = this.#framer.push(buf.subarray(0, n));
        } catch (err) {
          if (!(err instanceof LineTooLongError)) throw err;
          // Answer what came before the long line, then close.
          if (this.#deliver(err.lines)) this.closeAfterFlush("line too long");
          await this.#closedSignal;
          break;
        }
        if (lines.length > 0 && !this.#deliver(lines)) break;
      }
    } catch {
      this.close(this.#closed ? this.#closeReason : "read failed");
    }
    if (this.#closeReason === "") this.#closeReason = "closed";
    try {
      this.#handler?.onClose?.(this.#closeReason);
    } catch {
      // A failing close handler must not break the accept loop.
    }
  }
}
