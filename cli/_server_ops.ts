/**
 * The operator's side of `vbkpool server`: the configuration reloader with the server's live
 * handlers, the admin listener (`[admin]`) and its actions, and the in-process payout service
 * kept restartable (a reload of `[payouts]`/`[wallet]`, a settlement under the payer lock).
 *
 * @module
 */
import { AdminServer, type AdminSettle, type ApiServer } from "../api/mod.ts";
import type { Pool } from "../server/pool.ts";
import type { UpstreamStatus } from "../server/upstream.ts";
import type { Store } from "../store/mod.ts";
import type { BlockTracker, PayoutService } from "../payouts/mod.ts";
import { listUnknownOutcomes, settlePayment } from "../payouts/settle.ts";
import { NodeCoreRpc } from "../payouts/nodecore_rpc.ts";
import { formatHostPort } from "../net/mod.ts";
import type { ConfigValues, LoadedConfig } from "./config.ts";
import { logger } from "./log.ts";
import { ConfigReloader, type LiveHandler } from "./_reload.ts";
import { logHandler, poolHandler } from "./_server_live.ts";
import { adminToken } from "./_admin_schema.ts";
import { edgeSettings } from "./_process_schema.ts";
import { parseListen } from "./_devnet_schema.ts";
import { nameListenError, reachableHost } from "./_listen.ts";
import { ListenError } from "../net/mod.ts";
import {
  describeUnknownOutcomes,
  startBlockTracker,
  startInProcessPayouts,
  walletClient,
} from "./payouts.ts";
import { startServerApi } from "./_server_api.ts";

/** What the server's operations act on. */
export interface ServerParts {
  /** The running pool. */
  pool: Pool;
  /** The store. */
  store: Store;
  /** The upstream's status. */
  upstream: () => UpstreamStatus;
  /** The pool's address (for the in-process payouts). */
  poolAddress: string;
  /** The embedded devnet's NodeCore HTTP API, when there is one. */
  devnetApi?: { hostname: string; port: number } | undefined;
}

/** The API and payout service, restarted by reloads. */
export class ServerServices {
  /** The public HTTP API, when it runs. */
  api: ApiServer | undefined;
  /** The in-process payout service, when it runs. */
  payouts: PayoutService | undefined;
  /** The in-process block tracker (confirmations without payments), when it runs. */
  tracker: BlockTracker | undefined;
  #parts: ServerParts;
  #values: () => ConfigValues;
  #onApi: ((api: ApiServer | undefined) => void) | undefined;

  /**
   * @param parts The pool, store and upstream.
   * @param values The configuration in force (read at each restart).
   * @param options Called after each API (re)start, with the new server.
   */
  constructor(
    parts: ServerParts,
    values: () => ConfigValues,
    options: { onApi?: (api: ApiServer | undefined) => void } = {},
  ) {
    this.#parts = parts;
    this.#values = values;
    this.#onApi = options.onApi;
  }

  /** Start (or restart) the public API from the configuration in force. */
  async startApi(): Promise<void> {
    await this.api?.close();
    const v = this.#values();
    const { pool, store, upstream } = this.#parts;
    this.api = startServerApi(v.api!, { pool, store, upstream }, {
      reusePort: v.process?.reuse_port === true,
      keepMetrics: v.admin?.enabled === true && v.admin?.metrics === true,
      edge: edgeSettings(v.process!),
    });
    this.#onApi?.(this.api);
  }

