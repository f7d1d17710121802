/**
 * What happens to an accepted socket before its protocol sees it: on a PROXY-protocol port the
 * header (from a trusted proxy: required, and the address it names becomes the peer's), then on
 * a TLS port the handshake (a `node:tls` server session over the socket). Both run under one deadline, so a peer that never finishes (or
 * sends garbage) is closed and gives its descriptor back; nothing here throws past the caller.
 *
 * @module
 */
import tls from "node:tls";
import { connDuplex, NodeTlsConn } from "./_node_tls_conn.ts";
import type { TlsMaterial } from "./tls_certificate.ts";
import {
  parseProxyHeader,
  PROXY_V1_MAX_BYTES,
  PROXY_V2_DEFAULT_MAX_BYTES,
  type ProxyHeader,
} from "../protocol/proxy_header.ts";

/** Options for {@linkcode prepareConnection}. */
export interface PrepareConnectionOptions {
  /** Run a TLS server session with this certificate (after the PROXY header, if any). */
  tls?: TlsMaterial | undefined;
  /** Read a PROXY header first (the socket comes from a trusted proxy). */
  proxyHeader: boolean;
  /** Time for the handshake and the header together (ms). */
  timeoutMs: number;
  /** Longest PROXY v2 header accepted (bytes). @default 4096 */
  maxProxyV2Bytes?: number;
}

/** A connection ready for its protocol. */
export interface PreparedConnection {
  /** The socket (wrapped: to replay what came after a header, or to carry TLS). */
  conn: Deno.Conn;
  /** The PROXY header, when one was read. */
  header?: ProxyHeader;
}

/** Why a connection was closed before its protocol saw it. */
export class EdgeRefusal extends Error {
  /** A short reason for logs and counters (`tls_handshake`, `proxy_header`, `timeout`, …). */
  readonly reason: string;

  /**
   * Make the refusal.
   *
   * @param reason Short reason.
   * @param message What happened.
   */
  constructor(reason: string, message: string) {
    super(message);
    this.name = "EdgeRefusal";
    this.reason = reason;
  }
}

/**
 * Complete a TLS handshake and/or read a PROXY header, within a deadline. On failure the socket
 * is closed.
 *
 * @example Usage
 * ```ts
 * import { prepareConnection } from "./edge_connection.ts";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await client.write(new TextEncoder().encode("PROXY TCP4 192.0.2.7 10.0.0.1 51000 3333\r\nhi"));
 * const prepared = await prepareConnection(await listener.accept(), {
 *   proxyHeader: true,
 *   timeoutMs: 3000,
 * });
 * assert.equal((prepared.conn.remoteAddr as Deno.NetAddr).hostname, "192.0.2.7");
 * const buf = new Uint8Array(2);
 * assert.equal(await prepared.conn.read(buf), 2);
 * assert.equal(new TextDecoder().decode(buf), "hi");
 * prepared.conn.close();
 * client.close();
 * listener.close();
 * ```
 *
 * @param conn The accepted socket.
 * @param options What to do and the deadline.
 * @returns The prepared connection.
 * @throws {EdgeRefusal} When the handshake or header fails or times out (the socket is closed).
 */
