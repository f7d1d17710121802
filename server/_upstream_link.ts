/**
 * One UCP connection to one NodeCore: connect, optional CAPABILITIES, MINING_AUTH, then
 * MINING_SUBSCRIBE after AUTH_SUCCESS, then jobs. It turns MINING_JOB and MINING_MEMPOOL_UPDATE
 * into templates, acknowledges MINING_RESET, tracks block submissions by request id with
 * timeouts, and closes itself when NodeCore goes quiet. {@linkcode Upstream} decides which link
 * is active; a link never throws into its owner.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { bytesToHex } from "../hash/hex.ts";
import { connectLines, type LineConnection } from "../net/mod.ts";
import { decodeUcp } from "../protocol/ucp_decode.ts";
import { encodeUcp } from "../protocol/ucp_encode.ts";
import { ucpMerkleRoot } from "../protocol/ucp_server_session.ts";
import type { UcpMessage, UcpMiningJob, UcpMiningMempoolUpdate } from "../protocol/ucp_types.ts";
import type { BlockSubmission, BlockSubmitResult, Template } from "./_upstream_template.ts";

const log = getLogger(["vbkpool", "server", "upstream"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);
const INT31_MAX = 0x7fffffff;
const FIRST_SUBMIT_ID = 3;

/** Where a link is in its life. */
export type LinkState = "connecting" | "handshake" | "ready" | "closed";

/** Settings and callbacks of a link. */
export interface LinkOptions {
  /** NodeCore host. */
  hostname: string;
  /** NodeCore UCP port. */
  port: number;
  /** "host:port", stamped on templates. */
  endpoint: string;
  /** MINING_AUTH username: the pool's VBK address. */
  address: string;
  /** MINING_AUTH password. */
  password: string;
  /** MINING_SUBSCRIBE update frequency (ms). */
  updateFrequencyMs: number;
  /** TCP connect timeout (ms). */
  connectTimeoutMs: number;
  /** Time from connect to the first MINING_JOB (ms). */
  handshakeTimeoutMs: number;
  /** Longest silence (no MINING_JOB or MEMPOOL_UPDATE) before the link is dead (ms). */
  jobTimeoutMs: number;
  /** Longest UCP line accepted. */
  maxLineBytes: number;
  /** The first job arrived: the link is usable. */
  onReady(link: UpstreamLink): void;
  /** A later job or mempool update arrived. */
  onTemplate(link: UpstreamLink, template: Template): void;
  /** NodeCore sent MINING_RESET (already acknowledged). */
  onReset(link: UpstreamLink): void;
  /** The link closed (or never connected). */
  onClosed(link: UpstreamLink, reason: string): void;
}

interface Pending {
  resolve(result: BlockSubmitResult): void;
  timer: ReturnType<typeof setTimeout>;
}

/** One connection to one NodeCore endpoint. */
export class UpstreamLink {
  /** "host:port". */
  readonly endpoint: string;
  #o: LinkOptions;
  #state: LinkState = "connecting";
  #conn: LineConnection | undefined;
  #job: UcpMiningJob | undefined;
  #template: Template | undefined;
  #pending = new Map<number, Pending>();
  #nextId = FIRST_SUBMIT_ID;
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #retiring = false;
  #closeReason = "";
  #capabilities: string | undefined;
  #opened: Promise<void> = Promise.resolve();

  /**
   * @param options Endpoint, credentials, timeouts, callbacks.
   */
  constructor(options: LinkOptions) {
    this.#o = options;
    this.endpoint = options.endpoint;
  }

  /** Connecting, in the handshake, ready (has a job) or closed. */
  get state(): LinkState {
    return this.#state;
  }

  /** The newest template (last MINING_JOB merged with later mempool updates). */
  get template(): Template | undefined {
    return this.#template;
  }

  /** CAPABILITIES NodeCore announced, if any. */
  get capabilities(): string | undefined {
    return this.#capabilities;
  }

  /** Why the link closed. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Resolves when the link is closed and its socket released. */
  get done(): Promise<void> {
    return this.#opened.then(() => this.#conn?.done);
  }

  /** Connect and start the handshake; failures end in `onClosed`. */
  open(): Promise<void> {
    this.#opened = this.#open();
    return this.#opened;
  }

