/**
 * Many held miners over several pool processes and several generator processes (issue 18's
 * "50,000 miners held with fan-out p99 ≤ 1 s"): one process here may hold at most 20,000
 * descriptors (`ulimit -Hn`), so the pool runs as `[process] workers = W` on one port and the
 * miners come from G `bench/pool_load.ts` processes.
 *
 * - Miners as in `bench:pool --realistic`: 4 workers per payout address, at most
 *   `--miners-per-source` (100) per loopback source address (127.1.0.1, …), the pool at its
 *   defaults (per-IP cap 256, bans, flood limits, vardiff on, `exempt_loopback = false`). The
 *   miners hold their connection and do not submit (vardiff lowers the quiet ones now and then).
 * - Memory: RSS of the supervisor and its workers before and after the miners connected.
 * - New-block path: `--rounds` times the devnet's rival finds a block (a template with
 *   clean_jobs); each round is timed from the devnet accepting the block to the last miner of
 *   every generator reading the clean `mining.notify` (wall clock, one machine).
 *
 * ```sh
 * sh -c 'ulimit -n "$(ulimit -Hn)"; deno run -A bench/many_miners.ts --miners 50000 \
 *   --workers 3 --generators 3 --rounds 30'
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
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
} from "./_pool_common.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

const { values } = parseArgs({
  options: {
    miners: { type: "string", default: "50000" },
    workers: { type: "string", default: "3" },
    generators: { type: "string", default: "3" },
    rounds: { type: "string", default: "30" },
    "round-gap-ms": { type: "string", default: "2000" },
    "miners-per-source": { type: "string", default: "100" },
    "network-difficulty": { type: "string", default: "1000000" },
  },
});
const total = Number(values.miners);
const workers = Number(values.workers);
const generators = Number(values.generators);
const roundCount = Number(values.rounds);
const roundGapMs = Number(values["round-gap-ms"]);
const perSource = Number(values["miners-per-source"]);

const limit = openFileLimit();
if (limit < Math.ceil(total / generators) + 256) {
  console.error(`warning: the open-file limit is ${limit}; run under ulimit -n "$(ulimit -Hn)"`);
}
const loadBefore = loadAverage();
const dir = await Deno.makeTempDir({ prefix: "vbkpool-many-" });
const devnet = await startDevnet({
  hostname: "127.0.0.1",
  port: 0,
  minDifficulty: BigInt(values["network-difficulty"]!),
  window: 1_000_000,
  mempoolIntervalMs: 0,
  rivalShare: 0,
});
const port = freePort();
const config = `${dir}/pool.toml`;
await Deno.writeTextFile(
  config,
  `[log]
level = "info"
[nodecore]
endpoints = ["127.0.0.1:${devnet.addr.port}"]
address = "${POOL_ADDRESS}"
[process]
workers = ${workers}
[stratum]
listen = ["127.0.0.1:${port}"]
difficulty = 160
min_difficulty = 1
exempt_loopback = false
stats_interval_seconds = 0
[store]
url = "${dir}/pool.sqlite"
[api]
enabled = false
`,
);
const pool = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${ROOT}main.ts`, "server", "--config", config],
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
const workerPids: number[] = [];
const tail: string[] = [];
let ready = 0;
let onReady: () => void;
const allReady = new Promise<void>((r) => onReady = r);
const poolLines = lines(pool.stderr, (line) => {
  tail.push(line);
  if (tail.length > 40) tail.shift();
  const w = /worker \d+ started \(pid (\d+)/.exec(line);
  if (w !== null) workerPids.push(Number(w[1]));
  if (/upstream ready/.test(line) && ++ready === workers) onReady();
});
await Promise.race([
  allReady,
  pool.status.then((s) => {
    throw new Error(`Cannot start the pool (exit ${s.code}):\n${tail.join("\n")}`);
  }),
]);
const poolPids = () => [pool.pid, ...workerPids];
const poolRss = () => poolPids().reduce((t, pid) => t + rssKiB(pid), 0);
const poolCpu = () => poolPids().reduce((t, pid) => t + cpuSeconds(pid), 0);
const gens = Array.from({ length: generators }, () => new Generator([]));
const genCpu = () => gens.reduce((t, g) => t + cpuSeconds(g.pid), 0);
let rivalAt: number | undefined;
devnet.on((e) => {
  if (e.type === "block" && e.result.block.finder === "rival") {
    rivalAt = performance.timeOrigin + performance.now();
  }
});

console.log(
  `pool: ${workers} worker(s) on 127.0.0.1:${port} (pids ${
    workerPids.join(", ")
  }); ${generators} generator(s); ${total} miners, ≤ ${perSource} per source address`,
);
await sleep(2000);
const rss0 = poolRss();
const each = Math.ceil(total / generators);
const t0 = performance.now();
const connected = await Promise.all(gens.map((g, i) =>
  g.call({
    cmd: "connect",
    port,
    total: Math.min(each, total - i * each),
    spread: {
      workersPerAddress: 4,
      minersPerSource: perSource,
      password: "x",
      hashrate: 0,
      // Each generator its own addresses and source IPs (a source IP is never shared).
      first: i * Math.ceil(each / perSource) * perSource,
    },
  })
));
const connectSeconds = (performance.now() - t0) / 1000;
const miners = connected.reduce((n, c) => n + (c.connected as number), 0);
const failedConnects = connected.reduce((n, c) => n + (c.failed as number), 0);
await sleep(5000);
const rss1 = poolRss();
const perWorker = workerPids.map((pid) => {
  try {
    return Deno.readDirSync(`/proc/${pid}/fd`).reduce((n) => n + 1, 0);
  } catch {
    return 0;
  }
});
console.log(
  `connected ${miners} miners in ${fmt(connectSeconds)} s (${failedConnects} failed); pool RSS ` +
    `${fmt(rss0 / 1024)} → ${fmt(rss1 / 1024)} MiB, ${
      fmt((rss1 - rss0) / Math.max(1, miners))
    } KiB per miner; descriptors per worker ${perWorker.join(", ")}`,
);

interface Round {
  firstMs: number;
  lastMs: number;
  missing: number;
  poolCpuMs: number;
  genCpuMs: number;
}
const rounds: Round[] = [];
let dropped = 0;
while (rounds.length < roundCount) {
  await sleep(roundGapMs * (0.5 + Math.random()));
  await Promise.all(gens.map((g) => g.call({ cmd: "arm", clean: true })));
  rivalAt = undefined;
  await devnet.rival.mineBlock();
  const at = rivalAt as number | undefined;
  const p0 = poolCpu();
  const g0 = genCpu();
  const results = await Promise.all(gens.map((g) => g.call({ cmd: "await", timeoutMs: 20_000 })));
  if (at === undefined) {
    dropped++;
    continue;
  }
  const firsts = results.map((r) => r.first as number).filter((x) => x > 0);
  rounds.push({
    firstMs: Math.min(...firsts) - at,
    lastMs: Math.max(...results.map((r) => r.last as number)) - at,
    missing: results.reduce((n, r) => n + (r.missing as number), 0),
    poolCpuMs: (poolCpu() - p0) * 1000,
    genCpuMs: (genCpu() - g0) * 1000,
  });
  if (rounds.length % 10 === 0) console.log(`${rounds.length} rounds`);
}
const rssEnd = poolRss();
const lasts = rounds.map((r) => r.lastMs).sort((a, b) => a - b);
const sorted = (f: (r: Round) => number) => rounds.map(f).sort((a, b) => a - b);
console.log(
  `new-block fan-out to the last of ${miners} miners over ${rounds.length} rounds (${dropped} ` +
    `dropped): p50 ${fmt(quantile(lasts, 0.5))} ms, p99 ${fmt(quantile(lasts, 0.99))} ms, max ` +
    `${fmt(lasts.at(-1))} ms; first miner p50 ${fmt(quantile(sorted((r) => r.firstMs), 0.5))} ` +
    `ms; notifies missing ${rounds.reduce((n, r) => n + r.missing, 0)}; CPU per round p50: ` +
    `pool ${fmt(quantile(sorted((r) => r.poolCpuMs), 0.5), 0)} ms, generators ${
      fmt(quantile(sorted((r) => r.genCpuMs), 0.5), 0)
    } ms; pool RSS at the end ${fmt(rssEnd / 1024)} MiB`,
);
const m = machine();
console.log(
  `${m.cpu}, ${m.logicalCpus} CPUs; Deno ${m.deno}; load average ${loadBefore.join(" ")} ` +
    `before, ${loadAverage().join(" ")} after.`,
);
await Promise.all(gens.map((g) => g.close()));
pool.kill("SIGTERM");
await pool.status;
await poolLines;
await devnet.stop();
await Deno.remove(dir, { recursive: true }).catch(() => {});
