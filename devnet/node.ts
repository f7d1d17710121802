/**
 * The devnet node: a stand-in for NodeCore's solo pool. It owns the chain, hands out jobs over
 * UCP, validates submitted work with vBlake, extends (or reorganises) the chain, announces new
 * work, simulates transactions and a rival miner, and optionally persists the chain.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { difficultyToTarget, targetToBytes } from "../hash/difficulty.ts";
import { assembleHeader } from "../hash/header.ts";
import { createBestKernel, type VblakeKernel } from "../hash/kernel.ts";
import { headerMerkleRoot } from "../hash/merkle.ts";
import { validateAddress } from "../hash/address.ts";
import { formatHostPort, type LineConnection, listenOn } from "../net/mod.ts";
import type {
  UcpServerSession,
  UcpServerSessionHost,
  UcpVerdict,
} from "../protocol/ucp_server_session.ts";
import type { UcpMiningSubmit } from "../protocol/ucp_types.ts";
import {
  type AddBlockResult,
  type BlockOrigin,
  type ChainParams,
  createGenesis,
  DevnetChain,
} from "./chain.ts";
import { ChainFileWriter, loadChainFile } from "./chain_file.ts";
import { type DevnetJob, JobBook } from "./jobs.ts";
import { DevnetLedger } from "./ledger.ts";
import { DevnetRpcServer } from "./rpc_server.ts";
import { DevnetFaults } from "./fault_injection.ts";
import { SimulatedMempool } from "./mempool.ts";
import { RivalMiner } from "./rival.ts";
import { UcpServer } from "./ucp_server.ts";

const log = getLogger(["vbkpool", "devnet"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Default difficulty floor: one WebAssembly CPU thread (~2–3 MH/s) finds a block in seconds. */
export const DEVNET_MIN_DIFFICULTY = 4_000_000n;
/** Default share difficulty of the `mining_target` (NodeCore's CPU pool: 2^24). */
export const DEVNET_SHARE_DIFFICULTY = 1n << 24n;
/** Most an nTime may be ahead of the devnet's clock (VeriBlock consensus: 5 minutes). */
export const MAX_FUTURE_SECONDS = 300;

/** Options for {@linkcode startDevnet}. */
export interface DevnetOptions {
  /** Interface to bind. @default "127.0.0.1" */
  hostname?: string;
  /** UCP port (0 picks a free one). @default 8501 */
  port?: number;
  /** Target block time T in seconds. @default 10 */
  blockTime?: number;
  /** LWMA window N. @default 100 */
  window?: number;
  /** Difficulty floor and genesis difficulty. @default DEVNET_MIN_DIFFICULTY */
  minDifficulty?: bigint;
  /**
   * Share difficulty of the `mining_target` sent in jobs; never harder than the block itself.
   * @default DEVNET_SHARE_DIFFICULTY
   */
  shareDifficulty?: bigint;
  /** Interval of simulated-transaction MINING_MEMPOOL_UPDATEs in ms; 0 turns them off. @default 20000 */
  mempoolIntervalMs?: number;
  /** Fraction of blocks a simulated rival miner finds (0 = no rival). @default 0 */
  rivalShare?: number;
  /**
   * Probability that the rival withholds a block it finds (or races a fresh pool block) to
   * orphan pool blocks. @default 0.2
   */
  rivalReorgShare?: number;
  /** JSON-lines file the chain is loaded from and appended to. */
  chainFile?: string;
  /** Coinbase reward per block in atomic units (the wallet ledger). @default 5000000000n (50 VBK) */
  blockReward?: bigint;
  /** Transaction fee per byte in atomic units. @default 1000n */
  feePerByte?: bigint;
  /** Port of the NodeCore HTTP JSON-RPC API (0 picks a free one); no API when absent. */
  rpcPort?: number;
  /** Interface of the HTTP API. @default hostname */
  rpcHostname?: string;
  /** `X-VBK-RPC-PASSWORD` the HTTP API requires; none when empty or absent. */
  rpcPassword?: string;
  /** Longest accepted UCP line. @default 16384 */
  maxLineBytes?: number;
  /** Time from connect to subscribe before a connection is closed, ms. @default 60000 */
  subscribeTimeoutMs?: number;
  /** Hasher. @default createBestKernel() */
  kernel?: VblakeKernel;
  /** Random numbers in [0, 1) for the rival and the mempool. @default Math.random */
  random?: () => number;
}

