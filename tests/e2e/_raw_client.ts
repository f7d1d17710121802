/**
 * End-to-end helper: a raw line client on 127.0.0.1 that keeps every line it receives and
 * notices the close, for tests that watch what a pool sends one connection.
 *
 * @module
 */
import { waitUntil } from "../_process.ts";

const ENCODER = new TextEncoder();

/** A raw TCP line client. */
export class RawClient {
  /** Lines received, in order. */
  readonly lines: string[] = [];
  /** Whether the peer closed (or reset) the connection. */
  closed = false;
  #conn: Deno.TcpConn;
  #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reading = this.#read();
  }

  /**
   * Connect.
   *
   * @param port The port on 127.0.0.1.
   * @returns The client.
   */
  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /**
   * Send text as is (add the "\n" yourself).
   *
   * @param text The bytes to send.
   */
  async send(text: string): Promise<void> {
    const bytes = ENCODER.encode(text);
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /**
   * Wait for a received line matching `pattern` (bounded).
   *
   * @param pattern What to look for.
   * @param from Only lines from this index on. @default 0
   * @returns The line.
   */
  async waitLine(pattern: RegExp, from = 0): Promise<string> {
    let found: string | undefined;
    await waitUntil(
      () => {
        found = this.lines.slice(from).find((l) => pattern.test(l));
        return found !== undefined;
      },
      () => `a line matching ${pattern}; got ${JSON.stringify(this.lines.slice(-5))}`,
      30_000,
    );
    return found!;
  }

  /** Wait until the peer closes (bounded). */
  async waitClosed(): Promise<void> {
    await waitUntil(() => this.closed, "the pool to close the connection", 30_000);
  }

  /** Close and wait for the reader. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    await this.#reading;
  }

  async #read(): Promise<void> {
    let rest = "";
    try {
      for await (const chunk of this.#conn.readable.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          this.lines.push(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
        }
      }
    } catch {
      // Reset.
    }
    this.closed = true;
  }
}
