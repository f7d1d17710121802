/**
 * `[process] workers = N`: one `vbkpool server` process per worker on the same ports, so that
 * the pool uses N cores (one JavaScript thread writes every notify and checks every share of its
 * process) and N times the descriptor limit. The supervisor (the process the operator started)
 * runs no pool itself: it starts N copies of this program with the same arguments and
 * configuration, each with its own `[stratum] instance_id` (the configured one, then one less
 * each: apart extranonce spaces, leased in the store; the default is 31), `SO_REUSEPORT` on every port (the kernel spreads new connections
 * over them) and its own UCP link to NodeCore; only the first serves the API, the admin listener
 * and payouts, with pool-wide figures from the shared store. Signals go to every worker (SIGTERM
 * and SIGINT stop, SIGHUP reloads, SIGUSR2 hands over, SIGUSR1 reports); a worker that exits on
 * its own is started again with a backoff; a worker whose supervisor disappears stops itself.
 *
 * Upgrade by hand-over (`[process] reuse_port = true` set by the operator): a second supervisor
 * may start beside a running one on the same ports and store. Its workers start as successors of
 * the old workers' instance-id leases (as a single process does, see `server/instance_lease.ts`),
 * its first worker waits for the admin port until the old first worker exits, and the payer lock
 * in the store lets one payout service pay at a time. SIGUSR2 to the old supervisor (or `vbkpool
 * admin handover`, which the old first worker turns into it) makes every old worker stop
 * accepting, wait until all of them have (through the hub), ask its miners to reconnect over
 * `[process] handover_window_seconds` and exit; the old supervisor restarts none of them and
 * exits 0. Without `reuse_port` a second supervisor is refused while the ports are in use.
 *
 * Offences, bans and per-IP caps are pool-wide: the supervisor runs a {@linkcode WorkerHub} (a
 * Unix socket in a private directory) and each worker links to it ({@linkcode SupervisorLink})
 * to share its offences, its bans and its per-IP connection counts. Without the link a worker
 * runs on its own (logged).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, type ConfigValues } from "./config.ts";
import { logger } from "./log.ts";
import { onReportSignal } from "./_report_signal.ts";
import { storeOptions } from "./_store_schema.ts";
import { openStore } from "../store/mod.ts";
import type { Pool } from "../server/pool.ts";
import type { LinkBan } from "../protocol/worker_link.ts";
import { SupervisorLink } from "../server/supervisor_link.ts";
import { WorkerHub } from "../server/worker_hub.ts";

/** Environment variable naming the supervisor's pid in a worker (not a configuration key). */
export const WORKER_OF_ENV = "_VBKPOOL_WORKER_OF";
/** A worker's link to its supervisor: the socket path, the secret, the worker's index. */
const LINK_ENV = "_VBKPOOL_WORKER_LINK";
const TOKEN_ENV = "_VBKPOOL_WORKER_TOKEN";
const INDEX_ENV = "_VBKPOOL_WORKER_INDEX";
/**
 * Set ("1") in a worker whose operator set `[process] reuse_port`: it may start beside a worker
 * of a running pool (a hand-over). Workers always bind with SO_REUSEPORT, to share their ports;
 * that alone does not make a live holder of their instance id a process handing over.
 */
const HANDOVER_ENV = "_VBKPOOL_WORKER_HANDOVER";
/** Longest wait, in a hand-over, for the other workers to stop accepting before asking miners. */
const HANDOVER_BARRIER_MS = 3000;
/** Longest wait at a worker's start for the bans in force before its ports open. */
const LINK_READY_MS = 2000;

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before exiting restarts after the shortest backoff again. */
const HEALTHY_MS = 60_000;

/**
 * Check that the configuration can run as `workers` processes: fixed ports (a port 0 would give
 * each worker its own), a NodeCore to share (the embedded devnet is private to one process) and
 * instance ids within 0..31.
 *
 * @param values The loaded configuration.
 * @param workers The worker count (> 1).
 * @throws {ConfigError} Naming the key to change.
 */
