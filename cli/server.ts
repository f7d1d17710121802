/**
 * `vbkpool server`: the pool. Stratum ports from `[stratum]`, work from the NodeCore endpoints
 * of `[nodecore]`; with no endpoints, an in-process devnet (`[devnet]` settings) reached over
 * UCP like any NodeCore, on `devnet.listen` when set, else on an ephemeral loopback port (and
 * its NodeCore HTTP API on `devnet.api_listen` when set, else on an ephemeral loopback port when
 * payouts run in-process). SIGINT/SIGTERM stop accepting, answer in-flight shares, and close
 * cleanly; SIGHUP reloads the configuration (`_reload.ts`, `_server_live.ts`); SIGUSR2 hands the
 * miners over to a newer process on the same ports (`process.reuse_port`) and exits; `[admin]`
 * opens the operator's listener (`_server_ops.ts`).
 *
 * @module
 */
import { pauseReadsAt } from "./_store_schema.ts";
import { UsageError } from "./args.ts";
import { type Command, type CommandContext, waitForStop } from "./command.ts";
import { ConfigError, type ConfigValues, type LoadedConfig, type ValueSource } from "./config.ts";
import { logger } from "./log.ts";
import { onReportSignal } from "./_report_signal.ts";
import { EpisodeLog } from "../log/mod.ts";
import type { Devnet } from "../devnet/mod.ts";
import { formatHostPort } from "../net/mod.ts";
import { Pool, type PoolOptions } from "../server/pool.ts";
import type { PoolEvent } from "../server/events.ts";
import { BanLedger } from "../server/ban_ledger.ts";
import type { BanInfo } from "../server/bans.ts";
import type { Store } from "../store/mod.ts";
import { Upstream } from "../server/upstream.ts";
import { type MetricsRegistry, registerAlertMetrics, registerWebhookMetrics } from "../api/mod.ts";
import { openServerStore } from "./_server_store.ts";
import {
  handOverAllowed,
  removeOrphanedLink,
  startWorkerLink,
  superviseWorkers,
  supervisorGone,
  supervisorPid,
  WORKER_OF_ENV,
} from "./_server_workers.ts";
import type { ConfigReloader, LiveHandler, ReloadReport } from "./_reload.ts";
import { type AdminSlot, serverReloader, ServerServices, startAdmin } from "./_server_ops.ts";
import { type RunningAlerts, startAlerts, webhookConfig } from "./_alerts_schema.ts";
import { ucpOptions } from "./_ucp_schema.ts";
import { configureDescriptors, type EdgeSettings, edgeSettings } from "./_process_schema.ts";
import { type ListenSetting, nameListenError, reachableHost } from "./_listen.ts";
import { embeddedListen, startEmbeddedDevnet } from "./_embedded_devnet.ts";
import { unusedSettings } from "./_server_unused.ts";

/** The MINING_AUTH username used with the embedded devnet when `nodecore.address` is empty. */
const DEVNET_POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

export { poolOptions, stratumPorts } from "./_pool_options.ts";
import { poolOptions } from "./_pool_options.ts";

function statsLogger(pool: Pool, intervalMs: number): () => void {
  const counts = { accepted: 0, rejected: 0, blocks: 0, work: 0n };
  const stop = pool.events.subscribe((e: PoolEvent) => {
    if (e.type === "share_accepted") {
      counts.accepted++;
      counts.work += e.share.difficulty;
    } else if (e.type === "share_rejected") counts.rejected++;
    else if (e.type === "block_found") counts.blocks++;
  });
  if (intervalMs <= 0) return stop;
  const log = logger("server");
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const rate = Number(counts.work) / ((now - last) / 1000);
    log.info(
      "{sessions} miners, {accepted} shares accepted, {rejected} rejected, {blocks} block " +
        "candidates, ~{rate} H/s in the last {seconds} s",
      {
        sessions: pool.sessionCount,
        ...counts,
        work: undefined,
        rate: rate.toExponential(2),
        seconds: Math.round((now - last) / 1000),
      },
    );
    counts.accepted = counts.rejected = counts.blocks = 0;
    counts.work = 0n;
    last = now;
  }, intervalMs);
  return () => {
    clearInterval(timer);
    stop();
  };
}

