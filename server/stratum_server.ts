/**
 * One Stratum port: a line server (bounded lines and send queues, connection caps, bans,
 * deadlines) whose connections each run a {@linkcode StratumSession}.
 *
 * @module
 */

import type { TlsMaterial } from "../net/tls_certificate.ts";
import type { TlsReload } from "../net/edge_listener.ts";
import { getLogger } from "@logtape/logtape";
import type { LineConnection, LineHandler } from "../net/line_connection.ts";
import type { LineServer } from "../net/line_server.ts";
import type { Job } from "./jobs.ts";
import { ChunkedBroadcast } from "./_chunked_broadcast.ts";
import { attachSession, type ConnectionLimits, listenLines, waitClosed } from "./_port_plumbing.ts";
import type { SessionContext } from "./session_context.ts";
import { StratumSession } from "./stratum_session.ts";
import type { PortDifficulty, StratumPortOptions } from "./stratum_port.ts";
import type { VardiffConfig } from "./vardiff.ts";

export type { ConnectionLimits };

const log = getLogger(["vbkpool", "server", "stratum"]);

/** The pool parts every session of every port shares. */
export type SharedSessionContext = Omit<SessionContext, "port" | "vardiff">;

/** Options for {@linkcode StratumServer.listen}. */
export interface StratumServerOptions {
  /** The port's address and difficulty settings. */
  port: StratumPortOptions;
  /** Connection limits. */
  connections?: ConnectionLimits;
  /** The shared pool parts. */
  context: SharedSessionContext;
}

