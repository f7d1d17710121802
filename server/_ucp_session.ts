/**
 * One legacy GPU miner's UCP connection on the pool: the shared sans-IO
 * {@linkcode UcpServerSession} (CAPABILITIES first, MINING_AUTH, MINING_SUBSCRIBE → SUCCESS then
 * the first MINING_JOB, MINING_SUBMIT → SUCCESS/FAILURE) hosted with the pool's decisions:
 *
 * - MINING_AUTH: the username is a VeriBlock address, optionally `address.worker`;
 * - MINING_SUBSCRIBE: an extranonce range from the pool's allocator (the one Stratum
 *   connections use) and the port's share target; every MINING_JOB and MINING_MEMPOOL_UPDATE
 *   carries the merkle root of the connection's `extra_nonce_start`. While the pool has had no
 *   job for `noWorkWaitMs`, MINING_SUBSCRIBE_FAILURE "No work available: …" and a close (the
 *   pool closes miners it had given work once the outage outlasts `noWorkGraceMs`);
 * - MINING_SUBMIT: turned into the Stratum submit it stands for and admitted by
 *   {@linkcode admitShare} (the path every port shares: the same duplicate, stale, ntime,
 *   extranonce and credit rules); an accepted share is answered only after the recorder made it
 *   durable, a block candidate goes upstream at once, and every refusal is answered with a
 *   reason. A submit over the pending cap or the request rate is still checked: a block is
 *   never refused unhashed.
 *
 * Messages are written one per write and paced ({@linkcode PacedLink}); deadlines, flood
 * control, offence counts and invalid-share bans mirror the Stratum session. A connection
 * condemned (too many bad messages, floods or failed logins, a ban, shutdown) acts at once: it
 * reads and answers nothing more, writes what was queued (paced, for at most
 * {@linkcode CLOSE_FLUSH_MS}) and closes.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { isValidAddress } from "../hash/address.ts";
import { STRATUM_ERRORS, stratumError, type StratumErrorCode } from "../protocol/stratum_errors.ts";
import { decodeUcp } from "../protocol/ucp_decode.ts";
import { encodeUcp } from "../protocol/ucp_encode.ts";
import {
  type UcpJobTemplate,
  UcpServerSession,
  type UcpServerSessionHost,
  type UcpSessionOutput,
  type UcpSubscription,
  type UcpVerdict,
} from "../protocol/ucp_server_session.ts";
import type { UcpMessage, UcpMiningSubmit } from "../protocol/ucp_types.ts";
import type { OffenceKind, ShareCounts } from "./bans.ts";
import type { ExtranonceRange } from "./extranonce.ts";
import type { Job } from "./jobs.ts";
import type { SessionLink } from "./session_context.ts";
import { SentJobs } from "./_sent_jobs.ts";
import { admitShare } from "./share_admission.ts";
import { TokenBucket } from "./_token_bucket.ts";
import type { UcpSessionContext } from "./_ucp_config.ts";
import { isMempoolFollowUp, ucpJobId, ucpJobTemplate } from "./_ucp_job.ts";
import { PacedLink } from "./_ucp_paced_link.ts";

const log = getLogger(["vbkpool", "server", "ucp"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Longest time a condemned connection gets to write what was queued (paced), ms. */
export const CLOSE_FLUSH_MS = 5000;

/** The connection a UCP session talks through (a `LineConnection` fits). */
export interface UcpLink extends SessionLink {
  /** Bytes queued and not yet written. */
  readonly queuedBytes: number;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

function hex16(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16).padStart(16, "0");
}

