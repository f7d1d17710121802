/**
 * The pool's UCP port for legacy GPU miners (NodeCore's CUDA miner and its OpenCL port speak
 * UCP to NodeCore's built-in pool, not Stratum): a line server with the Stratum ports'
 * hardening (bounded lines and send queues, per-IP caps, bans, deadlines) whose connections
 * each run a UCP session that behaves as NodeCore's pool did (spec nodecore-ucp-vblake.md
 * §2.2, §2.5–§2.9):
 *
 * - CAPABILITIES `10011111111` first; MINING_AUTH with a VeriBlock address (or
 *   `address.worker`) → MINING_AUTH_SUCCESS, or MINING_AUTH_FAILURE with a reason;
 * - MINING_SUBSCRIBE → MINING_SUBSCRIBE_SUCCESS, then, as a separate write, the first
 *   MINING_JOB;
 * - every connection owns an extranonce range from the pool's allocator (shared with the
 *   Stratum ports) and gets jobs whose `merkle_root` is computed with its
 *   `extra_nonce_start`, so a miner that uses the root unchanged and submits
 *   `extra_nonce = extra_nonce_start` produces valid headers; transaction changes go out as
 *   MINING_MEMPOOL_UPDATE with the connection's new root, new blocks as MINING_JOB;
 * - `mining_target` comes from the port's share difficulty (2^32 unless configured); submits
 *   are checked by the same validator as Stratum shares, recorded by the same recorder and
 *   credited to the authorized address and worker; block candidates go upstream; every submit
 *   is answered (SUCCESS only once the share is durable);
 * - one message per write, paced so that a miner reading one message per `recv()` gets each
 *   on its own; request and job ids stay in 0..2^31 − 1; nonce and nTime may be signed or
 *   unsigned.
 *
 * The port reports the same {@linkcode PoolEvents} as Stratum ports (`port` is the UCP port).
 *
 * @module
 */

import type { TlsMaterial } from "../net/tls_certificate.ts";
import type { TlsReload } from "../net/edge_listener.ts";
import { getLogger } from "@logtape/logtape";
import { difficultyToTarget, targetToBytes } from "../hash/difficulty.ts";
import type { LineConnection, LineHandler } from "../net/line_connection.ts";
import type { LineServer } from "../net/line_server.ts";
import type { Job } from "./jobs.ts";
import type { SharedSessionContext } from "./stratum_server.ts";
import { attachSession, type ConnectionLimits, listenLines, waitClosed } from "./_port_plumbing.ts";
import {
  DEFAULT_UCP_LIMITS,
  type UcpLimits,
  type UcpPortOptions,
  type UcpSessionContext,
} from "./_ucp_config.ts";
import { UcpMinerSession } from "./_ucp_session.ts";

export {
  DEFAULT_UCP_DIFFICULTY,
  DEFAULT_UCP_LIMITS,
  parseUcpPortSpec,
  type UcpLimits,
  type UcpPortOptions,
} from "./_ucp_config.ts";
export { UcpMinerSession } from "./_ucp_session.ts";

const log = getLogger(["vbkpool", "server", "ucp"]);

/** Options for {@linkcode UcpPort.listen}. */
export interface UcpPortListenOptions {
  /** Address and share difficulty. */
  port: UcpPortOptions;
  /** Byte-level limits (line length, send queue, connection caps). */
  connections?: ConnectionLimits;
  /** Session limits; missing keys take {@linkcode DEFAULT_UCP_LIMITS}. */
  limits?: Partial<UcpLimits>;
  /** The pool parts shared with the Stratum ports. */
  context: SharedSessionContext;
}