export function checkWorkers(values: ConfigValues, workers: number): void {
  const ports = [
    ...(values.stratum!.listen as string[]).map((entry) => ["stratum.listen", entry]),
    ...((values.ucp?.listen as string[] | undefined) ?? []).map((entry) => ["ucp.listen", entry]),
  ];
  for (const [key, entry] of ports) {
    const address = entry!.trim().split(/\s+/)[0]!;
    if (/:0$/.test(address)) {
      throw new ConfigError(
        `Invalid configuration: process.workers = ${workers} needs fixed ports (the workers ` +
          `share them), but ${key} has ${address}`,
        key!,
      );
    }
  }
  if ((values.nodecore!.endpoints as string[]).length === 0) {
    throw new ConfigError(
      `Invalid configuration: process.workers = ${workers} needs a NodeCore in ` +
        "nodecore.endpoints (the embedded devnet is private to one process; run vbkpool devnet " +
        "beside the pool for a private chain)",
      "nodecore.endpoints",
    );
  }
  const base = values.stratum!.instance_id as number;
  if (base - (workers - 1) < 0) {
    throw new ConfigError(
      `Invalid configuration: process.workers = ${workers} uses instance ids ${base} down to ${
        base - workers + 1
      }, below 0; raise stratum.instance_id or lower process.workers`,
      "process.workers",
    );
  }
}

/** Keys each worker gets from its environment: a `--SECTION.KEY` flag would beat it. */
const WORKER_KEYS = [
  "process.workers",
  "process.reuse_port",
  "stratum.instance_id",
  "api.enabled",
  "api.pool_wide",
  "admin.enabled",
  "payouts.enabled",
  "payouts.track_blocks",
];

/**
 * The supervisor's arguments without the flags of the keys a worker's environment sets (both
 * `--KEY VALUE` and `--KEY=VALUE`); everything else is passed on as given.
 *
 * @example Usage
 * ```ts
 * import { workerArgs } from "./_server_workers.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   workerArgs(["server", "--process.workers", "4", "--stratum.instance_id=3", "--listen", "x"]),
 *   ["server", "--listen", "x"],
 * );
 * ```
 *
 * @param args The supervisor's command-line arguments.
 * @returns The workers' arguments.
 */
export function workerArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = arg.startsWith("--") ? arg.slice(2).split("=")[0]! : "";
    if (!WORKER_KEYS.includes(name)) {
      out.push(arg);
      continue;
    }
    if (!arg.includes("=")) i++; // its value follows
  }
  return out;
}

/** The command that runs this program again (from source, a bundle or the executable). */
export function selfCommand(): { command: string; args: string[] } {
  const main = Deno.mainModule;
  // A `deno compile` binary is the program itself: it takes vbkpool's arguments, not Deno's.
  if (main.includes("/deno-compile-")) {
    return { command: Deno.execPath(), args: workerArgs(Deno.args) };
  }
  const flags = ["run", "-A", "--unstable-net"];
  if (main.startsWith("file:")) {
    const config = join(dirname(fileURLToPath(main)), "deno.json");
    let source = false;
    try {
      source = Deno.statSync(config).isFile && main.endsWith(".ts");
    } catch {
      // No deno.json beside it: a bundle.
    }
    // A bundle carries everything; the executable's launcher runs it the same way.
    flags.push(...(source ? ["--config", config] : ["--no-config", "--no-lock"]));
  }
  return { command: Deno.execPath(), args: [...flags, main, ...workerArgs(Deno.args)] };
}

/** Options for {@linkcode superviseWorkers}. */
export interface SuperviseOptions {
  /** The loaded configuration (checked with {@linkcode checkWorkers}). */
  values: ConfigValues;
  /** Worker count. */
  workers: number;
  /** Aborted on SIGINT/SIGTERM. */
  stopSignal: AbortSignal;
  /** The command of a worker. @default {@linkcode selfCommand} */
  command?: { command: string; args: string[] };
}

