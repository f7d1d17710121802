/**
 * `deno task bench:pool --realistic`: the pool under a load that looks like production (the
 * stress profile of `bench/pool_speed.ts` stays as it is).
 *
 * - Miners: spread over thousands of payout addresses with several workers each
 *   (`ADDRESS.rigN`), and over many loopback source addresses (127.1.0.1, 127.1.0.2, …, at most
 *   `--miners-per-source` each, connected through node:net with `localAddress`), so the pool
 *   keeps its default per-IP cap (256), bans and flood limits, with `exempt_loopback = false`.
 * - Vardiff on with its default target (10 s per share). Each simulated miner has a hashrate
 *   (difficulty-1 hashes/s, uniform in 0.25–1.75 × `--hashrate`) and finds REAL shares at the
 *   difficulty the pool announced (the wasm kernel scans nonces: about `difficulty` hashes per
 *   share), at the times a miner of that hashrate would (a Poisson process). The pool's start
 *   difficulty is 10 × `--hashrate`, its minimum 1, so vardiff retargets the miners away from
 *   the mean and sends `mining.set_difficulty`. The pool's cost per share does not depend on
 *   the difficulty's size, so small difficulties keep the generator's hashing cheap.
 * - New-block path: during the vardiff step the devnet's rival finds `--rounds` blocks (a new
 *   tip → a template with clean_jobs); each round is timed from the devnet accepting the block
 *   to each miner reading the clean `mining.notify`. A round in which a miner's share was also
 *   a block is dropped (two templates at once).
 * - Stress step: the same miners (addresses, workers, sources) reconnect with `d=1` (a fixed
 *   difficulty) and submit at fixed aggregate rates (`--stress-rates`, open loop) while the
 *   devnet sends a mempool update every `--job-interval` (5; fractions allowed) seconds (the
 *   pool paces them to its `mempool_update_seconds`, set by `--mempool-update-seconds`) and
 *   finds a block every `--block-interval` seconds (30, VeriBlock's block time; 7 with
 *   `--quick`).
 * - In flight: the first `--inflight-miners` (5,000; 1,000 with `--quick`) miners send their
 *   submits in bursts of `--inflight-depth` (4: four unanswered at once), open loop at
 *   `--inflight-rate` shares/s (5,000; 2,000 with `--quick`). A closed loop (a new submit per
 *   reply) cannot meet a 50 ms p99 with 20,000 in flight: by Little's law it would need
 *   400,000 shares/s.
 * - Every submit is accounted for: a submit due at a miner the pool closed counts as failed
 *   ("closed"), one never answered as missing; the closed miners are reported.
 * - `--store postgres`: a PostgreSQL database (a fresh database on VBKPOOL_TEST_POSTGRES_URL
 *   when set, else a throwaway server made with initdb, as the postgres user when root).
 * - Durability: the pool is killed with SIGKILL and the stored shares counted.
 * - `--pool-v8-flags`: `DENO_V8_FLAGS` for the pool only (default: none, V8's defaults, as
 *   `_tools/launcher.sh` and `deno task start` run it).
 * - `--metrics`: the pool serves its API (so it also keeps its metrics up to date, as in
 *   production) and each step also reports the pool's own histograms, read from `/metrics`
 *   before and after: submit from arrival to durable record, event-loop delay, store commits
 *   (bucket bounds, so "p99 ≤ 50 ms"); with `--workers` they are the API-serving worker's
 *   alone. Without it the API is off, as before.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { startDevnet } from "../devnet/mod.ts";
import {
  cpuSeconds,
  fmt,
  freePort,
  Generator,
  lines,
  loadAverage,
  machine,
  openFileLimit,
  quantile,
  rssKiB,
  sleep,
  table,
  threadCpu,
  threadPercent,
} from "./_pool_common.ts";
import { histogramDelta, type HistogramScrape, scrapeHistograms } from "./_histogram_scrape.ts";

const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
/** What `_tools/launcher.sh` and `deno task start` give the pool: V8's defaults. */
const LAUNCHER_V8_FLAGS = "";
/** The pool's histograms `--metrics` reports per step. */
const POOL_HISTOGRAMS = {
  submit: "vbkpool_submit_duration_seconds",
  lag: "vbkpool_event_loop_lag_seconds",
  commit: "vbkpool_store_batch_duration_seconds",
};

