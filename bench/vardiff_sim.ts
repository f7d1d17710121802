/**
 * Vardiff report: runs the simulated Poisson miner of tests/server/_sim.ts over many seeds and
 * prints settle times, steady-state change counts and how fast a changed hashrate is followed.
 * Simulated time only: the whole report takes about a second.
 *
 * Usage: `deno run bench/vardiff_sim.ts [seeds=500] [config as JSON, e.g. '{"confidence":3.5}']`
 *
 * @module
 */

import type { VardiffConfig } from "../server/vardiff.ts";
import {
  changesBetween,
  inBand,
  settleTime,
  type SimResult,
  simulate,
  timeInBand,
} from "../tests/server/_sim.ts";

const seeds = Number(Deno.args[0] ?? 500);
const extra = JSON.parse(Deno.args[1] ?? "{}") as Partial<VardiffConfig>;
const config: VardiffConfig = { minDifficulty: 1n, maxDifficulty: 1n << 60n, ...extra };
const target = config.targetShareSeconds ?? 10;
const MINUTE = 60;
const HOUR = 3600;

function summary(values: number[], unit = ""): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const f = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100) / 100}${unit}` : "never");
  return `mean ${f(mean)} p50 ${f(at(0.5))} p90 ${f(at(0.9))} p99 ${f(at(0.99))} max ${f(at(1))}`;
}

/** First time the difficulty enters ±30 % of `ideal` and stays there for at least `hold`. */
function reachTime(result: SimResult, ideal: number, hold: number): number {
  const changes = result.changes;
  for (let i = 0; i < changes.length; i++) {
    if (!inBand(changes[i]!.difficulty, ideal, 0.3)) continue;
    let j = i + 1;
    while (j < changes.length && inBand(changes[j]!.difficulty, ideal, 0.3)) j++;
    const leaves = changes[j]?.at ?? Infinity;
    if (leaves - changes[i]!.at >= hold) return changes[i]!.at;
    i = j - 1;
  }
  return Infinity;
}

console.log(`vardiff simulation, ${seeds} seeds per row, config ${JSON.stringify(extra)}`);
console.log(
  "settle = from when the difficulty stays within ±30 % of H × target to the end of a 4 h run;\n" +
    "reach = first entry into ±30 % that holds for at least 30 minutes",
);
for (const hashrate of [1e4, 1e6, 1e8, 1e10]) {
  const ideal = hashrate * target;
  for (const factor of [1 / 1000, 1000]) {
    const settles: number[] = [];
    const reaches: number[] = [];
    const changes: number[] = [];
    const inBandShare: number[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const result = simulate({
        seed: seed * 7919 + hashrate,
        config,
        startDifficulty: BigInt(Math.round(ideal * factor)),
        hashrate,
        durationSeconds: 4 * HOUR,
      });
      const settled = settleTime(result, ideal, { until: 4 * HOUR }) ?? Infinity;
      settles.push(settled / MINUTE);
      reaches.push(reachTime(result, ideal, 30 * MINUTE) / MINUTE);
      // Steady state: the two hours after 30 minutes.
      changes.push(changesBetween(result, 30 * MINUTE, 30 * MINUTE + 2 * HOUR));
      inBandShare.push(100 * timeInBand(result, ideal, 30 * MINUTE, 30 * MINUTE + 2 * HOUR));
    }
    console.log(
      `H=${hashrate.toExponential(0)} start ×${factor}: settle ${summary(settles, " min")}\n` +
        `    reach ${summary(reaches, " min")}\n` +
        `    changes in 2 h of steady state ${summary(changes)}; ` +
        `time in ±30 % ${summary(inBandShare, " %")}`,
    );
  }
}

for (const [label, step] of [["doubles", 2], ["halves", 0.5]] as const) {
  const follows: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const hashrate = 1e6;
    const result = simulate({
      seed,
      config,
      startDifficulty: BigInt(hashrate * target),
      hashrate: [[0, hashrate], [HOUR, hashrate * step]],
      durationSeconds: 3 * HOUR,
    });
    const settled = settleTime(result, hashrate * step * target, { from: HOUR }) ?? Infinity;
    follows.push((settled - HOUR) / MINUTE);
  }
  console.log(
    `hashrate ${label} at a settled miner: back within ±30 % ${summary(follows, " min")}`,
  );
}

{
  const lowered: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const result = simulate({
      seed,
      config,
      startDifficulty: 10_000_000n,
      hashrate: [[0, 1e6], [HOUR, 0]],
      durationSeconds: 2 * HOUR,
    });
    const first = result.changes.find((c) => c.at > HOUR);
    lowered.push(first === undefined ? Infinity : first.at - HOUR);
  }
  console.log(`miner goes silent: first lowering after ${summary(lowered, " s")}`);
}

{
  const counts: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const result = simulate({
      seed: seed + 100_000,
      config,
      startDifficulty: 10_000_000n,
      hashrate: 1e6,
      durationSeconds: 10 * HOUR,
    });
    counts.push(result.changes.length - 1);
  }
  console.log(`started at the right difficulty: changes in 10 h ${summary(counts)}`);
}