interface Slot {
  index: number;
  instance: number;
  child?: Deno.ChildProcess;
  startedAt: number;
  backoffMs: number;
  /** Exits in a row, each before the worker had run {@linkcode QUICK_EXIT_MS}. */
  quickExits: number;
  restartTimer?: ReturnType<typeof setTimeout>;
}

/** A worker that exits sooner than this after its start did not get going. */
const QUICK_EXIT_MS = 10_000;
/** This many quick exits in a row: the worker cannot run; everything stops. */
const QUICK_EXITS_FATAL = 5;

/** The environment of worker `index`. */
function workerEnv(
  index: number,
  instance: number,
  options: { hub?: WorkerHub | undefined; handOver: boolean },
): Record<string, string> {
  const hub = options.hub;
  const env: Record<string, string> = {
    [WORKER_OF_ENV]: String(Deno.pid),
    [HANDOVER_ENV]: options.handOver ? "1" : "0",
    VBKPOOL_PROCESS_WORKERS: "1",
    VBKPOOL_PROCESS_REUSE_PORT: "true",
    VBKPOOL_STRATUM_INSTANCE_ID: String(instance),
  };
  if (hub !== undefined) {
    Object.assign(env, { [LINK_ENV]: hub.path, [TOKEN_ENV]: hub.token, [INDEX_ENV]: `${index}` });
  }
  if (index === 0) {
    // Its API shows every worker's miners (they share the store).
    env.VBKPOOL_API_POOL_WIDE = "on";
  } else {
    Object.assign(env, {
      VBKPOOL_API_ENABLED: "false",
      VBKPOOL_ADMIN_ENABLED: "false",
      VBKPOOL_PAYOUTS_ENABLED: "false",
      VBKPOOL_PAYOUTS_TRACK_BLOCKS: "false",
      // One pruner is enough.
      VBKPOOL_STORE_PRUNE_INTERVAL_MINUTES: "0",
    });
  }
  return env;
}

/**
 * The first of the pool's ports (`stratum.listen`, `ucp.listen`) that another process holds
 * (another vbkpool, a running pool when this one is its next version), as `[key, address]`;
 * undefined when every one is free.
 */
function portInUse(values: ConfigValues): [string, string] | undefined {
  const entries = [
    ...(values.stratum!.listen as string[]).map((entry) => ["stratum.listen", entry]),
    ...((values.ucp?.listen as string[] | undefined) ?? []).map((entry) => ["ucp.listen", entry]),
  ];
  for (const [key, entry] of entries) {
    const address = entry!.trim().split(/\s+/)[0]!.replace(/^[a-z+]+:\/\//, "");
    const colon = address.lastIndexOf(":");
    const hostname = address.slice(0, colon).replace(/^\[|\]$/g, "") || "0.0.0.0";
    const port = Number(address.slice(colon + 1));
    try {
      // Without SO_REUSEPORT: a port a running pool holds (with it) is refused here.
      Deno.listen({ hostname, port }).close();
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse)) continue; // the workers will say what is wrong
      return [key!, address];
    }
  }
  return undefined;
}

/**
 * Whether this server may start beside a running one and take over from it (a hand-over):
 * `[process] reuse_port` set by the operator, in a process of its own or in a worker whose
 * supervisor had it set (a worker always binds with SO_REUSEPORT, which alone does not say so).
 *
 * @param values The loaded configuration (a worker's, with its environment).
 * @returns True when a live holder of the instance id on this host is a process handing over,
 * and a held admin port is waited for.
 */
export function handOverAllowed(values: ConfigValues): boolean {
  if (values.process?.reuse_port !== true) return false;
  return Deno.env.get(WORKER_OF_ENV) === undefined || Deno.env.get(HANDOVER_ENV) === "1";
}

/**
 * Run the pool as `workers` processes until a stop: start them, pass signals on, restart one that
 * exits on its own, and wait for every one to finish after a stop or a hand-over.
 *
 * @param options Configuration, count, stop signal.
 * @returns The exit status: 0 when every worker stopped cleanly.
 */
