/**
 * The miner: mining threads fed from one Stratum session at a time, with failover across
 * pools in order of preference, reconnects with backoff, fail-back to a preferred pool once
 * it works again, share verification and submission, and statistics.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { difficultyToTarget, hashToBigInt, vblake } from "../hash/mod.ts";
import type { NotifyJob } from "../protocol/mod.ts";
import { PoolList } from "./pool_list.ts";
import { RateMeter } from "./rate_meter.ts";
import { type ShareOutcome, StratumSession } from "./stratum_session.ts";
import { MiningThreads } from "./threads.ts";
import type { KernelChoice } from "./mining_worker.ts";
import type { FoundShare } from "./work_loop.ts";
import {
  blockTarget,
  buildThreadWork,
  hashHex,
  scanTarget,
  type SearchSplit,
  shareHeader,
  type ThreadWork,
} from "./work.ts";

const log = getLogger(["vbkpool", "miner"]);

/** The difficulty used until a pool sends `mining.set_difficulty` (the original server's
 * initial POOL_TARGET, 2^20). */
export const DEFAULT_SHARE_DIFFICULTY = 1_048_576n;

/** Options for {@linkcode Miner}. */
export interface MinerOptions {
  /** Pool addresses, most preferred first (`stratum+tcp://host:port` or `host:port`). */
  pools: readonly string[];
  /** Worker name, `ADDRESS[.WORKER]`. */
  user: string;
  /** Password. @default "" */
  password?: string;
  /** CPU mining threads (0 allowed with `gpu`). @default navigator.hardwareConcurrency, or 0
   * with `gpu` */
  threads?: number;
  /** Kernel. @default "auto" */
  kernel?: KernelChoice;
  /** Also mine on the GPU (WebGPU); without a usable GPU the CPU threads mine alone (one per
   * core when none were asked for). @default false */
  gpu?: boolean;
  /** Fixed nonces per GPU dispatch; 0 tunes toward ~75 ms dispatches. @default 0 */
  gpuBatch?: number;
  /** How threads split the search space. @default "extranonce" */
  split?: SearchSplit;
  /** Difficulty until the pool sets one. @default 1048576n */
  defaultDifficulty?: bigint;
  /** Connect timeout per attempt, ms. @default 10000 */
  connectTimeoutMs?: number;
  /** Subscribe/authorize reply timeout, ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /** A submit unanswered this long marks the pool dead, ms. @default 30000 */
  submitTimeoutMs?: number;
  /** No first job this long after connecting marks the pool dead (no work), ms. @default 30000 */
  firstJobTimeoutMs?: number;
  /** No new job for this long while mining marks the pool dead, ms. @default 180000 */
  jobTimeoutMs?: number;
  /** How often to probe a preferred pool while on a fallback, ms. @default 60000 */
  failbackMs?: number;
  /** First reconnect delay, ms (doubles per failure, with jitter). @default 1000 */
  backoffMinMs?: number;
  /** Largest reconnect delay, ms. @default 60000 */
  backoffMaxMs?: number;
  /** Hash-rate averaging window, ms. @default 30000 */
  rateWindowMs?: number;
  /** Scan slice per thread, ms (bounds the job-switch latency). @default 3 */
  sliceMs?: number;
  /** Most submits awaiting a verdict; further shares are dropped. @default 256 */
  maxPendingSubmits?: number;
  /** Answer to `client.get_version`. @default "vbkpool" */
  agent?: string;
  /** Receives every {@linkcode MinerEvent}. */
  onEvent?: (event: MinerEvent) => void;
}

/** What the miner reports as it runs. */
export type MinerEvent =
  | { type: "connected"; pool: string; index: number; extranonce: bigint }
  | { type: "disconnected"; pool: string; reason: string }
  | { type: "connect_failed"; pool: string; reason: string; retryInMs: number }
  | { type: "job"; pool: string; jobId: string; height: number; clean: boolean }
  | { type: "difficulty"; pool: string; difficulty: bigint }
  | {
    type: "share";
    pool: string;
    jobId: string;
    hash: string;
    outcome: ShareOutcome | { status: "dropped"; reason: string };
  }
  | { type: "block"; pool: string; jobId: string; height: number; hash: string };

