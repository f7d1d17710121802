/**
 * What a Stratum session talks through (its connection) and what it shares with the rest of
 * the pool (jobs, extranonces, recorder, bans, events, clock, block submission).
 *
 * @module
 */

import type { ReadGate } from "../net/read_gate.ts";
import type { BanList, OffenceKind } from "./bans.ts";
import type { PoolPeers } from "./pool_peers.ts";
import type { PoolEvents } from "./events.ts";
import type { ExtranonceAllocator } from "./extranonce.ts";
import type { Job, JobManager } from "./jobs.ts";
import type { SessionLimits } from "./session_limits.ts";
import type { AcceptedShare, ShareRecorder } from "./share_recorder.ts";
import type { StratumPortOptions } from "./stratum_port.ts";
import type { VardiffConfig } from "./vardiff.ts";
import type { WorkerDifficultyStore } from "./worker_difficulty.ts";

/** The connection a session talks through (a `LineConnection` fits). */
export interface SessionLink {
  /** Connection id. */
  readonly id: number;
  /** Peer address. */
  readonly remoteIp: string;
  /** Whether it has closed. */
  readonly closed: boolean;
  /** Queue one line; false when closed or too slow. */
  send(line: string): boolean;
  /** Queue an encoded line (with its "\n"), shared by many links; `send` is used without it. */
  sendBytes?(bytes: Uint8Array): boolean;
  /** Close at once. */
  close(reason: string): void;
  /** Send what is queued, then close; no further line is delivered. */
  closeAfterFlush(reason: string): void;
  /** Deliver no further line; writes go on (a `LineConnection` has it). */
  stopReading?(): void;
  /** Set the deadline (ms from now) or clear it. */
  setTimeout(ms: number | undefined, reason?: string): void;
}

/** A connection the pool should penalise (see `bans.ts`). */
export interface Offence {
  /** Connection id. */
  connectionId: number;
  /** Peer address. */
  ip: string;
  /** The connection's worker, when it had one. */
  worker?: string | undefined;
  /** What it did. */
  kind: OffenceKind;
}

/** What a session shares with the rest of the pool. */
export interface SessionContext {
  /** The port's settings. */
  readonly port: StratumPortOptions;
  /** Vardiff settings derived from the port. */
  readonly vardiff: VardiffConfig;
  /** Protocol limits. */
  readonly limits: SessionLimits;
  /** Live jobs. */
  readonly jobs: JobManager;
  /** Extranonce ranges. */
  readonly extranonces: ExtranonceAllocator;
  /** Where accepted shares go. */
  readonly recorder: ShareRecorder;
  /** Shut while too many accepted shares wait for their record: connections stop reading. */
  readonly readGate?: ReadGate;
  /** Remembered worker difficulties. */
  readonly difficulties: WorkerDifficultyStore;
  /** Event bus. */
  readonly events: PoolEvents;
  /** Penalties and IP bans. */
  readonly bans: BanList;
  /** The other pool processes on the same ports (workers); undefined in a process of its own. */
  readonly peers?: PoolPeers;
  /** vBlake of a 64-byte header (must not keep `header`: the share check reuses it). */
  hash(header: Uint8Array): Uint8Array;
  /** Current time, ms since epoch. */
  now(): number;
  /** A share met the network target: submit the block (must not throw). */
  onBlock(share: AcceptedShare, job: Job): void;
  /**
   * A connection offended (too many invalid shares, protocol errors, floods or failed
   * authorizations): the pool closes it after the answers already due and counts it against
   * its IP, whose connections are all closed when that bans it. Must not throw.
   */
  onOffence(offence: Offence): void;
  /**
   * Whether new miners are refused because the pool has had no job for `noWorkWaitMs` (a
   * subscribe then gets "No work available" and a close, see `pool.ts`).
   */
  refusesNewMiners(): boolean;
  /** Keep a promise of in-flight work until it settles (for a clean stop). */
  track(work: Promise<unknown>): void;
}