export async function superviseWorkers(options: SuperviseOptions): Promise<number> {
  const log = logger("server");
  const { values, workers } = options;
  checkWorkers(values, workers);
  const handOver = values.process?.reuse_port === true;
  const taken = portInUse(values);
  if (taken !== undefined && !handOver) {
    // SO_REUSEPORT would otherwise let a second supervisor started by mistake share the ports
    // (and the instance ids) of the first without an error.
    throw new ConfigError(
      `Cannot start: ${taken[0]} ${taken[1]} is in use by another process (another vbkpool ` +
        "with these ports?); with process.workers the pool does not share its ports with a " +
        "running one: stop it first, or set process.reuse_port = true in both to upgrade by " +
        "hand-over (see README)",
      taken[0],
    );
  }
  if (taken !== undefined) {
    log.warn(
      "{key} {address} is in use: starting beside a running pool on the same ports and store " +
        "(a hand-over, process.reuse_port = true); send it SIGUSR2 (or vbkpool admin handover) " +
        "once these workers are ready, and its miners come here",
      { key: taken[0], address: taken[1] },
    );
  }
  const base = values.stratum!.instance_id as number;
  const { command, args } = options.command ?? selfCommand();
  let stopping = false;
  let failed = false;
  const slots: Slot[] = Array.from({ length: workers }, (_, index) => ({
    index,
    instance: base - index,
    startedAt: 0,
    backoffMs: RESTART_MIN_MS,
    quickExits: 0,
  }));
  const exits = new Set<Promise<void>>();
  let hub: WorkerHub | undefined;
  // Wakes the wait below when a worker starts or a stop begins.
  let wake = () => {};
  const changed = () => new Promise<void>((resolve) => wake = resolve);

  const forward = (signal: Deno.Signal) => {
    for (const slot of slots) {
      try {
        slot.child?.kill(signal);
      } catch {
        // Exited meanwhile.
      }
    }
  };
  const stopAll = (signal: Deno.Signal) => {
    stopping = true;
    for (const slot of slots) clearTimeout(slot.restartTimer);
    forward(signal);
    wake();
  };
  const retry = (slot: Slot) => {
    slot.restartTimer = setTimeout(() => start(slot), slot.backoffMs);
    slot.backoffMs = Math.min(RESTART_MAX_MS, slot.backoffMs * 2);
  };
  const start = (slot: Slot) => {
    slot.restartTimer = undefined;
    if (stopping) return;
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args,
        env: workerEnv(slot.index, slot.instance, { hub, handOver }),
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).spawn();
    } catch (err) {
      // The program was removed, or no process can be made now (pids.max, memory): try again.
      log.error("cannot start worker {index}: {error}; trying again in {seconds} s", {
        index: slot.index,
        error: err instanceof Error ? err.message : String(err),
        seconds: slot.backoffMs / 1000,
      });
      retry(slot);
      return;
    }
    slot.child = child;
    slot.startedAt = Date.now();
    log.info("worker {index} started (pid {pid}, instance id {instance})", {
      index: slot.index,
      pid: child.pid,
      instance: slot.instance,
    });
    const exit: Promise<void> = child.status.then((status) => {
      exits.delete(exit);
      slot.child = undefined;
      if (stopping) {
        if (status.code !== 0) failed = true;
        return;
      }
      const ran = Date.now() - slot.startedAt;
      if (ran > HEALTHY_MS) slot.backoffMs = RESTART_MIN_MS;
      slot.quickExits = ran < QUICK_EXIT_MS ? slot.quickExits + 1 : 0;
      const what = {
        index: slot.index,
        pid: child.pid,
        instance: slot.instance,
        status: status.signal ?? `code ${status.code}`,
        seconds: slot.backoffMs / 1000,
        n: slot.quickExits,
      };
      // Exit code 2 is a configuration or usage error: starting again cannot help.
      if (status.code === 2 || slot.quickExits >= QUICK_EXITS_FATAL) {
        log.error(
          "worker {index} (pid {pid}, instance id {instance}) exited with {status} " +
            "({n} quick exits in a row): it cannot run; stopping every worker (see its log above)",
          what,
        );
        failed = true;
        stopAll("SIGTERM");
        return;
      }
      // On its own: a crash, or a hand-over asked of it directly. Start it again.
      log.error(
        "worker {index} (pid {pid}, instance id {instance}) exited with {status}: starting it " +
          "again in {seconds} s",
        what,
      );
      retry(slot);
    });
    exits.add(exit);
    wake();
  };

  // Listening before anything slow: SIGHUP's default would kill the supervisor, SIGUSR1's would
  // open an inspector.
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGHUP", () => {
      log.info("SIGHUP: every worker reloads its configuration");
      forward("SIGHUP");
    }],
    ["SIGUSR2", () => {
      log.info(
        "SIGUSR2: handing over: every worker stops accepting, asks its miners to reconnect{to} " +
          "over process.handover_window_seconds and exits (none is started again), then this " +
          "supervisor exits",
        {
          to: handOver
            ? " (to the pool started beside this one on the same ports)"
            : " (process.reuse_port is off: no pool can run beside this one, so they find " +
              "one only once it is started again)",
        },
      );
      stopAll("SIGUSR2");
    }],
  ];
  const removals = handlers.map(([signal, handler]) => {
    try {
      Deno.addSignalListener(signal, handler);
      return () => Deno.removeSignalListener(signal, handler);
    } catch {
      return () => {};
    }
  });
  removals.push(onReportSignal(() => forward("SIGUSR1"), {
    onInspectorClosed: (url) => log.warn("closed the inspector SIGUSR1 opened ({url})", { url }),
  }));
  const onStop = () => {
    log.info("stopping: every worker answers its in-flight shares and exits");
    stopAll("SIGTERM");
  };
  options.stopSignal.addEventListener("abort", onStop, { once: true });
  try {
    // The schema is created or upgraded once, here, before workers race to do it (and a store
    // that cannot be opened stops the start with its own message).
    const { url, options: openOptions } = storeOptions(values.store!);
    await (await openStore(url, openOptions)).close();
    if (options.stopSignal.aborted || stopping) return 0;
    hub = await startHub(workers);
    log.info("running {workers} workers on the same ports (instance ids {first} down to {last})", {
      workers,
      first: base,
      last: base - workers + 1,
    });
    for (const slot of slots) start(slot);
    // Until a stop and every worker's exit (restarts add new exits meanwhile).
    while (!stopping || exits.size > 0) await Promise.race([changed(), ...exits]);
  } finally {
    options.stopSignal.removeEventListener("abort", onStop);
    for (const remove of removals) remove();
    for (const slot of slots) clearTimeout(slot.restartTimer);
    await hub?.close();
  }
  log.info("stopped: every worker exited");
  return failed ? 1 : 0;
}

