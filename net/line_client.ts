/**
 * Outgoing TCP connections for newline-delimited text (the pool's upstream, the miner).
 *
 * @module
 */
import { LineConnection, type LineConnectionOptions } from "./line_connection.ts";
import { connectTlsConn, type TlsClientOptions } from "./tls_client.ts";

/** Options for {@linkcode connectLines}. */
export interface ConnectLinesOptions extends LineConnectionOptions {
  /** Host name or address. */
  hostname: string;
  /** Port. */
  port: number;
  /** Give up connecting (TLS: and the handshake) after this long. @default 10000 */
  connectTimeoutMs?: number;
  /** Speak TLS, verified as these options say. @default plain TCP */
  tls?: TlsClientOptions | undefined;
}

/**
 * Connect to a line server, over TLS when `tls` is given.
 *
 * @param options Address, timeout and limits.
 * @returns The connection; call `start(handler)` to begin reading.
 * @throws {Error} When the connection fails or times out.
 */
export async function connectLines(options: ConnectLinesOptions): Promise<LineConnection> {
  const timeoutMs = options.connectTimeoutMs ?? 10000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const address = { hostname: options.hostname, port: options.port };
  const connecting: Promise<Deno.Conn> = options.tls === undefined
    ? Deno.connect(address)
    : connectTlsConn({ ...address, ...options.tls });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Cannot connect to ${options.hostname}:${options.port}: timed out`)),
      timeoutMs,
    );
  });
  try {
    const conn = await Promise.race([connecting, timeout]);
    return new LineConnection(conn, options);
  } catch (err) {
    // A connection that completes after the timeout must not leak.
    connecting.then((c) => c.close(), () => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Parse `host:port` (or `stratum+tcp://host:port`, `[v6]:port`).
 *
 * @example Usage
 * ```ts
 * import { parseHostPort } from "./line_client.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseHostPort("stratum+tcp://127.0.0.1:3333"), { hostname: "127.0.0.1", port: 3333 });
 * ```
 *
 * @param text Address text.
 * @returns Host and port.
 * @throws {SyntaxError} When the text is not `host:port` with a port in 1..65535.
 */
export function parseHostPort(text: string): { hostname: string; port: number } {
  const s = text.trim().replace(/^[a-z+]+:\/\//i, "").replace(/\/$/, "");
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:\s]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new SyntaxError(`Cannot parse address ${JSON.stringify(text)}: expected host:port`);
  }
  return { hostname: m[1]!, port };
}
