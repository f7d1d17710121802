/**
 * End-to-end stack for the payout service: the devnet (real vBlake chain over UCP, its wallet
 * ledger and NodeCore HTTP API on loopback), the pool wired to a SQLite or PostgreSQL store
 * exactly as `vbkpool server` wires it (`openServerStore`), real `vbkpool mine`, `vbkpool
 * payouts` and `vbkpool audit` subprocesses.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { openServerStore, type ServerStore } from "../../cli/_server_store.ts";
import { STORE_SCHEMA } from "../../cli/_store_schema.ts";
import { type Devnet, type DevnetOptions, startDevnet } from "../../devnet/mod.ts";
import { DEFAULT_PORT_DIFFICULTY, Pool } from "../../server/mod.ts";
import { Upstream } from "../../server/upstream.ts";
import { spawnVbkpool } from "../_process.ts";
import { freshPostgresDatabase } from "../store/_backends.ts";

/** The pool's address (MINING_AUTH; the devnet's coinbases pay it; payments come from it). */
export const POOL = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
/** `main.ts`. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** A devnet plus a store-backed pool. */
export interface PayoutPoolStack {
  devnet: Devnet;
  persisted: ServerStore;
  pool: Pool;
  upstream: Upstream;
  /** `stratum+tcp://127.0.0.1:PORT`. */
  url: string;
  /** The SOLO port's URL, when one was asked for. */
  soloUrl?: string;
  /** The store: a SQLite file, or a fresh PostgreSQL database's URL. */
  storeUrl: string;
  /** The devnet's NodeCore HTTP API. */
  walletUrl: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Start the devnet and a pool whose shares and blocks go to a SQLite or PostgreSQL store.
 *
 * @param devnetOptions Devnet settings (API on a free port).
 * @param difficulty Fixed share difficulty.
 * @param options The store's backend (PostgreSQL: a fresh database on the test server), and
 *   whether a second, SOLO, port is wanted.
 * @returns The stack.
 */
export async function startPayoutPool(
  devnetOptions: DevnetOptions,
  difficulty: bigint,
  options: { backend?: "sqlite" | "postgres"; soloPort?: boolean } = {},
): Promise<PayoutPoolStack> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-e2e-payouts-" });
  const pg = options.backend === "postgres" ? await freshPostgresDatabase() : undefined;
  const storeUrl = pg?.url ?? `${dir}/pool.sqlite`;
  const devnet = await startDevnet({ port: 0, rpcPort: 0, mempoolIntervalMs: 0, ...devnetOptions });
  const values: Record<string, unknown> = Object.fromEntries(
    Object.entries(STORE_SCHEMA).map(([k, spec]) => [k, spec.default]),
  );
  values.url = storeUrl;
  values.prune_interval_minutes = 0;
  const persisted = await openServerStore(values, { instance: 0, rangeSize: 1024n });
  const ref: { pool?: Pool } = {};
  const upstream = new Upstream({
    endpoints: [`127.0.0.1:${devnet.addr.port}`],
    address: POOL,
    backoffMinMs: 50,
    backoffMaxMs: 500,
    onTemplate: (t) => ref.pool?.addTemplate(t),
    onReset: () => ref.pool?.reset(),
  });
  const port = {
    ...DEFAULT_PORT_DIFFICULTY,
    hostname: "127.0.0.1",
    port: 0,
    difficulty,
    minDifficulty: 1n,
    vardiff: false,
  };
  const pool = Pool.start({
    ports: options.soloPort === true ? [port, { ...port, solo: true }] : [port],
    upstream,
    recorder: persisted.recorder,
    difficulties: persisted.difficulties,
    extranonce: persisted.extranonce,
    blocks: persisted.blocks,
    vardiffTickMs: 0,
  });
  ref.pool = pool;
  upstream.start();
  return {
    devnet,
    persisted,
    pool,
    upstream,
    url: `stratum+tcp://127.0.0.1:${pool.servers[0]!.addr.port}`,
    ...(options.soloPort === true
      ? { soloUrl: `stratum+tcp://127.0.0.1:${pool.servers[1]!.addr.port}` }
      : {}),
    storeUrl,
    walletUrl: `http://127.0.0.1:${devnet.rpcAddr!.port}/api`,
    dir,
    async stop() {
      await pool.stop({ graceMs: 1000 });
      await upstream.stop();
      await persisted.close();
      await devnet.stop();
      await pg?.drop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A `vbkpool mine` subprocess. */
export interface MinerProcess {
  /** Stop it (SIGINT) and wait. */
  stop(): Promise<void>;
  /** Its stderr so far. */
  log(): string;
}

/**
 * Start `vbkpool mine` with one thread.
 *
 * @param url Pool URL.
 * @param user `ADDRESS.worker`.
 * @returns The process.
 */
export function startMiner(url: string, user: string): MinerProcess {
  const cwd = Deno.makeTempDirSync({ prefix: "vbkpool-e2e-miner-" });
  const child = spawnVbkpool(["mine", "--pool", url, "--user", user, "--threads", "1"], {
    cwd,
    env: { VBKPOOL_MINE_QUIET: "true" },
  });
  return {
    async stop() {
      await child.stop("SIGINT");
      await Deno.remove(cwd, { recursive: true }).catch(() => {});
    },
    log: () => child.err,
  };
}

/** Several `vbkpool mine` subprocesses, stopped together once. */
export interface MinerGroup {
  /** The miners, in the order given. */
  miners: MinerProcess[];
  /** Stop them all (SIGINT) and wait; later calls do nothing. */
  stop(): Promise<void>;
}

/**
 * Start one `vbkpool mine` (one thread) per `[url, user]` pair.
 *
 * @param pairs Pool URL and `ADDRESS.worker` of each miner.
 * @returns The group.
 */
export function startMiners(pairs: readonly (readonly [string, string])[]): MinerGroup {
  const miners = pairs.map(([url, user]) => startMiner(url, user));
  let stopped: Promise<void> | undefined;
  return {
    miners,
    stop: () => stopped ??= Promise.all(miners.map((m) => m.stop())).then(() => {}),
  };
}

/** The result of a `vbkpool payouts` run. */
export interface PayoutsRun {
  code: number;
  signal: Deno.Signal | null;
  out: string;
  err: string;
}

/**
 * Run `vbkpool payouts --once` to completion.
 *
 * @param env Configuration through environment variables.
 * @returns Exit status and output.
 */
export async function runPayouts(env: Record<string, string>): Promise<PayoutsRun> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "payouts", "--once"],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, signal: r.signal, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** The result of a `vbkpool audit` run. */
export interface AuditRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Run `vbkpool audit` (a subprocess) to completion.
 *
 * @param env Configuration through environment variables (the store, the pool address).
 * @param args More arguments, e.g. `--nodecore URL`.
 * @param cwd Working directory.
 * @returns Exit status and output.
 */
export async function runAudit(
  env: Record<string, string>,
  args: string[] = [],
  cwd?: string,
): Promise<AuditRun> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "audit", ...args],
    env: { NO_COLOR: "1", ...env },
    ...(cwd === undefined ? {} : { cwd }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}
