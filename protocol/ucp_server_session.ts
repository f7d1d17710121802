/**
 * The server side of one UCP connection as NodeCore's pool runs it (spec §2.6, §2.8), with no
 * I/O: decoded messages go in, messages to send come out, and a host supplies the decisions
 * (who may log in, which extranonce range and share target a connection gets, whether a submit
 * is good). The devnet and the pool's UCP port for legacy GPU miners both drive it.
 *
 * Order of a session: `start()` gives CAPABILITIES; MINING_AUTH must succeed before
 * MINING_SUBSCRIBE; a successful subscribe answers MINING_SUBSCRIBE_SUCCESS and then, as a
 * separate message, the connection's first MINING_JOB. Every MINING_JOB and
 * MINING_MEMPOOL_UPDATE carries a merkle root computed with this connection's
 * `extraNonceStart`, so legacy miners that never recompute it produce valid headers.
 *
 * @module
 */

import { headerMerkleRoot, merkleRootFromTxRoot, txRoot } from "../hash/merkle.ts";
import { decodeUcp } from "./ucp_decode.ts";
import {
  UCP_CAPABILITIES,
  type UcpDecodeResult,
  type UcpMessage,
  type UcpMiningJob,
  type UcpMiningSubmit,
} from "./ucp_types.ts";

const INT31_MAX = 0x7fffffff;

/**
 * The shared part of a block template: a MINING_JOB without the per-connection fields
 * (`requestId`, `merkleRoot`, `miningTarget`, the extranonce range). One template is given to
 * every session; each session personalises it.
 */
export interface UcpJobTemplate {
  /** Job id to be echoed in MINING_SUBMIT, 0..2^31-1. */
  jobId: number;
  /** Block height. */
  blockIndex: number;
  /** Header version. */
  blockVersion: number;
  /** Full 24-byte hash of the previous block. */
  previousBlockHash: Uint8Array;
  /** Full 24-byte hash of the previous keystone (zeros when none). */
  secondPreviousBlockHash: Uint8Array;
  /** Full 24-byte hash of the second previous keystone (zeros when none). */
  thirdPreviousBlockHash: Uint8Array;
  /** Coinbase address; when absent the connection's authorized username is sent. */
  poolAddress?: string;
  /** Template time: the minimum acceptable nTime. */
  timestamp: number;
  /** Compact difficulty bits. */
  difficulty: number;
  /** 24-byte ledger hash (informational). */
  ledgerHash: Uint8Array;
  /** 32-byte coinbase transaction id (informational). */
  coinbaseTxid: Uint8Array;
  /** 32-byte PoP datastore hash (informational). */
  popDatastoreHash: Uint8Array;
  /** Free text. */
  minerComment: string;
  /** 32-byte PoP transaction merkle root. */
  popTransactionMerkleRoot: Uint8Array;
  /** 32-byte normal transaction merkle root. */
  normalTransactionMerkleRoot: Uint8Array;
  /** 32-byte intermediate metapackage hash. */
  intermediateMetapackageHash: Uint8Array;
}

/** What a host grants a subscribing connection. */
export interface UcpSubscription {
  /** First extranonce of the connection's range; its merkle roots are computed with it. */
  extraNonceStart: bigint;
  /** End of the range (informational for the miner). */
  extraNonceEnd: bigint;
  /** 24-byte big-endian share target sent in every MINING_JOB. */
  miningTarget: Uint8Array;
  /** The first job; when absent the first job is sent later with {@linkcode UcpServerSession.job}. */
  template?: UcpJobTemplate;
}

/** A host decision: yes, or no with a reason sent to the peer. */
export type UcpVerdict = { ok: true } | { ok: false; reason: string };

/** The decisions a session asks its host for. */
export interface UcpServerSessionHost {
  /** MINING_AUTH: may this username log in? */
  authorize(username: string, password: string, session: UcpServerSession): UcpVerdict;
  /** MINING_SUBSCRIBE: the connection's extranonce range, share target and first job. */
  subscribe(
    session: UcpServerSession,
  ): { ok: true; subscription: UcpSubscription } | { ok: false; reason: string };
  /**
   * MINING_SUBMIT from a subscribed connection. Return a verdict now, or `"deferred"` and later
   * call {@linkcode UcpServerSession.resolveSubmit} (e.g. after a durable write).
   */
  submit(submit: UcpMiningSubmit, session: UcpServerSession): UcpVerdict | "deferred";
  /** MINING_UNSUBSCRIBE succeeded (optional). */
  unsubscribed?(session: UcpServerSession): void;
}