/** The pool's own view of a step from two scrapes, added to the step's figures and printed. */
function poolSide(
  before: HistogramScrape | undefined,
  after: HistogramScrape | undefined,
): Record<string, unknown> | undefined {
  if (before === undefined || after === undefined) return undefined;
  const out: Record<string, unknown> = {};
  const parts: string[] = [];
  for (const [key, name] of Object.entries(POOL_HISTOGRAMS)) {
    const d = histogramDelta(before, after, name);
    if (d === undefined) continue;
    out[key] = d;
    parts.push(
      `${key} (${d.count}) p50 ≤ ${d.p50LeMs} ms, p99 ≤ ${d.p99LeMs} ms, max ≤ ${d.maxLeMs} ms`,
    );
  }
  console.log(`  pool's own histograms: ${parts.join("; ")}`);
  return out;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** Settings of the realistic profile. */
interface RealisticOptions {
  quick: boolean;
  miners: number;
  workersPerAddress: number;
  minersPerSource: number;
  hashrate: number;
  rounds: number;
  stepSeconds: number;
  warmupSeconds: number;
  stressRates: number[];
  stressSeconds: number;
  jobInterval: number;
  /** The pool's `[stratum] mempool_update_seconds`; undefined = its default. */
  mempoolUpdateSeconds: number | undefined;
  roundGapMs: number;
  blockInterval: number;
  inflightMiners: number;
  inflightDepth: number;
  inflightRate: number;
  p99LimitMs: number;
  networkDifficulty: bigint;
  store: "sqlite" | "postgres";
  json: string;
  profile: string | undefined;
  poolLog: string | undefined;
  /** DENO_V8_FLAGS for the pool process (and its workers) only; "" = V8's defaults. */
  poolV8Flags: string;
  /** Serve the pool's metrics and report its own latencies per step. */
  metrics: boolean;
  /** `[process] workers` of the pool (N processes on one port). */
  workers: number;
}

function parseRealistic(args: string[]): RealisticOptions {
  const { values } = parseArgs({
    args,
    options: {
      realistic: { type: "boolean", default: true },
      quick: { type: "boolean", default: false },
      miners: { type: "string" },
      "workers-per-address": { type: "string", default: "4" },
      "miners-per-source": { type: "string", default: "100" },
      hashrate: { type: "string", default: "16" },
      rounds: { type: "string" },
      "step-seconds": { type: "string" },
      "warmup-seconds": { type: "string" },
      "stress-rates": { type: "string" },
      "stress-seconds": { type: "string" },
      "job-interval": { type: "string", default: "5" },
      "mempool-update-seconds": { type: "string" },
      "round-gap-ms": { type: "string", default: "1000" },
      "block-interval": { type: "string" },
      "inflight-miners": { type: "string" },
      "inflight-depth": { type: "string", default: "4" },
      "inflight-rate": { type: "string" },
      "p99-limit-ms": { type: "string", default: "50" },
      "network-difficulty": { type: "string", default: "1000000" },
      store: { type: "string", default: "sqlite" },
      json: { type: "string" },
      profile: { type: "string" },
      "pool-log": { type: "string" },
      "pool-v8-flags": { type: "string", default: LAUNCHER_V8_FLAGS },
      metrics: { type: "boolean", default: false },
      workers: { type: "string", default: "1" },
    },
  });
  const quick = values.quick!;
  const num = (text: string | undefined, def: number, name: string): number => {
    if (text === undefined) return def;
    const n = Number(text);
    if (!(n > 0) || !Number.isFinite(n)) {
      throw new RangeError(`Cannot parse arguments: --${name} ${text} is not a positive number`);
    }
    return n;
  };
  const store = values.store!;
  if (store !== "sqlite" && store !== "postgres") {
    throw new RangeError(`Cannot parse arguments: --store ${store} is not sqlite or postgres`);
  }
  const miners = Math.round(num(values.miners, quick ? 1000 : 10_000, "miners"));
  return {
    quick,
    miners,
    workersPerAddress: Math.round(num(values["workers-per-address"], 4, "workers-per-address")),
    minersPerSource: Math.min(
      256,
      Math.round(num(values["miners-per-source"], 100, "miners-per-source")),
    ),
    hashrate: num(values.hashrate, 16, "hashrate"),
    rounds: Math.round(num(values.rounds, quick ? 30 : 100, "rounds")),
    stepSeconds: num(values["step-seconds"], quick ? 15 : 30, "step-seconds"),
    warmupSeconds: num(values["warmup-seconds"], quick ? 10 : 20, "warmup-seconds"),
    stressRates: (values["stress-rates"] ?? (quick ? "2000,5000" : "5000,10000,15000"))
      .split(",").map((t) => num(t, 0, "stress-rates")),
    stressSeconds: num(values["stress-seconds"], quick ? 10 : 30, "stress-seconds"),
    jobInterval: num(values["job-interval"], 5, "job-interval"),
    mempoolUpdateSeconds: values["mempool-update-seconds"] === undefined
      ? undefined
      : Number(values["mempool-update-seconds"]),
    roundGapMs: num(values["round-gap-ms"], 1000, "round-gap-ms"),
    blockInterval: num(values["block-interval"], quick ? 7 : 30, "block-interval"),
    inflightMiners: Math.round(
      num(values["inflight-miners"], quick ? 1000 : 5000, "inflight-miners"),
    ),
    inflightDepth: Math.round(num(values["inflight-depth"], 4, "inflight-depth")),
    inflightRate: num(values["inflight-rate"], quick ? 2000 : 5000, "inflight-rate"),
    p99LimitMs: num(values["p99-limit-ms"], 50, "p99-limit-ms"),
    networkDifficulty: BigInt(values["network-difficulty"]!),
    store,
    json: values.json ??
      new URL(
        `./results/pool_realistic${store === "postgres" ? "_postgres" : ""}.json`,
        import.meta.url,
      )
        .pathname,
    profile: values.profile,
    poolLog: values["pool-log"],
    poolV8Flags: values["pool-v8-flags"]!,
    metrics: values.metrics!,
    workers: Math.round(num(values.workers, 1, "workers")),
  };
}

export function poolConfig(
  o: {
    devnetPort: number;
    storeUrl: string;
    startDifficulty: number;
    workers: number;
    /** Serve the API (metrics) on this loopback port; absent = no API. */
    apiPort?: number;
    /** `[stratum] mempool_update_seconds`; absent = the default. */
    mempoolUpdateSeconds?: number;
  },
): string {
  // Workers share one fixed port (SO_REUSEPORT); one process takes any free port.
  const port = o.workers > 1 ? freePort() : 0;
  return `# bench:pool --realistic — written by bench/_pool_realistic.ts
[log]
level = "info"

[nodecore]
endpoints = ["127.0.0.1:${o.devnetPort}"]
address = "${POOL_ADDRESS}"

[process]
workers = ${o.workers}

[stratum]
listen = ["127.0.0.1:${port}"]
# Vardiff on with its default target (10 s); start near the miners' mean hashrate × 10 and
# allow difficulty 1 (the stress step's d=1). Per-IP cap, bans and flood limits at their
# defaults, loopback included.
difficulty = ${o.startDifficulty}
min_difficulty = 1
exempt_loopback = false
stats_interval_seconds = 0
${
    o.mempoolUpdateSeconds === undefined
      ? ""
      : `mempool_update_seconds = ${o.mempoolUpdateSeconds}\n`
  }
[store]
url = "${o.storeUrl}"

[api]
${o.apiPort === undefined ? "enabled = false" : `listen = "127.0.0.1:${o.apiPort}"`}
`;
}

/** A PostgreSQL for the run: its URL and how to clean up. */
interface BenchPostgres {
  url: string;
  describe: string;
  stop(): Promise<void>;
}

async function run(cmd: string[], asPostgres: boolean): Promise<string> {
  const root = Deno.uid() === 0;
  const [exe, ...args] = asPostgres && root ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
  const out = await new Deno.Command(exe!, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${text}`);
  return text;
}

function pgBin(): string {
  try {
    const dirs = [...Deno.readDirSync("/usr/lib/postgresql")].map((d) => d.name)
      .sort((a, b) => Number(a) - Number(b));
    if (dirs.length > 0) return `/usr/lib/postgresql/${dirs.at(-1)}/bin/`;
  } catch {
    // Not a Debian layout: use PATH.
  }
  return "";
}

async function startPostgres(dir: string): Promise<BenchPostgres> {
  const shared = Deno.env.get("VBKPOOL_TEST_POSTGRES_URL");
  if (shared !== undefined && shared !== "") {
    const name = `vbkpool_bench_${Deno.pid}`;
    const admin = postgres(shared, { max: 1, onnotice: () => {} });
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name}`);
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(shared);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      describe: `database ${name} on VBKPOOL_TEST_POSTGRES_URL (${url.host})`,
      stop: async () => {
        const sql = postgres(shared, { max: 1, onnotice: () => {} });
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await sql.end();
      },
    };
  }
  const bin = pgBin();
  const data = `${dir}/pg`;
  await Deno.mkdir(data);
  if (Deno.uid() === 0) await run(["chown", "postgres", dir, data], false);
  await run([`${bin}initdb`, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], true);
  const port = freePort();
  await run([
    `${bin}pg_ctl`,
    "-D",
    data,
    "-l",
    `${dir}/pg.log`,
    "-w",
    "-o",
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`,
    "start",
  ], true);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    describe: `a PostgreSQL started for the run (initdb, port ${port})`,
    stop: async () => {
      await run([`${bin}pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"], true);
    },
  };
}