/** The hub of the worker links, or none (logged: then bans and caps are per worker). */
async function startHub(workers: number): Promise<WorkerHub | undefined> {
  const log = logger("server");
  try {
    const hub = await WorkerHub.listen({ workers });
    log.info("workers share offences, bans and per-IP connection counts through {path}", {
      path: hub.path,
    });
    return hub;
  } catch (err) {
    log.error(
      "cannot open the workers' link socket ({error}): offences, bans and per-IP caps are per " +
        "worker",
      { error: err instanceof Error ? err.message : String(err) },
    );
    return undefined;
  }
}

/** A worker's link to its supervisor, with the bans it relays before the pool exists. */
export interface WorkerLink {
  /** The link (the pool's `peers`). */
  link: SupervisorLink;
  /**
   * Hand relayed offences and bans to the pool from now on (and the bans that came before it
   * existed).
   *
   * @param pool The worker's pool, started with `peers: link`.
   */
  attach(pool: Pool): void;
  /**
   * A hand-over (the pool's `beforeAsking`): wait until every worker stopped accepting (at most
   * 3 s, logged when the wait runs out), so that no miner asked to reconnect reaches another
   * worker of this pool.
   *
   * @param signal Ends the wait (a stop came).
   */
  handOverReady(signal: AbortSignal): Promise<void>;
}

