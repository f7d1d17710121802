/**
 * The devnet's UCP listener: one {@linkcode UcpServerSession} per TCP connection, every
 * outgoing message written on its own, decode failures counted and repeat offenders closed.
 *
 * @module
 */

import { type LineConnection, LineServer } from "../net/mod.ts";
import { encodeUcp } from "../protocol/ucp_encode.ts";
import {
  UcpServerSession,
  type UcpServerSessionHost,
  type UcpSessionOutput,
} from "../protocol/ucp_server_session.ts";

function isSubscribed(session: UcpServerSession): boolean {
  return session.state === "subscribed";
}

/** One connected UCP client. */
export interface UcpClientConnection {
  /** The TCP connection. */
  readonly conn: LineConnection;
  /** Its protocol state. */
  readonly session: UcpServerSession;
}

/** Options for {@linkcode UcpServer.listen}. */
export interface UcpServerOptions {
  /** Interface to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Port (0 picks a free one). */
  port: number;
  /** Longest accepted line in bytes. @default 16384 */
  maxLineBytes?: number;
  /** Most connections at once. @default 1000 */
  maxConnections?: number;
  /** Time allowed from connect to a successful subscribe, in ms. @default 60000 */
  subscribeTimeoutMs?: number;
  /** Malformed or invalid lines tolerated per connection. @default 3 */
  maxOffences?: number;
  /** The decisions for one new connection. */
  hostFor(conn: LineConnection): UcpServerSessionHost;
  /** Called when a connection closes. */
  onClose?(client: UcpClientConnection, reason: string): void;
}

/**
 * A UCP server over `net/`'s line server.
 *
 * @example Usage
 * ```ts
 * import { UcpServer } from "./ucp_server.ts";
 * import assert from "node:assert/strict";
 *
 * const server = UcpServer.listen({
 *   port: 0,
 *   hostFor: () => ({
 *     authorize: () => ({ ok: true }),
 *     subscribe: () => ({ ok: false, reason: "no work" }),
 *     submit: () => ({ ok: false, reason: "no work" }),
 *   }),
 * });
 * assert.ok(server.addr.port > 0);
 * await server.close();
 * ```
 */
export class UcpServer {
  /** Bound address. */
  readonly addr: Deno.NetAddr;
  #lines: LineServer;
  #clients = new Map<number, UcpClientConnection>();

  private constructor(options: UcpServerOptions) {
    const subscribeTimeoutMs = options.subscribeTimeoutMs ?? 60000;
    this.#lines = LineServer.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      maxLineBytes: options.maxLineBytes ?? 16384,
      maxConnections: options.maxConnections ?? 1000,
      // NodeCore does not drop a pool that reads its replies a moment late: a pool's burst of
      // submits (2,000 replies ≈ 260 KB) must not overflow the send queue of a client that is
      // busy writing them.
      maxSendQueueBytes: 4 * 2 ** 20,
      name: "devnet ucp",
      // The devnet stands in for NodeCore, a process of its own: it never takes from the pool's
      // descriptor budget (in-process, the pool's upstream link must not be refused by it).
      descriptors: null,
      onConnection: (conn) => {
        const session = new UcpServerSession(options.hostFor(conn), {
          maxOffences: options.maxOffences ?? 3,
        });
        const client = { conn, session };
        this.#clients.set(conn.id, client);
        conn.setTimeout(subscribeTimeoutMs, "not subscribed in time");
        this.send(client, session.start());
        return {
          onLine: (line) => {
            this.send(client, session.handleLine(line));
            if (conn.deadline !== Infinity && isSubscribed(session)) conn.setTimeout(undefined);
          },
          onClose: (reason) => {
            this.#clients.delete(conn.id);
            options.onClose?.(client, reason);
          },
        };
      },
    });
    this.addr = this.#lines.addr;
  }

  /**
   * Start listening.
   *
   * @param options Address, limits and the per-connection host.
   * @returns The server.
   */
  static listen(options: UcpServerOptions): UcpServer {
    return new UcpServer(options);
  }

  /** Connected clients. */
  get clients(): IterableIterator<UcpClientConnection> {
    return this.#clients.values();
  }

  /** Number of connected clients. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * Write a session's output, one message per write, and close when it asks to.
   *
   * @param client The connection.
   * @param output What the session produced.
   */
  send(client: UcpClientConnection, output: UcpSessionOutput): void {
    for (const message of output.send) {
      if (!client.conn.send(encodeUcp(message))) return;
    }
    if (output.close !== undefined) client.conn.closeAfterFlush(output.close);
  }

  /**
   * Send something to every client.
   *
   * @param make Produces one client's output (e.g. `(c) => c.session.job(template)`).
   */
  broadcast(make: (client: UcpClientConnection) => UcpSessionOutput): void {
    for (const client of [...this.#clients.values()]) {
      if (!client.conn.closed) this.send(client, make(client));
    }
  }

  /** Stop accepting and close every connection. */
  async close(): Promise<void> {
    await this.#lines.close("devnet stopping");
  }
}