/** Options for {@linkcode UcpServerSession}. */
export interface UcpServerSessionOptions {
  /** CAPABILITIES bitflag sent first. @default UCP_CAPABILITIES ("10011111111") */
  capabilities?: string;
  /** Malformed or invalid lines tolerated before the session asks to close. @default 3 */
  maxOffences?: number;
  /** First request id of server-initiated messages (CAPABILITIES, jobs, resets). @default 1 */
  firstRequestId?: number;
}

/** Messages to send, each as its own write, in order; `close` asks the host to close. */
export interface UcpSessionOutput {
  /** Messages to send, in order, one per write. */
  send: UcpMessage[];
  /** When set, the host should close the connection (after sending `send`) with this reason. */
  close?: string;
}

/** Where a session is in its life. */
export type UcpSessionState = "connected" | "authorized" | "subscribed";

// Per-template tx root cache: a broadcast personalises one template for many sessions.
const TX_ROOTS = new WeakMap<UcpJobTemplate, Uint8Array>();

function templateTxRoot(template: UcpJobTemplate): Uint8Array {
  let root = TX_ROOTS.get(template);
  if (root === undefined) {
    root = txRoot(template.popTransactionMerkleRoot, template.normalTransactionMerkleRoot);
    TX_ROOTS.set(template, root);
  }
  return root;
}

/**
 * The 24-byte UCP `merkle_root` of a template for one extranonce (the first 24 bytes of the
 * 32-byte top-level SHA-256 root; the header keeps the first 16).
 *
 * @example Usage
 * ```ts
 * import { ucpMerkleRoot } from "./ucp_server_session.ts";
 * import assert from "node:assert/strict";
 *
 * const parts = {
 *   popTransactionMerkleRoot: new Uint8Array(32).fill(0x11),
 *   normalTransactionMerkleRoot: new Uint8Array(32).fill(0x22),
 *   intermediateMetapackageHash: new Uint8Array(32).fill(0x33),
 * };
 * const root = ucpMerkleRoot(parts, 0x7c000000000f4240n);
 * assert.equal(root.length, 24);
 * assert.equal(root[0], 0x7b);
 * ```
 *
 * @param parts The three intermediate roots.
 * @param extraNonce A signed 64-bit extranonce.
 * @returns 24 bytes.
 * @throws {TypeError} When a field has the wrong type.
 * @throws {RangeError} When a length or the extranonce is out of range.
 */
export function ucpMerkleRoot(
  parts: Pick<
    UcpJobTemplate,
    "popTransactionMerkleRoot" | "normalTransactionMerkleRoot" | "intermediateMetapackageHash"
  >,
  extraNonce: bigint,
): Uint8Array {
  return headerMerkleRoot({
    popRoot: parts.popTransactionMerkleRoot,
    normalRoot: parts.normalTransactionMerkleRoot,
    metapackageHash: parts.intermediateMetapackageHash,
  }, extraNonce).slice(0, 24);
}

/**
 * One UCP server connection's state machine (sans I/O).
 *
 * @example Usage
 * ```ts
 * import { UcpServerSession, type UcpJobTemplate } from "./ucp_server_session.ts";
 * import assert from "node:assert/strict";
 *
 * const z = (n: number) => new Uint8Array(n);
 * const template: UcpJobTemplate = {
 *   jobId: 7, blockIndex: 1, blockVersion: 2, previousBlockHash: z(24),
 *   secondPreviousBlockHash: z(24), thirdPreviousBlockHash: z(24), timestamp: 1700000000,
 *   difficulty: 0x04010000, ledgerHash: z(24), coinbaseTxid: z(32), popDatastoreHash: z(32),
 *   minerComment: "", popTransactionMerkleRoot: z(32), normalTransactionMerkleRoot: z(32),
 *   intermediateMetapackageHash: z(32),
 * };
 * const session = new UcpServerSession({
 *   authorize: () => ({ ok: true }),
 *   subscribe: () => ({
 *     ok: true,
 *     subscription: { extraNonceStart: 5n, extraNonceEnd: 10n, miningTarget: z(24), template },
 *   }),
 *   submit: () => ({ ok: true }),
 * });
 * assert.equal(session.start().send[0]!.command, "CAPABILITIES");
 * session.handleLine(
 *   '{"command":"MINING_AUTH","request_id":{"data":1},"username":{"data":"me"},"password":{"data":""}}',
 * );
 * const out = session.handleLine(
 *   '{"command":"MINING_SUBSCRIBE","request_id":{"data":2},"update_frequency_ms":{"data":500}}',
 * );
 * assert.deepEqual(out.send.map((m) => m.command), ["MINING_SUBSCRIBE_SUCCESS", "MINING_JOB"]);
 * assert.equal(session.state, "subscribed");
 * ```
 */
