/**
 * `deno task bench:pool`: the pool under load, three processes on loopback.
 *
 * 1. This process runs the devnet (the NodeCore stand-in, in-process so that it can make a new
 *    template on command) and writes a configuration for `vbkpool server`: a SQLite store in a
 *    temporary directory, the devnet as its NodeCore, the API off, difficulty 1 allowed, the
 *    per-IP cap off.
 * 2. `vbkpool server` runs as a subprocess (`deno run -A main.ts server --config …`).
 * 3. The load generator (`bench/pool_load.ts`) runs as another subprocess and holds the
 *    simulated miners; this process drives it over stdin/stdout.
 *
 * Phases:
 * - connections: miners connect (subscribe + authorize with `d=1`) up to each count of
 *   `--fanout-miners` and then `--miners`; the pool's resident memory (VmRSS from
 *   `/proc/<pid>/status`) before and after, divided by the miners connected.
 * - fan-out: at each of those counts, `--rounds` times: the devnet makes a new template
 *   (MINING_MEMPOOL_UPDATE over UCP), the pool turns it into a job and sends `mining.notify` to
 *   every miner; measured from the moment the devnet was told (wall clock, shared by the
 *   processes) to the moment each miner read its notify. Reported: the time to the last miner
 *   (median and p99 over the rounds) and the per-miner p50/p99 over all rounds.
 * - shares: for each count of `--share-miners` (10,000, then 1,000 after the others left),
 *   that many miners submit; the aggregate rate steps through `--rates` (open loop, paced every
 *   2 ms, each submit timed from the moment it was due) until the p99 submit latency passes
 *   `--p99-limit-ms` or fewer than 98 % of the due submits are answered `true` within the step;
 *   the highest passing rate is the result. Shares need no hashing at difficulty 1, so the
 *   generator never hashes; the pool validates every share (vBlake) and answers `true` only
 *   after the group commit. The devnet makes a new template every `--job-interval` seconds (5,
 *   the `update_frequency_ms` the pool asks NodeCore for), which also keeps each job's
 *   duplicate set under its cap, and the pool sends it to every connected miner.
 * - durability: the pool is killed with SIGKILL and the rows of the SQLite file are counted:
 *   every `true` reply must be a row.
 *
 * ```sh
 * deno task bench:pool                                   # 10,000 miners, two ramps (~4 min)
 * deno task bench:pool --quick                           # 1,000 miners, short ramp (~40 s)
 * deno run -A bench/pool_speed.ts --miners 2000 --rates 5000,10000 --step-seconds 3
 * deno run -A bench/pool_speed.ts --profile /tmp/prof    # pool under --cpu-prof (SIGTERM end)
 * deno run -A bench/pool_speed.ts --pool-flags=--v8-flags=--trace-gc --pool-log /tmp/pool.log
 * deno run -A bench/pool_speed.ts --quick --tls          # the same over TLS (stratum+ssl)
 * ```
 *
 * With `--tls` the Stratum port serves TLS (`tls cert= key=`, a certificate made with openssl
 * in the temporary directory) and the generator's miners connect over TLS.
 *
 * Writes the table to stdout and the data to `--json` (default `bench/results/pool.json`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import { startDevnet } from "../devnet/mod.ts";
import {
  cpuSeconds,
  fmt,
  Generator,
  lines,
  loadAverage,
  machine,
  median,
  openFileLimit,
  quantile,
  rssKiB,
  sleep,
  table,
  threadCpu,
  threadPercent,
} from "./_pool_common.ts";
import { realisticMain } from "./_pool_realistic.ts";

const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
const ROOT = new URL("../", import.meta.url).pathname;

/** Settings from the command line. */
interface Options {
  miners: number;
  fanoutMiners: number[];
  shareMiners: number[];
  rounds: number;
  rates: number[];
  stepSeconds: number;
  warmupSeconds: number;
  p99LimitMs: number;
  jobInterval: number;
  networkDifficulty: bigint;
  json: string;
  profile: string | undefined;
  poolFlags: string[];
  poolLog: string | undefined;
  keep: boolean;
  tls: boolean;
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      miners: { type: "string" },
      "fanout-miners": { type: "string" },
      "share-miners": { type: "string" },
      rounds: { type: "string" },
      rates: { type: "string" },
      "step-seconds": { type: "string" },
      "warmup-seconds": { type: "string" },
      "p99-limit-ms": { type: "string", default: "50" },
      "job-interval": { type: "string", default: "5" },
      "network-difficulty": { type: "string", default: "4000000" },
      json: { type: "string", default: new URL("./results/pool.json", import.meta.url).pathname },
      profile: { type: "string" },
      "pool-flags": { type: "string" },
      "pool-log": { type: "string" },
      keep: { type: "boolean", default: false },
      tls: { type: "boolean", default: false },
    },
  });
  const quick = values.quick;
  const num = (text: string | undefined, def: number, name: string): number => {
    if (text === undefined) return def;
    const n = Number(text);
    if (!(n > 0) || !Number.isFinite(n)) {
      throw new RangeError(`Cannot parse arguments: --${name} ${text} is not a positive number`);
    }
    return n;
  };
  const list = (text: string | undefined, def: number[], name: string): number[] =>
    text === undefined ? def : text.split(",").map((t) => num(t, 0, name));
  const miners = Math.round(num(values.miners, quick ? 1000 : 10_000, "miners"));
  return {
    miners,
    fanoutMiners: list(values["fanout-miners"], quick ? [100, 1000] : [1000, 10_000], "fanout")
      .map(Math.round).filter((m) => m <= miners),
    shareMiners: list(values["share-miners"], quick ? [1000] : [10_000, 1000], "share-miners")
      .map(Math.round).filter((m) => m <= miners).sort((a, b) => b - a),
    rounds: Math.round(num(values.rounds, quick ? 5 : 15, "rounds")),
    rates: list(
      values.rates,
      quick ? [2000, 5000, 10_000] : [2000, 5000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000],
      "rates",
    ),
    stepSeconds: num(values["step-seconds"], quick ? 2 : 5, "step-seconds"),
    warmupSeconds: num(values["warmup-seconds"], 1, "warmup-seconds"),
    p99LimitMs: num(values["p99-limit-ms"], 50, "p99-limit-ms"),
    jobInterval: num(values["job-interval"], 5, "job-interval"),
    networkDifficulty: BigInt(values["network-difficulty"]!),
    json: values.json!,
    profile: values.profile,
    poolFlags: values["pool-flags"]?.split(/\s+/).filter((f) => f !== "") ?? [],
    poolLog: values["pool-log"],
    keep: values.keep!,
    tls: values.tls!,
  };
}

