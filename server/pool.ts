/**
 * The pool: wires templates → jobs → every session's `mining.notify`, sessions' block
 * candidates → the upstream's `submitBlock`, and owns the shared parts (extranonce allocator,
 * ban list, recorder, event bus, vardiff timer). It does not open the upstream connection
 * itself: the caller feeds it templates ({@linkcode Pool.addTemplate}, {@linkcode Pool.reset})
 * and gives it a {@linkcode BlockSubmitter}, so `cli/` chooses NodeCore or the devnet.
 *
 * No work: while the jobs are gone (the upstream lost or reset), miners keep their connection
 * for `noWorkGraceMs`, then Stratum miners are sent `client.reconnect` and every miner is
 * closed, so that it fails over; a new miner is refused once the pool has been without work for
 * `noWorkWaitMs`, and one that subscribed before that but never got a job is closed then (see
 * `session_limits.ts`). Each stage is logged once per outage, and its end.
 *
 * Offences: a connection that offends (too many invalid shares, protocol errors, floods or
 * failed logins) is closed after the answers already due and counted against its IP; several
 * such connections ban the IP (see `bans.ts`), which closes its connections. Each ban is logged
 * once, with the refusals it caused when it ends; {@linkcode Pool.listBans} and
 * {@linkcode Pool.unban} are the operator's handles.
 *
 * Workers: with other pool processes on the same ports (`[process] workers`, see
 * `pool_peers.ts`), offences counted and bans made or lifted here are told to them, theirs are
 * taken here ({@linkcode Pool.adoptOffence}, {@linkcode Pool.adoptBan}, {@linkcode Pool.liftBan}),
 * and their connections from an IP count against the per-IP cap of each port.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { alertEvents, EpisodeLog } from "../log/mod.ts";
import { createBestKernel, type VblakeKernel } from "../hash/kernel.ts";
import type { BlockSubmission, BlockSubmitResult, Template } from "./upstream.ts";
import type { BlockLedger } from "./block_recorder.ts";
import { type BanInfo, BanList, type BanListOptions, type BanSource } from "./bans.ts";
import { PoolEvents } from "./events.ts";
import { ExtranonceAllocator, type ExtranonceAllocatorOptions } from "./extranonce.ts";
import { checkTemplate, type Job, JobManager } from "./jobs.ts";
import type { PeerOffence, PoolPeers } from "./pool_peers.ts";
import type { BanRecord } from "./ban_ledger.ts";
import type { Offence } from "./session_context.ts";
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from "./session_limits.ts";
import { RecordBacklog } from "./record_backlog.ts";
import { type AcceptedShare, MemoryShareRecorder, type ShareRecorder } from "./share_recorder.ts";
import type { PortDifficulty, StratumPortOptions } from "./stratum_port.ts";
import { type ConnectionLimits, StratumServer } from "./stratum_server.ts";
import { UcpPort, type UcpPortListenOptions } from "./ucp_port.ts";
import { MemoryWorkerDifficulty, type WorkerDifficultyStore } from "./worker_difficulty.ts";
import { NoWorkWatch } from "./_no_work.ts";
import { Penalties } from "./_penalties.ts";
import { UpdatePacer } from "./_update_pacer.ts";

const log = getLogger(["vbkpool", "server", "pool"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** How often the pool looks at ended bans, ms. */
const BAN_SWEEP_MS = 1000;

/** Where block candidates go (the upstream NodeCore client). */
export interface BlockSubmitter {
  /**
   * Submit a block; never rejects (a failure resolves `{ accepted: false, reason }`).
   *
   * @param submission The job and the header fields the miner chose.
   * @returns NodeCore's answer.
   */
  submitBlock(submission: BlockSubmission): Promise<BlockSubmitResult>;
}

/** The pool's UCP ports for legacy GPU miners (see `ucp_port.ts`). */
export interface PoolUcpOptions {
  /** UCP ports to listen on. */
  ports: UcpPortListenOptions["port"][];
  /** Byte-level connection limits of every UCP port. */
  connections?: ConnectionLimits;
  /** Session limits of every UCP port; missing keys take the defaults. */
  limits?: UcpPortListenOptions["limits"];
}