/**
 * Feed the hash-rate watch with accepted work and show the webhooks' counts on `/metrics`.
 *
 * @returns A function that undoes it.
 */
function wireAlerts(
  alerts: RunningAlerts,
  at: { pool: Pool; registry: MetricsRegistry | undefined },
): () => void {
  const watch = alerts.hashrate;
  const stop = watch === undefined ? () => {} : at.pool.events.subscribe((e: PoolEvent) => {
    if (e.type === "share_accepted") watch.add(e.share.difficulty);
  });
  const registry = at.registry;
  const stopMetrics = registry === undefined ? [] : [
    registerAlertMetrics(registry),
    registerWebhookMetrics(registry, () => alerts.webhooks.stats()),
  ];
  return () => {
    stop();
    for (const f of stopMetrics) f();
  };
}

/** The `[alerts]` keys a reload applies: the webhooks (the hash-rate watch needs a restart). */
const LIVE_ALERT_KEYS = [
  "webhooks",
  "secret",
  "name",
  "timeout_seconds",
  "max_attempts",
  "backoff_seconds",
  "backoff_max_seconds",
  "queue_size",
].map((k) => `alerts.${k}`);

/** The live handler of the webhooks: checked (a bad entry refuses the reload), then replaced. */
function alertsHandler(alerts: RunningAlerts): LiveHandler {
  return {
    name: "webhooks",
    keys: LIVE_ALERT_KEYS,
    check: (change) => void webhookConfig(change.next.alerts!),
    apply: (change) => alerts.webhooks.setWebhooks(webhookConfig(change.next.alerts!)),
  };
}

/** A running pool with everything it started (store, devnet, upstream, API, payouts). */
export interface RunningServer {
  /** The pool (its `servers` carry the bound Stratum ports). */
  pool: Pool;
  /** The configuration reloader (SIGHUP); more live handlers can be registered on it. */
  reloader: ConfigReloader;
  /** The admin listener, when `[admin] enabled` (its `server` once its port is bound). */
  admin: AdminSlot | undefined;
  /** Read the configuration again and apply what can change live (SIGHUP). */
  reload(): Promise<ReloadReport>;
  /**
   * Hand the miners over to the next process on the same ports (SIGUSR2): stop accepting,
   * ask them to reconnect over `process.handover_window_seconds`, then stop. Resolves `done`.
   *
   * @returns The window in seconds.
   */
  handOver(): number;
  /** Resolves once a hand-over (or a stop) has finished. */
  done: Promise<void>;
  /** The alerts (a reload replaces the webhooks' configuration). */
  alerts: RunningAlerts;
  /** Stop accepting, answer in-flight shares, then stop everything in reverse order. */
  stop(): Promise<void>;
}

/** SO_REUSEPORT is an unstable Deno API: say how to enable it rather than fail on a port. */
function checkReusePort(): void {
  try {
    Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true }).close();
  } catch (err) {
    if (!String(err).includes("unstable")) return;
    throw new ConfigError(
      "process.reuse_port needs Deno's --unstable-net flag: deno task and deno run in the " +
        "project set it (deno.json); run a bundle with deno run -A --unstable-net vbkpool.js",
      "process.reuse_port",
    );
  }
}

/** Options for {@linkcode startServer}. */
export interface StartServerOptions {
  /**
   * Where each value came from (`LoadedConfig.sources`): the embedded devnet takes
   * `devnet.listen` and `devnet.api_listen` only when they were set, else free loopback ports.
   * @default every value a default
   */
  sources?: Record<string, ValueSource>;
  /** The whole loaded configuration (for reloads). @default `values`, with `sources` */
  config?: LoadedConfig;
  /** Reads the configuration again (SIGHUP). @default none: a reload keeps what runs */
  load?: () => LoadedConfig;
}