/** What {@linkcode printReport} prints. */
interface Report {
  options: Options;
  machine: Record<string, unknown>;
  loadBefore: number[];
  loadAfter: number[];
  connections: Record<string, number>[];
  fanouts: Record<string, unknown>[];
  ramps: Ramp[];
  durability: { trueReplies: number; rows: number; stopped: string; ok: boolean };
}

/** The summary as Markdown (as pasted into bench/RESULTS.md). */
function printReport(r: Report): void {
  const { options, machine: m } = r;
  console.log("\n## bench:pool\n");
  console.log(
    `${m.cpu}, ${m.logicalCpus} CPUs, ${m.memoryGiB} GiB; ${m.os}; Deno ${m.deno}; load ` +
      `average ${r.loadBefore.join(" ")} before, ${r.loadAfter.join(" ")} after.`,
  );
  console.log("\nConnections (idle: subscribed and authorized, one job each):\n");
  console.log(table(
    ["miners", "connect s", "pool RSS MiB", "KiB per connection"],
    r.connections.map((c) => [
      String(c.miners),
      fmt(c.connectSeconds),
      fmt(c.poolRssMiB),
      fmt(c.kibPerConnection),
    ]),
  ));
  console.log(
    `\nFan-out: new template at the devnet → \`mining.notify\` read by every miner, ms ` +
      `(${options.rounds} templates):\n`,
  );
  console.log(table(
    ["miners", "last p50", "last p99", "per-miner p50", "per-miner p99", "pool CPU ms", "missing"],
    r.fanouts.map((f) => [
      String(f.miners),
      fmt(f.lastP50Ms),
      fmt(f.lastP99Ms),
      fmt(f.minerP50Ms),
      fmt(f.minerP99Ms),
      fmt(f.poolCpuMs, 0),
      String(f.missing),
    ]),
  ));
  for (const ramp of r.ramps) {
    console.log(
      `\nShares from ${ramp.miners} miners (${options.stepSeconds} s per step after ` +
        `${options.warmupSeconds} s of warm-up, a template every ${options.jobInterval} s; ` +
        "latency from when a submit was due to its reply, ms):\n",
    );
    console.log(table(
      [
        "target/s",
        "accepted/s",
        "p50",
        "p99",
        "max",
        "errors",
        "pool CPU %",
        "µs/share",
        "gen. CPU %",
        "gen. stall",
        "load",
        "pass",
      ],
      ramp.steps.map((s) => [
        String(s.rate),
        fmt(s.acceptedPerSecond, 0),
        fmt(s.p50, 1),
        fmt(s.p99, 1),
        fmt(s.max, 1),
        String(s.errorCount),
        fmt(s.poolCpuPercent, 0),
        fmt(s.poolCpuUsPerShare, 0),
        fmt(s.generatorCpuPercent, 0),
        fmt(s.maxTickGapMs, 0),
        fmt(s.loadAverage, 1),
        s.pass ? "yes" : "no",
      ]),
    ));
    console.log(
      `\nHighest sustained rate from ${ramp.miners} miners: ${
        ramp.highestSustainedRate === null ? "none" : `${ramp.highestSustainedRate} shares/s`
      } (p99 ≤ ${options.p99LimitMs} ms, ≥ 98 % of the due submits answered true).`,
    );
  }
  const d = r.durability;
  console.log(
    `\nDurability: ${d.trueReplies} \`true\` replies, ${d.rows} rows in the SQLite file after ` +
      `${d.stopped} → ${d.ok ? "every accepted share was stored" : "SHARES LOST"}.`,
  );
}