/** Hash rates over xmrig's three windows, H/s. */
export interface HashRates {
  /** Over the last 10 s. */
  s10: number;
  /** Over the last 60 s. */
  s60: number;
  /** Over the last 15 min (the time so far while less has passed). */
  m15: number;
}

/** Submit-to-verdict latency of the recent shares. */
export interface ShareLatency {
  /** Verdicts measured (the latest {@linkcode MAX_LATENCY_SAMPLES} count). */
  samples: number;
  /** Median, ms (0 before any verdict). */
  p50Ms: number;
  /** Longest, ms (0 before any verdict). */
  maxMs: number;
}

/** One rejected share: why and when. */
export interface Rejection {
  /** The pool's reason (or the local one). */
  reason: string;
  /** When (ms since epoch). */
  at: number;
}

/** A statistics snapshot. */
export interface MinerStats {
  /** When the miner started (ms since epoch). */
  startedAt: number;
  /** Milliseconds since start. */
  uptimeMs: number;
  /** Kernel per thread. */
  kernels: readonly string[];
  /** The pool in use, if connected. */
  pool: string | undefined;
  /** Its index in the pool list. */
  poolIndex: number | undefined;
  /** The current share difficulty, if connected. */
  difficulty: bigint | undefined;
  /** The current job id and height, if any. */
  job: { id: string; height: number } | undefined;
  /** Total hash rate (moving average), H/s. */
  hashrate: number;
  /** Per-thread hash rates (moving average), H/s. */
  threadHashrates: number[];
  /** Total hash rate over 10 s, 60 s and 15 min. */
  rates: HashRates;
  /** Per-thread hash rates over 10 s, 60 s and 15 min (the GPU slot, if any, last). */
  threadRates: HashRates[];
  /** The GPU's adapter, while a GPU slot mines. */
  gpuAdapter?: string;
  /** Whether mining is paused ({@linkcode Miner.pause}). */
  paused: boolean;
  /** Submit-to-verdict latency of the recent shares. */
  latency: ShareLatency;
  /** The latest rejections, oldest first (at most {@linkcode MAX_RECENT_REJECTIONS}). */
  lastRejections: Rejection[];
  /** Hashes tried since start. */
  hashes: number;
  /** Shares accepted. */
  accepted: number;
  /** Shares rejected (any reason but stale). */
  rejected: number;
  /** Shares refused as stale, or dropped locally because their job was replaced. */
  stale: number;
  /** Shares without a verdict (connection lost or dropped by the submit limit). */
  lost: number;
  /** Block-quality hashes found. */
  blocks: number;
  /** Rejections by reason. */
  rejectReasons: Record<string, number>;
  /** Successful connections so far. */
  connections: number;
  /** Job-switch latencies (notify received → every thread on the new job), ms, latest last. */
  jobSwitchMs: number[];
}

interface GenerationRecord {
  session: StratumSession;
  job: NotifyJob;
  works: ThreadWork[];
  shareTarget: bigint;
  blockTarget: bigint;
  scanTarget: bigint;
  cleaned: boolean;
}

const MAX_GENERATIONS = 64;
const MAX_SWITCH_SAMPLES = 1000;
/** Share latencies kept for the median and maximum. */
export const MAX_LATENCY_SAMPLES = 1000;
/** Rejections kept with their reasons. */
export const MAX_RECENT_REJECTIONS = 5;
/** The longest hash-rate window (15 min), ms. */
const LONGEST_WINDOW_MS = 900_000;

function ratesOf(meter: RateMeter): HashRates {
  return { s10: meter.rateOver(10_000), s60: meter.rateOver(60_000), m15: meter.rateOver(900_000) };
}