/** Counters of a running devnet. */
export interface DevnetStats {
  /** MINING_SUBMITs received. */
  submits: number;
  /** Blocks accepted from UCP clients. */
  accepted: number;
  /** Submits refused. */
  rejected: number;
  /** Reorganisations. */
  reorgs: number;
  /** Accepted blocks whose submitter was not told (test-only fault, see `loseSubmitReplies`). */
  lostReplies: number;
}

/**
 * How the devnet hides from the submitter that a block was accepted (test-only):
 * - `silent`: no reply at all (the submitter times out);
 * - `close`: the submitter's connection is closed instead of replying (a dropped link);
 * - `refuse`: MINING_SUBMIT_FAILURE, although the block is on the chain (a lying node).
 */
export type LostReplyMode = "silent" | "close" | "refuse";

/** Options for {@linkcode Devnet.loseSubmitReplies}. */
export interface LoseSubmitRepliesOptions {
  /** What the submitter gets instead of MINING_SUBMIT_SUCCESS. @default "silent" */
  mode?: LostReplyMode;
}

/** What a running devnet announces. */
export type DevnetEvent =
  | { type: "block"; result: Extract<AddBlockResult, { ok: true }> }
  | { type: "job"; job: DevnetJob; reason: "block" | "mempool" | "reset" };

/** A running devnet. */
export interface Devnet {
  /** The UCP address it listens on. */
  readonly addr: { hostname: string; port: number };
  /** The block tree (main-chain and orphan queries). */
  readonly chain: DevnetChain;
  /** The rival miner (drive it directly in tests). */
  readonly rival: RivalMiner;
  /** The wallet ledger (balances, transactions, coinbases) that follows the main chain. */
  readonly ledger: DevnetLedger;
  /** Where the NodeCore HTTP API listens, when it was started (`rpcPort`). */
  readonly rpcAddr: { hostname: string; port: number } | undefined;
  /** Test-only: make the HTTP API's next `sendcoins` answer late, execute late or not at all. */
  readonly faults: DevnetFaults;
  /** The current job. */
  readonly currentJob: DevnetJob;
  /** Counters. */
  readonly stats: Readonly<DevnetStats>;
  /** Connected UCP clients. */
  readonly connections: number;
  /** Send MINING_RESET and fresh jobs to every subscriber. */
  reset(): void;
  /** Add simulated transactions now and send MINING_MEMPOOL_UPDATE to every subscriber. */
  mempoolUpdate(): void;
  /** Listen to blocks and jobs; returns an unsubscribe function. */
  on(listener: (event: DevnetEvent) => void): () => void;
  /**
   * TEST-ONLY fault injection: the next `count` blocks submitted over UCP that the devnet
   * accepts stay on its chain, but their submitter is not told so (see {@linkcode LostReplyMode}):
   * a lost reply, a dropped link or a node that says no. Each such block counts in
   * `stats.lostReplies`. A new call replaces the previous one; `count` 0 ends it. Rival blocks
   * and refused submits are not affected. Never used outside tests.
   *
   * @param count Accepted submits to hide (an integer ≥ 0).
   * @param options How to hide them.
   * @throws {RangeError} When `count` is not an integer ≥ 0 or the mode is unknown.
   */
  loseSubmitReplies(count: number, options?: LoseSubmitRepliesOptions): void;
  /** Stop the rival and the timers, close every connection and the listener. */
  stop(): Promise<void>;
}

/**
 * Start a devnet: load or mine a genesis, listen for UCP, serve jobs.
 *
 * @example Usage
 * ```ts
 * import { startDevnet } from "./node.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * assert.ok(devnet.addr.port > 0);
 * assert.equal(devnet.chain.height, 0);
 * assert.equal(devnet.currentJob.blockIndex, 1);
 * await devnet.stop();
 * ```
 *
 * @param options Listen address, consensus parameters, simulation knobs, persistence.
 * @returns The running devnet.
 * @throws {ListenError} When the UCP or HTTP API address cannot be bound (it names the address).
 * @throws {Error} When the chain file cannot be loaded.
 */
