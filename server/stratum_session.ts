/**
 * One miner's Stratum session (VeriBlock dialect): lines in, replies and notifications out.
 *
 * - `mining.subscribe`: allocates the connection's extranonce range and answers
 *   `[["mining.notify", key], extranonce16, 8]`, then sends `mining.set_difficulty` (a decimal
 *   integer string) and, when a job exists, `mining.notify` with `clean_jobs = true`. A second
 *   subscribe is refused (-2). While the pool has had no job for `noWorkWaitMs`, a subscribe
 *   is refused with `[20, "No work available: …"]` and the connection closed, so that the
 *   miner fails over; the pool asks miners it had given work to reconnect
 *   (`{"id":null,"method":"client.reconnect","params":[]}`, then a close) once the outage
 *   outlasts `noWorkGraceMs` (see `pool.ts`).
 * - `mining.authorize [worker, password]`: the worker is a VeriBlock address, optionally
 *   `address.worker`; the password may carry `d=N` for a fixed difficulty (clamped to the port's
 *   bounds, vardiff off). Otherwise the worker's remembered difficulty is restored.
 * - `mining.submit`: admitted by `admitShare` (share_admission.ts, the path every port shares);
 *   an accepted share is answered `true` only after the recorder made it durable (an error if
 *   that fails). A block candidate goes upstream at once, without waiting for the miner's reply,
 *   and is never refused unhashed: over the pending-submit cap or the request rate, a submit is
 *   still checked, and only a share that is not a block is refused (`rate_limited`).
 * - `mining.extranonce.subscribe` → `true` (the extranonce never changes);
 *   `mining.suggest_difficulty [d]` → `true`, a start hint within the port's bounds.
 * - Anything else: error -3. Notifications (id null) get no reply.
 *
 * Difficulty changes (vardiff, `d=N`, a hint, a lower network difficulty) are sent as
 * `mining.set_difficulty` followed by a fresh job id for the current job; a job keeps the
 * difficulty in force when it was sent, so shares on older jobs count at the old difficulty.
 * The difficulty announced never exceeds the current network difficulty, whatever asked for it
 * (a fixed `d=N` follows the network down and back up to N), and a share never counts for more
 * than its job's network difficulty (shares.ts).
 * Replies keep request order. Errors come from the fixed table; exception text never reaches
 * the miner.
 *
 * This is the one stateful file of the share path (~590 lines: one class, one state machine,
 * with its deadlines and the ways it closes); the pure parts live beside it: `shares.ts`
 * (validation), `_session_share.ts` (share record, `d=N`, the silent deadline),
 * `_token_bucket.ts` (flood control), `_ordered_replies.ts` (reply order), `bans.ts` (its
 * invalid-share ratio).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { difficultyToTarget } from "../hash/difficulty.ts";
import { isValidAddress } from "../hash/address.ts";
import { parseDifficulty } from "../protocol/stratum_difficulty.ts";
import {
  encodeError,
  encodeNotify,
  encodeReconnect,
  encodeResult,
  encodeSetDifficulty,
  encodeSubscribeResult,
} from "../protocol/stratum_encode.ts";
import type { StratumErrorCode } from "../protocol/stratum_errors.ts";
import { parseAuthorizeParams } from "../protocol/stratum_params.ts";
import { parseStratumRequest } from "../protocol/stratum_request.ts";
import type { StratumId, StratumRequest } from "../protocol/stratum_types.ts";
import type { OffenceKind, ShareCounts } from "./bans.ts";
import type { ExtranonceRange } from "./extranonce.ts";
import type { Job } from "./jobs.ts";
import { OrderedReplies } from "./_ordered_replies.ts";
import { clamp, passwordDifficulty, quietDeadline } from "./_session_share.ts";
import { admitShare, type SubmitterFacts } from "./share_admission.ts";
import { TokenBucket } from "./_token_bucket.ts";
import type { SessionContext, SessionLink } from "./session_context.ts";
import { SentJobs } from "./_sent_jobs.ts";
import { checkVardiff, createVardiff, recordShare, type VardiffState } from "./vardiff.ts";

const log = getLogger(["vbkpool", "server", "session"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** One miner connection's Stratum state machine. */
export class StratumSession {
  /** The connection. */
  readonly link: SessionLink;
  #ctx: SessionContext;
  #replies: OrderedReplies;
  #connectedAt: number;
  #extranonce: ExtranonceRange | undefined;
  #authorized = new Set<string>();
  #primaryWorker: string | undefined;
  #sent = new SentJobs();
  #difficulty: bigint;
  #target: bigint;
  /** What the miner or the port asks for without vardiff (capped at the network's when sent). */
  #wanted: bigint;
  #fixed = false;
  #difficultyChanges = 0;
  #vardiff: VardiffState;
  #protocolErrors = 0;
  #authFailures = 0;
  /** Submit counts for this connection's invalid-share ratio (see bans.ts). */
  #shareCounts: ShareCounts;
  /** Set once the connection is condemned (too many errors): nothing more is read. */
  #closing = false;
  #pending = 0;
  /** Waiting for every pending submit to be answered (see handOver). */
  #whenAnswered: (() => void)[] = [];
  #flood: TokenBucket;
  #userAgent: string | undefined;
  #accepted = 0;
  #rejected = 0;
  /** Whether a job was ever sent (the pool keeps such miners through a short outage). */
  #hadWork = false;
  /** A mining connection that sends no line for this long is closed (see #updateQuiet). */
  #quietMs = 0;
  #quietReason = "idle timeout";
  /** When the miner last sent a line (ms since epoch, `Date.now`, as the link's deadline). */
  #heardAt = Date.now();