/** Every address the pool binds itself, with its key, to name the one that is taken. */
function poolSettings(options: Omit<PoolOptions, "upstream">): ListenSetting[] {
  const stratum = options.ports.map((p) => ({ key: "stratum.listen", ...p }));
  const ucp = (options.ucp?.ports ?? []).map((p) => ({ key: "ucp.listen", ...p }));
  return [...stratum, ...ucp].map(({ key, hostname, port }) => ({ key, hostname, port }));
}

/**
 * Start the pool from loaded configuration values (the `server` command without the wait).
 *
 * @param values Configuration values of the server's sections.
 * @param startOptions Where the values came from.
 * @returns The running pool and its stop function.
 * @throws {ConfigError} On inconsistent settings; other errors when a store or port fails (an
 * address that cannot be bound is named with its key).
 */
export async function startServer(
  values: ConfigValues,
  startOptions: StartServerOptions = {},
): Promise<RunningServer> {
  const s = values.stratum!;
  const n = values.nodecore!;
  const log = logger("server");
  const edge = edgeSettings(values.process!);
  const reusePort = values.process?.reuse_port === true;
  if (reusePort) checkReusePort();
  const ucpPorts = withEdge(ucpOptions(values.ucp!), edge);
  const ucp = ucpPorts === undefined
    ? undefined
    : { ...ucpPorts, connections: { ...ucpPorts.connections, reusePort } };
  const stratum = poolOptions(s);
  const options = {
    ...stratum,
    connections: { ...stratum.connections, ...edge, reusePort },
    ...(ucp === undefined ? {} : { ucp }),
    pauseReadsAt: pauseReadsAt(values),
  };
  checkProxyProtocol(options, values.api!, edge);
  let endpoints = n.endpoints as string[];
  let address = n.address as string;
  if (endpoints.length > 0 && address === "") {
    throw new ConfigError(
      "Invalid configuration: nodecore.address (the pool's VBK address) is required with " +
        "nodecore.endpoints",
      "nodecore.address",
    );
  }
  // Descriptors first: the budget counts what is open before the store and the listeners.
  configureDescriptors(values.process!);
  const sources = startOptions.sources ?? {};
  const p = values.payouts!;
  const devnetListen = endpoints.length > 0 ? undefined : embeddedListen(values.devnet!, {
    payouts: p.enabled === true || p.track_blocks === true,
    sources,
  });
  for (const warning of unusedSettings(values, sources)) log.warn("{warning}", { warning });
  // Alerts before anything that emits (a store or upstream failing at start is reported).
  const alerts = startAlerts(values.alerts!, { hashrate: true });
  // The store next: a database that cannot be opened stops the server before anything starts.
  const persisted = await openServerStore(values.store!, {
    instance: s.instance_id as number,
    rangeSize: BigInt(s.extranonce_range as number),
    leaseMs: Math.round((s.instance_lease_seconds as number) * 1000),
    // With reuse_port a second process on this host is the next version taking over (an
    // operator's choice; workers get reuse_port to share ports, and take over only when their
    // supervisor's operator set it).
    handOver: handOverAllowed(values),
  }).catch(async (err) => {
    await alerts.stop();
    throw err;
  });
  let devnet: Devnet | undefined;
  if (devnetListen !== undefined) {
    devnet = await startEmbeddedDevnet(values.devnet!, devnetListen).catch(async (err) => {
      await persisted.close();
      await alerts.stop();
      throw err;
    });
    endpoints = [formatHostPort(reachableHost(devnet.addr.hostname), devnet.addr.port)];
    if (address === "") address = DEVNET_POOL_ADDRESS;
  }
  const ref: { pool?: Pool } = {};
  const upstreamEpisodes = new EpisodeLog(log);
  const upstream = new Upstream({
    endpoints,
    address,
    password: n.password as string,
    updateFrequencyMs: n.update_frequency_ms as number,
    connectTimeoutMs: n.connect_timeout_ms as number,
    handshakeTimeoutMs: n.handshake_timeout_ms as number,
    jobTimeoutMs: n.job_timeout_ms as number,
    submitTimeoutMs: n.submit_timeout_ms as number,
    backoffMinMs: n.backoff_min_ms as number,
    backoffMaxMs: n.backoff_max_ms as number,
    failbackIntervalMs: n.failback_interval_ms as number,
    onTemplate: (template) => ref.pool?.addTemplate(template),
    onReset: () => ref.pool?.reset(),
    onStatus: (status) => {
      const endpoint = status.endpoint ?? "none";
      if (status.state === "ready" || status.state === "stopped") {
        log.info("upstream {state} ({endpoint})", { state: status.state, endpoint });
      } else {
        // Each retry changes the state twice; the upstream's own lines (once per episode) say
        // what failed, so these go to debug, counted.
        upstreamEpisodes.debug("status", "upstream {state} ({endpoint}): {error}", {
          state: status.state,
          endpoint,
          error: status.lastError ?? "",
        });
      }
    },
  });
  // The bans in force in the store (this pool's before a restart, the other processes') and a
  // worker's from its supervisor are taken before the ports open.
  const bans = await loadBans(persisted.store, { stratum: s, store: values.store! });
  const workerLink = await startWorkerLink();
  let pool: Pool;
  try {
    pool = Pool.start({
      ...options,
      upstream,
      recorder: persisted.recorder,
      difficulties: persisted.difficulties,
      extranonce: persisted.extranonce,
      blocks: persisted.blocks,
      ...(workerLink === undefined ? {} : { peers: workerLink.link }),
      ...(bans.ledger === undefined ? {} : { banRecord: bans.ledger }),
    });
    // No await since the start: nothing was accepted before these apply.
    for (const ban of bans.inForce) pool.adoptBan(ban, "restored");
    bans.ledger?.start(pool);
    if (bans.retry === true) void bans.ledger?.sync();
    workerLink?.attach(pool);
  } catch (err) {
    await workerLink?.link.close();
    await devnet?.stop();
    await persisted.close();
    await alerts.stop();
    throw nameListenError(err, poolSettings(options));
  }
  ref.pool = pool;
  const config: LoadedConfig = startOptions.config ??
    { values, sources, file: undefined, warnings: [] };
  const running: { reloader?: ConfigReloader } = {};
  const valuesNow = () => running.reloader?.current.values ?? config.values;
  const parts = {
    pool,
    store: persisted.store,
    upstream: () => upstream.status,
    poolAddress: address,
    devnetApi: devnet?.rpcAddr,
  };
  let stopAlertWiring = () => {};
  const services = new ServerServices(parts, valuesNow, {
    // The API's registry is new after a restart: the alert metrics go into it again.
    onApi: (api) => {
      stopAlertWiring();
      stopAlertWiring = wireAlerts(alerts, { pool, registry: api?.metrics?.registry });
    },
  });
  await services.startApi();
  upstream.start();
  await services.startPayouts();
  const reloader = serverReloader({
    config,
    load: startOptions.load ?? (() => config),
    pool,
    services,
  });
  running.reloader = reloader;
  reloader.register(alertsHandler(alerts));
  // Certificate files are read again on every reload (SIGHUP), whatever else changed.
  reloader.register({
    name: "tls",
    keys: [],
    everyReload: true,
    apply: async () => void await reloadCertificates(pool),
  });
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => finished = resolve);
  let stopping: Promise<void> | undefined;
  function handOver(): number {
    const seconds = (valuesNow().process?.handover_window_seconds as number) ?? 10;
    if (stopping !== undefined) return seconds;
    log.info(
      "handing over: no new connections; {n} miners are asked to reconnect over {seconds} s " +
        "(client.reconnect), each once its shares are answered; then this process exits",
      { n: pool.sessionCount, seconds },
    );
    stopping = (async () => {
      await pool.handOver({
        windowMs: seconds * 1000,
        // A worker asks its miners only once every worker of its supervisor stopped accepting.
        ...(workerLink === undefined ? {} : { beforeAsking: workerLink.handOverReady }),
      });
      await stopRest();
    })();
    stopping.finally(finished);
    return seconds;
  }
  let admin: AdminSlot | undefined;
  try {
    admin = startAdmin({
      parts,
      services,
      reloader,
      handOver,
      supervisor: supervisorPid(),
      waitForPort: handOverAllowed(values),
    });
  } catch (err) {
    stopAlertWiring();
    await services.stop();
    await pool.stop();
    await workerLink?.link.close();
    await upstream.stop();
    await devnet?.stop();
    await bans.ledger?.stop();
    await persisted.close();
    await alerts.stop();
    throw err;
  }
  const stopStats = statsLogger(pool, Math.round((s.stats_interval_seconds as number) * 1000));
  for (const server of pool.servers) {
    const p = server.port;
    log.info(
      "Stratum on {address}: difficulty {difficulty} (min {min}, max {max}), vardiff " +
        "{vardiff}{edge}",
      {
        address: formatHostPort(p.hostname, p.port),
        edge: edgeText(server),
        host: p.hostname,
        port: p.port,
        difficulty: p.difficulty.toString(),
        min: p.minDifficulty.toString(),
        max: p.maxDifficulty.toString(),
        vardiff: p.vardiff ? `on (${p.targetShareSeconds} s/share)` : "off",
      },
    );
  }
  for (const server of pool.ucpServers) {
    log.info("UCP (legacy GPU miners) on {address}: share difficulty {difficulty}{edge}", {
      address: formatHostPort(server.port.hostname, server.port.port),
      edge: edgeText(server),
      host: server.port.hostname,
      port: server.port.port,
      difficulty: server.port.difficulty.toString(),
    });
  }
  log.info(
    `NodeCore ${devnet === undefined ? "" : "(embedded devnet) "}{endpoints}; instance id {id}, ` +
      "{range} extranonces per connection",
    { endpoints: endpoints.join(", "), id: s.instance_id, range: s.extranonce_range },
  );
  async function stopRest(): Promise<void> {
    stopStats();
    stopAlertWiring();
    await admin?.close();
    await services.stop();
    await pool.stop();
    await workerLink?.link.close();
    await upstream.stop();
    await devnet?.stop();
    await bans.ledger?.stop();
    await persisted.close();
    // Alerts raised while stopping get a moment to go out.
    await alerts.webhooks.drain(2000);
    await alerts.stop();
    log.info("stopped");
  }
  function stop(): Promise<void> {
    if (stopping === undefined) {
      log.info("stopping: no new connections, answering in-flight shares");
      stopping = (async () => {
        await pool.stop();
        await stopRest();
      })();
      stopping.finally(finished);
    } else void pool.stop(); // a stop during a hand-over: the rest go now
    return stopping;
  }
  return {
    pool,
    alerts,
    reloader,
    admin,
    reload: () => reloader.reload(),
    handOver,
    done,
    stop,
  };
}