  async #open(): Promise<void> {
    this.#arm(this.#o.handshakeTimeoutMs, "no MINING_JOB after connecting");
    let conn: LineConnection;
    try {
      conn = await connectLines({
        hostname: this.#o.hostname,
        port: this.#o.port,
        connectTimeoutMs: this.#o.connectTimeoutMs,
        maxLineBytes: this.#o.maxLineBytes,
      });
    } catch (err) {
      this.#finish(`connect failed: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (this.#state === "closed") {
      conn.close(this.#closeReason);
      return;
    }
    this.#conn = conn;
    this.#state = "handshake";
    void conn.start({
      onLine: (line) => this.#onLine(line),
      onClose: (reason) => this.#finish(`connection closed: ${reason}`),
    });
    // NodeCore sends CAPABILITIES first, but do not wait for it (the Python proxy never did).
    this.#send({
      command: "MINING_AUTH",
      requestId: 1,
      username: this.#o.address,
      password: this.#o.password,
    });
  }

  /**
   * Submit a block candidate.
   *
   * @param submission Job id and header fields.
   * @param timeoutMs How long to wait for NodeCore's answer.
   * @returns NodeCore's verdict; never rejects.
   */
  submit(submission: BlockSubmission, timeoutMs: number): Promise<BlockSubmitResult> {
    const endpoint = this.endpoint;
    if (this.#state !== "ready" || this.#retiring) {
      return Promise.resolve({
        accepted: false,
        outcome: "not_sent",
        reason: "upstream link not ready",
        endpoint,
      });
    }
    const requestId = this.#requestId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        log.warn("Block submit {id} to {endpoint} timed out after {ms} ms", {
          id: requestId,
          endpoint,
          ms: timeoutMs,
        });
        resolve({
          accepted: false,
          outcome: "unknown",
          reason: `no answer within ${timeoutMs} ms`,
          endpoint,
        });
        this.#maybeRetire();
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, timer });
      const sent = this.#send({
        command: "MINING_SUBMIT",
        requestId,
        jobId: submission.upstreamJobId,
        nTime: submission.nTime,
        nonce: submission.nonce,
        extraNonce: submission.extraNonce,
      });
      if (!sent) {
        this.#settle(requestId, {
          accepted: false,
          outcome: "not_sent",
          reason: "send failed",
          endpoint,
        });
      }
    });
  }

  /** Stop delivering templates and close once no submit is pending. */
  retire(reason: string): void {
    this.#retiring = true;
    this.#closeReason = reason;
    this.#maybeRetire();
  }

  /**
   * Close now; pending submits resolve as failures.
   *
   * @param reason Why.
   */
  close(reason: string): void {
    this.#finish(reason);
  }

  #maybeRetire(): void {
    if (this.#retiring && this.#pending.size === 0) this.#finish(this.#closeReason);
  }

  #requestId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id >= INT31_MAX ? FIRST_SUBMIT_ID : id + 1;
      if (!this.#pending.has(id)) return id;
    }
  }

  #send(message: UcpMessage): boolean {
    try {
      return this.#conn?.send(encodeUcp(message)) ?? false;
    } catch (err) {
      episodes.error("encode", "Cannot encode {command} for {endpoint}: {error}", {
        command: message.command,
        endpoint: this.endpoint,
        error: String(err),
      });
      return false;
    }
  }

  #arm(ms: number, reason: string): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.#finish(reason), ms);
  }

  #settle(requestId: number, result: BlockSubmitResult): boolean {
    const pending = this.#pending.get(requestId);
    if (pending === undefined) return false;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.resolve(result);
    this.#maybeRetire();
    return true;
  }

  #finish(reason: string): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    if (this.#closeReason === "" || !this.#retiring) this.#closeReason = reason;
    clearTimeout(this.#watchdog);
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, {
        accepted: false,
        outcome: "unknown",
        reason: `upstream lost (${reason})`,
        endpoint: this.endpoint,
      });
    }
    this.#conn?.close(reason);
    try {
      this.#o.onClosed(this, this.#closeReason);
    } catch (err) {
      episodes.error("close-handler", "Upstream close handler failed: {error}", {
        error: String(err),
      });
    }
  }

  #onLine(line: string): void {
    const decoded = decodeUcp(line);
    if (!decoded.ok) {
      episodes.warn("bad-line", "Ignoring a bad line from {endpoint}: {error}", {
        endpoint: this.endpoint,
        error: decoded.error,
      });
      return;
    }
    try {
      this.#onMessage(decoded.message);
    } catch (err) {
      episodes.error("message-handler", "Upstream message handling failed: {error}", {
        error: String(err),
      });
    }
  }

  #onMessage(m: UcpMessage): void {
    switch (m.command) {
      case "CAPABILITIES":
        this.#capabilities = m.capabilities;
        return;
      case "MINING_AUTH_SUCCESS":
        this.#send({
          command: "MINING_SUBSCRIBE",
          requestId: 2,
          updateFrequencyMs: this.#o.updateFrequencyMs,
        });
        return;
      case "MINING_AUTH_FAILURE":
        episodes.error(
          "auth-refused",
          "NodeCore at {endpoint} REFUSED the pool address {address}: {reason} (check " +
            "[nodecore] address; retrying with backoff)",
          { endpoint: this.endpoint, address: this.#o.address, reason: m.reason },
        );
        this.#finish(`MINING_AUTH_FAILURE: ${m.reason}`);
        return;
      case "MINING_SUBSCRIBE_SUCCESS":
        return;
      case "MINING_SUBSCRIBE_FAILURE":
        episodes.error(
          "subscribe-refused",
          "NodeCore at {endpoint} refused the subscription: {reason}",
          {
            endpoint: this.endpoint,
            reason: m.reason,
          },
        );
        this.#finish(`MINING_SUBSCRIBE_FAILURE: ${m.reason}`);
        return;
      case "MINING_JOB":
        return this.#onJob(m);
      case "MINING_MEMPOOL_UPDATE":
        return this.#onMempoolUpdate(m);
      case "MINING_RESET":
        this.#send({ command: "MINING_RESET_ACK", requestId: m.requestId });
        if (this.#state === "ready" && !this.#retiring) this.#o.onReset(this);
        return;
      case "MINING_SUBMIT_SUCCESS":
        if (
          !this.#settle(m.requestId, {
            accepted: true,
            outcome: "accepted",
            endpoint: this.endpoint,
          })
        ) {
          episodes.info("late-submit", "Late MINING_SUBMIT_SUCCESS {id} from {endpoint}", {
            id: m.requestId,
            endpoint: this.endpoint,
          });
        }
        return;
      case "MINING_SUBMIT_FAILURE":
        if (
          !this.#settle(m.requestId, {
            accepted: false,
            outcome: "refused",
            reason: m.reason,
            endpoint: this.endpoint,
          })
        ) {
          episodes.info(
            "late-submit",
            "Late MINING_SUBMIT_FAILURE {id} from {endpoint}: {reason}",
            {
              id: m.requestId,
              endpoint: this.endpoint,
              reason: m.reason,
            },
          );
        }
        return;
      case "ERROR_UNKNOWN_COMMAND":
        this.#settle(m.requestId, {
          accepted: false,
          outcome: "refused",
          reason: "NodeCore answered ERROR_UNKNOWN_COMMAND",
          endpoint: this.endpoint,
        });
        episodes.warn("unknown-request", "NodeCore at {endpoint} did not know request {id}", {
          endpoint: this.endpoint,
          id: m.requestId,
        });
        return;
      default:
        episodes.debug("ignored", "Ignoring {command} from {endpoint}", {
          command: m.command,
          endpoint: this.endpoint,
        });
    }
  }

  #onJob(job: UcpMiningJob): void {
    const expected = ucpMerkleRoot(job, job.extraNonceStart);
    if (bytesToHex(expected) !== bytesToHex(job.merkleRoot) && this.#job === undefined) {
      episodes.warn(
        "merkle",
        "NodeCore's merkle_root for job {job} does not match the one computed from its " +
          "intermediate roots and extra_nonce_start; blocks may be rejected",
        { job: job.jobId },
      );
    }
    this.#job = job;
    this.#template = {
      upstreamJobId: job.jobId,
      kind: "job",
      height: job.blockIndex,
      version: job.blockVersion,
      previousBlockHash: job.previousBlockHash,
      previousKeystoneHash: job.secondPreviousBlockHash,
      secondKeystoneHash: job.thirdPreviousBlockHash,
      popRoot: job.popTransactionMerkleRoot,
      normalRoot: job.normalTransactionMerkleRoot,
      metapackageHash: job.intermediateMetapackageHash,
      timestamp: job.timestamp,
      bits: job.difficulty,
      poolAddress: job.poolAddress,
      extraNonceStart: job.extraNonceStart,
      extraNonceEnd: job.extraNonceEnd,
      endpoint: this.endpoint,
      receivedAt: Date.now(),
    };
    this.#delivered();
  }

  #onMempoolUpdate(update: UcpMiningMempoolUpdate): void {
    const base = this.#template;
    if (base === undefined) {
      episodes.warn(
        "early-mempool",
        "MINING_MEMPOOL_UPDATE before any MINING_JOB from {endpoint}: ignored",
        {
          endpoint: this.endpoint,
        },
      );
      return;
    }
    this.#template = {
      ...base,
      upstreamJobId: update.jobId,
      kind: "mempool_update",
      popRoot: update.popTransactionMerkleRoot,
      normalRoot: update.normalTransactionMerkleRoot,
      metapackageHash: update.intermediateMetapackageHash,
      receivedAt: Date.now(),
    };
    this.#send({ command: "MINING_MEMPOOL_UPDATE_ACK", requestId: update.requestId });
    this.#delivered();
  }

  #delivered(): void {
    this.#arm(this.#o.jobTimeoutMs, `no job for ${Math.round(this.#o.jobTimeoutMs / 1000)} s`);
    if (this.#state === "handshake") {
      this.#state = "ready";
      this.#o.onReady(this);
    } else if (this.#state === "ready" && !this.#retiring) {
      this.#o.onTemplate(this, this.#template!);
    }
  }
}