/**
 * In a worker: connect to the supervisor's hub and wait (at most 2 s) for the bans in force, so
 * that they apply from the first connection; undefined outside a worker or without a hub.
 *
 * @returns The link, or undefined.
 */
export async function startWorkerLink(): Promise<WorkerLink | undefined> {
  const path = Deno.env.get(LINK_ENV);
  const token = Deno.env.get(TOKEN_ENV);
  const worker = Number(Deno.env.get(INDEX_ENV));
  if (path === undefined || token === undefined || !Number.isInteger(worker)) return undefined;
  let pool: Pool | undefined;
  // Bans relayed before the pool exists (the answer to the first sync), by IP.
  const early = new Map<string, LinkBan>();
  const link = new SupervisorLink({
    path,
    token,
    worker,
    onBan: (ban) => pool === undefined ? early.set(ban.ip, ban) : pool.adoptBan(ban),
    onUnban: (ip) => pool === undefined ? early.delete(ip) : pool.liftBan(ip),
    // Dropped before the pool exists: the workers that did count it still ban at the threshold.
    onOffence: (offence) => pool?.adoptOffence(offence),
  });
  link.start();
  if (!await link.ready(LINK_READY_MS)) {
    logger("server").warn(
      "no answer from the supervisor within {seconds} s: this worker starts with its own bans " +
        "and per-IP counts; they become pool-wide once the link is up",
      { seconds: LINK_READY_MS / 1000 },
    );
  }
  return {
    link,
    attach(target: Pool) {
      pool = target;
      for (const ban of early.values()) target.adoptBan(ban);
      early.clear();
    },
    async handOverReady(signal: AbortSignal) {
      if (await link.handOverReady(HANDOVER_BARRIER_MS, signal) || signal.aborted) return;
      logger("server").warn(
        "hand-over: not every worker said within {seconds} s that it stopped accepting (a " +
          "SIGUSR2 sent to this worker alone, or the link is down): asking the miners now; one " +
          "may reconnect to another worker of this pool and be handed over again",
        { seconds: HANDOVER_BARRIER_MS / 1000 },
      );
    },
  };
}

/**
 * In a worker whose supervisor was killed: remove the directory of its link socket, which the
 * supervisor had no chance to remove (any worker may; the others find it gone).
 */
export function removeOrphanedLink(): void {
  const path = Deno.env.get(LINK_ENV);
  if (path === undefined || basename(path) !== "link.sock") return;
  const dir = dirname(path);
  if (!basename(dir).startsWith("vbkpool-workers-")) return;
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // Gone already.
  }
}

/**
 * In a worker: the supervisor's pid (reload and hand-over are asked of it, so that every worker
 * takes part); undefined in a process of its own.
 *
 * @returns The pid, or undefined.
 */
export function supervisorPid(): number | undefined {
  const pid = Number(Deno.env.get(WORKER_OF_ENV));
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * In a worker: resolves when its supervisor is gone (it was killed: its workers must not run on
 * unsupervised). Polls the parent pid once a second; never resolves outside a worker.
 *
 * @param signal Stops the watch.
 * @returns Resolves once the parent changed.
 */
export function supervisorGone(signal: AbortSignal): Promise<void> {
  const expected = Deno.env.get(WORKER_OF_ENV);
  if (expected === undefined) return new Promise(() => {});
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      // Deno.ppid follows a re-parenting (to init or a subreaper) when the supervisor dies.
      if (Deno.ppid !== Number(expected)) {
        clearInterval(timer);
        resolve();
      }
    }, 1000);
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  });
}
