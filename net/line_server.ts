/**
 * A TCP listener for newline-delimited text: accepts connections (through the shared
 * {@linkcode acceptLoop}: descriptor budget, accept errors survived with back-off), enforces a
 * per-IP connection cap and a ban hook, sweeps deadlines once a second, and stops cleanly.
 *
 * @module
 */
import { acceptLoop } from "./accept_loop.ts";
import { type DescriptorBudget, processDescriptors } from "./descriptor_budget.ts";
import { LineConnection, type LineConnectionOptions, type LineHandler } from "./line_connection.ts";
import { listenOn } from "./listen_error.ts";

/** Options for {@linkcode LineServer}. */
export interface LineServerOptions extends LineConnectionOptions {
  /** Address to bind. @default "127.0.0.1" */
  hostname?: string;
  /**
   * Bind with `SO_REUSEPORT`, so that another process (the next version of the pool, during a
   * zero-downtime upgrade) can listen on the same port; the kernel spreads new connections
   * between them. @default false
   */
  reusePort?: boolean;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Most simultaneous connections from one IP (0 = unlimited). @default 0 */
  maxConnectionsPerIp?: number;
  /** Most simultaneous connections in all (0 = unlimited). @default 0 */
  maxConnections?: number;
  /** Loopback peers skip the per-IP cap and the ban hook. @default false */
  exemptLoopback?: boolean;
  /** Whether an IP is banned; banned peers are closed at once. */
  isBanned?: (ip: string) => boolean;
  /** Called for each accepted connection; returns the connection's handler. */
  onConnection: (conn: LineConnection) => LineHandler;
  /** Called when a connection is refused (cap or ban), for metrics and logs. */
  onRefused?: (ip: string, reason: string) => void;
  /** Deadline sweep interval. @default 1000 */
  sweepMs?: number;
  /** Names the port in the log (with its address), e.g. `"stratum"`. @default "tcp" */
  name?: string;
  /**
   * The descriptor budget each connection takes from; `null` = none (the embedded devnet,
   * which stands in for a NodeCore process of its own). @default processDescriptors()
   */
  descriptors?: DescriptorBudget | null;
}

/**
 * Whether an address is loopback.
 *
 * @example Usage
 * ```ts
 * import { isLoopback } from "./line_server.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isLoopback("127.0.0.1"), true);
 * assert.equal(isLoopback("10.0.0.1"), false);
 * ```
 *
 * @param ip Address text.
 * @returns `true` for 127.0.0.0/8 and ::1.
 */
export function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1" || ip.startsWith("::ffff:127.");
}

/** A listening line server. Create with {@linkcode LineServer.listen}. */
export class LineServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Live connections by id. */
  readonly connections: Map<number, LineConnection> = new Map();

  #listener: Deno.Listener;
  #options: LineServerOptions;
  #perIp = new Map<string, number>();
  #sweeper: ReturnType<typeof setInterval>;
  #accepting: Promise<void>;
  #stopped = false;

  private constructor(listener: Deno.Listener, options: LineServerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.addr = listener.addr as Deno.NetAddr;
    this.#sweeper = setInterval(() => this.sweep(Date.now()), options.sweepMs ?? 1000);
    this.#accepting = acceptLoop(listener, {
      name: `${options.name ?? "tcp"} ${this.addr.hostname}:${this.addr.port}`,
      descriptors: options.descriptors === undefined ? processDescriptors() : options.descriptors,
      stopped: () => this.#stopped,
      onConnection: (conn, release) => this.#admit(conn, release),
      onRefused: (ip) => options.onRefused?.(ip, "out of descriptors"),
    });
  }

  /**
   * Bind and start accepting.
   *
   * @param options Address, limits and the connection callback.
   * @returns The running server.
   * @throws {ListenError} When the address cannot be bound (it names the address).
   */
  static listen(options: LineServerOptions): LineServer {
    const hostname = options.hostname ?? "127.0.0.1";
    const { port } = options;
    const listener = listenOn(
      hostname,
      port,
      () => Deno.listen({ hostname, port, ...(options.reusePort ? { reusePort: true } : {}) }),
    );
    return new LineServer(listener, options);
  }

  /**
   * Change the connection limits of a running server (a configuration reload): caps apply to
   * the next accept, line and queue sizes to connections accepted from now on.
   *
   * @param limits The new limits.
   */
  setLimits(
    limits: Pick<
      LineServerOptions,
      | "maxConnections"
      | "maxConnectionsPerIp"
      | "exemptLoopback"
      | "maxLineBytes"
      | "maxSendQueueBytes"
    >,
  ): void {
    this.#options = { ...this.#options, ...limits };
  }

  /**
   * Close every connection whose deadline has passed.
   *
   * @param now Current time in ms.
   */
  sweep(now: number): void {
    for (const conn of this.connections.values()) {
      if (conn.deadline <= now) conn.close(conn.deadlineReason);
    }
  }

  /**
   * Stop accepting new connections; existing ones stay open.
   */
  stopAccepting(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }

  /**
   * Stop accepting, close every connection and wait for their read loops to end.
   *
   * @param reason Close reason given to each connection.
   */
  async close(reason = "server shutting down"): Promise<void> {
    this.stopAccepting();
    clearInterval(this.#sweeper);
    const done = [...this.connections.values()].map((c) => {
      c.close(reason);
      return c.done;
    });
    await Promise.allSettled([this.#accepting, ...done]);
  }

  #refuse(conn: Deno.Conn, release: () => void, ip: string, reason: string): void {
    try {
      conn.close();
    } catch {
      // Ignore.
    }
    release();
    this.#options.onRefused?.(ip, reason);
  }

  #admit(conn: Deno.Conn, release: () => void): void {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname ?? "";
    const o = this.#options;
    const exempt = o.exemptLoopback === true && isLoopback(ip);
    if (!exempt && o.isBanned?.(ip)) return this.#refuse(conn, release, ip, "banned");
    if (o.maxConnections && this.connections.size >= o.maxConnections) {
      return this.#refuse(conn, release, ip, "server full");
    }
    const count = this.#perIp.get(ip) ?? 0;
    if (!exempt && o.maxConnectionsPerIp && count >= o.maxConnectionsPerIp) {
      return this.#refuse(conn, release, ip, "too many connections from this IP");
    }
    const lc = new LineConnection(conn, o);
    this.connections.set(lc.id, lc);
    this.#perIp.set(ip, count + 1);
    let handler: LineHandler;
    try {
      handler = o.onConnection(lc);
    } catch {
      lc.close("internal error");
      handler = { onLine() {} };
    }
    void lc.start({
      onLine: (line) => handler.onLine(line),
      onClose: (reason) => {
        release();
        this.connections.delete(lc.id);
        const left = (this.#perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.#perIp.delete(ip);
        else this.#perIp.set(ip, left);
        handler.onClose?.(reason);
      },
    });
  }
}
