/**
 * Test helper: a scripted UCP miner that behaves like NodeCore's CUDA miner (UCPClient.h /
 * Miner.cpp, spec nodecore-ucp-vblake.md §2.2, §2.5–§2.9):
 *
 * - setup reads with one raw `read()` per message and fails when a read holds more than one
 *   message (CAPABILITIES, the auth reply, the subscribe reply and the first MINING_JOB must
 *   each arrive on their own; a message chopped into several reads is completed, as
 *   `cyclicRun` does);
 * - refuses a server whose CAPABILITIES lack any of bits 0–5 (right-most character = bit 0);
 * - MINING_AUTH with request id 1, MINING_SUBSCRIBE with request id 2 and 500 ms;
 * - builds the header from the MINING_JOB exactly as the CUDA miner copies it (height, version,
 *   last 12/9/9 bytes of the three hashes, the first 16 bytes of `merkle_root` UNCHANGED,
 *   timestamp, difficulty); MINING_MEMPOOL_UPDATE replaces the merkle root and job id;
 * - puts the current time in the header, submits `extra_nonce = extra_nonce_start`, nonce and
 *   nTime as unsigned numbers, request ids counting up from 2,500,000;
 * - counts unanswered submits: more than 5 without a SUCCESS/FAILURE makes it give up.
 *
 * It mines with the WebAssembly kernel against `mining_target` (a CUDA build reports 2^32
 * shares whatever the target; tests configure a low share difficulty so this takes seconds).
 *
 * @module
 */

import { createWasmKernel } from "../../hash/kernel.ts";
import { bytesToTarget, decodeBits, difficultyToTarget, hashToBigInt } from "../../hash/mod.ts";
import { decodeUcp, encodeUcp } from "../../protocol/mod.ts";
import type { UcpMessage, UcpMiningJob } from "../../protocol/ucp_types.ts";
import { waitUntil } from "../_wait.ts";

const kernel = createWasmKernel();
const DECODER = new TextDecoder();
const ENCODER = new TextEncoder();

/** Capability bits the CUDA miner requires (MINING_AUTH … MINING_MEMPOOL_UPDATE_ACK). */
const REQUIRED_BITS = [0, 1, 2, 3, 4, 5];

/** The miner's view of its current work. */
export interface CudaWork {
  /** The job id to submit. */
  jobId: number;
  /** 64-byte header (time and nonce written per scan). */
  header: Uint8Array;
  /** The job's `timestamp`. */
  timestamp: number;
  /** Share target from `mining_target`. */
  shareTarget: bigint;
  /** Network target from `difficulty`. */
  networkTarget: bigint;
  /** `extra_nonce_start`, submitted unchanged. */
  extraNonce: bigint;
  /** The full MINING_JOB it came from. */
  job: UcpMiningJob;
}

/** One submit and its answer. */
export interface CudaSubmit {
  requestId: number;
  jobId: number;
  nTime: number;
  nonce: number;
  extraNonce: bigint;
  /** Whether the hash met the network target (by the miner's own check). */
  block: boolean;
  /** The reply, once it came. */
  reply?: UcpMessage;
}

/** A failed setup step. */
export class CudaSetupError extends Error {
  /** Which step. */
  readonly stage: string;

  /**
   * @param stage The step.
   * @param message What went wrong.
   */
  constructor(stage: string, message: string) {
    super(message);
    this.name = "CudaSetupError";
    this.stage = stage;
  }
}