export async function prepareConnection(
  conn: Deno.Conn,
  options: PrepareConnectionOptions,
): Promise<PreparedConnection> {
  const cleanups: (() => void)[] = [() => closeQuietly(conn)];
  const cleanup = () => cleanups.forEach((f) => f());
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The deadline settles the race itself: it never waits for a stalled read to notice.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const what = options.proxyHeader ? "PROXY header" : "TLS handshake";
      reject(new EdgeRefusal("timeout", `${what} not complete within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
  });
  const work = (async () => {
    let prepared: PreparedConnection = { conn };
    if (options.proxyHeader) {
      prepared = await readProxyHeader(conn, options.maxProxyV2Bytes ?? PROXY_V2_DEFAULT_MAX_BYTES);
    }
    if (options.tls !== undefined) {
      const session = serverTls(prepared.conn, options.tls);
      cleanups.push(session.cancel);
      prepared = { ...prepared, conn: await session.ready };
    }
    return prepared;
  })();
  try {
    return await Promise.race([work, deadline]);
  } catch (err) {
    cleanup();
    work.catch(() => {});
    if (err instanceof EdgeRefusal) throw err;
    throw new EdgeRefusal("read_failed", message(err));
  } finally {
    clearTimeout(timer);
  }
}

/** Run the server side of a TLS handshake on a socket; `cancel` ends it where it is. */
function serverTls(
  conn: Deno.Conn,
  material: TlsMaterial,
): { ready: Promise<Deno.Conn>; cancel: () => void } {
  const socket = new tls.TLSSocket(connDuplex(conn), {
    isServer: true,
    secureContext: material.context,
  });
  const ready = new Promise<Deno.Conn>((resolve, reject) => {
    const fail = (err: Error) => {
      socket.destroy();
      reject(new EdgeRefusal("tls_handshake", `TLS handshake failed: ${err.message}`));
    };
    const closed = () => fail(new Error("the peer closed"));
    socket.once("error", fail);
    socket.once("end", closed);
    socket.once("close", closed);
    socket.once("secure", () => {
      socket.off("error", fail);
      socket.off("end", closed);
      socket.off("close", closed);
      // The TLSSocket, adapted to the part of Deno.Conn the line and HTTP connections use.
      resolve(new NodeTlsConn(socket, conn.remoteAddr, conn.localAddr) as unknown as Deno.Conn);
    });
  });
  return { ready, cancel: () => socket.destroy() };
}

async function readProxyHeader(conn: Deno.Conn, maxV2Bytes: number): Promise<PreparedConnection> {
  const cap = Math.max(PROXY_V1_MAX_BYTES, maxV2Bytes);
  let received = new Uint8Array(0);
  const chunk = new Uint8Array(Math.min(cap, 1024));
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) throw new EdgeRefusal("proxy_header", "closed before a PROXY header");
    const next = new Uint8Array(received.length + n);
    next.set(received);
    next.set(chunk.subarray(0, n), received.length);
    received = next;
    const parsed = parseProxyHeader(received, { maxV2Bytes });
    if (parsed.kind === "error") {
      throw new EdgeRefusal("proxy_header", `bad PROXY header: ${parsed.message}`);
    }
    if (parsed.kind === "incomplete") {
      // The parser bounds both versions; this only guards against a parser mistake.
      if (received.length > cap) throw new EdgeRefusal("proxy_header", "PROXY header too long");
      continue;
    }
    const { header, length } = parsed;
    const rest = received.slice(length);
    const remote = header.command === "proxy"
      ? { transport: "tcp" as const, hostname: header.source.ip, port: header.source.port }
      : undefined;
    // PrefacedConn forwards the part of Deno.Conn the line and HTTP connections use.
    return { conn: new PrefacedConn(conn, rest, remote) as unknown as Deno.Conn, header };
  }
}

/**
 * A socket whose first bytes were already read (they are replayed first), and whose peer
 * address is the one a PROXY header named. Only what the line and HTTP connections use is
 * forwarded: read, write, close, the addresses and the TCP options.
 */
class PrefacedConn {
  readonly #conn: Deno.Conn;
  #rest: Uint8Array;
  readonly remoteAddr: Deno.Addr;

  constructor(conn: Deno.Conn, rest: Uint8Array, remote: Deno.NetAddr | undefined) {
    this.#conn = conn;
    this.#rest = rest;
    this.remoteAddr = remote ?? conn.remoteAddr;
  }

  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  read(p: Uint8Array): Promise<number | null> {
    if (this.#rest.length === 0) return this.#conn.read(p);
    const n = Math.min(p.length, this.#rest.length);
    p.set(this.#rest.subarray(0, n));
    this.#rest = this.#rest.subarray(n);
    return Promise.resolve(n);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  close(): void {
    this.#conn.close();
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  setNoDelay(noDelay?: boolean): void {
    (this.#conn as Deno.TcpConn).setNoDelay?.(noDelay);
  }

  setKeepAlive(keepAlive?: boolean): void {
    (this.#conn as Deno.TcpConn).setKeepAlive?.(keepAlive);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
