/**
 * The pool's miner connections as the API counts them: Stratum sessions and legacy UCP
 * sessions alike (port, protocol, subscribed, authorized workers, share difficulty).
 *
 * @module
 */
import type { Pool } from "../server/pool.ts";

/** One miner connection. */
export interface SessionInfo {
  /** Local port. */
  port: number;
  /** `stratum` or `ucp`. */
  protocol: "stratum" | "ucp";
  /** Whether it subscribed. */
  subscribed: boolean;
  /** Workers authorized on it ("address" or "address.name"). */
  workers: readonly string[];
  /** Its share difficulty. */
  difficulty: bigint;
}

/** Every listening port of the pool with its open connection count. */
export function poolPorts(
  pool: Pool,
): { port: number; protocol: "stratum" | "ucp"; open: number }[] {
  return [
    ...pool.servers.map((s) => ({
      port: s.port.port,
      protocol: "stratum" as const,
      open: s.sessions.size,
    })),
    ...pool.ucpServers.map((s) => ({
      port: s.port.port,
      protocol: "ucp" as const,
      open: s.sessions.size,
    })),
  ];
}

/** Every open miner connection of the pool. */
export function* poolSessions(pool: Pool): Generator<SessionInfo> {
  for (const server of pool.servers) {
    const port = server.port.port;
    for (const session of server.sessions.values()) {
      yield {
        port,
        protocol: "stratum",
        subscribed: session.subscribed,
        workers: session.workers,
        difficulty: session.difficulty,
      };
    }
  }
  for (const server of pool.ucpServers) {
    const port = server.port.port;
    for (const session of server.sessions.values()) {
      const worker = session.worker;
      yield {
        port,
        protocol: "ucp",
        subscribed: session.subscribed,
        workers: worker === undefined ? [] : [worker],
        difficulty: session.difficulty,
      };
    }
  }
}

/** The payout address of a worker name. */
export function addressOf(worker: string): string {
  const dot = worker.indexOf(".");
  return dot < 0 ? worker : worker.slice(0, dot);
}