/**
 * A listening UCP port.
 *
 * @example Usage
 * ```ts
 * import { UcpPort } from "./ucp_port.ts";
 * import { BanList } from "./bans.ts";
 * import { PoolEvents } from "./events.ts";
 * import { ExtranonceAllocator } from "./extranonce.ts";
 * import { JobManager } from "./jobs.ts";
 * import { DEFAULT_SESSION_LIMITS } from "./session_limits.ts";
 * import { MemoryShareRecorder } from "./share_recorder.ts";
 * import { MemoryWorkerDifficulty } from "./worker_difficulty.ts";
 * import { vblake } from "../hash/vblake.ts";
 * import assert from "node:assert/strict";
 *
 * const port = UcpPort.listen({
 *   port: { hostname: "127.0.0.1", port: 0, difficulty: 1n << 32n },
 *   context: {
 *     limits: DEFAULT_SESSION_LIMITS,
 *     jobs: new JobManager(),
 *     extranonces: new ExtranonceAllocator(),
 *     recorder: new MemoryShareRecorder(),
 *     difficulties: new MemoryWorkerDifficulty(),
 *     events: new PoolEvents(),
 *     bans: new BanList(),
 *     hash: vblake,
 *     now: Date.now,
 *     onBlock: () => {},
 *     onOffence: () => {},
 *     refusesNewMiners: () => false,
 *     track: () => {},
 *   },
 * });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: port.addr.port });
 * const buf = new Uint8Array(4096);
 * const n = await conn.read(buf);
 * const first = JSON.parse(new TextDecoder().decode(buf.subarray(0, n!)));
 * assert.equal(first.command, "CAPABILITIES");
 * assert.equal(first.capabilities.data, "10011111111");
 * conn.close();
 * await port.close();
 * ```
 */
export class UcpPort {
  /** Sessions by connection id. */
  readonly sessions: Map<number, UcpMinerSession> = new Map();
  #lines: LineServer;
  #ctx: UcpSessionContext;

  private constructor(options: UcpPortListenOptions, bind: (port: UcpPort) => LineServer) {
    const target = difficultyToTarget(options.port.difficulty);
    this.#ctx = {
      ...options.context,
      ucpPort: options.port,
      ucpLimits: { ...DEFAULT_UCP_LIMITS, ...options.limits },
      target,
      targetBytes: targetToBytes(target),
    };
    this.#lines = bind(this);
    // The context's port is the bound one (port 0 resolves to a real port).
    this.#ctx = { ...this.#ctx, ucpPort: { ...options.port, port: this.#lines.addr.port } };
  }

  /**
   * Bind the port and start accepting miners.
   *
   * @param options Port settings, limits and the shared pool parts.
   * @returns The running port.
   * @throws {RangeError} When the difficulty is not a positive bigint below 2^192.
   * @throws {Error} When the address cannot be bound.
   */
  static listen(options: UcpPortListenOptions): UcpPort {
    // No coalesced writes: these miners read one message per recv() (see _ucp_paced_link.ts).
    return new UcpPort(options, (port) =>
      listenLines(options.port, {
        connections: options.connections,
        context: options.context,
        log,
        onConnection: (conn) => port.#accept(conn),
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
  get port(): UcpPortOptions {
    return this.#ctx.ucpPort;
  }

  /** The session limits in force. */
  get limits(): Readonly<UcpLimits> {
    return this.#ctx.ucpLimits;
  }

  /**
   * Send a job to every subscribed session (each with its own merkle root).
   *
   * @param job The job.
   * @returns How many sessions it was sent to.
   */
  broadcast(job: Job): number {
    let sent = 0;
    for (const session of this.sessions.values()) {
      if (session.sendJob(job)) sent++;
    }
    return sent;
  }

  /**
   * Close every connection from an IP (after the answers already due, e.g. to the submit that
   * got the IP banned).
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
   * `everyone`, every subscribed one (UCP has no reconnect message; the miner reconnects).
   *
   * @param everyone Whether miners that had work go too.
   * @param reason Close reason.
   * @returns How many connections were closed.
   */
  closeWithoutWork(everyone: boolean, reason: string): number {
    let n = 0;
    for (const session of this.sessions.values()) {
      if (!session.subscribed || session.link.closed) continue;
      if (!everyone && session.hadWork) continue;
      session.closeAfterFlush(reason);
      n++;
    }
    return n;
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
   * Close every connection once its queued messages are written (or at the deadline).
   *
   * @param deadline Time (ms since epoch) after which connections are closed anyway.
   */
  async drain(deadline: number): Promise<void> {
    const conns = [...this.#lines.connections.values()];
    for (const conn of conns) {
      const session = this.sessions.get(conn.id);
      if (session === undefined) conn.closeAfterFlush("server shutting down");
      else session.closeAfterFlush("server shutting down");
    }
    await waitClosed(conns, deadline);
  }

  /**
   * Close every connection and the listener.
   *
   * @param reason Close reason.
   */
  async close(reason = "server shutting down"): Promise<void> {
    await this.#lines.close(reason);
  }

  #accept(conn: LineConnection): LineHandler {
    const ctx = this.#ctx;
    const session = new UcpMinerSession(conn, ctx);
    return attachSession(conn, session, {
      sessions: this.sessions,
      context: ctx,
      port: ctx.ucpPort.port,
    });
  }
}