/** One UCP miner connection. */
export class UcpMinerSession implements UcpServerSessionHost {
  /** The connection. */
  readonly link: UcpLink;
  #ctx: UcpSessionContext;
  #ucp: UcpServerSession;
  #paced: PacedLink;
  #connectedAt: number;
  #worker: string | undefined;
  #authorized = new Set<string>();
  #range: ExtranonceRange | undefined;
  #sent = new SentJobs();
  #lastJob: Job | undefined;
  #flood: TokenBucket;
  #authFailures = 0;
  #floods = 0;
  /** Submit counts for this connection's invalid-share ratio (see bans.ts). */
  #shareCounts: ShareCounts;
  #pending = 0;
  #accepted = 0;
  #rejected = 0;
  /** Close once the line being handled is answered (set by the host callbacks). */
  #closeAfter: { reason: string; offence?: OffenceKind } | undefined;
  /** Whether a job was ever sent (the pool keeps such miners through a short outage). */
  #hadWork = false;
  /** Set once the connection is condemned: nothing more is read or answered. */
  #closing: string | undefined;
  /** Set while a submit over a limit is handled: only a block is admitted. */
  #limited: "rate_limited" | undefined;

  /**
   * Start a session on a new connection: sends CAPABILITIES and arms the login deadline.
   *
   * @param link The connection.
   * @param ctx The pool's shared parts and the port's settings.
   */
  constructor(link: UcpLink, ctx: UcpSessionContext) {
    this.link = link;
    this.#ctx = ctx;
    this.#connectedAt = Date.now();
    const limits = ctx.ucpLimits;
    this.#paced = new PacedLink(link, {
      gapMs: limits.writeGapMs,
      maxQueued: limits.maxQueuedMessages,
    });
    this.#flood = new TokenBucket(limits.requestsPerSecond, limits.requestBurst, ctx.now());
    this.#shareCounts = ctx.bans.shareCounts(link.remoteIp, ctx.now());
    this.#ucp = new UcpServerSession(this, { maxOffences: limits.maxProtocolErrors });
    this.#armDeadline();
    this.#emit(this.#ucp.start());
  }

  /** `connected`, `authorized` or `subscribed`. */
  get state(): UcpServerSession["state"] {
    return this.#ucp.state;
  }

  /** Whether MINING_SUBSCRIBE succeeded. */
  get subscribed(): boolean {
    return this.#ucp.state === "subscribed";
  }

  /** The authorized username (`address` or `address.worker`). */
  get worker(): string | undefined {
    return this.#worker;
  }

  /** The connection's extranonce range, once subscribed. */
  get extranonce(): ExtranonceRange | undefined {
    return this.#range;
  }

  /** The share difficulty. */
  get difficulty(): bigint {
    return this.#ctx.ucpPort.difficulty;
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
    if (this.link.closed || this.#closing !== undefined) return;
    const decoded = decodeUcp(line);
    if (!this.#flood.take(this.#ctx.now())) {
      // Over the rate, a submit is still checked (a block must reach NodeCore).
      if (decoded.ok && decoded.message.command === "MINING_SUBMIT") this.#limitedSubmit(decoded);
      if (++this.#floods >= this.#ctx.ucpLimits.maxProtocolErrors) {
        this.#condemn("too many requests (flood)", "flood");
      }
      return;
    }
    this.#emit(this.#ucp.handle(decoded));
    if (this.#closeAfter !== undefined) {
      this.#condemn(this.#closeAfter.reason, this.#closeAfter.offence);
    }
    if (this.#closing === undefined) this.#armDeadline();
  }

  /**
   * Send a pool job: a MINING_MEMPOOL_UPDATE when it only changes the transactions of the job
   * the miner has, else a MINING_JOB. On a new block the connection's older jobs are forgotten.
   *
   * @param job The job.
   * @returns Whether it was sent (false before subscribe or after close).
   */
  sendJob(job: Job): boolean {
    if (!this.subscribed || this.link.closed || this.#closing !== undefined) return false;
    if (job.notify.cleanJobs) this.#sent.clear();
    const template = this.#remember(job);
    const output = isMempoolFollowUp(this.#lastJob, job)
      ? this.#ucp.mempoolUpdate(template)
      : this.#ucp.job(template);
    this.#lastJob = job;
    this.#emit(output);
    return true;
  }

  /**
   * Condemn the connection from outside (a ban, shutdown): nothing more is read or answered;
   * the messages already queued (and the answer to the line being handled, if any) are sent,
   * then it closes.
   *
   * @param reason Close reason.
   */
  closeAfterFlush(reason: string): void {
    if (this.#closing !== undefined || this.link.closed) return;
    this.#closing = reason;
    this.link.stopReading?.();
    this.link.setTimeout(CLOSE_FLUSH_MS, reason);
    queueMicrotask(() => this.#paced.closeAfterFlush(reason));
  }

  /**
   * The connection closed.
   *
   * @param reason Why.
   */
  onClose(reason: string): void {
    this.#paced.dispose();
    this.#sent.clear();
    episodes.debug("closed", "UCP connection {id} closed: {reason}", { id: this.link.id, reason });
  }

  // ---- UcpServerSessionHost ----

  /**
   * MINING_AUTH: the username must be a VeriBlock address, optionally `address.worker`.
   *
   * @param username The username.
   * @returns The verdict.
   */
  authorize(username: string): UcpVerdict {
    const dot = username.indexOf(".");
    const address = dot < 0 ? username : username.slice(0, dot);
    if (username.length > this.#ctx.ucpLimits.maxWorkerLength || !isValidAddress(address)) {
      if (++this.#authFailures >= this.#ctx.ucpLimits.maxAuthFailures) {
        this.#closeAfter = { reason: "too many failed authorizations", offence: "auth_failures" };
      }
      return {
        ok: false,
        reason: `${STRATUM_ERRORS.invalid_address.message} (expected ADDRESS or ADDRESS.WORKER)`,
      };
    }
    this.#worker = username;
    this.#authorized = new Set([username]);
    const ctx = this.#ctx;
    if (ctx.events.active) {
      ctx.events.emit({
        type: "authorized",
        at: ctx.now(),
        connectionId: this.link.id,
        worker: username,
      });
    }
    return { ok: true };
  }

  /**
   * MINING_SUBSCRIBE: the connection's extranonce range, share target and first job.
   *
   * @returns The subscription, or a refusal when no range can be allocated.
   */
  subscribe(): { ok: true; subscription: UcpSubscription } | { ok: false; reason: string } {
    const ctx = this.#ctx;
    if (ctx.jobs.current === undefined && ctx.refusesNewMiners()) {
      // Nothing to mine for a while: a reason and a close, so that the miner fails over.
      this.#closeAfter = { reason: "no work" };
      return { ok: false, reason: STRATUM_ERRORS.no_work.message };
    }
    if (this.#range === undefined) {
      try {
        this.#range = this.#ctx.extranonces.allocate();
      } catch (err) {
        episodes.error("extranonce", "cannot allocate an extranonce: {error}", {
          error: String(err),
        });
        return { ok: false, reason: STRATUM_ERRORS.internal.message };
      }
    }
    const range = this.#range;
    const job = this.#ctx.jobs.current;
    this.#sent.clear();
    this.#lastJob = job;
    return {
      ok: true,
      subscription: {
        extraNonceStart: range.start,
        extraNonceEnd: range.end - 1n,
        miningTarget: this.#ctx.targetBytes,
        ...(job === undefined ? {} : { template: this.#remember(job) }),
      },
    };
  }

  /** MINING_UNSUBSCRIBE: no more jobs until the next subscribe (which keeps the range). */
  unsubscribed(): void {
    this.#sent.clear();
    this.#lastJob = undefined;
  }

  /**
   * MINING_SUBMIT from the subscribed miner.
   *
   * @param m The submit.
   * @returns A refusal now, or `"deferred"` until the share is durable.
   */
  submit(m: UcpMiningSubmit): UcpVerdict | "deferred" {
    const ctx = this.#ctx;
    const now = ctx.now();
    const limited = this.#limited ??
      (this.#pending >= ctx.ucpLimits.maxPendingSubmits ? "rate_limited" : undefined);
    const params = [
      this.#worker ?? "",
      String(m.jobId),
      hex16(m.extraNonce),
      hex8(m.nTime),
      hex8(m.nonce),
    ];
    const admitted = admitShare(params, {
      ctx,
      from: {
        connectionId: this.link.id,
        ip: this.link.remoteIp,
        port: ctx.ucpPort.port,
        solo: ctx.ucpPort.solo === true,
        authorized: this.#authorized,
        extranonce: this.#range,
        jobs: this.#sent,
        shares: this.#shareCounts,
      },
      now,
      ...(limited === undefined ? {} : { limited }),
    });
    if (!admitted.ok) {
      this.#rejected++;
      return { ok: false, reason: ucpReason(admitted.reason, m) };
    }
    this.#pending++;
    const answered = admitted.recorded.then((stored) => {
      this.#pending--;
      let answer: UcpVerdict;
      if (stored) {
        this.#accepted++;
        answer = { ok: true };
      } else {
        this.#rejected++;
        answer = { ok: false, reason: `${STRATUM_ERRORS.internal.message}: share not recorded` };
      }
      this.#emit(this.#ucp.resolveSubmit(m.requestId, answer));
    });
    ctx.track(answered);
    return "deferred";
  }

  // ---- internals ----

  /** Handle a submit over the request rate: only a block is admitted. */
  #limitedSubmit(decoded: ReturnType<typeof decodeUcp>): void {
    this.#limited = "rate_limited";
    try {
      this.#emit(this.#ucp.handle(decoded));
    } finally {
      this.#limited = undefined;
    }
  }

  #remember(job: Job): UcpJobTemplate {
    const template = ucpJobTemplate(job);
    this.#sent.set(
      String(ucpJobId(job)),
      job,
      this.#ctx.ucpPort.difficulty,
      this.#ctx.target,
      this.#ctx.ucpLimits.maxJobsPerSession,
    );
    this.#hadWork = true;
    return template;
  }

  #emit(output: UcpSessionOutput): void {
    for (const message of output.send) this.#send(message);
    if (output.close !== undefined) this.#condemn(output.close, "protocol_errors");
  }

  /** Read and answer nothing more; write what is queued (paced), then close; report offences. */
  #condemn(reason: string, offence: OffenceKind | undefined): void {
    if (this.#closing !== undefined || this.link.closed) return;
    this.#closing = reason;
    this.link.setTimeout(CLOSE_FLUSH_MS, reason);
    this.#paced.closeAfterFlush(reason);
    if (offence === undefined) return;
    this.#ctx.onOffence({
      connectionId: this.link.id,
      ip: this.link.remoteIp,
      worker: this.#worker,
      kind: offence,
    });
  }

  #send(message: UcpMessage): void {
    let line: string;
    try {
      line = encodeUcp(message);
    } catch (err) {
      episodes.error("encode", "cannot encode UCP {command}: {error}", {
        command: message.command,
        error: String(err),
      });
      return;
    }
    this.#paced.send(line);
  }

  #armDeadline(): void {
    const limits = this.#ctx.ucpLimits;
    const state = this.#ucp.state;
    if (state === "subscribed") {
      this.link.setTimeout(limits.idleTimeoutMs, "idle timeout");
      return;
    }
    const elapsed = Date.now() - this.#connectedAt;
    if (state === "connected" && limits.authorizeTimeoutMs <= limits.subscribeTimeoutMs) {
      this.link.setTimeout(Math.max(0, limits.authorizeTimeoutMs - elapsed), "authorize timeout");
    } else {
      this.link.setTimeout(Math.max(0, limits.subscribeTimeoutMs - elapsed), "subscribe timeout");
    }
  }
}

/** The MINING_SUBMIT_FAILURE reason of a refusal (the Stratum table's text, with detail). */
function ucpReason(reason: StratumErrorCode, m: UcpMiningSubmit): string {
  switch (reason) {
    case "stale_job":
      return `${stratumError(reason, String(m.jobId))[1]} (stale or never sent here)`;
    case "ntime_out_of_range":
      return `${STRATUM_ERRORS.ntime_out_of_range.message}: nTime ${m.nTime}`;
    case "extranonce_not_owned":
      return `${STRATUM_ERRORS.extranonce_not_owned.message}: ${m.extraNonce}`;
    default:
      return stratumError(reason)[1];
  }
}