/** Options for {@linkcode Pool.start}. */
export interface PoolOptions {
  /** Stratum ports to listen on. */
  ports: StratumPortOptions[];
  /** Where block candidates go. */
  upstream: BlockSubmitter;
  /** Byte-level connection limits (every port). */
  connections?: ConnectionLimits;
  /** Session limits (every port); missing keys take the defaults. */
  limits?: Partial<SessionLimits>;
  /** Extranonce allocation (instance id, range size, persistence hooks). */
  extranonce?: ExtranonceAllocatorOptions;
  /** Penalties and IP bans (see `bans.ts`). */
  bans?: BanListOptions;
  /** Where accepted shares become durable. @default a MemoryShareRecorder */
  recorder?: ShareRecorder;
  /** Remembered worker difficulties. @default a MemoryWorkerDifficulty */
  difficulties?: WorkerDifficultyStore;
  /** Event bus to report on. @default a new one */
  events?: PoolEvents;
  /** vBlake kernel for share checks. @default createBestKernel() */
  kernel?: VblakeKernel;
  /** Clock, ms since epoch. @default Date.now */
  now?: () => number;
  /** Vardiff timer period in ms (0 = off). @default 5000 */
  vardiffTickMs?: number;
  /** Live jobs kept per block. @default 64 */
  maxJobs?: number;
  /** UCP ports for legacy GPU miners. @default none */
  ucp?: PoolUcpOptions;
  /** Where block candidates are kept before they are submitted (see `block_recorder.ts`).
   * @default none (candidates are only logged and reported as events) */
  blocks?: BlockLedger;
  /**
   * Longest wait for a candidate's write before it is submitted anyway, ms: a slow or failing
   * store must not hold a block back (the payout service's chain scan finds a block whose
   * candidate was never written). @default 500
   */
  candidateWaitMs?: number;
  /**
   * Accepted shares waiting for their record at which every connection stops reading until
   * half of them are recorded (see `record_backlog.ts`); 0 never pauses. @default 10000
   */
  pauseReadsAt?: number;
  /** The other pool processes on the same ports (workers). @default none */
  peers?: PoolPeers;
  /**
   * Where the bans this pool makes and the operator's lifts are kept, for the other processes on
   * the same store and for the next start (see `ban_ledger.ts`). @default none
   */
  banRecord?: BanRecord;
  /**
   * Least time between two mempool updates (jobs of the block already being mined) sent to the
   * miners, ms; one that comes sooner is held, replaced by any newer one, and sent when the time
   * is up (see `_update_pacer.ts`). New blocks are never held. @default 0 (each at once)
   */
  updateIntervalMs?: number;
}

/** What a configuration reload changes in a running pool (see {@linkcode Pool.configure}). */
export interface PoolLiveSettings {
  /** Difficulty and vardiff of each Stratum port, in `ports` order (addresses stay as bound). */
  ports?: PortDifficulty[];
  /** Connection caps of every Stratum port. */
  connections?: ConnectionLimits;
  /** Connection caps of every UCP port. */
  ucpConnections?: ConnectionLimits;
  /** Session limits; missing keys take the defaults. */
  limits?: Partial<SessionLimits>;
  /** Penalties and bans. */
  bans?: BanListOptions;
  /** See {@linkcode PoolOptions.pauseReadsAt}. */
  pauseReadsAt?: number;
  /** See {@linkcode PoolOptions.updateIntervalMs}. */
  updateIntervalMs?: number;
}

/** One connection as the operator sees it ({@linkcode Pool.connections}). */
export interface ConnectionInfo {
  /** Connection id (unique in the process). */
  id: number;
  /** `stratum` or `ucp`. */
  protocol: "stratum" | "ucp";
  /** The local port it came to. */
  port: number;
  /** The miner's address. */
  ip: string;
  /** Authorized workers. */
  workers: string[];
  /** Current share difficulty (decimal). */
  difficulty: string;
  /** Accepted and rejected submits. */
  accepted: number;
  /** Rejected submits. */
  rejected: number;
  /** Submits waiting for their record. */
  pending: number;
}