export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const kernel = options.kernel ?? createBestKernel();
  let params: ChainParams = {
    blockTime: options.blockTime ?? 10,
    window: options.window ?? 100,
    minDifficulty: options.minDifficulty ?? DEVNET_MIN_DIFFICULTY,
  };
  let chain: DevnetChain | undefined;
  if (options.chainFile !== undefined) {
    chain = await loadChainFile(options.chainFile, { kernel });
    if (chain !== undefined) {
      const p = chain.params;
      if (
        p.blockTime !== params.blockTime || p.window !== params.window ||
        p.minDifficulty !== params.minDifficulty
      ) {
        log.warn(
          "Chain file {file} was made with block time {blockTime} s, window {window}, floor " +
            "{floor}; those parameters are kept",
          {
            file: options.chainFile,
            blockTime: p.blockTime,
            window: p.window,
            floor: p.minDifficulty.toString(),
          },
        );
      }
      params = { ...p };
      log.info("Loaded devnet chain from {file}: height {height}, {orphans} orphan(s)", {
        file: options.chainFile,
        height: chain.height,
        orphans: chain.orphans().length,
      });
    }
  }
  const writer = options.chainFile === undefined
    ? undefined
    : new ChainFileWriter(options.chainFile, params);
  if (chain === undefined) {
    log.info("Mining a devnet genesis at difficulty {difficulty}", {
      difficulty: params.minDifficulty.toString(),
    });
    chain = new DevnetChain(await createGenesis(params, { kernel }), params, { kernel });
    writer?.append(chain.genesis);
  }
  const ledger = await DevnetLedger.open(chain, {
    ...(options.blockReward === undefined ? {} : { reward: options.blockReward }),
    ...(options.feePerByte === undefined ? {} : { feePerByte: options.feePerByte }),
    ...(options.chainFile === undefined ? {} : { file: `${options.chainFile}.ledger` }),
  });
  const faults = new DevnetFaults();
  const rpcHostname = options.rpcHostname ?? options.hostname ?? "127.0.0.1";
  const rpcPort = options.rpcPort;
  const rpc = rpcPort === undefined
    ? undefined
    : listenOn(rpcHostname, rpcPort, () =>
      DevnetRpcServer.start({
        chain,
        ledger,
        faults,
        hostname: rpcHostname,
        port: rpcPort,
        ...(options.rpcPassword === undefined ? {} : { password: options.rpcPassword }),
      }));
  try {
    return new DevnetNode(chain, kernel, writer, options, { ledger, rpc, faults });
  } catch (err) {
    await rpc?.close();
    throw err;
  }
}

class DevnetNode implements Devnet {
  readonly addr: { hostname: string; port: number };
  readonly chain: DevnetChain;
  readonly rival: RivalMiner;
  readonly ledger: DevnetLedger;
  readonly rpcAddr: { hostname: string; port: number } | undefined;
  readonly faults: DevnetFaults;
  #rpc: DevnetRpcServer | undefined;
  #kernel: VblakeKernel;
  #writer: ChainFileWriter | undefined;
  #jobs = new JobBook();
  #mempool: SimulatedMempool;
  #server: UcpServer;
  #shareTarget: bigint;
  #serial = 0n;
  #stats: DevnetStats = { submits: 0, accepted: 0, rejected: 0, reorgs: 0, lostReplies: 0 };
  #lost: { count: number; mode: LostReplyMode } = { count: 0, mode: "silent" };
  #listeners = new Set<(event: DevnetEvent) => void>();
  #mempoolTimer: ReturnType<typeof setInterval> | undefined;
  #random: () => number;
  #stopping: Promise<void> | undefined;