function latencyOf(samples: readonly number[]): ShareLatency {
  if (samples.length === 0) return { samples: 0, p50Ms: 0, maxMs: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: sorted[Math.floor((sorted.length - 1) / 2)]!,
    maxMs: sorted[sorted.length - 1]!,
  };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A multi-threaded vBlake miner for VeriBlock Stratum pools.
 *
 * @example Usage
 * ```ts ignore
 * import { Miner } from "./miner.ts";
 *
 * const miner = new Miner({
 *   pools: ["stratum+tcp://127.0.0.1:3333", "stratum+tcp://backup.example:3333"],
 *   user: "VAddress.rig1",
 *   threads: 2,
 *   onEvent: (e) => console.log(e.type),
 * });
 * await miner.start();
 * // ... later
 * const summary = await miner.stop();
 * console.log(summary.accepted, summary.hashrate);
 * ```
 */
export class Miner {
  #options: MinerOptions;
  #pools: PoolList;
  #threads: MiningThreads | undefined;
  #stop = new AbortController();
  #run: Promise<void> | undefined;
  #active: StratumSession | undefined;
  #activeIndex: number | undefined;
  #sessionIndex = new Map<StratumSession, number>();
  #standby = new Set<StratumSession>();
  #generations = new Map<number, GenerationRecord>();
  #currentGeneration = 0;
  #switch:
    | { generation: number; receivedAt: number; seen: Set<number>; latest: number }
    | undefined;
  #startedAt = Date.now();
  #stoppedAt: number | undefined;
  #stopping: Promise<void> | undefined;
  #sampler: ReturnType<typeof setInterval> | undefined;
  #meters: RateMeter[] = [];
  #total = new RateMeter();
  #counts = { accepted: 0, rejected: 0, stale: 0, lost: 0, blocks: 0, connections: 0 };
  #rejectReasons: Record<string, number> = {};
  #switchSamples: number[] = [];
  #latencies: number[] = [];
  #rejections: Rejection[] = [];
  #paused = false;
  #dropWarned = 0;

  /**
   * @param options Pools, credentials, threads, timeouts.
   * @throws {RangeError} When no pool is given or an option is out of range.
   * @throws {TypeError} When the user name is empty.
   */
  constructor(options: MinerOptions) {
    if (typeof options.user !== "string" || options.user.trim() === "") {
      throw new TypeError("Cannot create miner: user (ADDRESS[.WORKER]) is empty");
    }
    this.#options = options;
    this.#pools = new PoolList(options.pools, {
      minMs: options.backoffMinMs ?? 1000,
      maxMs: options.backoffMaxMs ?? 60000,
    });
  }

  /**
   * Start the threads and the connection loop. Resolves once the threads are running (the
   * first connection happens in the background; watch events or {@linkcode Miner.stats}).
   *
   * @throws {Error} When the threads cannot start.
   */
  async start(): Promise<void> {
    if (this.#threads !== undefined) throw new Error("Cannot start miner: already started");
    const o = this.#options;
    const count = o.threads ?? (o.gpu ? 0 : navigator.hardwareConcurrency || 1);
    this.#threads = await MiningThreads.start({
      threads: count,
      ...(o.gpu
        ? {
          gpu: {
            batch: o.gpuBatch ?? 0,
            onUnavailable: (reason: string) =>
              log.warning("No GPU mining ({reason}); mining on the CPU", { reason }),
            onFallback: (reason: string) =>
              log.error("The GPU failed ({reason}); its slot mines on a CPU thread now", {
                reason,
              }),
          },
        }
        : {}),
      kernel: o.kernel ?? "auto",
      sliceMs: o.sliceMs ?? 3,
      onShare: (share) => this.#onShare(share),
      onStarted: (index, generation, at) => this.#onStarted(index, generation, at),
      onError: (index, message) =>
        log.error("Mining thread {index} failed: {message}", { index, message }),
    });
    this.#threads.fallbacks.forEach((reason, i) => {
      if (reason !== undefined) {
        const kernel = this.#threads!.kernels[i];
        log.warning("Thread {i} uses the {kernel} kernel: {reason}", { i, kernel, reason });
      }
    });
    const adapter = this.#threads.gpuAdapter;
    if (adapter !== undefined) log.info("Mining on the GPU: {adapter}", { adapter });
    this.#startedAt = Date.now();
    const window = o.rateWindowMs ?? 30000;
    const keepMs = Math.max(window, LONGEST_WINDOW_MS);
    this.#meters = Array.from(
      { length: this.#threads.count },
      () => new RateMeter({ windowMs: window, keepMs }),
    );
    this.#total = new RateMeter({ windowMs: window, keepMs });
    this.#sample();
    this.#sampler = setInterval(() => this.#sample(), 1000);
    this.#run = this.#loop().catch((err) => {
      log.fatal("Miner loop failed: {error}", { error: String(err?.stack ?? err) });
    });
  }

  /**
   * Stop mining: stop the threads, wait up to a second for the verdicts on shares in flight,
   * close the connection. Safe to call more than once.
   *
   * @returns The final statistics.
   */
  async stop(): Promise<MinerStats> {
    this.#stopping ??= this.#shutdown();
    await this.#stopping;
    return this.stats();
  }

  async #shutdown(): Promise<void> {
    if (this.#stoppedAt === undefined) {
      // No new shares; the ones in flight get a moment to receive their verdicts.
      this.#threads?.pause();
      await this.#settleSubmits(1000);
      this.#stop.abort();
      this.#active?.close("miner stopped");
      for (const s of this.#standby) s.close("miner stopped");
      await this.#run;
      this.#sample();
      clearInterval(this.#sampler);
      await this.#threads?.terminate();
      this.#stoppedAt = Date.now();
    }
  }

  async #settleSubmits(limitMs: number): Promise<void> {
    const end = Date.now() + limitMs;
    while ((this.#active?.pendingSubmits ?? 0) > 0 && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * A statistics snapshot.
   *
   * @returns Current counts, rates and connection state.
   */
  stats(): MinerStats {
    const hashes = this.#threads?.hashes() ?? [];
    const active = this.#active;
    const job = active?.job;
    return {
      startedAt: this.#startedAt,
      uptimeMs: (this.#stoppedAt ?? Date.now()) - this.#startedAt,
      kernels: this.#threads?.kernels ?? [],
      pool: active?.url,
      poolIndex: this.#activeIndex,
      difficulty: active ? active.difficulty ?? this.#defaultDifficulty() : undefined,
      job: job ? { id: job.jobId, height: job.height } : undefined,
      hashrate: this.#total.rate(),
      threadHashrates: this.#meters.map((m) => m.rate()),
      rates: ratesOf(this.#total),
      threadRates: this.#meters.map(ratesOf),
      ...(this.#threads?.gpuAdapter === undefined ? {} : { gpuAdapter: this.#threads.gpuAdapter }),
      paused: this.#paused,
      latency: latencyOf(this.#latencies),
      lastRejections: this.#rejections.map((r) => ({ ...r })),
      hashes: hashes.reduce((a, b) => a + b, 0),
      ...this.#counts,
      rejectReasons: { ...this.#rejectReasons },
      jobSwitchMs: [...this.#switchSamples],
    };
  }

  /**
   * Pause mining: the threads stop within one slice and stay idle (the pool connection and
   * its jobs are kept) until {@linkcode Miner.resume}. Shares already found are still
   * submitted.
   *
   * @returns Whether the miner was running (false when already paused or not started).
   */
  pause(): boolean {
    if (this.#paused || this.#threads === undefined || this.#stopping) return false;
    this.#paused = true;
    this.#threads.pause();
    this.#switch = undefined;
    log.info("Mining paused");
    return true;
  }

  /**
   * Resume after {@linkcode Miner.pause}: the threads take the current job again.
   *
   * @returns Whether the miner was paused.
   */
  resume(): boolean {
    if (!this.#paused || this.#stopping) return false;
    this.#paused = false;
    log.info("Mining resumed");
    const session = this.#active;
    if (session?.job !== undefined) this.#dispatch(session, session.job);
    return true;
  }

  #defaultDifficulty(): bigint {
    return this.#options.defaultDifficulty ?? DEFAULT_SHARE_DIFFICULTY;
  }

  #emit(event: MinerEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch (err) {
      log.error("Miner event handler failed: {error}", { error: String(err) });
    }
  }

  #sample(): void {
    if (this.#threads === undefined) return;
    const now = performance.now();
    const hashes = this.#threads.hashes();
    let total = 0;
    hashes.forEach((h, i) => {
      this.#meters[i]?.sample(now, h);
      total += h;
    });
    this.#total.sample(now, total);
  }

  // ---- connections ----

  #newSession(index: number): StratumSession {
    const o = this.#options;
    const session: StratumSession = new StratumSession({
      url: this.#pools.entries[index]!.url,
      user: o.user,
      password: o.password ?? "",
      connectTimeoutMs: o.connectTimeoutMs ?? 10000,
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? 10000,
      submitTimeoutMs: o.submitTimeoutMs ?? 30000,
      firstJobTimeoutMs: o.firstJobTimeoutMs ?? 30000,
      jobTimeoutMs: o.jobTimeoutMs ?? 180000,
      agent: o.agent ?? "vbkpool",
      onJob: (job, at) => {
        if (session === this.#active) this.#onJob(session, job, at);
      },
      onDifficulty: (difficulty) => {
        if (session === this.#active) this.#onDifficulty(session, difficulty);
      },
    });
    this.#sessionIndex.set(session, index);
    void session.closed.then(() => this.#sessionIndex.delete(session));
    return session;
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const first = await this.#connectFirst(signal);
      if (first === undefined) break;
      let current = first.session;
      let index = first.index;
      for (;;) {
        this.#activate(current, index);
        const failback = new AbortController();
        const promoted = this.#watchFailback(index, failback.signal);
        const winner = await Promise.race([
          current.closed.then(() => undefined),
          promoted,
          new Promise<undefined>((resolve) => {
            if (signal.aborted) resolve(undefined);
            signal.addEventListener("abort", () => resolve(undefined), { once: true });
          }),
        ]);
        failback.abort();
        if (winner === undefined) {
          // A probe that completed in the same instant is not needed any more.
          void promoted.then((late) => late?.session.close("fail-back not needed"));
          break;
        }
        log.info("Preferred pool {pool} works again: failing back", { pool: winner.session.url });
        current.close("failing back to a preferred pool");
        this.#deactivate(current, "failing back to a preferred pool");
        current = winner.session;
        index = winner.index;
      }
      this.#deactivate(current, current.closeReason || "miner stopped");
      if (signal.aborted) break;
      const delayMs = this.#pools.failed(index, Date.now());
      const asked = current.reconnectDelayMs;
      if (asked !== undefined) {
        this.#pools.entries[index]!.nextAttemptAt = Date.now() + asked;
      } else {
        log.info("Pool {pool} may be retried in {delay} ms", {
          pool: current.url,
          delay: Math.round(delayMs),
        });
      }
    }
  }

  async #connectFirst(
    signal: AbortSignal,
  ): Promise<{ session: StratumSession; index: number } | undefined> {
    while (!signal.aborted) {
      const pick = this.#pools.pick(Date.now());
      if ("waitMs" in pick) {
        await delay(pick.waitMs, signal);
        continue;
      }
      const session = this.#newSession(pick.index);
      const abort = () => session.close("miner stopped");
      signal.addEventListener("abort", abort, { once: true });
      try {
        await session.open();
        return { session, index: pick.index };
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const retryInMs = Math.round(this.#pools.failed(pick.index, Date.now()));
        if (!signal.aborted) {
          log.warning("{reason}; retrying that pool in {retry} ms", { reason, retry: retryInMs });
          this.#emit({ type: "connect_failed", pool: session.url, reason, retryInMs });
        }
      } finally {
        signal.removeEventListener("abort", abort);
      }
    }
    return undefined;
  }

  /** While on a fallback pool, probe preferred pools; resolves with a ready session. */
  async #watchFailback(
    active: number,
    signal: AbortSignal,
  ): Promise<{ session: StratumSession; index: number } | undefined> {
    if (active === 0) return await new Promise<undefined>(() => {});
    const every = this.#options.failbackMs ?? 60000;
    while (!signal.aborted) {
      await delay(every, signal);
      if (signal.aborted) return undefined;
      const index = this.#pools.preferredDue(active, Date.now());
      if (index === undefined) continue;
      const session = this.#newSession(index);
      this.#standby.add(session);
      const abort = () => session.close("fail-back probe cancelled");
      signal.addEventListener("abort", abort, { once: true });
      try {
        await session.open({ requireJob: true });
        if (signal.aborted) {
          session.close("fail-back probe cancelled");
          return undefined;
        }
        return { session, index };
      } catch (err) {
        this.#pools.failed(index, Date.now());
        log.debug("Preferred pool still unusable: {error}", { error: String(err) });
      } finally {
        signal.removeEventListener("abort", abort);
        this.#standby.delete(session);
      }
    }
    return undefined;
  }

  #activate(session: StratumSession, index: number): void {
    this.#active = session;
    this.#activeIndex = index;
    this.#counts.connections++;
    const extranonce = session.extranonce ?? 0n;
    log.info("Mining on {pool} (extranonce {extranonce})", {
      pool: session.url,
      extranonce: extranonce.toString(16).padStart(16, "0"),
    });
    this.#emit({ type: "connected", pool: session.url, index, extranonce });
    if (session.difficulty !== undefined) this.#onDifficulty(session, session.difficulty);
    if (session.job !== undefined) this.#onJob(session, session.job, session.jobReceivedAt);
  }

  #deactivate(session: StratumSession, reason: string): void {
    if (this.#active !== session) return;
    this.#active = undefined;
    this.#activeIndex = undefined;
    this.#threads?.pause();
    this.#switch = undefined;
    for (const record of this.#generations.values()) record.cleaned = true;
    if (!this.#stop.signal.aborted) {
      log.warning("Left pool {pool}: {reason}", { pool: session.url, reason });
    }
    this.#emit({ type: "disconnected", pool: session.url, reason });
  }

  // ---- work ----

  #onJob(session: StratumSession, job: NotifyJob, receivedAt: number): void {
    const index = this.#sessionIndex.get(session);
    if (index !== undefined) this.#pools.succeeded(index);
    log.debug("Job {jobId} at height {height} from {pool}", {
      jobId: job.jobId,
      height: job.height,
      pool: session.url,
    });
    this.#emit({
      type: "job",
      pool: session.url,
      jobId: job.jobId,
      height: job.height,
      clean: job.cleanJobs,
    });
    if (this.#paused && job.cleanJobs) {
      for (const record of this.#generations.values()) record.cleaned = true;
    }
    const generation = this.#dispatch(session, job);
    if (generation === undefined) return;
    if (job.cleanJobs) {
      // Shares found on older jobs are stale now; they are counted, not submitted.
      for (const [g, record] of this.#generations) if (g !== generation) record.cleaned = true;
    }
    this.#switch = { generation, receivedAt, seen: new Set(), latest: receivedAt };
  }

  #onDifficulty(session: StratumSession, difficulty: bigint): void {
    log.info("Share difficulty {difficulty} from {pool}", {
      difficulty: difficulty.toString(),
      pool: session.url,
    });
    this.#emit({ type: "difficulty", pool: session.url, difficulty });
    // Applies at once, to the current job too (as the original server and miner do).
    if (session.job === undefined) return;
    const generation = this.#dispatch(session, session.job);
    // A job switch still under way completes when the threads run the job's new generation
    // (they may never start the one it replaced).
    const sw = this.#switch;
    if (generation !== undefined && sw !== undefined) {
      this.#switch = { ...sw, generation, seen: new Set() };
    }
  }

  #dispatch(session: StratumSession, job: NotifyJob): number | undefined {
    const threads = this.#threads;
    if (threads === undefined || session.extranonce === undefined) return undefined;
    // While paused, jobs are remembered by the session and dispatched on resume.
    if (this.#paused) return undefined;
    const difficulty = session.difficulty ?? this.#defaultDifficulty();
    const target = scanTarget(difficulty, job.bits);
    let works: ThreadWork[];
    try {
      works = Array.from({ length: threads.count }, (_, thread) =>
        buildThreadWork(job, {
          generation: 0,
          sessionId: session.id,
          extranonce: session.extranonce!,
          thread,
          threads: threads.count,
          split: this.#options.split ?? "extranonce",
          target,
        }));
    } catch (err) {
      log.warning("Ignoring job {jobId} from {pool}: {error}", {
        jobId: job.jobId,
        pool: session.url,
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
    const generation = threads.setWork((thread, generation) => {
      const work = works[thread]!;
      work.generation = generation;
      return work;
    });
    this.#currentGeneration = generation;
    this.#generations.set(generation, {
      session,
      job,
      works,
      shareTarget: difficultyToTarget(difficulty),
      blockTarget: blockTarget(job.bits),
      scanTarget: target,
      cleaned: false,
    });
    while (this.#generations.size > MAX_GENERATIONS) {
      this.#generations.delete(this.#generations.keys().next().value!);
    }
    return generation;
  }

  #onStarted(index: number, generation: number, at: number): void {
    const sw = this.#switch;
    if (sw === undefined || sw.generation !== generation) return;
    sw.seen.add(index);
    sw.latest = Math.max(sw.latest, at);
    if (sw.seen.size === (this.#threads?.count ?? 0)) {
      this.#switchSamples.push(sw.latest - sw.receivedAt);
      if (this.#switchSamples.length > MAX_SWITCH_SAMPLES) this.#switchSamples.shift();
      this.#switch = undefined;
    }
  }

  // ---- shares ----

  #onShare(found: FoundShare): void {
    const record = this.#generations.get(found.generation);
    const session = this.#active;
    if (record === undefined || session === undefined || record.session !== session) {
      this.#counts.stale++;
      return;
    }
    if (record.cleaned) {
      this.#counts.stale++;
      return;
    }
    const work = record.works[found.index];
    if (work === undefined) return;
    const header = shareHeader(work.header, found.ntime, found.nonce);
    const hash = vblake(header);
    const value = hashToBigInt(hash);
    if (!sameBytes(hash, found.hash) || value >= record.scanTarget) {
      log.error("Thread {index} reported a share that does not verify (kernel fault)", {
        index: found.index,
      });
      this.#reject("share did not verify locally");
      return;
    }
    const hex = hashHex(hash);
    const pool = session.url;
    if (value < record.blockTarget) {
      this.#counts.blocks++;
      log.info("Block found! hash {hash} at height {height} (job {jobId}, pool {pool})", {
        hash: hex.toLowerCase(),
        height: record.job.height,
        jobId: found.jobId,
        pool,
      });
      this.#emit({ type: "block", pool, jobId: found.jobId, height: record.job.height, hash: hex });
    }
    const limit = this.#options.maxPendingSubmits ?? 256;
    if (session.pendingSubmits >= limit) {
      this.#counts.lost++;
      if (Date.now() - this.#dropWarned > 10000) {
        this.#dropWarned = Date.now();
        log.warning("Dropping shares: {limit} submits await a verdict from {pool}", {
          limit,
          pool,
        });
      }
      const outcome = { status: "dropped" as const, reason: "too many submits in flight" };
      this.#emit({ type: "share", pool, jobId: found.jobId, hash: hex, outcome });
      return;
    }
    const sentAt = performance.now();
    void session.submit(found).then((outcome) => {
      if (outcome.status !== "lost") this.#latency(performance.now() - sentAt);
      switch (outcome.status) {
        case "accepted":
          this.#counts.accepted++;
          log.debug("Share accepted: {hash}", { hash: hex.toLowerCase() });
          break;
        case "stale":
          this.#counts.stale++;
          log.info("Share stale: {reason}", { reason: outcome.reason });
          break;
        case "rejected":
          this.#reject(outcome.reason);
          log.warning("Share rejected by {pool}: {reason} ({code})", {
            pool,
            reason: outcome.reason,
            code: outcome.code,
          });
          break;
        case "lost":
          this.#counts.lost++;
          break;
      }
      this.#emit({ type: "share", pool, jobId: found.jobId, hash: hex, outcome });
    });
  }

  #reject(reason: string): void {
    this.#counts.rejected++;
    this.#rejectReasons[reason] = (this.#rejectReasons[reason] ?? 0) + 1;
    this.#rejections.push({ reason, at: Date.now() });
    if (this.#rejections.length > MAX_RECENT_REJECTIONS) this.#rejections.shift();
  }

  #latency(ms: number): void {
    this.#latencies.push(ms);
    if (this.#latencies.length > MAX_LATENCY_SAMPLES) this.#latencies.shift();
  }
}