function vardiffOf(port: PortDifficulty): VardiffConfig {
  return {
    minDifficulty: port.minDifficulty,
    maxDifficulty: port.maxDifficulty,
    targetShareSeconds: port.targetShareSeconds,
    retargetSeconds: port.retargetSeconds,
    variancePercent: port.variancePercent,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}

/** A listening Stratum port. */
export class StratumServer {
  /** Sessions by connection id. */
  readonly sessions: Map<number, StratumSession> = new Map();
  #lines: LineServer;
  #ctx: SessionContext;
  #broadcast = new ChunkedBroadcast<Job>();

  private constructor(options: StratumServerOptions, bind: (server: StratumServer) => LineServer) {
    const port = options.port;
    this.#ctx = { ...options.context, port, vardiff: vardiffOf(port) };
    this.#lines = bind(this);
    // The context's port is the bound one (port 0 resolves to a real port).
    this.#ctx = { ...this.#ctx, port: { ...port, port: this.#lines.addr.port } };
  }

  /**
   * Bind the port and start accepting miners.
   *
   * @param options Port settings, limits and the shared pool parts.
   * @returns The running server.
   */
  static listen(options: StratumServerOptions): StratumServer {
    return new StratumServer(options, (server) =>
      listenLines(options.port, {
        connections: options.connections,
        context: options.context,
        // Stratum is a line protocol: replies queued together go out in one write.
        coalesceWrites: true,
        log,
        onConnection: (conn) => server.#accept(conn),
      }));
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#lines.addr;
  }

  /** The TLS certificate served (undefined on a plain port). */
  get certificate(): TlsMaterial | undefined {
    return this.#lines.certificate;
  }

  /**
   * Re-read the port's TLS certificate and key: new connections get the new pair, connected
   * miners stay. A pair that cannot be read or does not match is refused, the old one kept.
   *
   * @returns What was done.
   * @throws {Error} When the port is plain TCP or the new pair is refused.
   */
  reloadTls(): Promise<TlsReload> {
    return this.#lines.reloadTls();
  }

  /** The port's settings (with the bound port number). */
  get port(): StratumPortOptions {
    return this.#ctx.port;
  }

  /**
   * Send a job to every subscribed session: the first few hundred at once, the rest in chunks
   * between which the event loop serves other connections (see `_chunked_broadcast.ts`).
   *
   * @param job The job.
   * @returns How many sessions it is sent to.
   */
  broadcast(job: Job): number {
    const targets: StratumSession[] = [];
    for (const session of this.sessions.values()) {
      if (session.subscribed) targets.push(session);
    }
    this.#broadcast.start(job, targets);
    return targets.length;
  }

  /**
   * Run the vardiff timer of every session; not while reads are paused (the store is behind:
   * the miners' shares wait unread, which would look like silence and lower them).
   *
   * @param now Current time, ms since epoch.
   */
  tick(now: number): void {
    if (this.#ctx.readGate?.open === false) return;
    for (const session of this.sessions.values()) session.tick(now);
  }

  /**
   * Close every connection from an IP (after the answers already due).
   *
   * @param ip The address.
   * @param reason Close reason.
   */
  closeIp(ip: string, reason: string): void {
    for (const session of this.sessions.values()) {
      if (session.link.remoteIp === ip) session.closeAfterFlush(reason);
    }
  }

  /**
   * Close one connection (after the answers already due).
   *
   * @param id The connection id.
   * @param reason Close reason.
   * @returns Whether the connection is on this port.
   */
  closeConnection(id: number, reason: string): boolean {
    const session = this.sessions.get(id);
    session?.closeAfterFlush(reason);
    return session !== undefined;
  }

  /**
   * The pool has no work: close the subscribed connections that never had a job or, with
   * `everyone`, ask every subscribed one to reconnect (`client.reconnect`, then a close).
   *
   * @param everyone Whether miners that had work go too.
   * @param reason Close reason.
   * @returns How many connections were told.
   */
  closeWithoutWork(everyone: boolean, reason: string): number {
    let n = 0;
    for (const session of this.sessions.values()) {
      if (!session.subscribed || session.link.closed) continue;
      if (everyone) session.askToReconnect(reason);
      else if (!session.hadWork) session.closeAfterFlush(reason);
      else continue;
      n++;
    }
    return n;
  }

  /**
   * Change the port's difficulty and vardiff settings (a configuration reload): the start
   * difficulty applies to new connections; new bounds bring every connection's difficulty into
   * them at once (announced with `mining.set_difficulty`); vardiff settings apply to the next
   * retarget.
   *
   * @param settings The new settings (the address and `solo` stay as bound).
   */
  configure(settings: PortDifficulty): void {
    const port = this.#ctx.port as StratumPortOptions;
    Object.assign(port, {
      difficulty: settings.difficulty,
      minDifficulty: settings.minDifficulty,
      maxDifficulty: settings.maxDifficulty,
      vardiff: settings.vardiff,
      targetShareSeconds: settings.targetShareSeconds,
      retargetSeconds: settings.retargetSeconds,
      variancePercent: settings.variancePercent,
    });
    Object.assign(this.#ctx.vardiff, vardiffOf(port));
    for (const session of this.sessions.values()) session.retune();
  }

  /**
   * Hand every connection over to another process (see `StratumSession.handOver`), spread
   * evenly over `windowMs` so that the next process is not hit by every miner at once.
   *
   * @param windowMs Time over which the miners are asked to reconnect.
   * @param signal Ends the spreading (a stop came): the rest are not asked, the stop closes them.
   * @returns Once every connection was asked (its pending shares answered first), or aborted.
   */
  async handOver(windowMs: number, signal?: AbortSignal): Promise<void> {
    const sessions = [...this.sessions.values()];
    const step = sessions.length > 0 ? windowMs / sessions.length : 0;
    const asked: Promise<void>[] = [];
    for (const [i, session] of sessions.entries()) {
      if (i > 0 && step > 0 && !signal?.aborted) await sleep(step, signal);
      if (signal?.aborted) break;
      asked.push(session.handOver("handed over to the next pool process"));
    }
    await Promise.all(asked);
  }

  /**
   * Change the connection caps of the running port (a configuration reload; see
   * `LineServer.setLimits`).
   *
   * @param limits The new limits (`reusePort` only counts at bind time).
   */
  setLimits(limits: ConnectionLimits): void {
    const { reusePort: _, ...rest } = limits;
    this.#lines.setLimits(rest);
  }

  /** Stop accepting connections; existing ones stay. */
  stopAccepting(): void {
    this.#lines.stopAccepting();
  }

  /**
   * Close every connection once its queued lines are written (or at the deadline).
   *
   * @param deadline Time (ms since epoch) after which connections are closed anyway.
   */
  async drain(deadline: number): Promise<void> {
    this.#broadcast.finish();
    const conns = [...this.#lines.connections.values()];
    for (const conn of conns) conn.closeAfterFlush("server shutting down");
    await waitClosed(conns, deadline);
  }

  /**
   * Close every connection and the listener.
   *
   * @param reason Close reason.
   */
  async close(reason = "server shutting down"): Promise<void> {
    this.#broadcast.cancel();
    await this.#lines.close(reason);
  }

  #accept(conn: LineConnection): LineHandler {
    const ctx = this.#ctx;
    const session = new StratumSession(conn, ctx);
    return attachSession(conn, session, {
      sessions: this.sessions,
      context: ctx,
      port: ctx.port.port,
    });
  }
}