/** The store's bans in force, and the ledger that keeps this pool's bans (none when turned off). */
async function loadBans(
  store: Store,
  config: { stratum: Record<string, unknown>; store: Record<string, unknown> },
): Promise<{ ledger?: BanLedger; inForce: Omit<BanInfo, "refused">[]; retry?: boolean }> {
  const { stratum } = config;
  const intervalMs = Math.round((stratum.ban_sync_seconds as number) * 1000);
  if (intervalMs <= 0) return { inForce: [] };
  const log = logger("server");
  const ledger = new BanLedger({
    store,
    instance: stratum.instance_id as number,
    intervalMs,
    // Rows stamped at the start of the slowest commit the store allows are still read.
    readOverlapMs: Math.max(15_000, (config.store.commit_timeout_seconds as number) * 1000 + 5000),
  });
  try {
    const inForce = await ledger.load();
    if (inForce.length > 0) {
      log.info("{n} IP bans in force taken from the store", { n: inForce.length });
    }
    return { ledger, inForce };
  } catch (err) {
    // The store opened: a failing read must not keep the pool down; a sync right after the
    // start takes them (the ledger reads everything when it has read nothing yet).
    log.warn("cannot read the IP bans in force from the store: {error}", {
      error: err instanceof Error ? err.message : String(err),
    });
    return { ledger, inForce: [], retry: true };
  }
}

