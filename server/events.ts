/**
 * Typed pool events: what the share path, the job path and the connection path report to
 * observers (metrics, API, dashboard, logs). Observers subscribe; the emitting code does not
 * know them, and a failing observer never disturbs the pool.
 *
 * @module
 */

import type { StratumErrorCode } from "../protocol/stratum_errors.ts";
import type { OffenceKind } from "./bans.ts";
import type { AcceptedShare } from "./share_recorder.ts";

/** A miner connection was accepted. */
export interface ConnectionOpenEvent {
  type: "connection_open";
  /** When (ms since epoch). */
  at: number;
  /** Process-unique connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** Local Stratum port. */
  port: number;
}

/** A miner connection closed. */
export interface ConnectionCloseEvent {
  type: "connection_close";
  /** When (ms since epoch). */
  at: number;
  /** Connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** Local Stratum port. */
  port: number;
  /** Why it closed. */
  reason: string;
  /** Bytes received from the peer. */
  bytesIn?: number;
  /** Bytes written to the peer. */
  bytesOut?: number;
}

/** A worker was authorized on a connection. */
export interface AuthorizedEvent {
  type: "authorized";
  /** When (ms since epoch). */
  at: number;
  /** Connection id. */
  connectionId: number;
  /** Worker name as sent ("address" or "address.worker"). */
  worker: string;
}

/** A share passed validation and is durable (the miner has been told `true`). */
export interface ShareAcceptedEvent {
  type: "share_accepted";
  /** When (ms since epoch). */
  at: number;
  /** The share. */
  share: AcceptedShare;
}

/** A submit was refused. */
export interface ShareRejectedEvent {
  type: "share_rejected";
  /** When (ms since epoch). */
  at: number;
  /** Connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** Worker name as sent, when the params had one. */
  worker?: string;
  /** Job id as sent, when the params had one. */
  jobId?: string;
  /** Why. */
  reason: StratumErrorCode;
}

/** A hash met the network target; the block is being submitted upstream. */
export interface BlockFoundEvent {
  type: "block_found";
  /** When (ms since epoch). */
  at: number;
  /** The share that found it (also credited as a share). */
  share: AcceptedShare;
}

/** NodeCore's answer to a block submission. */
export interface BlockResultEvent {
  type: "block_result";
  /** When (ms since epoch). */
  at: number;
  /** Block hash, 48 lower-case hex chars. */
  hash: string;
  /** Block height. */
  height: number;
  /** Whether NodeCore accepted it. */
  accepted: boolean;
  /** accepted, refused, not_sent, or unknown (no answer: the chain decides later). */
  outcome: "accepted" | "refused" | "not_sent" | "unknown";
  /** NodeCore's reason (or the pool's, on a timeout) when refused. */
  reason?: string;
  /** The NodeCore endpoint that answered. */
  endpoint?: string;
}

/** A job was sent to every subscribed miner. */
export interface JobBroadcastEvent {
  type: "job_broadcast";
  /** When (ms since epoch). */
  at: number;
  /** Our job id. */
  jobId: string;
  /** Block height. */
  height: number;
  /** Whether miners were told to drop older jobs (new previous block). */
  cleanJobs: boolean;
  /** Sessions that got it. */
  sessions: number;
  /** Milliseconds from the template's arrival to the end of the broadcast loop. */
  latencyMs: number;
}

/** A connection's share difficulty changed (vardiff, `d=N`, or suggest_difficulty). */
export interface DifficultyChangedEvent {
  type: "difficulty_changed";
  /** When (ms since epoch). */
  at: number;
  /** Connection id. */
  connectionId: number;
  /** The new difficulty. */
  difficulty: bigint;
}

/** A connection was closed for an offence; it counts against its IP (see `bans.ts`). */
export interface OffenceEvent {
  type: "offence";
  /** When (ms since epoch). */
  at: number;
  /** Connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** The connection's worker, when it had one. */
  worker?: string;
  /** What it did. */
  kind: OffenceKind;
}

/** An IP was banned. */
export interface BannedEvent {
  type: "banned";
  /** When (ms since epoch). */
  at: number;
  /** The address. */
  ip: string;
  /** Ban end (ms since epoch). */
  until: number;
  /** Why. */
  reason: string;
}

/** Everything the pool reports. */
export type PoolEvent =
  | ConnectionOpenEvent
  | ConnectionCloseEvent
  | AuthorizedEvent
  | ShareAcceptedEvent
  | ShareRejectedEvent
  | BlockFoundEvent
  | BlockResultEvent
  | JobBroadcastEvent
  | DifficultyChangedEvent
  | OffenceEvent
  | BannedEvent;

/** A subscriber. */
export type PoolEventListener = (event: PoolEvent) => void;

/**
 * A synchronous event bus. Listeners run in subscription order; an exception in one is caught
 * and ignored, so observers cannot break the share path.
 *
 * @example Usage
 * ```ts
 * import { PoolEvents } from "./events.ts";
 * import assert from "node:assert/strict";
 *
 * const events = new PoolEvents();
 * const seen: string[] = [];
 * const stop = events.subscribe((e) => seen.push(e.type));
 * events.emit({ type: "banned", at: 0, ip: "10.0.0.1", until: 1, reason: "test" });
 * stop();
 * events.emit({ type: "banned", at: 0, ip: "10.0.0.2", until: 1, reason: "test" });
 * assert.deepEqual(seen, ["banned"]);
 * ```
 */
export class PoolEvents {
  #listeners = new Set<PoolEventListener>();

  /** Whether anyone listens (emitters may skip building an event when not). */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  /**
   * Add a listener.
   *
   * @param listener Called with every event.
   * @returns A function that removes the listener.
   */
  subscribe(listener: PoolEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Deliver an event to every listener.
   *
   * @param event The event.
   */
  emit(event: PoolEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // An observer's failure is its own problem.
      }
    }
  }
}