async function countShares(storeUrl: string): Promise<number> {
  if (storeUrl.startsWith("postgres")) {
    const sql = postgres(storeUrl, { max: 1, onnotice: () => {} });
    const rows = await sql`SELECT COUNT(*)::bigint AS n FROM shares`;
    await sql.end();
    return Number(rows[0]!.n);
  }
  const db = new DatabaseSync(storeUrl);
  const n = Number((db.prepare("SELECT COUNT(*) AS n FROM shares").get() as { n: number }).n);
  db.close();
  return n;
}

/** One new-block round: ms from the devnet accepting the block. */
interface BlockRound {
  firstMs: number;
  p50Ms: number;
  p99Ms: number;
  lastMs: number;
  missing: number;
  /** Pool and generator CPU from the block to the last notify read (10 ms ticks). */
  poolCpuMs: number;
  generatorCpuMs: number;
}

/** Submits of a step answered with an error or due at a miner the pool had closed. */
function failed(s: Record<string, unknown>): number {
  return (s.sent as number) - (s.accepted as number) - (s.missing as number);
}

/** Submits refused as stale: their job was cleared by a new block before they arrived. */
function stale(s: Record<string, unknown>): number {
  return Object.entries(s.errors as Record<string, number>)
    .filter(([k]) => k.includes("not found")).reduce((n, [, v]) => n + v, 0);
}