/** Listen for a signal while the server runs; returns the removal. */
function onSignal(signal: Deno.Signal, handler: () => void): () => void {
  try {
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  } catch {
    return () => {}; // Not every platform has every signal.
  }
}

/** A port as the edge helpers see it. */
interface EdgePort {
  readonly certificate: Pool["servers"][number]["certificate"];
  reloadTls: Pool["servers"][number]["reloadTls"];
  readonly port: { hostname: string; port: number; proxyProtocol?: boolean };
}

function withEdge<T extends { connections?: object }>(
  options: T | undefined,
  edge: EdgeSettings,
): T | undefined {
  if (options === undefined) return undefined;
  return { ...options, connections: { ...options.connections, ...edge } };
}

/** `proxy_protocol` with nobody trusted would refuse every connection: a configuration error. */
function checkProxyProtocol(
  options: Omit<PoolOptions, "upstream">,
  api: Record<string, unknown>,
  edge: EdgeSettings,
): void {
  const keys = [
    ...options.ports.filter((p) => p.proxyProtocol).map(() => "stratum.listen"),
    ...(options.ucp?.ports ?? []).filter((p) => p.proxyProtocol).map(() => "ucp.listen"),
    ...(api.enabled === true && api.proxy_protocol === true ? ["api.proxy_protocol"] : []),
  ];
  if (!edge.trustedProxies.empty) {
    if (keys.length === 0) {
      logger("server").warn(
        "process.trusted_proxies is set but no port has proxy_protocol (stratum.listen, " +
          "ucp.listen, api.proxy_protocol): PROXY headers are not read anywhere",
      );
    }
    return;
  }
  if (keys.length === 0) return;
  throw new ConfigError(
    `Invalid configuration: ${keys[0]} asks for the PROXY protocol but ` +
      "process.trusted_proxies is empty (every connection would be refused); list the load " +
      "balancers' addresses there",
    "process.trusted_proxies",
  );
}