  /** Start (or restart) the in-process payouts or block tracker from the configuration. */
  async startPayouts(): Promise<void> {
    await this.payouts?.stop();
    await this.tracker?.stop();
    const wiring = {
      store: this.#parts.store,
      poolAddress: this.#parts.poolAddress,
      devnetApi: this.#parts.devnetApi,
    };
    this.payouts = startInProcessPayouts(this.#values(), wiring);
    this.tracker = startBlockTracker(this.#values(), wiring);
  }

  /** NodeCore's HTTP API as the payouts reach it. */
  rpc(): NodeCoreRpc {
    const v = this.#values();
    const devnet = this.#parts.devnetApi;
    if (devnet === undefined) return walletClient(v.wallet!);
    return new NodeCoreRpc({
      url: `http://${formatHostPort(reachableHost(devnet.hostname), devnet.port)}/api`,
      password: v.devnet?.api_password as string ?? "",
    });
  }

  /**
   * Run `fn` with the in-process payer stopped (it holds the payer lock), then start it again.
   *
   * @param fn The work.
   * @returns What `fn` returned.
   */
  async withoutPayer<T>(fn: () => Promise<T>): Promise<T> {
    const running = this.payouts !== undefined;
    await this.payouts?.stop();
    this.payouts = undefined;
    try {
      return await fn();
    } finally {
      if (running) await this.startPayouts();
    }
  }

  /** Stop the API, the payouts and the block tracker. */
  async stop(): Promise<void> {
    await this.tracker?.stop();
    await this.payouts?.stop();
    await this.api?.close();
  }
}

/**
 * The reloader with every live handler of the server.
 *
 * @param options The configuration, how to read it again, the pool and the services.
 * @returns The reloader (more handlers may be registered on it: TLS, webhooks…).
 */
export function serverReloader(options: {
  config: LoadedConfig;
  load: () => LoadedConfig;
  pool: Pool;
  services: ServerServices;
}): ConfigReloader {
  const log = logger("config");
  const reloader = new ConfigReloader({
    current: options.config,
    load: options.load,
    log: {
      info: (m, p) => log.info(m, p),
      warn: (m, p) => log.warn(m, p),
      error: (m, p) => log.error(m, p),
    },
  });
  const handlers: LiveHandler[] = [
    poolHandler(options.pool),
    logHandler(),
    { name: "api", keys: ["api"], apply: () => options.services.startApi() },
    { name: "payouts", keys: ["payouts", "wallet"], apply: () => options.services.startPayouts() },
    // Read when the hand-over starts.
    { name: "handover", keys: ["process.handover_window_seconds"], apply: () => {} },
  ];
  for (const handler of handlers) reloader.register(handler);
  return reloader;
}

/** Options for {@linkcode startAdmin}. */
export interface StartAdminOptions {
  /** The server's parts. */
  parts: ServerParts;
  /** The API and payouts. */
  services: ServerServices;
  /** The reloader. */
  reloader: ConfigReloader;
  /** Starts the hand-over; returns the window in seconds. */
  handOver: () => number;
  /**
   * The supervisor's pid when this server is one of its workers: reload and hand-over are then
   * asked of the supervisor (SIGHUP, SIGUSR2), which passes them to every worker.
   */
  supervisor?: number;
  /**
   * Whether an admin port held by another process is the previous pool's during a hand-over,
   * waited for rather than an error (`process.reuse_port` set by the operator).
   * @default `process.reuse_port`
   */
  waitForPort?: boolean;
}

/** The admin listener of a running server, bound now or once its port is free. */
export interface AdminSlot {
  /** The listener, once bound. */
  readonly server: AdminServer | undefined;
  /** Stop waiting for the port, or close the listener. */
  close(): Promise<void>;
}

/** How often a waiting admin listener tries its port again (ms). */
const ADMIN_RETRY_MS = 500;

/**
 * Start the admin listener when `[admin] enabled`, and register its token handler (a reload
 * re-reads `token`/`token_file`; a new file's first line is the new token). During an upgrade
 * (`process.reuse_port`) the previous process holds the admin port until it exits: the new one
 * then waits for the port (logged once) and takes it, so `vbkpool admin` always talks to one
 * process, the one that has it.
 *
 * @param options The server's parts and actions.
 * @returns The listener's slot, or undefined when it is off.
 * @throws {ConfigError} When it is on without a usable token.
 * @throws {Error} When its address cannot be bound, naming `admin.listen` (with `reuse_port`, an
 * address in use is waited for instead).
 */
export function startAdmin(options: StartAdminOptions): AdminSlot | undefined {
  const values = () => options.reloader.current.values;
  const a = values().admin;
  if (a?.enabled !== true) return undefined;
  const token = { value: adminToken(a) };
  const { hostname, port } = parseListen(a.listen as string);
  const { parts, services } = options;
  const log = logger("admin");
  const bind = () =>
    AdminServer.start({
      hostname,
      port,
      token: token.value,
      pool: parts.pool,
      store: parts.store,
      upstream: parts.upstream,
      maxConnections: a.max_connections as number,
      actions: {
        reload: async () => {
          if (options.supervisor === undefined) return { ...await options.reloader.reload() };
          Deno.kill(options.supervisor, "SIGHUP");
          return { ok: true, supervisor: options.supervisor, note: "every worker reloads" };
        },
        handOver: () => {
          if (options.supervisor === undefined) return { windowSeconds: options.handOver() };
          Deno.kill(options.supervisor, "SIGUSR2");
          return {
            windowSeconds: values().process?.handover_window_seconds as number,
            supervisor: options.supervisor,
          };
        },
        unknownPayments: async () => {
          const v = values();
          const p = v.payouts!;
          const unknown = await listUnknownOutcomes(parts.store, services.rpc(), {
            poolAddress: (p.pool_address as string) || parts.poolAddress,
            windowMs: Math.round((p.unknown_outcome_seconds as number) * 1000),
          });
          return { unknown, summary: describeUnknownOutcomes(unknown) };
        },
        settlePayment: (id: bigint, how: AdminSettle) =>
          services.withoutPayer(() => {
            const v = values();
            const p = v.payouts!;
            return settlePayment(parts.store, services.rpc(), {
              id,
              outcome: how.outcome,
              force: how.force,
              poolAddress: (p.pool_address as string) || parts.poolAddress,
              owner: `admin-${Deno.pid}`,
              lockTtlMs: Math.round((p.lock_ttl_seconds as number) * 1000),
            });
          }),
        metrics: () =>
          values().admin!.metrics === true ? services.api?.metrics?.registry.render() : undefined,
      },
    });
  const slot: {
    server: AdminServer | undefined;
    timer?: ReturnType<typeof setInterval>;
  } = { server: undefined };
  const bound = (server: AdminServer) => {
    slot.server = server;
    log.info("admin listener on {url} (bearer token required)", { url: server.url });
  };
  try {
    bound(bind());
  } catch (err) {
    const inUse = err instanceof Deno.errors.AddrInUse;
    const wait = options.waitForPort ?? values().process?.reuse_port === true;
    if (!inUse || !wait) {
      throw nameListenError(new ListenError(hostname, port, err), [
        { key: "admin.listen", hostname, port },
      ]);
    }
    log.warn(
      "admin listener: {address} is held by another process (the previous one, during an " +
        "upgrade); it is taken as soon as that one exits",
      { address: formatHostPort(hostname, port) },
    );
    slot.timer = setInterval(() => {
      try {
        bound(bind());
        clearInterval(slot.timer);
      } catch {
        // Still held.
      }
    }, ADMIN_RETRY_MS);
  }
  options.reloader.register({
    name: "admin token",
    keys: ["admin.token", "admin.token_file"],
    everyReload: true,
    check: (change) => void adminToken(change.next.admin!),
    apply: (change) => {
      token.value = adminToken(change.next.admin!);
      slot.server?.setToken(token.value);
    },
  });
  return {
    get server() {
      return slot.server;
    },
    async close() {
      clearInterval(slot.timer);
      await slot.server?.close();
    },
  };
}