/** The scripted CUDA-like miner. */
export class CudaLikeMiner {
  readonly conn: Deno.TcpConn;
  /** Every message after setup, in order. */
  readonly messages: UcpMessage[] = [];
  /** Raw lines after setup. */
  readonly lines: string[] = [];
  /** Submits by request id. */
  readonly submits: Map<number, CudaSubmit> = new Map();
  /** The capabilities bitflag. */
  capabilities = "";
  /** Current work. */
  work: CudaWork | undefined;
  /** Reads after setup that held more than one message (a real CUDA miner loses all but one). */
  coalescedReads = 0;
  /** Shares sent and the count at the last SUCCESS/FAILURE (UCPClient.h's counters). */
  sentShares = 0;
  lastAcknowledgement = 0;
  /** Set when more than 5 submits went unanswered (the CUDA miner exits). */
  gaveUp = false;
  /** Why the read loop ended. */
  closed: string | undefined;
  #buf = new Uint8Array(16 * 1024);
  #pending = "";
  #nextRequestId = 2_500_000;
  #nonce = 0;
  #loop: Promise<void> | undefined;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /**
   * Connect.
   *
   * @param port The pool's UCP port on 127.0.0.1.
   * @returns The miner, not yet set up.
   */
  static async connect(port: number): Promise<CudaLikeMiner> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new CudaLikeMiner(conn);
  }

  /**
   * `setupLoginAndSubscribe` plus the first job: throws {@linkcode CudaSetupError} when a step
   * fails (auth refused, capabilities missing, two messages in one read, ...).
   *
   * @param username The `-u` username.
   * @param password The `-p` password.
   */
  async setup(username: string, password = ""): Promise<void> {
    const caps = await this.#recvOne("capabilities");
    if (caps.command !== "CAPABILITIES") {
      throw new CudaSetupError("capabilities", `expected CAPABILITIES first, got ${caps.command}`);
    }
    this.capabilities = caps.capabilities;
    for (const bit of REQUIRED_BITS) {
      if (caps.capabilities[caps.capabilities.length - 1 - bit] !== "1") {
        throw new CudaSetupError("capabilities", `bit ${bit} missing in ${caps.capabilities}`);
      }
    }
    await this.#write(
      encodeUcp({ command: "MINING_AUTH", requestId: 1, username, password }),
    );
    const auth = await this.#recvOne("authentication");
    if (auth.command !== "MINING_AUTH_SUCCESS") {
      const reason = "reason" in auth ? String(auth.reason) : "no reason";
      throw new CudaSetupError("authentication", `${auth.command}: ${reason}`);
    }
    await this.#write(
      encodeUcp({ command: "MINING_SUBSCRIBE", requestId: 2, updateFrequencyMs: 500 }),
    );
    const sub = await this.#recvOne("subscription");
    if (sub.command !== "MINING_SUBSCRIBE_SUCCESS") {
      const reason = "reason" in sub ? String(sub.reason) : "no reason";
      throw new CudaSetupError("subscription", `${sub.command}: ${reason}`);
    }
    // cyclicRun's first read: the first MINING_JOB, alone.
    const job = await this.#recvOne("first job");
    if (job.command !== "MINING_JOB") {
      throw new CudaSetupError("first job", `expected MINING_JOB, got ${job.command}`);
    }
    this.#handle(job);
    this.#loop = this.#readLoop();
  }

  /**
   * Mine like the GPU miner until `done()`: one scan of 8192 nonces per check, at most one
   * submit per scan and 100 ms of pacing after each (a GPU's share rate). Fails when the miner
   * gave up, was closed, or after `timeoutMs`.
   *
   * @param done The goal.
   * @param what Named in the timeout error (a function is called only then).
   * @param timeoutMs How long.
   */
  async mineUntil(
    done: () => boolean,
    what: string | (() => string),
    timeoutMs = 120_000,
  ): Promise<void> {
    await waitUntil(
      async () => {
        if (done()) return true;
        if (this.gaveUp) throw new Error("more than 5 submits went unanswered");
        if (this.closed !== undefined) throw new Error(`the miner was closed: ${this.closed}`);
        const sent = await this.mine(1 << 13, 1);
        if (sent.length > 0) await new Promise((r) => setTimeout(r, 100));
        return false;
      },
      what,
      { timeoutMs, intervalMs: 0 },
    );
  }

  /**
   * Scan `count` nonces of the current work at the current time and submit every share found
   * (at most `maxShares`).
   *
   * @param count Nonces to try.
   * @param maxShares Most submits from this scan.
   * @returns The submits sent.
   */
  async mine(count: number, maxShares = 4): Promise<CudaSubmit[]> {
    const work = this.work;
    if (work === undefined || this.gaveUp || this.closed !== undefined) return [];
    const header = work.header.slice();
    const nTime = Math.max(work.timestamp, Math.floor(Date.now() / 1000));
    new DataView(header.buffer).setUint32(52, nTime);
    if (this.#nonce + count > 0x1_0000_0000) this.#nonce = 0;
    const found = kernel.scan(header, {
      startNonce: this.#nonce,
      count,
      target: work.shareTarget,
      maxResults: maxShares,
    });
    this.#nonce += found.tried;
    const sent: CudaSubmit[] = [];
    for (const nonce of found.nonces) {
      new DataView(header.buffer).setUint32(60, nonce);
      const block = hashToBigInt(kernel.hash(header)) < work.networkTarget;
      sent.push(await this.submit({ jobId: work.jobId, nTime, nonce, block }));
    }
    return sent;
  }

  /**
   * Send a MINING_SUBMIT the CUDA way (unsigned numbers, `extra_nonce_start` unless given).
   *
   * @param s Job, time, nonce (and an extranonce override for negative tests).
   * @returns The submit record.
   */
  async submit(
    s: { jobId: number; nTime: number; nonce: number; extraNonce?: bigint; block?: boolean },
  ): Promise<CudaSubmit> {
    const requestId = this.#nextRequestId++;
    const record: CudaSubmit = {
      requestId,
      jobId: s.jobId,
      nTime: s.nTime >>> 0,
      nonce: s.nonce >>> 0,
      extraNonce: s.extraNonce ?? this.work?.extraNonce ?? 0n,
      block: s.block ?? false,
    };
    this.submits.set(requestId, record);
    // picojson writes doubles: unsigned nonce and nTime, the int64 extranonce as an integer.
    await this.#write(
      `{"command":"MINING_SUBMIT","extra_nonce":{"data":${record.extraNonce},"type":"EXTRA_NONCE"},` +
        `"job_id":{"data":${record.jobId},"type":"JOB_ID"},` +
        `"nTime":{"data":${record.nTime},"type":"TIMESTAMP"},` +
        `"nonce":{"data":${record.nonce},"type":"NONCE"},` +
        `"request_id":{"data":${requestId},"type":"REQUEST_ID"}}`,
    );
    this.sentShares++;
    if (this.lastAcknowledgement + 5 < this.sentShares) this.gaveUp = true;
    return record;
  }

  /**
   * Send a raw line (for malformed input).
   *
   * @param line Text without "\n".
   */
  async sendRaw(line: string): Promise<void> {
    await this.#write(line);
  }

  /** Submits without a reply yet. */
  get unanswered(): CudaSubmit[] {
    return [...this.submits.values()].filter((s) => s.reply === undefined);
  }

  /**
   * Wait until a condition holds (checked after every message and on close).
   *
   * @param check The condition.
   * @param timeoutMs How long.
   * @param what Named in the timeout error.
   */
  async waitFor(check: () => boolean, timeoutMs = 60_000, what = "condition"): Promise<void> {
    await waitUntil(check, what, { timeoutMs, intervalMs: 10 });
  }

  /**
   * Wait for the next message of a command after those already seen.
   *
   * @param command The command.
   * @param from Index in {@linkcode CudaLikeMiner.messages} to start at.
   * @returns The message.
   */
  async next(command: string, from = 0): Promise<UcpMessage> {
    let found: UcpMessage | undefined;
    await this.waitFor(
      () => {
        found = this.messages.slice(from).find((m) => m.command === command);
        return found !== undefined;
      },
      60_000,
      command,
    );
    return found!;
  }

  /**
   * Wait for the reply to a submit.
   *
   * @param submit The submit.
   * @returns MINING_SUBMIT_SUCCESS or _FAILURE.
   */
  async reply(submit: CudaSubmit): Promise<UcpMessage> {
    await this.waitFor(() => submit.reply !== undefined, 60_000, `reply ${submit.requestId}`);
    return submit.reply!;
  }

  /** Close and wait for the read loop. */
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    await this.#loop?.catch(() => {});
  }

  /** Start the read loop without (or after a failed) setup. */
  startReading(): void {
    this.#loop ??= this.#readLoop();
  }

  /** Wait until the server closes the connection (read returns null). */
  async closedByServer(timeoutMs = 60_000): Promise<string> {
    this.startReading();
    await this.waitFor(() => this.closed !== undefined, timeoutMs, "close");
    return this.closed!;
  }

  async #write(line: string): Promise<void> {
    const bytes = ENCODER.encode(line + "\n");
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** One `recv()` that must hold exactly one message (completed if chopped). */
  async #recvOne(stage: string): Promise<UcpMessage> {
    const n = await this.conn.read(this.#buf);
    if (n === null) throw new CudaSetupError(stage, "connection closed");
    let text = DECODER.decode(this.#buf.subarray(0, n));
    const first = text.indexOf("\n");
    if (first >= 0 && first !== text.length - 1) {
      throw new CudaSetupError(stage, `one read held more than one message: ${text}`);
    }
    while (!text.endsWith("\n")) {
      const more = await this.conn.read(this.#buf);
      if (more === null) throw new CudaSetupError(stage, "connection closed");
      text += DECODER.decode(this.#buf.subarray(0, more));
      const nl = text.indexOf("\n");
      if (nl >= 0 && nl !== text.length - 1) {
        throw new CudaSetupError(stage, `a read held the start of a second message: ${text}`);
      }
    }
    const decoded = decodeUcp(text.slice(0, -1));
    if (!decoded.ok) throw new CudaSetupError(stage, `undecodable: ${decoded.error}`);
    return decoded.message;
  }

  async #readLoop(): Promise<void> {
    try {
      while (true) {
        const n = await this.conn.read(this.#buf);
        if (n === null) {
          this.closed = "closed by server";
          break;
        }
        this.#pending += DECODER.decode(this.#buf.subarray(0, n));
        const parts = this.#pending.split("\n");
        this.#pending = parts.pop()!;
        if (parts.length > 1) this.coalescedReads++;
        for (const line of parts) {
          this.lines.push(line);
          const decoded = decodeUcp(line);
          if (decoded.ok) this.#handle(decoded.message);
        }
      }
    } catch (err) {
      this.closed = `read failed: ${err}`;
    }
  }

  #handle(m: UcpMessage): void {
    this.messages.push(m);
    switch (m.command) {
      case "MINING_JOB": {
        const header = new Uint8Array(64);
        const view = new DataView(header.buffer);
        view.setUint32(0, m.blockIndex);
        view.setUint16(4, m.blockVersion);
        header.set(m.previousBlockHash.subarray(12), 6);
        header.set(m.secondPreviousBlockHash.subarray(15), 18);
        header.set(m.thirdPreviousBlockHash.subarray(15), 27);
        header.set(m.merkleRoot.subarray(0, 16), 36); // used unchanged
        view.setUint32(52, m.timestamp);
        view.setUint32(56, m.difficulty);
        this.work = {
          jobId: m.jobId,
          header,
          timestamp: m.timestamp,
          shareTarget: bytesToTarget(m.miningTarget),
          networkTarget: difficultyToTarget(decodeBits(m.difficulty)),
          extraNonce: m.extraNonceStart,
          job: m,
        };
        break;
      }
      case "MINING_MEMPOOL_UPDATE":
        if (this.work !== undefined) {
          this.work.header.set(m.newMerkleRoot.subarray(0, 16), 36);
          this.work.jobId = m.jobId;
        }
        break;
      case "MINING_SUBMIT_SUCCESS":
      case "MINING_SUBMIT_FAILURE": {
        this.lastAcknowledgement = this.sentShares;
        const submit = this.submits.get(m.requestId);
        if (submit !== undefined) submit.reply = m;
        break;
      }
    }
  }
}
