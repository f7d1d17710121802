/**
 * Test helper: a raw TCP client for HTTP tests that writes exactly the bytes a test gives it
 * (partial request lines, oversized heads, pipelined requests) and records everything the
 * server sends and when the server closed. It uses `node:net` because `Deno.connect` cannot
 * choose the local address: `localAddress: "127.0.0.2"` makes a second client IP on loopback.
 *
 * @module
 */
import net from "node:net";
import { waitUntil } from "../_process.ts";

/** Options for {@linkcode RawHttpClient.connect}. */
export interface RawConnectOptions {
  /** Address to connect to. @default "127.0.0.1" */
  hostname?: string;
  /** Source address (any of 127.0.0.0/8 works on loopback). */
  localAddress?: string;
}

/** One parsed response from {@linkcode RawHttpClient.responses}. */
export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP client connection. */
export class RawHttpClient {
  /** When the connection was started (ms since epoch). */
  readonly openedAt: number;
  /** Everything received so far (Latin-1). */
  text = "";
  /** When the server's end of the stream (or a reset) arrived; undefined while open. */
  endedAt: number | undefined;
  /** Whether the connection ended with an error (a reset). */
  reset = false;
  #socket: net.Socket;
  #closed: Promise<void>;

  private constructor(socket: net.Socket, openedAt: number) {
    this.#socket = socket;
    this.openedAt = openedAt;
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => this.text += chunk);
    const end = () => this.endedAt ??= Date.now();
    socket.on("end", end);
    socket.on("error", () => {
      this.reset = true;
      end();
    });
    this.#closed = new Promise((resolve) => socket.on("close", () => resolve()));
    this.#closed.then(end);
  }

  /**
   * Connect.
   *
   * @param port The server's port.
   * @param options Address and source address.
   * @returns The connected client.
   */
  static connect(port: number, options: RawConnectOptions = {}): Promise<RawHttpClient> {
    const openedAt = Date.now();
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: options.hostname ?? "127.0.0.1",
        port,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      });
      const fail = (err: Error) => reject(err);
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.off("error", fail);
        resolve(new RawHttpClient(socket, openedAt));
      });
    });
  }

  /**
   * Write bytes (given as text; each char one byte).
   *
   * @param text What to send.
   */
  send(text: string): void {
    if (!this.#socket.destroyed) this.#socket.write(Buffer.from(text, "latin1"));
  }

  /**
   * Wait until the server closed its end.
   *
   * @param timeoutMs The deadline.
   * @returns When it ended (ms since epoch).
   */
  async ended(timeoutMs = 30_000): Promise<number> {
    await waitUntil(
      () => this.endedAt !== undefined,
      "the server to close the connection",
      timeoutMs,
    );
    return this.endedAt!;
  }

  /**
   * Wait until `count` complete responses have arrived.
   *
   * @param count How many.
   * @param timeoutMs The deadline.
   * @returns The responses so far.
   */
  async responses(count = 1, timeoutMs = 30_000): Promise<RawResponse[]> {
    let parsed: RawResponse[] = [];
    await waitUntil(
      () => (parsed = parseResponses(this.text)).length >= count,
      () => `${count} responses (got ${JSON.stringify(this.text.slice(0, 500))})`,
      timeoutMs,
    );
    return parsed;
  }

  /** Close from this side and wait until the socket is gone. */
  async close(): Promise<void> {
    this.#socket.destroy();
    await this.#closed;
  }
}

/**
 * Complete responses at the start of a received text (bodies framed by `Content-Length`;
 * bodiless answers like 408 too).
 *
 * @param text The received text.
 * @returns The responses.
 */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = text;
  while (true) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return out;
    const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? "")?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (rest.length < end + 4 + length) return out;
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
}