/** `; TLS, certificate … sha256 …, expires …` or `; PROXY protocol` for the start-up lines. */
function edgeText(server: EdgePort): string {
  const cert = server.certificate;
  if (cert !== undefined) {
    return `; TLS, certificate ${cert.subject} sha256 ${cert.sha256}, expires ` +
      cert.notAfter.toISOString();
  }
  return server.port.proxyProtocol ? "; PROXY protocol" : "";
}

/**
 * Re-read the certificate and key of every TLS port (Stratum and UCP): new connections get
 * the new pair, connected miners keep theirs; a pair that cannot be read or does not match is
 * refused with a log line and the old one stays. Called on every configuration reload (SIGHUP,
 * `vbkpool admin reload`).
 *
 * @param pool The running pool.
 * @returns How many ports now serve a new certificate.
 */
export async function reloadCertificates(pool: Pool): Promise<number> {
  const log = logger("server");
  const ports: EdgePort[] = [...pool.servers, ...pool.ucpServers];
  let changed = 0;
  for (const server of ports) {
    if (server.certificate === undefined) continue;
    const address = formatHostPort(server.port.hostname, server.port.port);
    try {
      const result = await server.reloadTls();
      if (!result.changed) {
        log.info("TLS certificate of {address} unchanged", { address });
        continue;
      }
      changed++;
      log.info(
        "TLS certificate of {address} reloaded: {subject} sha256 {sha256}, expires {expires}; " +
          "connected miners keep their sessions",
        {
          address,
          subject: result.material.subject,
          sha256: result.material.sha256,
          expires: result.material.notAfter.toISOString(),
        },
      );
    } catch (err) {
      log.error("TLS certificate of {address} not reloaded, the old one stays: {error}", {
        address,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return changed;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("server takes no arguments");
  const workers = ctx.config.values.process!.workers as number;
  // A worker never supervises, whatever its flags say.
  if (workers > 1 && Deno.env.get(WORKER_OF_ENV) === undefined) {
    return await superviseWorkers({
      values: ctx.config.values,
      workers,
      stopSignal: ctx.stopSignal,
    });
  }
  const log = logger("server");
  // Listening before the start: a SIGHUP during it must not kill the process (the default).
  let server: RunningServer | undefined;
  const early = { reload: false, handOver: false };
  const reload = () => {
    log.info("SIGHUP: reloading the configuration");
    if (server === undefined) early.reload = true;
    else void server.reload();
  };
  const handOver = () => {
    log.info("SIGUSR2: handing over to the next process");
    if (server === undefined) early.handOver = true;
    else server.handOver();
  };
  // SIGUSR1 would open Deno's V8 inspector on 127.0.0.1:9229 (code execution for any local
  // user): it logs a status line instead, and an inspector it opened is closed again.
  const status = () => {
    log.info("SIGUSR1: {connections} connections", { connections: server?.pool.sessionCount ?? 0 });
  };
  const removals = [
    onSignal("SIGHUP", reload),
    onSignal("SIGUSR2", handOver),
    onReportSignal(status, {
      onInspectorClosed: (url) => log.warn("closed the inspector SIGUSR1 opened ({url})", { url }),
    }),
  ];
  try {
    server = await startServer(ctx.config.values, {
      sources: ctx.config.sources,
      config: ctx.config,
      ...(ctx.reloadConfig === undefined ? {} : { load: ctx.reloadConfig }),
    });
    if (early.reload) void server.reload();
    if (early.handOver) server.handOver();
    const watch = new AbortController();
    const orphaned = supervisorGone(watch.signal).then(() => {
      log.error("the supervisor of this worker is gone: stopping");
      removeOrphanedLink();
    });
    await Promise.race([waitForStop(ctx.stopSignal), server.done, orphaned]);
    watch.abort();
    await server.stop();
  } finally {
    for (const remove of removals) remove();
  }
  return 0;
}

/** The `server` command. */
export const serverCommand: Command = {
  name: "server",
  summary: "run the pool: Stratum for miners, UCP to NodeCore (or an embedded devnet)",
  usage: ["server [--listen HOST:PORT]... [--nodecore HOST:PORT]..."],
  description: [
    "Listens for Stratum miners (VeriBlock dialect) on [stratum] listen (and, when [ucp] listen",
    "is set, for legacy UCP GPU miners such as NodeCore's CUDA miner) and gets work from the",
    "NodeCore endpoints in [nodecore] endpoints, with failover. With no endpoints it starts an",
    "embedded devnet (a private chain; blocks are worthless) and connects to it over UCP.",
    "Accepted shares, found blocks and worker difficulties are kept in [store] url (a SQLite",
    "file by default, or PostgreSQL); a share is answered true only once it is committed.",
    "[payouts] enabled = true also runs the payout service in-process (see vbkpool payouts).",
    "[api] listen (default 127.0.0.1:8080) serves the JSON API, a live dashboard and /metrics.",
    "Ctrl-C (SIGINT) or SIGTERM stops it cleanly. SIGHUP reloads the configuration (what can",
    "change live applies, the rest is named); SIGUSR2 hands the miners over to a newer vbkpool",
    "on the same ports ([process] reuse_port) and exits. [admin] enabled = true opens the",
    "operator's listener that vbkpool admin talks to.",
  ],
  options: [
    {
      flag: "listen",
      key: "stratum.listen",
      kind: "list",
      valueName: "HOST:PORT",
      doc: "a Stratum port, repeatable (stratum.listen)",
    },
    {
      flag: "ucp-listen",
      key: "ucp.listen",
      kind: "list",
      valueName: "HOST:PORT",
      doc: "a UCP port for legacy GPU miners, repeatable (ucp.listen)",
    },
    {
      flag: "nodecore",
      key: "nodecore.endpoints",
      kind: "list",
      valueName: "HOST:PORT",
      doc: "a NodeCore UCP endpoint, repeatable (nodecore.endpoints)",
    },
    {
      flag: "address",
      key: "nodecore.address",
      kind: "string",
      valueName: "VBK_ADDRESS",
      doc: "the pool's VBK address for NodeCore (nodecore.address)",
    },
    {
      flag: "api-listen",
      key: "api.listen",
      kind: "string",
      valueName: "HOST:PORT",
      doc: "the HTTP API, dashboard and metrics address (api.listen)",
    },
  ],
  sections: [
    "stratum",
    "admin",
    "ucp",
    "nodecore",
    "devnet",
    "store",
    "payouts",
    "wallet",
    "api",
    "process",
    "alerts",
  ],
  run,
};