/** Run the realistic profile; returns the exit code. */
export async function realisticMain(args: string[]): Promise<number> {
  const o = parseRealistic(args);
  const limit = openFileLimit();
  if (limit < o.miners + 256) {
    console.error(`warning: the open-file limit is ${limit}; ${o.miners} miners need more`);
  }
  const loadBefore = loadAverage();
  const started = new Date();
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-bench-real-" });
  if (Deno.uid() === 0) await Deno.chmod(dir, 0o755);
  console.log(
    `bench:pool --realistic${
      o.quick ? " --quick (SHORT steps: not the ≥ 30 s of the full run)" : ""
    }` +
      ` — ${o.miners} miners, ${o.workersPerAddress} workers per address, ≤ ${o.minersPerSource}` +
      ` per source address; temp dir ${dir}`,
  );
  const pg = o.store === "postgres" ? await startPostgres(dir) : undefined;
  const storeUrl = pg?.url ?? `${dir}/pool.sqlite`;
  if (pg !== undefined) console.log(`store: ${pg.describe}`);
  const devnet = await startDevnet({
    hostname: "127.0.0.1",
    port: 0,
    minDifficulty: o.networkDifficulty,
    // No retarget during the run: every block costs the same grind.
    window: 1_000_000,
    mempoolIntervalMs: 0,
    rivalShare: 0,
  });
  const apiPort = o.metrics ? freePort() : undefined;
  const scrape = apiPort === undefined
    ? () => Promise.resolve(undefined)
    : () => scrapeHistograms(`http://127.0.0.1:${apiPort}/metrics`, Object.values(POOL_HISTOGRAMS));
  const configPath = `${dir}/pool.toml`;
  await Deno.writeTextFile(
    configPath,
    poolConfig({
      devnetPort: devnet.addr.port,
      storeUrl,
      startDifficulty: Math.round(o.hashrate * 10),
      workers: o.workers,
      ...(apiPort === undefined ? {} : { apiPort }),
      ...(o.mempoolUpdateSeconds === undefined
        ? {}
        : { mempoolUpdateSeconds: o.mempoolUpdateSeconds }),
    }),
  );
  const denoFlags = o.profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${o.profile}`];
  const pool = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, `${ROOT}main.ts`, "server", "--config", configPath],
    // Deno refuses an empty DENO_V8_FLAGS: none given, none set.
    ...(o.poolV8Flags === "" ? {} : { env: { DENO_V8_FLAGS: o.poolV8Flags } }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const poolLog: string[] = [];
  const logFile = o.poolLog === undefined
    ? undefined
    : await Deno.open(o.poolLog, { write: true, create: true, truncate: true });
  let portFound: (p: number) => void;
  const portKnown = new Promise<number>((r) => portFound = r);
  let stratumPort = 0;
  let ready = 0;
  // The supervisor's workers log through it: ready once every worker has its upstream.
  const workerPids: number[] = [];
  const poolLines = lines(pool.stderr, (line) => {
    logFile?.writeSync(new TextEncoder().encode(line + "\n"));
    poolLog.push(line);
    if (poolLog.length > 50) poolLog.shift();
    const m = /Stratum on "?127\.0\.0\.1"?:(\d+)/.exec(line);
    if (m !== null) stratumPort = Number(m[1]);
    const w = /worker \d+ started \(pid (\d+)/.exec(line);
    if (w !== null) workerPids.push(Number(w[1]));
    if (/upstream ready/.test(line) && ++ready === o.workers) portFound(stratumPort);
  });
  const port = await Promise.race([
    portKnown,
    pool.status.then((s) => {
      throw new Error(`Cannot start the pool (exit ${s.code}):\n${poolLog.join("\n")}`);
    }),
  ]);
  console.log(
    `pool pid ${pool.pid} on 127.0.0.1:${port}` +
      (o.workers > 1 ? ` (${o.workers} workers: pids ${workerPids.join(", ")})` : ""),
  );
  // CPU and memory of the pool: the process, or the supervisor and its live workers.
  const poolPids = () => [pool.pid, ...workerPids];
  const poolCpuSeconds = () => poolPids().reduce((t, pid) => t + cpuSeconds(pid), 0);
  const poolRssKiB = () => poolPids().reduce((t, pid) => t + rssKiB(pid), 0);
  const gen = new Generator([]);
  const abort = () => {
    gen.kill();
    try {
      pool.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    const done = () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Nothing to remove.
      }
      Deno.exit(130);
    };
    if (pg === undefined) done();
    else void pg.stop().finally(done);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, abort);

  const spread = {
    workersPerAddress: o.workersPerAddress,
    minersPerSource: o.minersPerSource,
    password: "x",
    hashrate: o.hashrate,
  };
  // Pool blocks (a miner's share that is also a block) spoil a round: noted by height.
  let poolBlocks = 0;
  let rivalBlockAt: number | undefined;
  devnet.on((e) => {
    if (e.type !== "block") return;
    if (e.result.block.finder === "rival") {
      rivalBlockAt = performance.timeOrigin + performance.now();
    } else poolBlocks++;
  });

  // Connections.
  await gen.call({ cmd: "connect", port, total: 1, spread });
  await sleep(2000);
  const baseRss = poolRssKiB();
  const c = await gen.call({ cmd: "connect", port, total: o.miners, spread });
  await sleep(3000);
  const rss = poolRssKiB();
  const connections = {
    miners: c.connected as number,
    failed: c.failed as number,
    connectSeconds: (c.ms as number) / 1000,
    sources: Math.ceil(o.miners / o.minersPerSource),
    addresses: Math.ceil(o.miners / o.workersPerAddress),
    poolRssMiB: rss / 1024,
    kibPerConnection: (rss - baseRss) / Math.max(1, (c.connected as number) - 1),
  };
  console.log(
    `connected ${connections.miners} miners (${connections.addresses} addresses, ` +
      `${connections.sources} source IPs) in ${fmt(connections.connectSeconds)} s, ` +
      `${connections.failed} failed; pool RSS ${fmt(connections.poolRssMiB)} MiB, ` +
      `${fmt(connections.kibPerConnection)} KiB per connection`,
  );

  // Vardiff step with new blocks.
  await gen.call({ cmd: "mine-start", warmupSeconds: o.warmupSeconds });
  console.log(`mining (vardiff); ${o.warmupSeconds} s of warm-up`);
  await sleep(o.warmupSeconds * 1000);
  const poolCpu0 = poolCpuSeconds();
  const genCpu0 = cpuSeconds(gen.pid);
  const threads0 = threadCpu(pool.pid);
  const vardiffH0 = await scrape();
  const stepStart = performance.now();
  const rounds: BlockRound[] = [];
  let dropped = 0;
  let timeouts = 0;
  while (rounds.length < o.rounds || performance.now() - stepStart < o.stepSeconds * 1000) {
    await sleep(o.roundGapMs * (0.5 + Math.random()));
    await gen.call({ cmd: "arm", clean: true });
    const poolBlocksBefore = poolBlocks;
    rivalBlockAt = undefined;
    await devnet.rival.mineBlock();
    const t0 = rivalBlockAt as number | undefined;
    // CPU from the block to the last notify read (the grind above is the devnet's, not counted).
    const poolCpu = poolCpuSeconds();
    const genCpu = cpuSeconds(gen.pid);
    const r = await gen.call({ cmd: "await", timeoutMs: 10_000 });
    if (t0 === undefined || poolBlocks !== poolBlocksBefore) {
      dropped++;
      continue;
    }
    if ((r.missing as number) > 0) timeouts++;
    rounds.push({
      firstMs: (r.first as number) - t0,
      p50Ms: (r.p50 as number) - t0,
      p99Ms: (r.p99 as number) - t0,
      lastMs: (r.last as number) - t0,
      missing: r.missing as number,
      poolCpuMs: (poolCpuSeconds() - poolCpu) * 1000,
      generatorCpuMs: (cpuSeconds(gen.pid) - genCpu) * 1000,
    });
    if (rounds.length % 25 === 0) console.log(`${rounds.length} new-block rounds`);
  }
  const wall = (performance.now() - stepStart) / 1000;
  const vardiff = await gen.call({ cmd: "mine-stop" });
  vardiff.poolCpuPercent = (poolCpuSeconds() - poolCpu0) / wall * 100;
  vardiff.poolThreadsPercent = threadPercent(threads0, threadCpu(pool.pid), wall);
  vardiff.generatorCpuPercent = (cpuSeconds(gen.pid) - genCpu0) / wall * 100;
  vardiff.loadAverage = loadAverage()[0];
  vardiff.poolRssMiB = poolRssKiB() / 1024;
  const vardiffH1 = await scrape();
  const lasts = rounds.map((r) => r.lastMs).sort((a, b) => a - b);
  const perMinerP99 = rounds.map((r) => r.p99Ms).sort((a, b) => a - b);
  const newBlock = {
    rounds: rounds.length,
    dropped,
    roundsWithMissing: timeouts,
    lastP50Ms: quantile(lasts, 0.5),
    lastP99Ms: quantile(lasts, 0.99),
    lastMaxMs: lasts.at(-1),
    minerP99P50Ms: quantile(perMinerP99, 0.5),
    firstP50Ms: quantile(rounds.map((r) => r.firstMs).sort((a, b) => a - b), 0.5),
    missing: rounds.reduce((n, r) => n + r.missing, 0),
    perMinerP50Ms: quantile(rounds.map((r) => r.p50Ms).sort((a, b) => a - b), 0.5),
    poolCpuMsP50: quantile(rounds.map((r) => r.poolCpuMs).sort((a, b) => a - b), 0.5),
    generatorCpuMsP50: quantile(rounds.map((r) => r.generatorCpuMs).sort((a, b) => a - b), 0.5),
    raw: rounds,
  };
  console.log(
    `vardiff step (${fmt(wall, 0)} s): ${fmt(vardiff.acceptedPerSecond, 0)} accepted/s, ` +
      `submit p50 ${fmt(vardiff.p50, 2)} ms, p99 ${fmt(vardiff.p99, 2)} ms, max ` +
      `${fmt(vardiff.max, 1)} ms; sent ${vardiff.sent}, answered ${vardiff.replies}, accepted ` +
      `${vardiff.accepted}, errors ${
        JSON.stringify(vardiff.errors)
      }, missing ${vardiff.missing}, ` +
      `${vardiff.closed} miners closed by the pool; ${vardiff.setDifficulty} set_difficulty; ` +
      `difficulty p50 ${vardiff.difficultyP50} (${vardiff.difficultyMin}..${vardiff.difficultyMax}); ` +
      `pool CPU ${fmt(vardiff.poolCpuPercent, 0)} %, generator CPU ` +
      `${fmt(vardiff.generatorCpuPercent, 0)} %`,
  );
  console.log(
    `new-block fan-out over ${rounds.length} rounds (${dropped} dropped): last miner p50 ` +
      `${fmt(newBlock.lastP50Ms)} ms, p99 ${fmt(newBlock.lastP99Ms)} ms, max ` +
      `${fmt(newBlock.lastMaxMs)} ms (first miner p50 ${fmt(newBlock.firstP50Ms)} ms, per-miner ` +
      `p50 ${fmt(newBlock.perMinerP50Ms)} ms); ${newBlock.missing} notifies missing; CPU per ` +
      `round: pool ${fmt(newBlock.poolCpuMsP50, 0)} ms, generator ` +
      `${fmt(newBlock.generatorCpuMsP50, 0)} ms`,
  );

  const vardiffOwn = poolSide(vardiffH0, vardiffH1);
  if (vardiffOwn !== undefined) vardiff.poolSide = vardiffOwn;

  // Stress: the same miners at d=1, fixed rates, a block every job interval.
  await gen.call({ cmd: "close-all" });
  await sleep(1000);
  const cs = await gen.call({
    cmd: "connect",
    port,
    total: o.miners,
    spread: { ...spread, password: "d=1", hashrate: 0 },
  });
  console.log(`reconnected ${cs.connected} miners with d=1 for the stress step`);
  await sleep(3000);
  // As NodeCore does: a mempool update every job interval, a new block every block interval.
  let mining = false;
  const mempoolTimer = setInterval(() => devnet.mempoolUpdate(), o.jobInterval * 1000);
  const blockTimer = setInterval(() => {
    if (mining) return;
    mining = true;
    devnet.rival.mineBlock().catch(() => {}).finally(() => mining = false);
  }, o.blockInterval * 1000);
  const stress: Record<string, unknown>[] = [];
  for (const rate of o.stressRates) {
    const p0 = poolCpuSeconds();
    const g0 = cpuSeconds(gen.pid);
    const h0 = await scrape();
    const th0 = threadCpu(pool.pid);
    const t = performance.now();
    const s = await gen.call({
      cmd: "shares",
      rate,
      seconds: o.stressSeconds,
      warmupSeconds: 2,
      miners: o.miners,
    });
    const secs = (performance.now() - t) / 1000;
    s.poolCpuPercent = (poolCpuSeconds() - p0) / secs * 100;
    s.generatorCpuPercent = (cpuSeconds(gen.pid) - g0) / secs * 100;
    s.poolThreadsPercent = threadPercent(th0, threadCpu(pool.pid), secs);
    s.loadAverage = loadAverage()[0];
    const h1 = await scrape();
    s.pass = (s.p99 as number) <= o.p99LimitMs &&
      (s.accepted as number) >= 0.98 * (s.sent as number) && (s.missing as number) === 0;
    stress.push(s);
    console.log(
      `stress ${rate}/s: ${fmt(s.acceptedPerSecond, 0)} accepted/s, p50 ${fmt(s.p50, 2)} ms, ` +
        `p99 ${fmt(s.p99, 2)} ms, max ${fmt(s.max, 1)} ms, sent ${s.sent}, accepted ` +
        `${s.accepted}, errors ${JSON.stringify(s.errors)}, missing ${s.missing}, ${s.closed} ` +
        `closed; pool CPU ${fmt(s.poolCpuPercent, 0)} %, generator CPU ` +
        `${fmt(s.generatorCpuPercent, 0)} % (stall ${fmt(s.maxTickGapMs, 0)} ms); pool threads ` +
        `${JSON.stringify(s.poolThreadsPercent)}; load ` +
        `${fmt(s.loadAverage)} → ` +
        `${s.pass ? "pass" : "FAIL"}`,
    );
    const own = poolSide(h0, h1);
    if (own !== undefined) s.poolSide = own;
    if (!s.pass) break;
    await sleep(500);
  }
  // In flight: the first --inflight-miners miners send their submits in bursts of
  // --inflight-depth (that many unanswered at once), open loop at --inflight-rate.
  let inflight: Record<string, unknown> | undefined;
  if (o.inflightMiners > 0) {
    await sleep(500);
    const p0 = poolCpuSeconds();
    const h0 = await scrape();
    const t = performance.now();
    inflight = await gen.call({
      cmd: "shares",
      rate: o.inflightRate,
      seconds: o.stressSeconds,
      warmupSeconds: 2,
      miners: Math.min(o.inflightMiners, o.miners),
      burst: o.inflightDepth,
    });
    inflight.poolCpuPercent = (poolCpuSeconds() - p0) / ((performance.now() - t) / 1000) * 100;
    inflight.loadAverage = loadAverage()[0];
    const h1 = await scrape();
    console.log(
      `${inflight.miners} miners, ${o.inflightDepth} submits in flight each, ${o.inflightRate}/s: ` +
        `${fmt(inflight.acceptedPerSecond, 0)} accepted/s, p50 ${fmt(inflight.p50, 2)} ms, p99 ` +
        `${fmt(inflight.p99, 2)} ms, max ${fmt(inflight.max, 1)} ms, errors ` +
        `${JSON.stringify(inflight.errors)}, missing ${inflight.missing}; pool CPU ` +
        `${fmt(inflight.poolCpuPercent, 0)} %; load ${fmt(inflight.loadAverage)}`,
    );
    const own = poolSide(h0, h1);
    if (own !== undefined) inflight.poolSide = own;
  }
  clearInterval(blockTimer);
  clearInterval(mempoolTimer);
  while (mining) await sleep(50);

  const totals = await gen.call({ cmd: "totals" });
  await gen.close();
  pool.kill(o.profile === undefined ? "SIGKILL" : "SIGTERM");
  await pool.status;
  await poolLines;
  logFile?.close();
  await devnet.stop();
  const rows = await countShares(storeUrl);
  await pg?.stop();
  const durability = {
    trueReplies: totals.accepted as number,
    rows,
    ok: rows >= (totals.accepted as number),
  };
  console.log(
    `durability: ${durability.trueReplies} true replies, ${rows} rows after ` +
      `${o.profile === undefined ? "SIGKILL" : "SIGTERM"} → ${
        durability.ok ? "ok" : "SHARES LOST"
      }`,
  );
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const m = machine();
  const loadAfter = loadAverage();
  const report = {
    bench: "pool --realistic",
    date: started.toISOString(),
    command: `deno task bench:pool ${args.join(" ")}`.trim(),
    machine: m,
    loadAverage: { before: loadBefore, after: loadAfter },
    options: { ...o, networkDifficulty: o.networkDifficulty.toString() },
    connections,
    vardiff,
    newBlock,
    stress,
    inflight,
    totals,
    durability,
  };
  await Deno.mkdir(new URL(".", `file://${o.json}`).pathname, { recursive: true });
  await Deno.writeTextFile(o.json, JSON.stringify(report, null, 2) + "\n");
  console.log(`\n## bench:pool --realistic${o.quick ? " --quick" : ""} (store ${o.store})\n`);
  console.log(
    `${m.cpu}, ${m.logicalCpus} CPUs; Deno ${m.deno}; load average ${loadBefore.join(" ")} ` +
      `before, ${loadAfter.join(" ")} after.\n`,
  );
  console.log(table(
    [
      "step",
      "miners",
      "accepted/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "stale",
      "other failed",
      "missing",
      "pool CPU %",
      "gen. CPU %",
    ],
    [
      [
        "vardiff + new blocks",
        String(connections.miners),
        fmt(vardiff.acceptedPerSecond, 0),
        fmt(vardiff.p50, 1),
        fmt(vardiff.p99, 1),
        fmt(vardiff.max, 1),
        String(stale(vardiff)),
        String(failed(vardiff) - stale(vardiff)),
        String(vardiff.missing),
        fmt(vardiff.poolCpuPercent, 0),
        fmt(vardiff.generatorCpuPercent, 0),
      ],
      ...stress.map((s) => [
        `stress ${s.rate}/s (d=1)`,
        String(s.miners),
        fmt(s.acceptedPerSecond, 0),
        fmt(s.p50, 1),
        fmt(s.p99, 1),
        fmt(s.max, 1),
        String(stale(s)),
        String(failed(s) - stale(s)),
        String(s.missing),
        fmt(s.poolCpuPercent, 0),
        fmt(s.generatorCpuPercent, 0),
      ]),
    ],
  ));
  console.log(
    `\nNew-block fan-out (${rounds.length} rounds): last miner p50 ${
      fmt(newBlock.lastP50Ms)
    } ms, ` +
      `p99 ${fmt(newBlock.lastP99Ms)} ms; memory ${
        fmt(connections.kibPerConnection)
      } KiB per miner.`,
  );
  console.log(`\nwrote ${o.json}`);
  return durability.ok ? 0 : 1;
}