  constructor(
    chain: DevnetChain,
    kernel: VblakeKernel,
    writer: ChainFileWriter | undefined,
    options: DevnetOptions,
    wallet: { ledger: DevnetLedger; rpc: DevnetRpcServer | undefined; faults: DevnetFaults },
  ) {
    this.chain = chain;
    this.ledger = wallet.ledger;
    this.faults = wallet.faults;
    this.#rpc = wallet.rpc;
    this.rpcAddr = wallet.rpc?.addr;
    this.#kernel = kernel;
    this.#writer = writer;
    this.#random = options.random ?? Math.random;
    this.#mempool = new SimulatedMempool();
    this.#shareTarget = difficultyToTarget(options.shareDifficulty ?? DEVNET_SHARE_DIFFICULTY);
    this.#newJob();
    this.#server = UcpServer.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 8501,
      maxLineBytes: options.maxLineBytes,
      subscribeTimeoutMs: options.subscribeTimeoutMs,
      hostFor: (conn) => this.#hostFor(conn),
      onClose: (client, reason) => {
        episodes.debug("closed", "UCP client {id} ({user}) closed: {reason}", {
          id: client.conn.id,
          user: client.session.username ?? "-",
          reason,
        });
      },
    });
    this.addr = { hostname: this.#server.addr.hostname, port: this.#server.addr.port };
    this.rival = new RivalMiner({
      chain,
      kernel,
      submit: (header) => this.#accept(header, { finder: "rival", source: "rival" }),
      share: options.rivalShare ?? 0,
      reorgShare: options.rivalReorgShare ?? 0.2,
      random: this.#random,
    });
    this.on((event) => {
      if (event.type === "block") this.rival.notify(event.result.block);
    });
    this.rival.start();
    const interval = options.mempoolIntervalMs ?? 20000;
    if (interval > 0) this.#mempoolTimer = setInterval(() => this.mempoolUpdate(), interval);
    log.info("Devnet listening for UCP on {address} (height {height}, difficulty {diff})", {
      address: formatHostPort(this.addr.hostname, this.addr.port),
      height: chain.height,
      diff: chain.childTemplate().difficulty.toString(),
    });
  }

  get currentJob(): DevnetJob {
    return this.#jobs.current!;
  }

  get stats(): Readonly<DevnetStats> {
    return { ...this.#stats };
  }

  get connections(): number {
    return this.#server.size;
  }

  on(listener: (event: DevnetEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  reset(): void {
    const job = this.#newJob();
    this.#server.broadcast((c) => ({ send: c.session.reset().send }));
    this.#broadcastJob(job);
    this.#emit({ type: "job", job, reason: "reset" });
  }

  mempoolUpdate(): void {
    this.#mempool.add(1 + Math.floor(this.#random() * 5), this.#random() < 0.3 ? 1 : 0);
    const job = this.#newJob();
    this.#server.broadcast((c) => c.session.mempoolUpdate(job));
    this.#emit({ type: "job", job, reason: "mempool" });
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#mempoolTimer);
      await this.rival.stop();
      await this.#server.close();
      this.faults.close();
      await this.#rpc?.close();
      log.info("Devnet stopped at height {height}", { height: this.chain.height });
    })();
    return this.#stopping;
  }

  #emit(event: DevnetEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        log.error("Devnet event listener failed: {error}", { error: String(err) });
      }
    }
  }

  #newJob(): DevnetJob {
    return this.#jobs.create(this.chain.childTemplate(), this.#mempool.roots());
  }

  #miningTarget(job: DevnetJob): Uint8Array {
    // Shares never harder than the block: a legacy miner must report every block it finds.
    return targetToBytes(job.target > this.#shareTarget ? job.target : this.#shareTarget);
  }

  #broadcastJob(job: DevnetJob): void {
    const target = this.#miningTarget(job);
    this.#server.broadcast((c) => {
      if (c.session.state === "subscribed") c.session.setMiningTarget(target);
      return c.session.job(job);
    });
  }

  #hostFor(conn: LineConnection): UcpServerSessionHost {
    return {
      authorize: (username) => {
        const check = validateAddress(username);
        if (check.valid) return { ok: true };
        episodes.debug("bad-address", "UCP client {id} sent an invalid address: {reason}", {
          id: conn.id,
          reason: check.reason,
        });
        return { ok: false, reason: `username must be a valid VBK address (${check.reason})` };
      },
      subscribe: () => {
        const serial = ++this.#serial;
        const start = serial << 32n;
        const job = this.currentJob;
        episodes.debug("subscribed", "UCP client {id} ({ip}) subscribed, extranonce {start}", {
          id: conn.id,
          ip: conn.remoteIp,
          start: start.toString(),
        });
        return {
          ok: true,
          subscription: {
            extraNonceStart: start,
            extraNonceEnd: start + 0xffffffffn,
            miningTarget: this.#miningTarget(job),
            template: job,
          },
        };
      },
      submit: (submit, session) => this.#submit(submit, session, conn),
    };
  }

  loseSubmitReplies(count: number, options: LoseSubmitRepliesOptions = {}): void {
    const mode = options.mode ?? "silent";
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(
        `Cannot lose submit replies: count must be an integer >= 0, got ${count}`,
      );
    }
    if (mode !== "silent" && mode !== "close" && mode !== "refuse") {
      throw new RangeError(`Cannot lose submit replies: unknown mode "${String(mode)}"`);
    }
    this.#lost = { count, mode };
  }

  #submit(
    submit: UcpMiningSubmit,
    session: UcpServerSession,
    conn: LineConnection,
  ): UcpVerdict | "deferred" {
    this.#stats.submits++;
    const verdict = this.#check(submit, session);
    if (!verdict.ok) {
      this.#stats.rejected++;
      return verdict;
    }
    return this.#hideAcceptance(conn) ?? verdict;
  }

  /** The test-only fault of {@linkcode Devnet.loseSubmitReplies}, when armed. */
  #hideAcceptance(conn: LineConnection): UcpVerdict | "deferred" | undefined {
    if (this.#lost.count === 0) return undefined;
    this.#lost.count--;
    this.#stats.lostReplies++;
    const mode = this.#lost.mode;
    episodes.warn(
      "fault",
      "Devnet test fault: block {height} accepted, its submitter is not told ({mode})",
      {
        height: this.chain.height,
        mode,
      },
    );
    if (mode === "refuse") return { ok: false, reason: "block refused (devnet test fault)" };
    // "deferred" without a later answer: the session sends nothing.
    if (mode === "close") conn.close("devnet test fault: link dropped after accepting a block");
    return "deferred";
  }

  #check(submit: UcpMiningSubmit, session: UcpServerSession): UcpVerdict {
    const job = this.#jobs.get(submit.jobId);
    if (job === undefined) {
      return { ok: false, reason: `stale job (unknown job id ${submit.jobId})` };
    }
    if (submit.nTime < job.timestamp) {
      return {
        ok: false,
        reason: `bad timestamp ${submit.nTime}: below the job's timestamp ${job.timestamp}`,
      };
    }
    const limit = Math.floor(Date.now() / 1000) + MAX_FUTURE_SECONDS;
    if (submit.nTime > limit) {
      return {
        ok: false,
        reason: `bad timestamp ${submit.nTime}: more than ${MAX_FUTURE_SECONDS} s in the future`,
      };
    }
    const header = assembleHeader({
      height: job.blockIndex,
      version: job.blockVersion,
      previousBlockHash: job.previousBlockHash,
      previousKeystoneHash: job.secondPreviousBlockHash,
      secondKeystoneHash: job.thirdPreviousBlockHash,
      merkleRoot: headerMerkleRoot({
        popRoot: job.popTransactionMerkleRoot,
        normalRoot: job.normalTransactionMerkleRoot,
        metapackageHash: job.intermediateMetapackageHash,
      }, submit.extraNonce),
      timestamp: submit.nTime,
      bits: job.difficulty,
      nonce: submit.nonce,
    });
    if (this.chain.blockByHash(this.#kernel.hash(header)) !== undefined) {
      return { ok: false, reason: "duplicate block" };
    }
    if (job.parent !== this.chain.tip) {
      return { ok: false, reason: `stale job ${submit.jobId} (the chain tip changed)` };
    }
    const result = this.#accept(header, { finder: session.username ?? "", source: "pool" });
    if (!result.ok) return { ok: false, reason: result.reason };
    this.#stats.accepted++;
    return { ok: true };
  }

  /** Validate, store, persist, log and announce a block; new work goes out after the reply. */
  #accept(header: Uint8Array, origin: BlockOrigin): AddBlockResult {
    const result = this.chain.addBlock(header, origin);
    if (!result.ok) return result;
    this.ledger.sync();
    const { block, change, orphaned } = result;
    try {
      this.#writer?.append(block);
    } catch (err) {
      episodes.error("append", "Cannot append block to {file}: {error}", {
        file: this.#writer?.path,
        error: (err as Error).message,
      });
    }
    log.info("Block {height} {hash} found by {finder} ({change}, difficulty {difficulty})", {
      height: block.height,
      hash: block.hashHex.toLowerCase(),
      finder: block.finder,
      change,
      difficulty: block.difficulty.toString(),
    });
    if (change === "reorganized") {
      this.#stats.reorgs++;
      log.warn("Reorganisation at height {height}: orphaned {orphans}", {
        height: block.height,
        orphans: orphaned.map((b) => `${b.height}:${b.hashHex.toLowerCase()} (${b.finder})`)
          .join(", "),
      });
    }
    this.#emit({ type: "block", result });
    if (change !== "side") {
      // Let the submitter's reply go out first, then announce the new work.
      queueMicrotask(() => this.#announce(change === "reorganized"));
    }
    return result;
  }

  #announce(reorganized: boolean): void {
    if (this.#stopping) return;
    this.#mempool.clear();
    const job = this.#newJob();
    if (reorganized) this.#server.broadcast((c) => c.session.reset());
    this.#broadcastJob(job);
    this.#emit({ type: "job", job, reason: "block" });
  }
}
