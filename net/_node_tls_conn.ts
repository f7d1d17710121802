/**
 * The bridge between `node:tls` and the `Deno.Conn`s the rest of `net/` uses: a `Duplex`
 * stream over a `Deno.Conn` (so a TLS session can run over a socket this process accepted and
 * keeps control of: closing it frees the descriptor at once, even mid-handshake, which
 * `Deno.listenTls` sockets do not guarantee), and the reverse adapter that gives a
 * `tls.TLSSocket` the part of `Deno.Conn` a line or HTTP connection uses (read, write, close,
 * addresses, TCP options), with back-pressure.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import type tls from "node:tls";

/**
 * A `Duplex` over a `Deno.Conn`: one read at a time, writes in order, close on destroy.
 *
 * @param conn The socket.
 * @returns The stream.
 */
export function connDuplex(conn: Deno.Conn): Duplex {
  // Small while records are small (miners' lines), a full TLS record once a read fills it.
  let buf = new Uint8Array(2048);
  let reading = false;
  return new Duplex({
    read() {
      if (reading) return;
      reading = true;
      conn.read(buf).then(
        (n) => {
          reading = false;
          if (n === null) return this.push(null);
          const chunk = buf.slice(0, n);
          if (n === buf.length && buf.length < 17 * 1024) buf = new Uint8Array(17 * 1024);
          this.push(chunk);
        },
        () => {
          reading = false;
          this.push(null);
        },
      );
    },
    write(chunk: Uint8Array, _encoding, callback) {
      writeAll(conn, chunk).then(() => callback(), (err) => callback(err));
    },
    final(callback) {
      conn.closeWrite().then(() => callback(), () => callback());
    },
    destroy(_err, callback) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      callback(null);
    },
  });
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Most bytes buffered from the socket before it is paused until the reader catches up. */
const HIGH_WATER = 1 << 20;

/** A `tls.TLSSocket` seen as the part of a `Deno.Conn` the line and HTTP connections use. */
export class NodeTlsConn {
  readonly #socket: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #waiting: (() => void) | undefined;
  /** The peer. */
  readonly remoteAddr: Deno.Addr;
  /** This end. */
  readonly localAddr: Deno.Addr;

  /**
   * Adapt a connected (handshaken) TLS socket.
   *
   * @param socket The socket.
   * @param remoteAddr The peer's address.
   * @param localAddr This end's address.
   */
  constructor(socket: tls.TLSSocket, remoteAddr: Deno.Addr, localAddr: Deno.Addr) {
    this.#socket = socket;
    this.remoteAddr = remoteAddr;
    this.localAddr = localAddr;
    socket.on("data", (data: Buffer) => {
      this.#chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.#buffered += data.byteLength;
      if (this.#buffered > HIGH_WATER) socket.pause();
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", (err: Error) => {
      this.#error = err;
      this.#wake();
    });
  }

  #wake(): void {
    const wake = this.#waiting;
    this.#waiting = undefined;
    wake?.();
  }

  /**
   * Read decrypted bytes.
   *
   * @param p Where to put them.
   * @returns How many, or `null` at the end of the stream.
   */
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#waiting = resolve);
    }
    const chunk = this.#chunks[0]!;
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    this.#buffered -= n;
    if (this.#buffered <= HIGH_WATER && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  /**
   * Write bytes (all of them). They are not copied: like `Deno.Conn.write`, the caller keeps
   * them unchanged until the promise settles (by then they are encrypted and handed on).
   *
   * @param p The bytes.
   * @returns Their count, once handed to the socket.
   */
  write(p: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.reject(new Deno.errors.BadResource("closed"));
    return new Promise((resolve, reject) => {
      this.#socket.write(p, (err?: Error | null) => err ? reject(err) : resolve(p.length));
    });
  }

  /** Close the TLS session and its socket now. */
  close(): void {
    this.#socket.destroy();
    this.#ended = true;
    this.#wake();
  }

  /** Send a TLS close and end the write side. */
  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }

  /**
   * Set TCP_NODELAY (when the socket underneath is a TCP socket of its own).
   *
   * @param noDelay On or off.
   */
  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay?.(noDelay);
  }

  /**
   * Set SO_KEEPALIVE (when the socket underneath is a TCP socket of its own).
   *
   * @param keepAlive On or off.
   */
  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive?.(keepAlive);
  }
}