/** A self-signed certificate for 127.0.0.1 (`bench.crt`, `bench.key` in `dir`), by openssl. */
async function makeCertificate(dir: string): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${dir}/bench.key`,
      "-out",
      `${dir}/bench.crt`,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

function config(dir: string, devnetPort: number, tls: boolean): string {
  const edge = tls ? ` tls cert=${dir}/bench.crt key=${dir}/bench.key` : "";
  return `# bench:pool — written by bench/pool_speed.ts
[log]
level = "info"

[nodecore]
endpoints = ["127.0.0.1:${devnetPort}"]
address = "${POOL_ADDRESS}"

[stratum]
listen = ["127.0.0.1:0${edge}"]
# Difficulty 1 (miners ask for it with the password d=1): every hash is a share.
difficulty = 1
min_difficulty = 1
# The bench connects ten thousand miners from 127.0.0.1.
max_connections_per_ip = 0
# The generator paces itself; the per-connection flood limit (200/s) would close a miner that
# submits thousands of shares per second (a step with few miners and a high rate).
requests_per_second = 1000000
request_burst = 1000000
stats_interval_seconds = 0

[store]
url = "${dir}/pool.sqlite"

[api]
enabled = false
`;
}

interface FanoutRound {
  poolCpuMs: number;
  generatorCpuMs: number;
  firstMs: number;
  p50Ms: number;
  p99Ms: number;
  lastMs: number;
  missing: number;
}

async function fanout(
  gen: Generator,
  devnet: { mempoolUpdate(): void },
  options: { rounds: number; poolPid: number },
): Promise<FanoutRound[]> {
  const result: FanoutRound[] = [];
  for (let i = 0; i < options.rounds; i++) {
    await sleep(400);
    await gen.call({ cmd: "arm" });
    const poolCpu = cpuSeconds(options.poolPid);
    const genCpu = cpuSeconds(gen.pid);
    const t0 = performance.timeOrigin + performance.now();
    devnet.mempoolUpdate();
    const r = await gen.call({ cmd: "await", timeoutMs: 10_000 });
    result.push({
      poolCpuMs: (cpuSeconds(options.poolPid) - poolCpu) * 1000,
      generatorCpuMs: (cpuSeconds(gen.pid) - genCpu) * 1000,
      firstMs: (r.first as number) - t0,
      p50Ms: (r.p50 as number) - t0,
      p99Ms: (r.p99 as number) - t0,
      lastMs: (r.last as number) - t0,
      missing: r.missing as number,
    });
  }
  return result;
}

/** One share ramp: the steps run and the highest passing rate. */
interface Ramp {
  miners: number;
  steps: Record<string, unknown>[];
  highestSustainedRate: number | null;
}

async function ramp(
  gen: Generator,
  { poolPid, miners, options }: { poolPid: number; miners: number; options: Options },
): Promise<Ramp> {
  const steps: Record<string, unknown>[] = [];
  let best: number | null = null;
  for (const rate of options.rates) {
    const poolCpu = cpuSeconds(poolPid);
    const genCpu = cpuSeconds(gen.pid);
    const poolThreads = threadCpu(poolPid);
    const t = performance.now();
    let s: Record<string, unknown>;
    try {
      s = await gen.call({
        cmd: "shares",
        rate,
        seconds: options.stepSeconds,
        warmupSeconds: options.warmupSeconds,
        miners,
      });
    } catch (err) {
      // E.g. every miner was closed by the previous step: report it and end this ramp.
      console.log(`shares at ${rate}/s from ${miners} miners: ${(err as Error).message}`);
      break;
    }
    const wall = (performance.now() - t) / 1000;
    const poolCpuSeconds = cpuSeconds(poolPid) - poolCpu;
    s.poolCpuPercent = poolCpuSeconds / wall * 100;
    // CPU per share over the whole step (warm-up and drain included): steadier than latency
    // on a shared machine.
    s.poolCpuUsPerShare = poolCpuSeconds * 1e6 / Math.max(1, s.acceptedSinceStart as number);
    s.poolThreadsPercent = threadPercent(poolThreads, threadCpu(poolPid), wall);
    s.generatorCpuPercent = (cpuSeconds(gen.pid) - genCpu) / wall * 100;
    s.poolRssMiB = rssKiB(poolPid) / 1024;
    s.loadAverage = loadAverage()[0];
    const errors = Object.values(s.errors as Record<string, number>).reduce((a, b) => a + b, 0);
    const pass = (s.p99 as number) <= options.p99LimitMs &&
      (s.accepted as number) >= 0.98 * (s.sent as number) && (s.missing as number) === 0;
    s.pass = pass;
    s.errorCount = errors;
    steps.push(s);
    console.log(
      `shares at ${rate}/s from ${s.miners} miners: ${fmt(s.acceptedPerSecond, 0)} accepted/s, ` +
        `p50 ${fmt(s.p50, 2)} ms, p99 ${fmt(s.p99, 2)} ms, max ${fmt(s.max, 1)} ms, ` +
        `${errors} errors ${JSON.stringify(s.errors)}, pool CPU ${fmt(s.poolCpuPercent, 0)} % ` +
        `(${fmt(s.poolCpuUsPerShare, 0)} µs/share; threads ${
          JSON.stringify(s.poolThreadsPercent)
        }` +
        `), generator CPU ${fmt(s.generatorCpuPercent, 0)} %, generator stall ` +
        `${fmt(s.maxTickGapMs, 0)} ms` +
        `${(s.closed as number) > 0 ? `, ${s.closed} miners closed by the pool` : ""}` +
        ` → ${pass ? "pass" : "FAIL"}`,
    );
    if (!pass) break;
    best = rate;
    await sleep(500);
  }
  return { miners, steps, highestSustainedRate: best };
}

async function main(): Promise<number> {
  const options = parseOptions(Deno.args);
  const limit = openFileLimit();
  if (limit < options.miners + 256) {
    console.error(
      `warning: the open-file limit is ${limit}; ${options.miners} miners need about ` +
        `${options.miners + 256} descriptors in the pool and in the generator ` +
        "(raise it with `ulimit -n`).",
    );
  }
  const loadBefore = loadAverage();
  const started = new Date();
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-bench-pool-" });
  console.log(`bench:pool — temp dir ${dir}; starting the devnet`);
  const devnet = await startDevnet({
    hostname: "127.0.0.1",
    port: 0,
    minDifficulty: options.networkDifficulty,
    mempoolIntervalMs: 0,
    rivalShare: 0,
  });
  const configPath = `${dir}/pool.toml`;
  if (options.tls) await makeCertificate(dir);
  await Deno.writeTextFile(configPath, config(dir, devnet.addr.port, options.tls));
  const denoFlags = options.profile === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${options.profile}`];
  const pool = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...denoFlags,
      ...options.poolFlags,
      `${ROOT}main.ts`,
      "server",
      "--config",
      configPath,
    ],
    stdin: "null",
    stdout: options.poolLog === undefined ? "null" : "piped",
    stderr: "piped",
  }).spawn();
  const poolLog: string[] = [];
  let stratumPort: (p: number) => void;
  const portKnown = new Promise<number>((r) => stratumPort = r);
  const logFile = options.poolLog === undefined ? undefined : await Deno.open(options.poolLog, {
    write: true,
    create: true,
    truncate: true,
  });
  const poolStdout = options.poolLog === undefined
    ? Promise.resolve()
    : lines(pool.stdout, (line) => logFile?.writeSync(new TextEncoder().encode(line + "\n")));
  const poolLines = lines(pool.stderr, (line) => {
    logFile?.writeSync(new TextEncoder().encode(line + "\n"));
    poolLog.push(line);
    if (poolLog.length > 50) poolLog.shift();
    const m = /Stratum on "?127\.0\.0\.1"?:(\d+)/.exec(line);
    if (m !== null) stratumPort(Number(m[1]));
  });
  const port = await Promise.race([
    portKnown,
    pool.status.then((s) => {
      throw new Error(`Cannot start the pool (exit ${s.code}):\n${poolLog.join("\n")}`);
    }),
  ]);
  console.log(`pool pid ${pool.pid} on 127.0.0.1:${port}; devnet UCP on ${devnet.addr.port}`);
  const gen = new Generator(denoFlags);
  // Ctrl-C (or a timeout's SIGTERM) must not leave a pool or a generator behind.
  const abort = () => {
    gen.kill();
    try {
      pool.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    if (!options.keep) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Nothing to remove.
      }
    }
    Deno.exit(130);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, abort);
  // One miner first: the pool has its first job and has loaded everything it needs.
  const ca = options.tls ? `${dir}/bench.crt` : undefined;
  await gen.call({ cmd: "connect", port, total: 1, ca });
  await sleep(2000);
  const baseRss = rssKiB(pool.pid);

  const connections: Record<string, number>[] = [];
  const fanouts: Record<string, unknown>[] = [];
  const counts = [...new Set([...options.fanoutMiners, options.miners])].sort((a, b) => a - b);
  for (const count of counts) {
    const c = await gen.call({ cmd: "connect", port, total: count, ca });
    await sleep(3000);
    const rss = rssKiB(pool.pid);
    const connected = c.connected as number;
    const entry = {
      miners: connected,
      failed: c.failed as number,
      connectSeconds: (c.ms as number) / 1000,
      poolRssMiB: rss / 1024,
      kibPerConnection: (rss - baseRss) / Math.max(1, connected - 1),
    };
    connections.push(entry);
    console.log(
      `connected ${connected} miners in ${fmt(entry.connectSeconds)} s; pool RSS ` +
        `${fmt(entry.poolRssMiB)} MiB, ${fmt(entry.kibPerConnection)} KiB per connection`,
    );
    if (options.fanoutMiners.includes(count)) {
      const rounds = await fanout(gen, devnet, { rounds: options.rounds, poolPid: pool.pid });
      const lasts = rounds.map((r) => r.lastMs).sort((a, b) => a - b);
      const f = {
        miners: connected,
        rounds: rounds.length,
        lastP50Ms: quantile(lasts, 0.5),
        lastP99Ms: quantile(lasts, 0.99),
        lastMaxMs: lasts[lasts.length - 1],
        minerP50Ms: median(rounds.map((r) => r.p50Ms)),
        minerP99Ms: median(rounds.map((r) => r.p99Ms)),
        firstMs: median(rounds.map((r) => r.firstMs)),
        missing: rounds.reduce((n, r) => n + r.missing, 0),
        poolCpuMs: median(rounds.map((r) => r.poolCpuMs)),
        generatorCpuMs: median(rounds.map((r) => r.generatorCpuMs)),
        raw: rounds,
      };
      fanouts.push(f);
      console.log(
        `fan-out to ${connected}: last miner p50 ${fmt(f.lastP50Ms)} ms, p99 ` +
          `${fmt(f.lastP99Ms)} ms (first ${fmt(f.firstMs)} ms, per-miner p99 ` +
          `${fmt(f.minerP99Ms)} ms, ${f.missing} missing; CPU per round: pool ` +
          `${fmt(f.poolCpuMs, 0)} ms, generator ${fmt(f.generatorCpuMs, 0)} ms)`,
      );
    }
  }

  const ramps: Ramp[] = [];
  const jobTimer = setInterval(() => devnet.mempoolUpdate(), options.jobInterval * 1000);
  for (const miners of options.shareMiners) {
    if (miners < (connections.at(-1)?.miners ?? 0)) {
      await gen.call({ cmd: "trim", total: miners });
      await sleep(1000);
    }
    ramps.push(await ramp(gen, { poolPid: pool.pid, miners, options }));
  }
  clearInterval(jobTimer);

  const totals = await gen.call({ cmd: "totals" });
  await gen.close();
  // Durability: kill the pool outright, then count the rows it committed.
  if (options.profile === undefined) pool.kill("SIGKILL");
  else pool.kill("SIGTERM");
  const status = await pool.status;
  await poolLines;
  await poolStdout;
  logFile?.close();
  await devnet.stop();
  const db = new DatabaseSync(`${dir}/pool.sqlite`);
  const rows = Number(
    (db.prepare("SELECT COUNT(*) AS n FROM shares").get() as { n: number | bigint }).n,
  );
  db.close();
  const accepted = totals.accepted as number;
  const durability = {
    trueReplies: accepted,
    submitReplies: totals.replies,
    submitted: totals.submitted,
    rows,
    stopped: options.profile === undefined ? "SIGKILL" : "SIGTERM",
    exitSignal: status.signal,
    ok: rows >= accepted,
  };
  if (!options.keep) await Deno.remove(dir, { recursive: true });

  const m = machine();
  const loadAfter = loadAverage();
  printReport({
    options,
    machine: m,
    loadBefore,
    loadAfter,
    connections,
    fanouts,
    ramps,
    durability,
  });

  const report = {
    bench: "pool",
    date: started.toISOString(),
    command: `deno task bench:pool ${Deno.args.join(" ")}`.trim(),
    machine: m,
    loadAverage: { before: loadBefore, after: loadAfter },
    options: { ...options, networkDifficulty: options.networkDifficulty.toString() },
    connections,
    fanout: fanouts,
    shares: ramps,
    durability,
  };
  await Deno.mkdir(new URL(".", `file://${options.json}`).pathname, { recursive: true });
  await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2) + "\n");
  console.log(`\nwrote ${options.json}`);
  return durability.ok ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(Deno.args.includes("--realistic") ? await realisticMain(Deno.args) : await main());
}