/** Options for {@linkcode Pool.handOver}. */
export interface PoolHandOverOptions {
  /** Time over which the miners are asked to reconnect, ms. */
  windowMs: number;
  /** Longest wait for in-flight work after the window, ms. @default 10000 */
  graceMs?: number;
  /**
   * Awaited once this pool stopped accepting, before it asks the first miner to reconnect
   * (`[process] workers`: until every worker of the supervisor stopped accepting, so that no
   * miner reconnects to one that is about to hand it over again). Its signal aborts on a stop.
   * @default none
   */
  beforeAsking?: (signal: AbortSignal) => Promise<unknown>;
}

/** Options for {@linkcode Pool.stop}. */
export interface PoolStopOptions {
  /** Longest wait for in-flight share records and block submissions, ms. @default 10000 */
  graceMs?: number;
}

/** A running pool. */
export class Pool {
  /** Event bus. */
  readonly events: PoolEvents;
  /** Live jobs. */
  readonly jobs: JobManager;
  /** The share recorder in use. */
  readonly recorder: ShareRecorder;
  /** The records in flight, and the gate that pauses reads while there are too many. */
  readonly backlog: RecordBacklog;
  /** The ban list. */
  readonly bans: BanList;
  /** The Stratum ports, in configuration order. */
  readonly servers: StratumServer[] = [];
  /** The UCP ports, in configuration order. */
  readonly ucpServers: UcpPort[] = [];
  #extranonces: ExtranonceAllocator;
  #upstream: BlockSubmitter;
  #blocks: BlockLedger | undefined;
  #candidateWaitMs: number;
  #now: () => number;
  #inflight = new Set<Promise<unknown>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #banSweep: ReturnType<typeof setInterval> | undefined;
  #workSweep: ReturnType<typeof setInterval> | undefined;
  #penalties: Penalties;
  #noWork: NoWorkWatch | undefined;
  #limits: SessionLimits = { ...DEFAULT_SESSION_LIMITS };
  #stopped = false;
  #stopping: Promise<void> | undefined;
  /** Aborts a hand-over's spreading when a stop comes during it. */
  #handingOver = new AbortController();
  /** Holds mempool updates that come sooner than `updateIntervalMs` (real time, as its timer). */
  #pacer: UpdatePacer<Template>;

