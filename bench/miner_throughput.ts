/**
 * Miner throughput: hash rate under `vbkpool mine` against a local pool (devnet + pool, real
 * TCP) versus `vbkpool bench` (the same threads on a synthetic job, no network), on 1 and N
 * threads, and the job-switch latency (notify received → every thread on the new job).
 *
 * Runs alternate between the two modes so that machine noise hits both alike; medians are
 * reported.
 *
 *     deno run -A bench/miner_throughput.ts [--seconds 5] [--runs 5] [--threads 2]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { buildThreadWork, Miner, MiningThreads } from "../miner/mod.ts";
import { ADDRESS, startPool, startTestDevnet } from "../tests/miner/_stack.ts";
import { BENCH_JOB } from "../miner/mod.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    runs: { type: "string", default: "5" },
    threads: { type: "string", default: String(navigator.hardwareConcurrency || 2) },
    "share-difficulty": { type: "string", default: "1048576" },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const MAX_THREADS = Number(values.threads);
const SHARE_DIFFICULTY = BigInt(values["share-difficulty"]);
const WARMUP_MS = 1500;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const mh = (h: number) => (h / 1e6).toFixed(3);

/** `vbkpool bench`: the miner's threads on a synthetic job with an unreachable target. */
async function benchRate(threads: number): Promise<number> {
  const pool = await MiningThreads.start({ threads });
  try {
    pool.setWork((thread, generation) =>
      buildThreadWork(BENCH_JOB, {
        generation,
        sessionId: 0,
        extranonce: 0n,
        thread,
        threads,
        target: 0n,
      })
    );
    await sleep(WARMUP_MS);
    const a = pool.hashes().reduce((x, y) => x + y, 0);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const b = pool.hashes().reduce((x, y) => x + y, 0);
    return (b - a) / ((performance.now() - t0) / 1000);
  } finally {
    pool.terminate();
  }
}

const devnet = await startTestDevnet({ minDifficulty: 30_000_000n });
const stack = startPool(devnet, { difficulty: SHARE_DIFFICULTY });

/** `vbkpool mine` against the local pool; also drives template updates for the latency. */
async function mineRate(threads: number, switches: number[]) {
  const miner = new Miner({ pools: [stack.url], user: `${ADDRESS}.bench`, threads });
  await miner.start();
  try {
    const end = Date.now() + 20000;
    while (miner.stats().job === undefined && Date.now() < end) await sleep(20);
    await sleep(WARMUP_MS);
    const s0 = miner.stats();
    const t0 = performance.now();
    // New templates (mempool updates) every 500 ms: notify → all threads switch.
    const ticker = setInterval(() => devnet.mempoolUpdate(), 500);
    await sleep(SECONDS * 1000);
    clearInterval(ticker);
    const s1 = miner.stats();
    const rate = (s1.hashes - s0.hashes) / ((performance.now() - t0) / 1000);
    switches.push(...s1.jobSwitchMs.slice(s0.jobSwitchMs.length));
    return { rate, accepted: s1.accepted - s0.accepted, stale: s1.stale - s0.stale };
  } finally {
    await miner.stop();
  }
}

const counts = MAX_THREADS > 1 ? [1, MAX_THREADS] : [1];
const bench = new Map<number, number[]>(counts.map((t) => [t, []]));
const mine = new Map<number, number[]>(counts.map((t) => [t, []]));
const switches = new Map<number, number[]>(counts.map((t) => [t, []]));
let accepted = 0;
let stale = 0;
console.log(
  `miner throughput: ${RUNS} runs x ${SECONDS} s, threads ${counts.join(", ")}, ` +
    `share difficulty ${SHARE_DIFFICULTY}, ${navigator.hardwareConcurrency} cores`,
);
for (let run = 1; run <= RUNS; run++) {
  for (const t of counts) {
    const b = await benchRate(t);
    const m = await mineRate(t, switches.get(t)!);
    bench.get(t)!.push(b);
    mine.get(t)!.push(m.rate);
    accepted += m.accepted;
    stale += m.stale;
    console.log(
      `run ${run} threads ${t}: bench ${mh(b)} MH/s, mine ${mh(m.rate)} MH/s ` +
        `(${m.accepted} accepted, ${m.stale} stale)`,
    );
  }
}
await stack.stop();
await devnet.stop();

console.log("\nmedians");
console.log("threads  bench MH/s  mine MH/s  mine/bench  switch p50 ms  p90 ms  max ms  n");
for (const t of counts) {
  const b = median(bench.get(t)!);
  const m = median(mine.get(t)!);
  const s = switches.get(t)!;
  console.log(
    `${String(t).padStart(7)}  ${mh(b).padStart(10)}  ${mh(m).padStart(9)}  ${
      (m / b).toFixed(3).padStart(10)
    }  ${s.length ? median(s).toFixed(2).padStart(13) : "-".padStart(13)}  ${
      s.length ? quantile(s, 0.9).toFixed(2).padStart(6) : "-"
    }  ${s.length ? Math.max(...s).toFixed(2).padStart(6) : "-"}  ${s.length}`,
  );
}
if (counts.length > 1) {
  const t = counts[1]!;
  console.log(
    `scaling 1 -> ${t} threads: bench ${
      (median(bench.get(t)!) / median(bench.get(1)!)).toFixed(2)
    }x, ` +
      `mine ${(median(mine.get(t)!) / median(mine.get(1)!)).toFixed(2)}x`,
  );
}
console.log(`shares during measurement: ${accepted} accepted, ${stale} stale`);
