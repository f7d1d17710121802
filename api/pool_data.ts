/**
 * What the HTTP API shows, gathered from the pool's live parts (sessions, current job), the
 * live share statistics, the upstream status and the store (blocks, per-minute rollups,
 * balances and payments). Store-derived parts of the pool summary (the last block and the
 * round's work) are cached briefly so many dashboards do not become many queries.
 *
 * @module
 */
import type { Pool } from "../server/pool.ts";
import type { UpstreamStatus } from "../server/upstream.ts";
import type { Block, BlockStatus, PaymentStatus, Store, WorkerTotal } from "../store/mod.ts";
import type { LiveStats } from "./live_stats.ts";
import type { HealthReason } from "./public_codes.ts";
import { addressOf, poolSessions } from "./_sessions.ts";
import {
  type BlockView,
  blockView,
  type HashratePoint,
  type HealthView,
  type MinerView,
  type PaymentView,
  paymentView,
  type PoolView,
  storeHealthView,
  upstreamView,
  type WorkerView,
} from "./views.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Where the data comes from. */
export interface PoolDataSources {
  /** The running pool (sessions, current job). */
  pool: Pool;
  /** The store (blocks, rollups, balances, payments). */
  store: Store;
  /** The upstream's current status. */
  upstream: () => UpstreamStatus;
  /** Live share statistics fed by the pool's events. */
  stats: LiveStats;
}

/** Options for {@linkcode PoolData}. */
export interface PoolDataOptions {
  /** How long the last block and round work are reused (ms). @default 2000 */
  cacheMs?: number;
  /**
   * Report the pool summary's and miners' hash rates, shares, miners and workers of every
   * instance from the store (several servers share it) instead of this process's live
   * statistics. @default false
   */
  poolWide?: boolean;
  /** Seconds the pool-wide figures cover (rounded down to a minute start). @default 600 */
  windowSeconds?: number;
  /** How long the pool-wide figures are reused (ms): one store query per period at most. @default 5000 */
  activityCacheMs?: number;
  /** Clock (ms). @default Date.now */
  now?: () => number;
}

/** Connection counts of the pool's Stratum ports. */
export interface SessionCounts {
  /** Open connections. */
  connections: number;
  /** Connections that subscribed. */
  subscribed: number;
  /** Connections with at least one authorized worker. */
  authorized: number;
  /** Distinct addresses authorized. */
  miners: number;
  /** Distinct workers authorized. */
  workers: number;
}

/** A page of a listing. */
export interface PageQuery {
  /** Page number from 0. */
  page: number;
  /** Rows per page. */
  pageSize: number;
}

/** The pool-wide figures over the window. */
interface WideActivity {
  hashrate: number;
  sharesPerSecond: number;
  accepted: number;
  seconds: number;
  miners: number;
  workers: number;
}

interface Round {
  lastBlock: Block | undefined;
  work: bigint;
}

/** Per-worker and address rates from the store's totals over `seconds`. */
function wideRates(rows: readonly WorkerTotal[], seconds: number): {
  hashrate: number;
  accepted: number;
  seconds: number;
  workers: Map<string, { hashrate: number; accepted: number }>;
} {
  const s = Math.max(1, seconds);
  const workers = new Map<string, { hashrate: number; accepted: number }>();
  let difficulty = 0n;
  let accepted = 0;
  for (const r of rows) {
    const worker = r.worker === "" ? r.address : `${r.address}.${r.worker}`;
    workers.set(worker, { hashrate: Number(r.difficulty) / s, accepted: r.shares });
    difficulty += r.difficulty;
    accepted += r.shares;
  }
  return { hashrate: Number(difficulty) / s, accepted, seconds: s, workers };
}

function nameOf(worker: string): string {
  const dot = worker.indexOf(".");
  return dot < 0 ? "" : worker.slice(dot + 1);
}