  /**
   * Start a session on a new connection (arms the subscribe deadline).
   *
   * @param link The connection.
   * @param ctx The pool's shared parts.
   */
  constructor(link: SessionLink, ctx: SessionContext) {
    this.link = link;
    this.#ctx = ctx;
    this.#replies = new OrderedReplies((line) => link.send(line));
    const now = ctx.now();
    this.#connectedAt = Date.now();
    this.#difficulty = ctx.port.difficulty;
    this.#wanted = ctx.port.difficulty;
    this.#target = difficultyToTarget(this.#difficulty);
    this.#vardiff = createVardiff(this.#difficulty, now);
    this.#flood = new TokenBucket(ctx.limits.requestsPerSecond, ctx.limits.requestBurst, now);
    this.#shareCounts = ctx.bans.shareCounts(link.remoteIp, now);
    this.#updateQuiet();
    link.setTimeout(ctx.limits.subscribeTimeoutMs, "subscribe timeout");
  }

  /** The connection's extranonce range, once subscribed. */
  get extranonce(): ExtranonceRange | undefined {
    return this.#extranonce;
  }

  /** Whether `mining.subscribe` succeeded. */
  get subscribed(): boolean {
    return this.#extranonce !== undefined;
  }

  /** Workers authorized on this connection. */
  get workers(): string[] {
    return [...this.#authorized];
  }

  /** The current share difficulty. */
  get difficulty(): bigint {
    return this.#difficulty;
  }

  /** Whether the difficulty is fixed (`d=N`). */
  get fixedDifficulty(): boolean {
    return this.#fixed;
  }

  /** The user agent from `mining.subscribe`, if any. */
  get userAgent(): string | undefined {
    return this.#userAgent;
  }

  /** Accepted and rejected submit counts. */
  get counts(): { accepted: number; rejected: number } {
    return { accepted: this.#accepted, rejected: this.#rejected };
  }

  /** Submits waiting for their durable record. */
  get pendingSubmits(): number {
    return this.#pending;
  }

  /** Whether the connection was ever sent a job. */
  get hadWork(): boolean {
    return this.#hadWork;
  }

  /**
   * Handle one line from the miner.
   *
   * @param line The line, without "\n".
   */
  onLine(line: string): void {
    if (this.#closing) return;
    const now = this.#ctx.now();
    if (this.#extranonce !== undefined && this.#authorized.size > 0) {
      this.#heardAt = Date.now();
      this.link.setTimeout(this.#quietMs, this.#quietReason);
    }
    if (!this.#flood.take(now)) {
      // A submit is still checked (a block is never refused unhashed); anything else waits.
      const flooded = parseStratumRequest(line);
      if (flooded.ok && flooded.request.method === "mining.submit") {
        const { id, params } = flooded.request;
        this.#submit(id, params, now, "rate_limited");
      } else {
        this.#replies.now(encodeError(null, "rate_limited"));
      }
      this.#offence("request flood");
      return;
    }
    const parsed = parseStratumRequest(line);
    if (!parsed.ok) {
      this.#replies.now(encodeError(parsed.id, parsed.code));
      this.#offence(parsed.fatal ? "malformed requests" : "invalid requests");
      return;
    }
    this.#dispatch(parsed.request, now);
  }

  /**
   * Send a broadcast job (its pre-encoded line). On a new block the session's old jobs are
   * forgotten and vardiff gets the new network difficulty first.
   *
   * @param job The job.
   */
  sendJob(job: Job): void {
    if (this.#extranonce === undefined || this.#closing || this.link.closed) return;
    if (job.notify.cleanJobs) {
      this.#sent.clear();
      if (this.#usesVardiff()) {
        const changed = checkVardiff(this.#vardiff, {
          config: this.#ctx.vardiff,
          now: this.#ctx.now(),
          networkDifficulty: job.networkDifficulty,
        });
        if (changed !== undefined) {
          this.#changeDifficulty(changed, { refreshJob: false, fromVardiff: true });
        }
      } else {
        // Without vardiff the difficulty follows the network down, and back up to what was
        // asked for.
        const next = this.#wanted < job.networkDifficulty ? this.#wanted : job.networkDifficulty;
        this.#changeDifficulty(next, { refreshJob: false, fromVardiff: false });
      }
    }
    this.#remember(job.id, job);
    if (this.link.sendBytes !== undefined) this.link.sendBytes(job.notifyBytes);
    else this.link.send(job.notifyLine);
  }

  /**
   * The vardiff timer: lowers the difficulty of a miner that has gone quiet.
   *
   * @param now Current time, ms since epoch.
   */
  tick(now: number): void {
    if (this.#extranonce === undefined || !this.#usesVardiff() || this.#closing) return;
    if (this.link.closed) return;
    const changed = checkVardiff(this.#vardiff, {
      config: this.#ctx.vardiff,
      now,
      networkDifficulty: this.#ctx.jobs.current?.networkDifficulty,
    });
    if (changed !== undefined) {
      this.#changeDifficulty(changed, { refreshJob: true, fromVardiff: true });
    }
  }

  /**
   * Condemn the connection from outside (an offence, a ban, no work): nothing more is read or
   * answered; what is queued, and the answer to the line being handled, is written, then it
   * closes.
   *
   * @param reason Close reason.
   */
  closeAfterFlush(reason: string): void {
    if (this.#closing || this.link.closed) return;
    this.#closing = true;
    this.link.stopReading?.();
    queueMicrotask(() => this.link.closeAfterFlush(reason));
  }

  /**
   * The pool has had no work for its grace period: send `client.reconnect` (a miner that
   * knows it reconnects, and its next subscribe tells it whether there is work), then close.
   *
   * @param reason Close reason.
   */
  askToReconnect(reason: string): void {
    if (this.#closing || this.link.closed) return;
    this.link.send(encodeReconnect());
    this.closeAfterFlush(reason);
  }

  /**
   * Hand the miner over to another pool process (a zero-downtime upgrade): read nothing more,
   * wait until every submit already read is answered (its share stored), then send
   * `client.reconnect` and close once it is written. Its reconnection reaches whichever process
   * still listens on the port.
   *
   * @param reason Close reason.
   * @returns Once the reconnect request is queued (or the connection is gone).
   */
  async handOver(reason: string): Promise<void> {
    if (this.#closing || this.link.closed) return;
    this.#closing = true;
    this.link.stopReading?.();
    while (this.#pending > 0 && !this.link.closed) {
      await new Promise<void>((resolve) => this.#whenAnswered.push(resolve));
    }
    if (this.link.closed) return;
    this.link.send(encodeReconnect());
    this.link.closeAfterFlush(reason);
  }

  /**
   * The port's difficulty bounds or vardiff settings changed (a configuration reload): bring
   * the difficulty into the new bounds (telling the miner) and re-arm the quiet deadline.
   */
  retune(): void {
    if (this.#closing || this.link.closed) return;
    const port = this.#ctx.port;
    this.#wanted = clamp(this.#wanted, port.minDifficulty, port.maxDifficulty);
    const next = clamp(this.#difficulty, port.minDifficulty, port.maxDifficulty);
    if (next !== this.#difficulty) {
      this.#changeDifficulty(next, { refreshJob: true, fromVardiff: false });
    }
    this.#updateQuiet();
    if (this.#extranonce !== undefined && this.#authorized.size > 0) {
      this.link.setTimeout(this.#quietMs, this.#quietReason);
    }
  }

  /**
   * Set the difficulty by the operator's decision (vardiff, when it runs, goes on from it).
   *
   * @param difficulty The new share difficulty (capped at the network difficulty).
   * @returns The difficulty now in force.
   */
  setDifficulty(difficulty: bigint): bigint {
    if (this.#closing || this.link.closed) return this.#difficulty;
    this.#wanted = difficulty;
    this.#changeDifficulty(difficulty, { refreshJob: true, fromVardiff: false });
    return this.#difficulty;
  }

  /**
   * The connection closed.
   *
   * @param reason Why.
   */
  onClose(reason: string): void {
    this.#sent.clear();
    for (const resolve of this.#whenAnswered.splice(0)) resolve();
    episodes.debug("closed", "connection {id} closed: {reason}", { id: this.link.id, reason });
  }

  #dispatch(request: StratumRequest, now: number): void {
    const { id, method, params } = request;
    switch (method) {
      case "mining.subscribe":
        return this.#subscribe(id, params);
      case "mining.authorize":
        return this.#authorize(id, params);
      case "mining.submit":
        return this.#submit(id, params, now);
      case "mining.extranonce.subscribe":
        return this.#answer(id, encodeResult(id, true));
      case "mining.suggest_difficulty":
        return this.#suggestDifficulty(id, params);
      default:
        return this.#answer(id, encodeError(id, "unknown_method", { detail: method }));
    }
  }

  #answer(id: StratumId, line: string): void {
    if (id !== null) this.#replies.now(line);
  }

  #fail(id: StratumId, reason: StratumErrorCode, detail?: string): void {
    if (id === null) return;
    this.#replies.now(encodeError(id, reason, detail === undefined ? undefined : { detail }));
  }

  #subscribe(id: StratumId, params: unknown[]): void {
    if (this.#extranonce !== undefined) return this.#fail(id, "already_subscribed");
    const ctx = this.#ctx;
    if (ctx.jobs.current === undefined && ctx.refusesNewMiners()) {
      // Nothing to mine for a while: a clear error and a close, so that the miner fails over.
      this.#replies.now(encodeError(id, "no_work"));
      this.#closing = true;
      this.link.closeAfterFlush("no work");
      return;
    }
    let range: ExtranonceRange;
    try {
      range = this.#ctx.extranonces.allocate();
    } catch (err) {
      episodes.error("extranonce", "cannot allocate an extranonce: {error}", {
        error: String(err),
      });
      return this.#fail(id, "internal");
    }
    this.#extranonce = range;
    if (typeof params[0] === "string") this.#userAgent = params[0].slice(0, 64);
    this.#answer(id, encodeSubscribeResult(id, range.start));
    this.#armDeadline();
    const job = this.#ctx.jobs.current;
    if (job !== undefined && this.#difficulty > job.networkDifficulty) {
      this.#setDifficulty(job.networkDifficulty);
    }
    this.link.send(encodeSetDifficulty(this.#difficulty));
    if (job !== undefined) {
      this.#remember(job.id, job);
      if (this.link.sendBytes !== undefined) this.link.sendBytes(job.notifyBytesClean);
      else this.link.send(job.notifyLineClean);
    }
  }

  #authorize(id: StratumId, params: unknown[]): void {
    const parsed = parseAuthorizeParams(params);
    if (!parsed.ok) return this.#fail(id, parsed.code);
    const { worker, password } = parsed.authorize;
    const dot = worker.indexOf(".");
    const address = dot < 0 ? worker : worker.slice(0, dot);
    if (worker.length > this.#ctx.limits.maxWorkerLength || !isValidAddress(address)) {
      this.#fail(id, "invalid_address");
      if (++this.#authFailures >= this.#ctx.limits.maxAuthFailures) {
        this.#condemn("too many failed authorizations", "auth_failures");
      }
      return;
    }
    if (!this.#authorized.has(worker) && this.#authorized.size >= this.#ctx.limits.maxWorkers) {
      return this.#fail(id, "unauthorized");
    }
    this.#authorized.add(worker);
    this.#primaryWorker ??= worker;
    this.#answer(id, encodeResult(id, true));
    this.#armDeadline();
    if (this.#ctx.events.active) {
      this.#ctx.events.emit({
        type: "authorized",
        at: this.#ctx.now(),
        connectionId: this.link.id,
        worker,
      });
    }
    const fixed = passwordDifficulty(password);
    if (fixed !== undefined) {
      const port = this.#ctx.port;
      this.#fixed = true;
      this.#updateQuiet();
      this.#armDeadline();
      this.#wanted = clamp(fixed, port.minDifficulty, port.maxDifficulty);
      this.#changeDifficulty(this.#wanted, { refreshJob: true, fromVardiff: false });
    } else if (this.#usesVardiff() && worker === this.#primaryWorker) {
      this.#restoreDifficulty(worker);
    }
  }

  #restoreDifficulty(worker: string): void {
    const changesBefore = this.#difficultyChanges;
    const restore = this.#ctx.difficulties.load(worker).then((saved) => {
      if (saved === undefined || this.link.closed || this.#fixed) return;
      if (this.#difficultyChanges !== changesBefore) return; // something newer decided
      const port = this.#ctx.port;
      this.#changeDifficulty(clamp(saved, port.minDifficulty, port.maxDifficulty), {
        refreshJob: true,
        fromVardiff: false,
      });
    }, (err) => {
      episodes.warn("load-difficulty", "cannot load the difficulty of {worker}: {error}", {
        worker,
        error: String(err),
      });
    });
    this.#ctx.track(restore);
  }

  #suggestDifficulty(id: StratumId, params: unknown[]): void {
    const parsed = parseDifficulty(params[0]);
    if (!parsed.ok) return this.#fail(id, "bad_params");
    this.#answer(id, encodeResult(id, true));
    if (this.#fixed) return;
    const port = this.#ctx.port;
    this.#wanted = clamp(parsed.difficulty, port.minDifficulty, port.maxDifficulty);
    this.#changeDifficulty(this.#wanted, { refreshJob: true, fromVardiff: false });
  }

  #submit(id: StratumId, params: unknown[], now: number, limited?: "rate_limited"): void {
    const ctx = this.#ctx;
    if (this.#pending >= ctx.limits.maxPendingSubmits) limited = "rate_limited";
    const admitted = admitShare(params, {
      ctx,
      from: this.#facts(),
      now,
      ...(limited === undefined ? {} : { limited }),
    });
    if (!admitted.ok) {
      this.#rejected++;
      const detail = admitted.reason === "stale_job" ? admitted.jobId : undefined;
      return this.#fail(id, admitted.reason, detail);
    }
    const share = admitted.share;
    if (this.#usesVardiff()) {
      const changed = recordShare(this.#vardiff, share.difficulty, {
        config: ctx.vardiff,
        now,
        networkDifficulty: admitted.verdict.job.networkDifficulty,
      });
      if (changed !== undefined) {
        this.#changeDifficulty(changed, { refreshJob: true, fromVardiff: true });
      }
    }
    const reply = id === null ? undefined : this.#replies.reserve();
    this.#pending++;
    ctx.track(admitted.recorded.then((stored) => {
      this.#pending--;
      if (stored) {
        this.#accepted++;
        reply?.(encodeResult(id, true));
      } else {
        this.#rejected++;
        reply?.(encodeError(id, "internal"));
      }
      if (this.#pending === 0) { for (const resolve of this.#whenAnswered.splice(0)) resolve(); }
    }));
  }

  /** What the admission path needs to know about this connection. */
  #facts(): SubmitterFacts {
    return {
      connectionId: this.link.id,
      ip: this.link.remoteIp,
      port: this.#ctx.port.port,
      solo: this.#ctx.port.solo === true,
      authorized: this.#authorized,
      extranonce: this.#extranonce,
      jobs: this.#sent,
      shares: this.#shareCounts,
    };
  }

  #usesVardiff(): boolean {
    return this.#ctx.port.vardiff && !this.#fixed;
  }

  /**
   * Apply a new difficulty: tell the miner (set_difficulty, then a fresh job id for the current
   * job unless a broadcast job follows), remember it for the worker, report it. `fromVardiff`
   * keeps the vardiff evidence (the controller made the change); otherwise it restarts.
   */
  #changeDifficulty(next: bigint, options: { refreshJob: boolean; fromVardiff: boolean }): void {
    const network = this.#ctx.jobs.current?.networkDifficulty;
    if (network !== undefined && next > network) next = network;
    if (next === this.#difficulty) return;
    if (!options.fromVardiff) this.#vardiff = createVardiff(next, this.#ctx.now());
    const lower = next < this.#difficulty;
    this.#setDifficulty(next);
    if (lower) this.#restartSilence();
    if (!this.#fixed && this.#primaryWorker !== undefined) {
      this.#ctx.difficulties.save(this.#primaryWorker, next);
    }
    if (this.#ctx.events.active) {
      this.#ctx.events.emit({
        type: "difficulty_changed",
        at: this.#ctx.now(),
        connectionId: this.link.id,
        difficulty: next,
      });
    }
    if (this.#extranonce === undefined) return;
    this.link.send(encodeSetDifficulty(next));
    const job = this.#ctx.jobs.current;
    if (!options.refreshJob || job === undefined) return;
    const id = this.#ctx.jobs.nextId();
    this.#remember(id, job);
    this.link.send(encodeNotify({ ...job.notify, jobId: id, cleanJobs: false }));
  }

  #setDifficulty(next: bigint): void {
    this.#difficulty = next;
    this.#target = difficultyToTarget(next);
    this.#vardiff.difficulty = next;
    this.#difficultyChanges++;
  }

  #remember(id: string, job: Job): void {
    this.#sent.set(id, job, this.#difficulty, this.#target, this.#ctx.limits.maxJobsPerSession);
    this.#hadWork = true;
  }

  #armDeadline(): void {
    const limits = this.#ctx.limits;
    if (this.#extranonce !== undefined && this.#authorized.size > 0) {
      this.link.setTimeout(this.#quietMs, this.#quietReason);
      return;
    }
    const elapsed = Date.now() - this.#connectedAt;
    if (this.#extranonce === undefined) {
      const left = Math.min(limits.subscribeTimeoutMs, limits.authorizeTimeoutMs) - elapsed;
      this.link.setTimeout(Math.max(0, left), "subscribe timeout");
    } else {
      this.link.setTimeout(Math.max(0, limits.authorizeTimeoutMs - elapsed), "authorize timeout");
    }
  }

  /**
   * The deadline of a mining connection. With vardiff, a miner that sends no line (no share, no
   * request) for `silentShareTimes` target share times (at least `silentMinMs`) is closed as
   * silent, far sooner than the idle timeout; the vardiff timer lowers a merely slow miner's
   * difficulty sooner than that (after ~11 share times), and each lower difficulty restarts
   * the count (#restartSilence). Without vardiff (a fixed `d=N` or
   * port) the rate of shares is unknown: the idle timeout applies.
   */
  #updateQuiet(): void {
    const quiet = quietDeadline(this.#ctx.limits, {
      vardiff: this.#usesVardiff(),
      targetShareSeconds: this.#ctx.port.targetShareSeconds,
    });
    this.#quietMs = quiet.ms;
    this.#quietReason = quiet.reason;
  }

  /** A lower difficulty gives a silent miner a new period (never past the idle timeout). */
  #restartSilence(): void {
    if (this.#extranonce === undefined || this.#authorized.size === 0 || this.#closing) return;
    const idle = this.#ctx.limits.idleTimeoutMs;
    if (this.#quietMs >= idle) return;
    const idleLeft = this.#heardAt + idle - Date.now();
    if (idleLeft <= this.#quietMs) this.link.setTimeout(Math.max(0, idleLeft), "idle timeout");
    else this.link.setTimeout(this.#quietMs, this.#quietReason);
  }

  /**
   * Answer what was asked so far, then close; later lines are neither read nor answered (the
   * connection stops reading at once, see `LineConnection.closeAfterFlush`).
   */
  #condemn(reason: string, offence: OffenceKind): void {
    if (this.#closing) return;
    this.#closing = true;
    this.link.closeAfterFlush(reason);
    this.#ctx.onOffence({
      connectionId: this.link.id,
      ip: this.link.remoteIp,
      worker: this.#primaryWorker,
      kind: offence,
    });
  }

  #offence(what: string): void {
    if (++this.#protocolErrors >= this.#ctx.limits.maxProtocolErrors) {
      this.#condemn(`too many ${what}`, what === "request flood" ? "flood" : "protocol_errors");
    }
  }
}
