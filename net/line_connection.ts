/**
 * One TCP connection carrying newline-delimited text: a read loop with bounded framing, a
 * bounded send queue (one message per write, or everything queued in one write when
 * `coalesceWrites` is on: what is sent in one task goes out in one write), a deadline, and a single close path. Messages may be handed over
 * already encoded ({@linkcode LineConnection.sendBytes}), so a broadcast encodes its line once.
 *
 * A connection condemned by its owner ({@linkcode LineConnection.closeAfterFlush}, or
 * {@linkcode LineConnection.stopReading} when the owner still writes) acts at once: no further
 * line is delivered, not even the rest of the chunk being handled, and nothing more is read,
 * so a peer that keeps sending gets no more answers and fills only its own socket buffers. What
 * was queued before is still written.
 *
 * @module
 */
import { peerIp } from "../protocol/ip_address.ts";
import { LineFramer, LineTooLongError } from "../protocol/line_framer.ts";
import { lineBytes } from "./_line_bytes.ts";
import type { ReadGate } from "./read_gate.ts";

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
  /**
   * Largest read buffer. Each connection starts with a small buffer (a quarter of this, at
   * least 512 bytes) and moves to the full size once a read fills it, so idle connections hold
   * little memory. @default 4096
   */
  readBufferBytes?: number;
  /**
   * Write everything queued in one write (lines still end with "\n"). Off: one message per
   * write, for peers that expect each message in its own `recv()` (NodeCore's UCP miners).
   * @default false
   */
  coalesceWrites?: boolean;
  /**
   * While this gate is shut the connection reads nothing more and delivers nothing (what a
   * read already waiting brings is held until the gate opens); shared by every connection of a
   * process for backpressure.
   */
  readGate?: ReadGate;
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
  #coalesce: boolean;
  #gate: ReadGate | undefined;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  /** The chunk being written, and how much of it has been written. */
  #chunk: Uint8Array | undefined;
  #chunkOff = 0;
  #closed = false;
  #closeReason: CloseReason = "";
  #handler: LineHandler | undefined;
  #done: Promise<void> | undefined;
  #afterFlush: CloseReason | undefined;
  /** Set once the owner wants no more lines (closeAfterFlush or stopReading). */
  #readStopped = false;
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
    this.remoteIp = peerIp(addr.hostname ?? "");
    this.remotePort = addr.port ?? 0;
    this.#framer = new LineFramer({ maxLineBytes: options.maxLineBytes ?? 16384 });
    this.#maxQueue = options.maxSendQueueBytes ?? 262144;
    this.#readSize = Math.max(1, options.readBufferBytes ?? 4096);
    this.#coalesce = options.coalesceWrites ?? false;
    this.#gate = options.readGate;
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

  /** Whether lines are still read and delivered (false once closing or told to stop). */
  get reading(): boolean {
    return !this.#closed && !this.#readStopped;
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
   * Queue one line for sending (a "\n" is appended).
   *
   * @param line Text without the newline.
   * @returns `false` if the connection is closed or the peer is too slow (it is then closed).
   */
  send(line: string): boolean {
    if (this.#closed) return false;
    return this.sendBytes(lineBytes(line));
  }

  /**
   * Queue one already encoded message (normally a line with its "\n"). The bytes are written
   * as they are and must not change afterwards; one buffer may be sent on many connections.
   *
   * @example Usage
   * ```ts
   * import { LineConnection } from "./line_connection.ts";
   * import assert from "node:assert/strict";
   *
   * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
   * const conn = new LineConnection(await listener.accept());
   * const line = new TextEncoder().encode("hello\n");
   * assert.equal(conn.sendBytes(line), true);
   * const buf = new Uint8Array(6);
   * let n = 0;
   * while (n < 6) n += (await client.read(buf.subarray(n))) ?? 6;
   * assert.equal(new TextDecoder().decode(buf), "hello\n");
   * conn.close("done");
   * client.close();
   * listener.close();
   * ```
   *
   * @param message The bytes.
   * @returns `false` if the connection is closed or the peer is too slow (it is then closed).
   */
  sendBytes(message: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#queued + message.length > this.#maxQueue) {
      this.close("send queue full (slow reader)");
      return false;
    }
    this.#queue.push(message);
    this.#queued += message.length;
    if (!this.#writing) {
      this.#writing = true;
      // Coalescing: what is sent in this same task (a set_difficulty and its job, the replies of
      // one commit) goes out in one write; each write costs ~20 µs of the pool's thread.
      if (this.#coalesce) queueMicrotask(this.#writeNext);
      else this.#writeNext();
    }
    return true;
  }

  /**
   * Deliver no more lines and read nothing more; writing goes on (the owner closes later, e.g.
   * after paced writes). Lines already received but not yet delivered are dropped.
   *
   * @example Usage
   * ```ts
   * import { LineConnection } from "./line_connection.ts";
   * import assert from "node:assert/strict";
   *
   * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
   * const conn = new LineConnection(await listener.accept());
   * const lines: string[] = [];
   * conn.start({
   *   onLine: (line) => {
   *     lines.push(line);
   *     conn.stopReading(); // the first line condemns the connection
   *     conn.send("bye");
   *     conn.closeAfterFlush("done");
   *   },
   * });
   * await client.write(new TextEncoder().encode("one\ntwo\nthree\n"));
   * await conn.done;
   * assert.deepEqual(lines, ["one"]);
   * assert.equal(conn.reading, false);
   * client.close();
   * listener.close();
   * ```
   */
  stopReading(): void {
    this.#readStopped = true;
  }

  /**
   * Stop reading (as {@linkcode LineConnection.stopReading}), send the queued lines, then close.
   * A peer that does not read them within 5 s is closed anyway.
   *
   * @param reason Close reason.
   */
  closeAfterFlush(reason: CloseReason): void {
    if (this.#closed) return;
    this.#readStopped = true;
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
    this.#chunk = undefined;
    this.#signalClosed();
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  /** Start writing the next chunk (one message, or all queued ones when coalescing). */
  #writeNext = (): void => {
    const queue = this.#queue;
    if (this.#closed || queue.length === 0) {
      this.#writing = false;
      if (this.#afterFlush !== undefined && queue.length === 0) this.close(this.#afterFlush);
      return;
    }
    this.#writing = true;
    let chunk: Uint8Array;
    if (!this.#coalesce || queue.length === 1) {
      chunk = queue.shift()!;
    } else {
      let size = 0;
      for (const m of queue) size += m.length;
      chunk = new Uint8Array(size);
      let off = 0;
      for (const m of queue) {
        chunk.set(m, off);
        off += m.length;
      }
      queue.length = 0;
    }
    this.#chunk = chunk;
    this.#chunkOff = 0;
    this.#write(chunk);
  };

  #write(bytes: Uint8Array): void {
    let written: Promise<number>;
    try {
      written = this.#conn.write(bytes);
    } catch {
      this.#onWriteFailed();
      return;
    }
    written.then(this.#onWritten, this.#onWriteFailed);
  }

  #onWritten = (n: number): void => {
    const chunk = this.#chunk;
    if (chunk === undefined || this.#closed) {
      this.#writing = false;
      return;
    }
    this.#chunkOff += n;
    if (this.#chunkOff < chunk.length) {
      this.#write(chunk.subarray(this.#chunkOff));
      return;
    }
    this.#chunk = undefined;
    this.#queued -= chunk.length;
    this.bytesOut += chunk.length;
    this.#writeNext();
  };

  #onWriteFailed = (): void => {
    this.#writing = false;
    this.close("write failed");
  };

  /** Hand lines to the owner until it condemns the connection; false once it did. */
  #deliver(lines: string[]): boolean {
    for (const line of lines) {
      if (this.#closed || this.#readStopped) return false;
      try {
        this.#handler!.onLine(line);
      } catch {
        this.close("internal error");
        return false;
      }
    }
    return !this.#closed && !this.#readStopped;
  }

  async #readLoop(): Promise<void> {
    let buf = new Uint8Array(Math.min(this.#readSize, Math.max(512, this.#readSize >> 2)));
    try {
      while (!this.#closed && !this.#readStopped) {
        const gate = this.#gate;
        if (gate !== undefined && !gate.open) {
          await Promise.race([gate.wait(), this.#closedSignal]);
          continue;
        }
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.close("closed by peer");
          break;
        }
        // Condemned while this read was pending: what it brought is not looked at.
        if (this.#readStopped) break;
        this.bytesIn += n;
        // A full buffer: this peer sends more than small requests; read in full-size chunks.
        const grow = n === buf.length && buf.length < this.#readSize;
        let lines: string[];
        try {
          lines = this.#framer.push(buf.subarray(0, n));
        } catch (err) {
          if (!(err instanceof LineTooLongError)) throw err;
          // Answer what came before the long line, then close.
          if (this.#deliver(err.lines)) this.closeAfterFlush("line too long");
          break;
        }
        // A read that was waiting when the gate shut: its lines wait for the gate too, so that
        // thousands of connections cannot each bring a buffer's worth past it.
        if (lines.length > 0 && gate !== undefined && !gate.open) {
          await Promise.race([gate.wait(), this.#closedSignal]);
        }
        if (lines.length > 0 && !this.#deliver(lines)) break;
        if (grow) buf = new Uint8Array(this.#readSize);
      }
      // Reading stopped: the queued lines are being written; the close comes after them.
      await this.#closedSignal;
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