  private constructor(options: PoolOptions) {
    this.#now = options.now ?? Date.now;
    this.events = options.events ?? new PoolEvents();
    this.jobs = new JobManager({ maxJobs: options.maxJobs, now: this.#now });
    this.recorder = options.recorder ?? new MemoryShareRecorder();
    this.backlog = new RecordBacklog({ recorder: this.recorder, pauseAt: options.pauseReadsAt });
    this.bans = new BanList(options.bans);
    this.#extranonces = new ExtranonceAllocator(options.extranonce);
    this.#upstream = options.upstream;
    this.#blocks = options.blocks;
    this.#candidateWaitMs = options.candidateWaitMs ?? 500;
    this.#pacer = new UpdatePacer({
      intervalMs: options.updateIntervalMs ?? 0,
      send: (template) => this.#release(template),
    });
    this.#penalties = new Penalties({
      bans: this.bans,
      events: this.events,
      ports: () => this.#ports(),
      peers: options.peers,
      record: options.banRecord,
    });
  }

  /**
   * Create the pool and listen on every port.
   *
   * @param options Ports, upstream and the shared parts.
   * @returns The running pool.
   * @throws {Error} When a port cannot be bound (the ports already bound are closed).
   */
  static start(options: PoolOptions): Pool {
    const pool = new Pool(options);
    const kernel = options.kernel ?? createBestKernel();
    // One object every session reads: a reload changes it in place (see configure).
    const limits = Object.assign(pool.#limits, options.limits);
    const noWork = pool.#noWork = new NoWorkWatch({
      jobs: pool.jobs,
      waitMs: limits.noWorkWaitMs,
      graceMs: limits.noWorkGraceMs,
      ports: () => pool.#ports(),
    });
    const context = {
      limits,
      jobs: pool.jobs,
      extranonces: pool.#extranonces,
      recorder: pool.backlog,
      readGate: pool.backlog.gate,
      difficulties: options.difficulties ?? new MemoryWorkerDifficulty(),
      events: pool.events,
      bans: pool.bans,
      ...(options.peers === undefined ? {} : { peers: options.peers }),
      hash: (header: Uint8Array) => kernel.hash(header),
      now: pool.#now,
      onBlock: (share: AcceptedShare, job: Job) => pool.#submitBlock(share, job),
      onOffence: (offence: Offence) => pool.#penalties.offence(offence, pool.#now()),
      refusesNewMiners: () => noWork.refusesNewMiners,
      track: (work: Promise<unknown>) => pool.#track(work),
    };
    try {
      for (const port of options.ports) {
        pool.servers.push(
          StratumServer.listen({ port, connections: options.connections, context }),
        );
      }
      for (const port of options.ucp?.ports ?? []) {
        const { connections, limits } = options.ucp!;
        pool.ucpServers.push(UcpPort.listen({ port, connections, limits, context }));
      }
    } catch (err) {
      for (const server of pool.servers) void server.close();
      for (const server of pool.ucpServers) void server.close();
      throw err;
    }
    const tickMs = options.vardiffTickMs ?? 5000;
    if (tickMs > 0) {
      pool.#timer = setInterval(() => {
        const now = pool.#now();
        for (const server of pool.servers) server.tick(now);
      }, tickMs);
    }
    pool.#banSweep = setInterval(() => pool.#penalties.expire(pool.#now()), BAN_SWEEP_MS);
    pool.#workSweep = setInterval(() => noWork.check(pool.#now()), noWork.checkEveryMs);
    return pool;
  }

  /** Connected sessions on every port. */
  get sessionCount(): number {
    let n = 0;
    for (const server of this.servers) n += server.sessions.size;
    for (const server of this.ucpServers) n += server.sessions.size;
    return n;
  }

  /** Mempool updates never sent to the miners (merged into a newer one, or dropped). */
  get mergedUpdates(): number {
    return this.#pacer.merged;
  }

  /** Share records and block submissions not yet settled. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /**
   * Turn a template into a job and send it to every subscribed miner; a mempool update that
   * comes sooner than `updateIntervalMs` after the previous job is held instead (sent when the
   * time is up, unless a newer template replaces it; a reset or a stop drops it).
   *
   * @param template The template.
   * @returns The job, or undefined when the template is unusable (logged) or held.
   */
  addTemplate(template: Template): Job | undefined {
    if (this.#stopped) return undefined;
    // Checked before it may be held: an unusable one must not replace a held good one, nor
    // pass for a new block and drop it.
    try {
      checkTemplate(template);
    } catch (err) {
      this.#unusable(template, err);
      return undefined;
    }
    if (!this.#pacer.offer(template, this.jobs.continuesRound(template))) return undefined;
    return this.#addNow(template);
  }

  /** A held update's time came: sent from a timer, so nothing may escape it. */
  #release(template: Template): void {
    try {
      this.#addNow(template);
    } catch (err) {
      episodes.error("held-update", "sending a held mempool update failed: {error}", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  #unusable(template: Template, err: unknown): void {
    episodes.error("template", "ignoring an unusable template from {endpoint}: {error}", {
      endpoint: template?.endpoint,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  /** Make the job and send it (a stopped pool never gets here: its pacer is cancelled). */
  #addNow(template: Template): Job | undefined {
    let job: Job;
    try {
      job = this.jobs.add(template);
    } catch (err) {
      this.#unusable(template, err);
      return undefined;
    }
    this.#noWork?.workBack(job);
    let sessions = 0;
    for (const server of this.servers) sessions += server.broadcast(job);
    for (const server of this.ucpServers) sessions += server.broadcast(job);
    const at = this.#now();
    episodes.debug("job", "job {id} height {height} clean {clean} sent to {sessions}", {
      id: job.id,
      height: job.template.height,
      clean: job.notify.cleanJobs,
      sessions,
    });
    if (this.events.active) {
      this.events.emit({
        type: "job_broadcast",
        at,
        jobId: job.id,
        height: job.template.height,
        cleanJobs: job.notify.cleanJobs,
        sessions,
        latencyMs: Math.max(0, at - template.receivedAt),
      });
    }
    return job;
  }

  /**
   * The IP bans in force.
   *
   * @returns Each ban with its reason, the offending connections behind it and the connections
   *   it refused so far.
   */
  listBans(): BanInfo[] {
    return this.bans.list(this.#now());
  }

  /**
   * The ban in force on one IP.
   *
   * @param ip The address.
   * @returns The ban, or undefined when the IP is not banned.
   */
  findBan(ip: string): BanInfo | undefined {
    return this.bans.find(ip, this.#now());
  }

  /**
   * Lift an IP ban (logged once, with the connections it refused).
   *
   * @param ip The address.
   * @returns Whether a ban was lifted.
   */
  unban(ip: string): boolean {
    return this.#penalties.unban(ip, this.#now());
  }

  /**
   * Count an offending connection that another pool process closed (relayed by the supervisor)
   * as if it had been closed here; at the `offences`-th within the window the IP is banned here
   * as for this process's own offences. Not told back to the others.
   *
   * @param offence The IP, what its connection did, and when.
   * @returns Whether it banned the IP.
   */
  adoptOffence(offence: PeerOffence): boolean {
    return this.#penalties.adoptOffence(offence, this.#now());
  }

  /**
   * Take a ban another pool process made (relayed by the supervisor, or read from the shared
   * store): the IP's connections are closed on every port and new ones refused until it ends.
   *
   * @param ban The ban.
   * @param source Where it was decided (for the log). @default "worker"
   * @returns Whether it changed anything here (false when already as banned, ended or exempt).
   */
  adoptBan(ban: Omit<BanInfo, "refused">, source: BanSource = "worker"): boolean {
    return this.#penalties.adopt(ban, this.#now(), source);
  }

  /**
   * Lift a ban because another pool process lifted it (not told back to the others).
   *
   * @param ip The address.
   * @param source Where it was lifted (for the log). @default "worker"
   * @returns Whether a ban was lifted here.
   */
  liftBan(ip: string, source: BanSource = "worker"): boolean {
    return this.#penalties.lift(ip, source, this.#now());
  }

  /**
   * Apply changed settings to the running pool (a configuration reload). Each part applies at
   * once: session limits to the next request and deadline (rates to new connections), bans to
   * the next offence, connection caps to the next accept, difficulty bounds to every connection
   * (see `StratumServer.configure`).
   *
   * @param settings The parts that changed.
   */
  configure(settings: PoolLiveSettings): void {
    if (settings.limits !== undefined) {
      Object.assign(this.#limits, DEFAULT_SESSION_LIMITS, settings.limits);
    }
    if (settings.bans !== undefined) this.bans.configure(settings.bans);
    if (settings.pauseReadsAt !== undefined) this.backlog.setPauseAt(settings.pauseReadsAt);
    if (settings.updateIntervalMs !== undefined) this.#pacer.setInterval(settings.updateIntervalMs);
    if (settings.connections !== undefined) {
      for (const server of this.servers) server.setLimits(settings.connections);
    }
    if (settings.ucpConnections !== undefined) {
      for (const server of this.ucpServers) server.setLimits(settings.ucpConnections);
    }
    for (const [i, port] of (settings.ports ?? []).entries()) this.servers[i]?.configure(port);
  }

  /**
   * Ban an IP by the operator's decision (its connections are closed on every port).
   *
   * @param ip The address.
   * @param options Ban length in seconds (default the configured one).
   * @returns The ban, or undefined for an exempt address.
   */
  ban(ip: string, options: { seconds?: number } = {}): BanInfo | undefined {
    return this.#penalties.ban(ip, { now: this.#now(), ...options });
  }

  /**
   * Every open connection.
   *
   * @returns One entry per connection, Stratum ports first.
   */
  connections(): ConnectionInfo[] {
    const out: ConnectionInfo[] = [];
    for (const server of this.servers) {
      for (const session of server.sessions.values()) {
        out.push({
          id: session.link.id,
          protocol: "stratum",
          port: server.port.port,
          ip: session.link.remoteIp,
          workers: session.workers,
          difficulty: session.difficulty.toString(),
          ...session.counts,
          pending: session.pendingSubmits,
        });
      }
    }
    for (const server of this.ucpServers) {
      for (const session of server.sessions.values()) {
        out.push({
          id: session.link.id,
          protocol: "ucp",
          port: server.port.port,
          ip: session.link.remoteIp,
          workers: session.worker === undefined ? [] : [session.worker],
          difficulty: session.difficulty.toString(),
          ...session.counts,
          pending: session.pendingSubmits,
        });
      }
    }
    return out;
  }

  /**
   * Close one connection (after the answers already due).
   *
   * @param id The connection id.
   * @param reason Close reason.
   * @returns Whether such a connection was open.
   */
  dropConnection(id: number, reason = "dropped by the operator"): boolean {
    return this.#ports().some((port) => port.closeConnection(id, reason));
  }

  /**
   * Set the share difficulty of every Stratum connection of a worker (`address.worker`, or an
   * address for all its workers), as if the miner had asked for it; vardiff goes on from it.
   *
   * @param worker The worker or address.
   * @param difficulty The difficulty.
   * @returns The connections changed.
   */
  setWorkerDifficulty(worker: string, difficulty: bigint): number {
    let n = 0;
    for (const server of this.servers) {
      for (const session of server.sessions.values()) {
        const match = session.workers.some((w) => w === worker || w.split(".")[0] === worker);
        if (!match) continue;
        session.setDifficulty(difficulty);
        n++;
      }
    }
    return n;
  }

  /**
   * Hand the miners over to another pool process on the same ports (a zero-downtime upgrade):
   * stop accepting, ask every Stratum miner to reconnect (`client.reconnect`) spread over the
   * window, each only once its pending shares are answered, then stop as {@linkcode Pool.stop}
   * does (UCP miners, which have no reconnect request, are closed then and reconnect).
   *
   * @param options The window and the grace period.
   */
  async handOver(options: PoolHandOverOptions): Promise<void> {
    if (this.#stopping !== undefined) return await this.#stopping;
    for (const server of this.#ports()) server.stopAccepting();
    const signal = this.#handingOver.signal;
    // Its failure must not keep the miners here: they are asked all the same.
    await options.beforeAsking?.(signal).catch(() => {});
    await Promise.all(this.servers.map((server) => server.handOver(options.windowMs, signal)));
    await this.stop({ graceMs: options.graceMs ?? 10_000 });
  }

  /** Drop every job (upstream reset or failover); shares on them are stale from now on. */
  reset(): void {
    // A held update belongs to the upstream connection that was reset: never sent.
    this.#pacer.cancel();
    this.jobs.reset();
    episodes.info("reset", "upstream reset: all jobs dropped");
  }

  /**
   * Stop: stop accepting, let in-flight share records and block submissions finish (so every
   * accepted share is answered), then close every connection.
   *
   * @param options The grace period.
   */
  stop(options: PoolStopOptions = {}): Promise<void> {
    // A stop during a hand-over ends its spreading: the miners not yet asked are closed.
    this.#handingOver.abort();
    // A second call (a SIGTERM during a hand-over) waits for the first.
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  async #stop(options: PoolStopOptions): Promise<void> {
    this.#stopped = true;
    this.#pacer.cancel();
    clearInterval(this.#timer);
    clearInterval(this.#banSweep);
    clearInterval(this.#workSweep);
    for (const server of this.servers) server.stopAccepting();
    for (const server of this.ucpServers) server.stopAccepting();
    const deadline = Date.now() + (options.graceMs ?? 10_000);
    // 1. Let the work in flight finish (its replies are then queued to the miners).
    await this.#settle(deadline);
    // 2. Send what is queued and close every connection (no new requests after this).
    const ports = [...this.servers, ...this.ucpServers];
    await Promise.all(ports.map((server) => server.drain(deadline)));
    await Promise.all(ports.map((server) => server.close()));
    // 3. Records started while draining still complete before the recorder goes away.
    if (!await this.#settle(deadline)) {
      log.warn("stopping with {n} share records or block submissions unsettled", {
        n: this.#inflight.size,
      });
    }
  }

  /** Wait until no work is in flight, or the deadline; true when none is left. */
  async #settle(deadline: number): Promise<boolean> {
    while (this.#inflight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left));
      const settled = Promise.allSettled([...this.#inflight]).then(() => "done" as const);
      const result = await Promise.race([settled, timeout]);
      clearTimeout(timer);
      if (result === "timeout") return false;
    }
    return true;
  }

  #track(work: Promise<unknown>): void {
    this.#inflight.add(work);
    const done = () => this.#inflight.delete(work);
    work.then(done, done);
  }

  /** Every port, Stratum and UCP. */
  #ports(): (StratumServer | UcpPort)[] {
    return [...this.servers, ...this.ucpServers];
  }

  #submitBlock(share: AcceptedShare, job: Job): void {
    log.info("block candidate {hash} at height {height} by {worker}", {
      hash: share.hash,
      height: share.height,
      worker: share.worker,
    });
    if (this.events.active) this.events.emit({ type: "block_found", at: share.at, share });
    alertEvents.emit(
      "block_found",
      `Block candidate ${share.height} ${share.hash} found by ${share.worker}`,
      { height: share.height, hash: share.hash, worker: share.worker, solo: share.solo },
    );
    const submission: BlockSubmission = {
      upstreamJobId: share.upstreamJobId,
      nTime: share.ntime,
      nonce: share.nonce,
      extraNonce: share.extranonce,
      endpoint: job.template.endpoint,
    };
    const reported = this.#keepCandidate(share)
      .then(() => this.#upstream.submitBlock(submission))
      .catch((err): BlockSubmitResult => ({
        accepted: false,
        outcome: "unknown",
        reason: String(err),
      }))
      .then((result) => this.#blockResult(share, result));
    this.#track(reported);
  }

  /** The candidate's write, or the wait's end, whichever comes first (never rejects). */
  #keepCandidate(share: AcceptedShare): Promise<unknown> {
    if (this.#blocks === undefined) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wait = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log.warn("block {hash}: submitted before its candidate was stored (the store is slow)", {
          hash: share.hash,
        });
        resolve();
      }, this.#candidateWaitMs);
    });
    let written: Promise<unknown>;
    try {
      written = this.#blocks.candidate(share);
    } catch (err) {
      written = Promise.reject(err);
    }
    return Promise.race([written.catch(() => false), wait]).finally(() => clearTimeout(timer));
  }

  #blockResult(share: AcceptedShare, result: BlockSubmitResult): void {
    const outcome = result.outcome ?? (result.accepted ? "accepted" : "unknown");
    if (result.accepted) {
      log.info("block {hash} accepted by {endpoint}", {
        hash: share.hash,
        endpoint: result.endpoint ?? "upstream",
      });
    } else {
      log.warn("block {hash} not accepted ({outcome}): {reason}", {
        hash: share.hash,
        outcome,
        reason: result.reason ?? "no reason given",
      });
    }
    try {
      this.#blocks?.outcome(share, { ...result, outcome });
    } catch (err) {
      log.error("cannot record the outcome of block {hash}: {error}", {
        hash: share.hash,
        error: String(err),
      });
    }
    if (this.events.active) {
      this.events.emit({
        type: "block_result",
        at: this.#now(),
        hash: share.hash,
        height: share.height,
        accepted: result.accepted,
        outcome,
        ...(result.reason === undefined ? {} : { reason: result.reason }),
        ...(result.endpoint === undefined ? {} : { endpoint: result.endpoint }),
      });
    }
  }
}