export class UcpServerSession {
  #host: UcpServerSessionHost;
  #capabilities: string;
  #maxOffences: number;
  #nextRequestId: number;
  #state: UcpSessionState = "connected";
  #username: string | undefined;
  #subscription: UcpSubscription | undefined;
  #offences = 0;
  #pending = new Set<number>();
  #lastJobId: number | undefined;

  /**
   * @param host The decisions (auth, subscription, submit verdicts).
   * @param options Capabilities, offence limit, first request id.
   */
  constructor(host: UcpServerSessionHost, options: UcpServerSessionOptions = {}) {
    this.#host = host;
    this.#capabilities = options.capabilities ?? UCP_CAPABILITIES;
    this.#maxOffences = options.maxOffences ?? 3;
    const first = options.firstRequestId ?? 1;
    this.#nextRequestId = Number.isInteger(first) && first >= 0 && first <= INT31_MAX ? first : 1;
  }

  /** `connected`, `authorized` or `subscribed`. */
  get state(): UcpSessionState {
    return this.#state;
  }

  /** The authorized username, once MINING_AUTH succeeded. */
  get username(): string | undefined {
    return this.#username;
  }

  /** The subscription granted by the host, once subscribed. */
  get subscription(): Readonly<UcpSubscription> | undefined {
    return this.#subscription;
  }

  /** Malformed or invalid lines received so far. */
  get offences(): number {
    return this.#offences;
  }

  /** Submits waiting for {@linkcode UcpServerSession.resolveSubmit}. */
  get pendingSubmits(): number {
    return this.#pending.size;
  }

  /** The job id of the last MINING_JOB or MINING_MEMPOOL_UPDATE sent. */
  get lastJobId(): number | undefined {
    return this.#lastJobId;
  }

  /**
   * The messages to send on connect.
   *
   * @returns CAPABILITIES.
   */
  start(): UcpSessionOutput {
    return {
      send: [{
        command: "CAPABILITIES",
        requestId: this.#requestId(),
        capabilities: this.#capabilities,
      }],
    };
  }

  /**
   * Decode and handle one line.
   *
   * @param line One line without "\n".
   * @returns What to send, and whether to close.
   */
  handleLine(line: string): UcpSessionOutput {
    return this.handle(decodeUcp(line));
  }

  /**
   * Handle one decoded line (or its decode failure).
   *
   * @param input The result of `decodeUcp`.
   * @returns What to send, and whether to close.
   */
  handle(input: UcpDecodeResult): UcpSessionOutput {
    if (!input.ok) return this.#decodeFailure(input);
    const m = input.message;
    switch (m.command) {
      case "MINING_AUTH":
        return this.#auth(m.requestId, m.username, m.password);
      case "MINING_SUBSCRIBE":
        return this.#subscribe(m.requestId);
      case "MINING_SUBMIT":
        return this.#submit(m);
      case "MINING_UNSUBSCRIBE":
        return this.#unsubscribe(m.requestId);
      case "MINING_RESET_ACK":
      case "MINING_MEMPOOL_UPDATE_ACK":
        return { send: [] };
      default:
        // A server → client message sent to the server: not a command the server knows.
        return { send: [{ command: "ERROR_UNKNOWN_COMMAND", requestId: m.requestId }] };
    }
  }