/**
 * The API's data, computed on demand.
 *
 * @example Usage
 * ```ts
 * import { LiveStats } from "./live_stats.ts";
 * import { PoolData } from "./pool_data.ts";
 * import { DEFAULT_PORT_DIFFICULTY, Pool } from "../server/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const pool = Pool.start({
 *   ports: [{ ...DEFAULT_PORT_DIFFICULTY, hostname: "127.0.0.1", port: 0 }],
 *   upstream: { submitBlock: () => Promise.resolve({ accepted: false }) },
 *   vardiffTickMs: 0,
 * });
 * const stats = new LiveStats(pool.events);
 * const upstream = () => ({ state: "ready" as const, endpoint: "n:1", since: 0, reconnects: 0 });
 * const data = new PoolData({ pool, store, upstream, stats });
 * const view = await data.pool();
 * assert.deepEqual([view.miners, view.hashrate, view.network.height], [0, 0, null]);
 * assert.equal(data.health().status, "ok");
 * stats.close();
 * await pool.stop();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class PoolData {
  #s: PoolDataSources;
  #cacheMs: number;
  #now: () => number;
  #round: { at: number; value: Promise<Round> } | undefined;
  #poolWide: boolean;
  #windowMs: number;
  #activityCacheMs: number;
  #activity: { at: number; value: Promise<WideActivity> } | undefined;

  /**
   * @param sources Pool, store, upstream status and live stats.
   * @param options Cache time and clock.
   */
  constructor(sources: PoolDataSources, options: PoolDataOptions = {}) {
    this.#s = sources;
    this.#cacheMs = options.cacheMs ?? 2000;
    this.#now = options.now ?? Date.now;
    this.#poolWide = options.poolWide ?? false;
    this.#windowMs = (options.windowSeconds ?? 600) * 1000;
    this.#activityCacheMs = options.activityCacheMs ?? 5000;
  }

  /** Whether the figures are every instance's (from the store). */
  get poolWide(): boolean {
    return this.#poolWide;
  }

  /**
   * Count connections and authorized miners on every Stratum and UCP port.
   *
   * @returns The counts.
   */
  sessions(): SessionCounts {
    let connections = 0;
    let subscribed = 0;
    let authorized = 0;
    const miners = new Set<string>();
    const workers = new Set<string>();
    for (const session of poolSessions(this.#s.pool)) {
      connections++;
      if (session.subscribed) subscribed++;
      if (session.workers.length > 0) authorized++;
      for (const worker of session.workers) {
        workers.add(worker);
        miners.add(addressOf(worker));
      }
    }
    return { connections, subscribed, authorized, miners: miners.size, workers: workers.size };
  }

  /**
   * The pool summary.
   *
   * @returns The view.
   */
  async pool(): Promise<PoolView> {
    const [round, wide] = await Promise.all([
      this.#roundCached(),
      this.#poolWide ? this.#activityCached() : undefined,
    ]);
    const live = this.#s.stats.pool();
    const counts = this.sessions();
    const job = this.#s.pool.jobs.current;
    return {
      time: this.#now(),
      hashrate: wide?.hashrate ?? live.hashrate,
      hashrateWindowSeconds: wide?.seconds ?? live.seconds,
      sharesPerSecond: wide?.sharesPerSecond ?? live.sharesPerSecond,
      sharesAccepted: wide?.accepted ?? live.accepted,
      sharesRejected: live.rejected,
      miners: wide?.miners ?? counts.miners,
      workers: wide?.workers ?? counts.workers,
      poolWide: this.#poolWide,
      connections: counts.connections,
      subscribed: counts.subscribed,
      network: {
        height: job === undefined ? null : job.template.height - 1,
        difficulty: job === undefined ? null : job.networkDifficulty.toString(),
      },
      upstream: upstreamView(this.#s.upstream()),
      lastBlock: round.lastBlock === undefined ? null : blockView(round.lastBlock),
      roundWork: round.work.toString(),
      roundEffort: job === undefined ? null : Number(round.work) / Number(job.networkDifficulty),
    };
  }

  /**
   * One miner: rates, workers, share counts, balance and recent payments.
   *
   * @param address A valid payout address (checked by the caller).
   * @returns The view.
   */
  async miner(address: string): Promise<MinerView> {
    const now = this.#now();
    const store = this.#s.store;
    const windowStart = now - this.#windowMs - ((now - this.#windowMs) % MINUTE_MS);
    const [day, hour, balance, payments, recent] = await Promise.all([
      store.workerTotals({ since: now - DAY_MS, address }),
      store.workerTotals({ since: now - HOUR_MS, address }),
      store.payouts.balance(address),
      store.payouts.listPayments({ address, limit: 10 }),
      this.#poolWide ? store.workerTotals({ since: windowStart, address }) : undefined,
    ]);
    const wide = recent === undefined ? undefined : wideRates(recent, (now - windowStart) / 1000);
    const online = new Map<string, { connections: number; difficulty: bigint }>();
    for (const session of poolSessions(this.#s.pool)) {
      for (const worker of session.workers) {
        if (addressOf(worker) !== address) continue;
        const entry = online.get(worker);
        if (entry === undefined) {
          online.set(worker, { connections: 1, difficulty: session.difficulty });
        } else {
          entry.connections++;
        }
      }
    }
    const shares24h = new Map<string, number>();
    const names = new Set<string>([...online.keys(), ...this.#s.stats.workers(address)]);
    for (const row of day) {
      const worker = row.worker === "" ? address : `${address}.${row.worker}`;
      shares24h.set(worker, row.shares);
      names.add(worker);
    }
    for (const worker of wide?.workers.keys() ?? []) names.add(worker);
    const workers: WorkerView[] = [...names].map((worker) => {
      const live = this.#s.stats.worker(worker);
      const on = online.get(worker);
      const w = wide?.workers.get(worker);
      return {
        worker,
        name: nameOf(worker),
        // Pool-wide: a worker with a share in the window is mining on some instance.
        online: on !== undefined || (w !== undefined && w.accepted > 0),
        connections: on?.connections ?? 0,
        difficulty: on === undefined ? null : on.difficulty.toString(),
        hashrate: wide === undefined ? live.hashrate : (w?.hashrate ?? 0),
        sharesAccepted: wide === undefined ? live.accepted : (w?.accepted ?? 0),
        sharesRejected: live.rejected,
        shares24h: shares24h.get(worker) ?? 0,
        lastShareAt: live.lastShareAt ?? null,
      };
    }).sort((a, b) => Number(b.online) - Number(a.online) || (a.worker < b.worker ? -1 : 1));
    const own = this.#s.stats.address(address);
    const live = wide === undefined ? own : {
      ...own,
      hashrate: wide.hashrate,
      seconds: wide.seconds,
      sharesPerSecond: wide.accepted / wide.seconds,
      accepted: wide.accepted,
    };
    const sum = (rows: typeof day) => ({
      accepted: rows.reduce((n, r) => n + r.shares, 0),
      difficulty: rows.reduce((n, r) => n + r.difficulty, 0n).toString(),
    });
    return {
      address,
      time: now,
      online: online.size > 0 || workers.some((w) => w.online),
      hashrate: live.hashrate,
      hashrateWindowSeconds: live.seconds,
      sharesPerSecond: live.sharesPerSecond,
      shares: {
        window: { accepted: live.accepted, rejected: live.rejected, seconds: live.seconds },
        lastHour: sum(hour),
        last24Hours: sum(day),
      },
      workers,
      balance: balance.toString(),
      payments: payments.map((p) => paymentView(p, { address })),
    };
  }

  /**
   * Found blocks, newest first.
   *
   * @param query Page, page size and an optional status.
   * @returns The page.
   */
  async blocks(
    query: PageQuery & { status?: BlockStatus },
  ): Promise<PageQuery & { hasMore: boolean; blocks: BlockView[] }> {
    const end = (query.page + 1) * query.pageSize;
    const rows = await this.#s.store.listBlocks({
      limit: end + 1,
      ...(query.status === undefined ? {} : { status: query.status }),
    });
    return {
      page: query.page,
      pageSize: query.pageSize,
      hasMore: rows.length > end,
      blocks: rows.slice(query.page * query.pageSize, end).map(blockView),
    };
  }

  /**
   * Payments, newest first.
   *
   * @param query Page, page size, and optional status and address.
   * @returns The page.
   */
  async payments(
    query: PageQuery & { status?: PaymentStatus; address?: string },
  ): Promise<PageQuery & { hasMore: boolean; payments: PaymentView[] }> {
    const end = (query.page + 1) * query.pageSize;
    const rows = await this.#s.store.payouts.listPayments({
      limit: end + 1,
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.address === undefined ? {} : { address: query.address }),
    });
    const address = query.address === undefined ? {} : { address: query.address };
    return {
      page: query.page,
      pageSize: query.pageSize,
      hasMore: rows.length > end,
      payments: rows.slice(query.page * query.pageSize, end).map((p) => paymentView(p, address)),
    };
  }

  /**
   * Hash rate per minute (every instance, from the store's rollups), one point per minute
   * including minutes without shares, oldest first; the last point is the current minute so far.
   *
   * @param query Minutes back, and optionally an address (and a worker of it).
   * @returns The points.
   */
  async hashrate(
    query: { minutes: number; address?: string; worker?: string },
  ): Promise<HashratePoint[]> {
    const now = this.#now();
    const current = now - (now % MINUTE_MS);
    const since = current - (query.minutes - 1) * MINUTE_MS;
    const rows = await this.#s.store.rollups({
      since,
      ...(query.address === undefined ? {} : { address: query.address }),
      ...(query.worker === undefined ? {} : { worker: query.worker }),
    });
    const byMinute = new Map(rows.map((r) => [r.minute, r]));
    const points: HashratePoint[] = [];
    for (let minute = since; minute <= current; minute += MINUTE_MS) {
      const row = byMinute.get(minute);
      const seconds = minute === current ? Math.max(10, (now - minute) / 1000) : 60;
      points.push({
        time: minute,
        hashrate: row === undefined ? 0 : Number(row.difficulty) / seconds,
        shares: row?.shares ?? 0,
      });
    }
    return points;
  }

  /**
   * Whether the pool can take shares: the upstream is connected and the store's commit stage
   * is healthy (as its last commit or probe found it). The reasons are fixed codes; the
   * upstream's and the store's error text stays in the log.
   *
   * @returns The view (`status` decides 200 or 503).
   */
  health(): HealthView {
    const upstream = upstreamView(this.#s.upstream());
    const store = storeHealthView(this.#s.store.stats());
    const reasons: HealthReason[] = [];
    if (!upstream.connected) reasons.push("upstream_unavailable");
    if (!store.healthy) reasons.push("store_failing");
    return { status: reasons.length === 0 ? "ok" : "unavailable", reasons, upstream, store };
  }

  #activityCached(): Promise<WideActivity> {
    const now = this.#now();
    if (this.#activity !== undefined && now - this.#activity.at < this.#activityCacheMs) {
      return this.#activity.value;
    }
    const value = this.#loadActivity(now);
    this.#activity = { at: now, value };
    value.catch(() => {
      if (this.#activity?.value === value) this.#activity = undefined;
    });
    return value;
  }

  async #loadActivity(now: number): Promise<WideActivity> {
    // Whole minutes (the rollups' grain) plus the current one so far.
    const since = now - this.#windowMs - ((now - this.#windowMs) % MINUTE_MS);
    const a = await this.#s.store.activity({ since });
    const seconds = Math.max(1, (now - since) / 1000);
    return {
      hashrate: Number(a.difficulty) / seconds,
      sharesPerSecond: a.shares / seconds,
      accepted: a.shares,
      seconds,
      miners: a.miners,
      workers: a.workers,
    };
  }

  #roundCached(): Promise<Round> {
    const now = this.#now();
    if (this.#round !== undefined && now - this.#round.at < this.#cacheMs) return this.#round.value;
    const value = this.#loadRound(now);
    this.#round = { at: now, value };
    value.catch(() => {
      if (this.#round?.value === value) this.#round = undefined;
    });
    return value;
  }

  async #loadRound(now: number): Promise<Round> {
    const [lastBlock] = await this.#s.store.listBlocks({ limit: 1 });
    // Work since the block, from the minute after its minute (rollups are per minute).
    const since = lastBlock === undefined
      ? 0
      : lastBlock.time - (lastBlock.time % MINUTE_MS) + MINUTE_MS;
    let work = 0n;
    if (since <= now) {
      for (const row of await this.#s.store.rollups({ since })) work += row.difficulty;
    }
    return { lastBlock, work };
  }
}
