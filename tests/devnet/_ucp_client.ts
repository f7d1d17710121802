/**
 * Test helpers: a UCP client over real TCP that records decoded messages, and a tiny miner
 * that grinds a MINING_JOB with the WebAssembly kernel.
 *
 * @module
 */

import { connectLines, type LineConnection } from "../../net/mod.ts";
import { decodeUcp, encodeUcp, type UcpMessage } from "../../protocol/mod.ts";
import type { UcpMiningJob } from "../../protocol/ucp_types.ts";
import {
  assembleHeader,
  createWasmKernel,
  decodeBits,
  difficultyToTarget,
  headerMerkleRoot,
} from "../../hash/mod.ts";
import { waitUntil } from "../_wait.ts";

export const ADDRESS = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d";
export const ADDRESS2 = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";

const kernel = createWasmKernel();

export class UcpTestClient {
  readonly conn: LineConnection;
  readonly messages: UcpMessage[] = [];
  readonly raw: string[] = [];
  closedReason: string | undefined;
  #cursor = 0;
  #nextId = 100;

  private constructor(conn: LineConnection) {
    this.conn = conn;
    conn.start({
      onLine: (line) => {
        this.raw.push(line);
        const decoded = decodeUcp(line);
        if (decoded.ok) this.messages.push(decoded.message);
      },
      onClose: (reason) => {
        this.closedReason = reason;
      },
    });
  }

  static async connect(port: number, maxLineBytes = 1 << 21): Promise<UcpTestClient> {
    const conn = await connectLines({
      hostname: "127.0.0.1",
      port,
      maxLineBytes,
      maxSendQueueBytes: 1 << 23,
    });
    return new UcpTestClient(conn);
  }

  send(message: UcpMessage): void {
    this.conn.send(encodeUcp(message));
  }

  sendRaw(line: string): void {
    this.conn.send(line);
  }

  requestId(): number {
    return this.#nextId++;
  }

  async until(pred: () => boolean, what: string, ms = 60_000): Promise<void> {
    await waitUntil(pred, what, { timeoutMs: ms, intervalMs: 10 });
  }

  /** The next message (after the previous `next`) with this command; skips others. */
  async next<C extends UcpMessage["command"]>(
    command: C,
    ms = 10000,
  ): Promise<Extract<UcpMessage, { command: C }>> {
    let found: UcpMessage | undefined;
    await this.until(
      () => {
        while (this.#cursor < this.messages.length) {
          const m = this.messages[this.#cursor++]!;
          if (m.command === command) {
            found = m;
            return true;
          }
        }
        return false;
      },
      command,
      ms,
    );
    return found as Extract<UcpMessage, { command: C }>;
  }

  /** The reply to a request id. */
  async reply(requestId: number, ms = 10000): Promise<UcpMessage> {
    let found: UcpMessage | undefined;
    await this.until(
      () => {
        found = this.messages.find((m) =>
          m.requestId === requestId && m.command !== "MINING_JOB" && m.command !== "CAPABILITIES" &&
          m.command !== "MINING_RESET" && m.command !== "MINING_MEMPOOL_UPDATE"
        );
        return found !== undefined;
      },
      `reply to ${requestId}`,
      ms,
    );
    return found!;
  }

  /** CAPABILITIES, AUTH, SUBSCRIBE; returns the first job. */
  async login(address = ADDRESS): Promise<UcpMiningJob> {
    await this.next("CAPABILITIES");
    this.send({ command: "MINING_AUTH", requestId: 1, username: address, password: "" });
    await this.next("MINING_AUTH_SUCCESS");
    this.send({ command: "MINING_SUBSCRIBE", requestId: 2, updateFrequencyMs: 500 });
    await this.next("MINING_SUBSCRIBE_SUCCESS");
    return await this.next("MINING_JOB");
  }

  /** Mine and submit one block for a job; returns the submit's reply. */
  async mine(
    job: { jobId: number } & Parameters<typeof solve>[0],
    extraNonce?: bigint,
  ): Promise<UcpMessage> {
    const solution = solve(job, extraNonce);
    const requestId = this.requestId();
    this.send({ command: "MINING_SUBMIT", requestId, jobId: job.jobId, ...solution });
    return await this.reply(requestId);
  }

  close(): Promise<void> {
    this.conn.close("test done");
    return this.conn.done;
  }
}

/** Find (nTime, nonce) for a job; with `extraNonce` the merkle root is recomputed. */
export function solve(
  job: Pick<
    UcpMiningJob,
    | "blockIndex"
    | "blockVersion"
    | "previousBlockHash"
    | "secondPreviousBlockHash"
    | "thirdPreviousBlockHash"
    | "merkleRoot"
    | "timestamp"
    | "difficulty"
    | "popTransactionMerkleRoot"
    | "normalTransactionMerkleRoot"
    | "intermediateMetapackageHash"
    | "extraNonceStart"
  >,
  extraNonce?: bigint,
): { nTime: number; nonce: number; extraNonce: bigint } {
  const merkleRoot = extraNonce === undefined ? job.merkleRoot : headerMerkleRoot({
    popRoot: job.popTransactionMerkleRoot,
    normalRoot: job.normalTransactionMerkleRoot,
    metapackageHash: job.intermediateMetapackageHash,
  }, extraNonce);
  const nTime = Math.max(job.timestamp, Math.floor(Date.now() / 1000));
  const header = assembleHeader({
    height: job.blockIndex,
    version: job.blockVersion,
    previousBlockHash: job.previousBlockHash,
    previousKeystoneHash: job.secondPreviousBlockHash,
    secondKeystoneHash: job.thirdPreviousBlockHash,
    merkleRoot,
    timestamp: nTime,
    bits: job.difficulty,
    nonce: 0,
  });
  const target = difficultyToTarget(decodeBits(job.difficulty));
  const found = kernel.scan(header, { startNonce: 0, count: 2 ** 32, target, maxResults: 1 });
  const nonce = found.nonces[0];
  if (nonce === undefined) throw new Error("no nonce found");
  return { nTime, nonce, extraNonce: extraNonce ?? job.extraNonceStart };
}