  /**
   * Personalise a new template for this connection: a MINING_JOB with the merkle root for its
   * `extraNonceStart`. Nothing is sent before the session is subscribed.
   *
   * @param template The shared template.
   * @returns The MINING_JOB to send (or nothing).
   */
  job(template: UcpJobTemplate): UcpSessionOutput {
    if (this.#state !== "subscribed" || this.#subscription === undefined) return { send: [] };
    return { send: [this.#jobMessage(template, this.#subscription)] };
  }

  /**
   * A new transaction set for the same block: MINING_MEMPOOL_UPDATE with the new job id,
   * intermediate roots and this connection's new merkle root.
   *
   * @param template The updated shared template (same height and previous hashes).
   * @returns The MINING_MEMPOOL_UPDATE to send (or nothing before subscribe).
   */
  mempoolUpdate(template: UcpJobTemplate): UcpSessionOutput {
    const sub = this.#subscription;
    if (this.#state !== "subscribed" || sub === undefined) return { send: [] };
    this.#lastJobId = template.jobId;
    return {
      send: [{
        command: "MINING_MEMPOOL_UPDATE",
        requestId: this.#requestId(),
        jobId: template.jobId,
        popTransactionMerkleRoot: template.popTransactionMerkleRoot,
        normalTransactionMerkleRoot: template.normalTransactionMerkleRoot,
        coinbaseTxid: template.coinbaseTxid,
        intermediateMetapackageHash: template.intermediateMetapackageHash,
        newMerkleRoot: this.#merkleRoot(template, sub.extraNonceStart),
      }],
    };
  }

  /**
   * Tell the miner to drop its work (a reorganisation): MINING_RESET. The host sends fresh
   * jobs afterwards; the peer's MINING_RESET_ACK is accepted silently.
   *
   * @returns The MINING_RESET to send (or nothing before subscribe).
   */
  reset(): UcpSessionOutput {
    if (this.#state !== "subscribed") return { send: [] };
    return { send: [{ command: "MINING_RESET", requestId: this.#requestId() }] };
  }

  /**
   * Change the share target sent in this connection's next MINING_JOB.
   *
   * @param miningTarget 24 bytes, big-endian.
   * @throws {RangeError} When not 24 bytes.
   */
  setMiningTarget(miningTarget: Uint8Array): void {
    if (!(miningTarget instanceof Uint8Array) || miningTarget.length !== 24) {
      throw new RangeError("Cannot set mining target: expected 24 bytes");
    }
    if (this.#subscription) this.#subscription = { ...this.#subscription, miningTarget };
  }

  /**
   * Answer a submit the host deferred.
   *
   * @param requestId The submit's request id.
   * @param verdict The host's decision.
   * @returns MINING_SUBMIT_SUCCESS or _FAILURE (nothing for an unknown id).
   */
  resolveSubmit(requestId: number, verdict: UcpVerdict): UcpSessionOutput {
    if (!this.#pending.delete(requestId)) return { send: [] };
    return { send: [this.#submitReply(requestId, verdict)] };
  }

  #requestId(): number {
    const id = this.#nextRequestId;
    this.#nextRequestId = id >= INT31_MAX ? 0 : id + 1;
    return id;
  }

  #offence(send: UcpMessage[], what: string): UcpSessionOutput {
    this.#offences++;
    if (this.#offences >= this.#maxOffences) {
      return { send, close: `too many bad messages (last: ${what})` };
    }
    return { send };
  }

  #decodeFailure(input: Extract<UcpDecodeResult, { ok: false }>): UcpSessionOutput {
    const requestId = input.requestId ?? 0;
    if (input.kind === "unknown_command") {
      return { send: [{ command: "ERROR_UNKNOWN_COMMAND", requestId }] };
    }
    if (input.kind === "malformed") return this.#offence([], "malformed line");
    const reason = `invalid ${input.command}: ${input.error.replace(/^Cannot decode \S+: /, "")}`;
    switch (input.command) {
      case "MINING_AUTH":
        return this.#offence([{ command: "MINING_AUTH_FAILURE", requestId, reason }], reason);
      case "MINING_SUBSCRIBE":
        return this.#offence([{ command: "MINING_SUBSCRIBE_FAILURE", requestId, reason }], reason);
      case "MINING_SUBMIT":
        return this.#offence([{ command: "MINING_SUBMIT_FAILURE", requestId, reason }], reason);
      case "MINING_UNSUBSCRIBE":
        return this.#offence(
          [{ command: "MINING_UNSUBSCRIBE_FAILURE", requestId, reason }],
          reason,
        );
      default:
        return this.#offence([{ command: "ERROR_UNKNOWN_COMMAND", requestId }], reason);
    }
  }

  #auth(requestId: number, username: string, password: string): UcpSessionOutput {
    if (this.#state !== "connected") {
      return {
        send: [{ command: "MINING_AUTH_FAILURE", requestId, reason: "already authorized" }],
      };
    }
    const verdict = this.#host.authorize(username, password, this);
    if (!verdict.ok) {
      return { send: [{ command: "MINING_AUTH_FAILURE", requestId, reason: verdict.reason }] };
    }
    this.#state = "authorized";
    this.#username = username;
    return { send: [{ command: "MINING_AUTH_SUCCESS", requestId }] };
  }

  #subscribe(requestId: number): UcpSessionOutput {
    const fail = (reason: string): UcpSessionOutput => ({
      send: [{ command: "MINING_SUBSCRIBE_FAILURE", requestId, reason }],
    });
    if (this.#state === "connected") return fail("not authorized (send MINING_AUTH first)");
    if (this.#state === "subscribed") return fail("already subscribed");
    const granted = this.#host.subscribe(this);
    if (!granted.ok) return fail(granted.reason);
    const sub = granted.subscription;
    this.#subscription = sub;
    this.#state = "subscribed";
    const send: UcpMessage[] = [{ command: "MINING_SUBSCRIBE_SUCCESS", requestId }];
    if (sub.template) send.push(this.#jobMessage(sub.template, sub));
    return { send };
  }

  #unsubscribe(requestId: number): UcpSessionOutput {
    if (this.#state !== "subscribed") {
      return {
        send: [{ command: "MINING_UNSUBSCRIBE_FAILURE", requestId, reason: "not subscribed" }],
      };
    }
    this.#state = "authorized";
    this.#subscription = undefined;
    this.#host.unsubscribed?.(this);
    return { send: [{ command: "MINING_UNSUBSCRIBE_SUCCESS", requestId }] };
  }

  #submit(m: UcpMiningSubmit): UcpSessionOutput {
    if (this.#state !== "subscribed") {
      const reason = this.#state === "connected"
        ? "not authorized (send MINING_AUTH first)"
        : "not subscribed (send MINING_SUBSCRIBE first)";
      return { send: [{ command: "MINING_SUBMIT_FAILURE", requestId: m.requestId, reason }] };
    }
    if (this.#pending.has(m.requestId)) {
      const reason = "duplicate request id (a submit with this id is pending)";
      return { send: [{ command: "MINING_SUBMIT_FAILURE", requestId: m.requestId, reason }] };
    }
    const verdict = this.#host.submit(m, this);
    if (verdict === "deferred") {
      this.#pending.add(m.requestId);
      return { send: [] };
    }
    return { send: [this.#submitReply(m.requestId, verdict)] };
  }

  #submitReply(requestId: number, verdict: UcpVerdict): UcpMessage {
    return verdict.ok
      ? { command: "MINING_SUBMIT_SUCCESS", requestId }
      : { command: "MINING_SUBMIT_FAILURE", requestId, reason: verdict.reason };
  }

  #merkleRoot(template: UcpJobTemplate, extraNonce: bigint): Uint8Array {
    const root = merkleRootFromTxRoot({
      txRoot: templateTxRoot(template),
      metapackageHash: template.intermediateMetapackageHash,
    }, extraNonce);
    return root.slice(0, 24);
  }

  #jobMessage(template: UcpJobTemplate, sub: UcpSubscription): UcpMiningJob {
    this.#lastJobId = template.jobId;
    return {
      command: "MINING_JOB",
      requestId: this.#requestId(),
      jobId: template.jobId,
      blockIndex: template.blockIndex,
      blockVersion: template.blockVersion,
      previousBlockHash: template.previousBlockHash,
      secondPreviousBlockHash: template.secondPreviousBlockHash,
      thirdPreviousBlockHash: template.thirdPreviousBlockHash,
      poolAddress: template.poolAddress ?? this.#username ?? "",
      merkleRoot: this.#merkleRoot(template, sub.extraNonceStart),
      timestamp: template.timestamp,
      difficulty: template.difficulty,
      miningTarget: sub.miningTarget,
      ledgerHash: template.ledgerHash,
      coinbaseTxid: template.coinbaseTxid,
      popDatastoreHash: template.popDatastoreHash,
      minerComment: template.minerComment,
      popTransactionMerkleRoot: template.popTransactionMerkleRoot,
      normalTransactionMerkleRoot: template.normalTransactionMerkleRoot,
      intermediateMetapackageHash: template.intermediateMetapackageHash,
      extraNonceStart: sub.extraNonceStart,
      extraNonceEnd: sub.extraNonceEnd,
    };
  }
}
