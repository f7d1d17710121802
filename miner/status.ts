/**
 * Text for the miner's status: hash rates, durations, the live status line, the rate and share
 * reports (hotkeys `h` and `s`, SIGUSR1) and the summary. Pure formatting of
 * {@linkcode MinerStats}.
 *
 * @module
 */
import type { HashRates, MinerStats, ShareLatency } from "./miner.ts";

/**
 * A hash rate with a unit (H/s, kH/s, MH/s, GH/s; decimal prefixes).
 *
 * @example Usage
 * ```ts
 * import { formatHashrate } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatHashrate(3_612_345), "3.61 MH/s");
 * assert.equal(formatHashrate(2500), "2.50 kH/s");
 * assert.equal(formatHashrate(12), "12 H/s");
 * ```
 *
 * @param hashesPerSecond Rate.
 * @returns Text.
 */
export function formatHashrate(hashesPerSecond: number): string {
  const h = Number.isFinite(hashesPerSecond) ? Math.max(0, hashesPerSecond) : 0;
  if (h >= 1e9) return `${(h / 1e9).toFixed(2)} GH/s`;
  if (h >= 1e6) return `${(h / 1e6).toFixed(2)} MH/s`;
  if (h >= 1e3) return `${(h / 1e3).toFixed(2)} kH/s`;
  return `${Math.round(h)} H/s`;
}

/**
 * A duration as `1d02h03m`, `2h03m04s`, `3m04s` or `4s`.
 *
 * @example Usage
 * ```ts
 * import { formatDuration } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDuration(4_000), "4s");
 * assert.equal(formatDuration(184_000), "3m04s");
 * assert.equal(formatDuration(7_384_000), "2h03m04s");
 * assert.equal(formatDuration(93_780_000), "1d02h03m");
 * ```
 *
 * @param ms Milliseconds.
 * @returns Text.
 */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const p = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d${p(h)}h${p(m)}m`;
  if (h > 0) return `${h}h${p(m)}m${p(s)}s`;
  if (m > 0) return `${m}m${p(s)}s`;
  return `${s}s`;
}

/**
 * A difficulty in short form: exact below 10^6, else with a k/M/G/T/P/E suffix.
 *
 * @example Usage
 * ```ts
 * import { formatDifficulty } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDifficulty(65536n), "65536");
 * assert.equal(formatDifficulty(1_048_576n), "1.05M");
 * assert.equal(formatDifficulty(undefined), "-");
 * ```
 *
 * @param difficulty The difficulty.
 * @returns Text.
 */
export function formatDifficulty(difficulty: bigint | undefined): string {
  if (difficulty === undefined) return "-";
  if (difficulty < 1_000_000n) return difficulty.toString();
  const units = ["k", "M", "G", "T", "P", "E", "Z", "Y"];
  let value = Number(difficulty);
  let unit = "";
  for (const u of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = u;
  }
  if (value >= 1000) return Number(difficulty).toExponential(2);
  return `${value.toFixed(2)}${unit}`;
}

/** Options for {@linkcode formatStatusLine}. */
export interface StatusLineOptions {
  /** Also show each thread's 10 s rate, in MH/s. @default false */
  threads?: boolean;
}

/**
 * Three rates in one unit (the unit of the largest): `3.61/3.60/3.58 MH/s`.
 *
 * @example Usage
 * ```ts
 * import { formatRates } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatRates({ s10: 3_612_000, s60: 3_600_000, m15: 990_000 }), "3.61/3.60/0.99 MH/s");
 * assert.equal(formatRates({ s10: 0, s60: 0, m15: 0 }), "0/0/0 H/s");
 * ```
 *
 * @param rates 10 s, 60 s and 15 min rates, H/s.
 * @returns Text.
 */
export function formatRates(rates: HashRates): string {
  const values = [rates.s10, rates.s60, rates.m15].map((h) =>
    Number.isFinite(h) ? Math.max(0, h) : 0
  );
  const top = Math.max(...values);
  const [div, unit] = top >= 1e9
    ? [1e9, "GH/s"]
    : top >= 1e6
    ? [1e6, "MH/s"]
    : top >= 1e3
    ? [1e3, "kH/s"]
    : [1, "H/s"];
  const text = values.map((h) => div === 1 ? String(Math.round(h)) : (h / div).toFixed(2));
  return `${text.join("/")} ${unit}`;
}

function formatMs(ms: number): string {
  return ms >= 10 ? String(Math.round(ms)) : ms.toFixed(1);
}

/**
 * Share latency as `p50 4.0 ms, max 31 ms`, or `-` before any verdict.
 *
 * @param latency Latency summary.
 * @returns Text.
 */
export function formatLatency(latency: ShareLatency): string {
  if (latency.samples === 0) return "-";
  return `p50 ${formatMs(latency.p50Ms)} ms, max ${formatMs(latency.maxMs)} ms`;
}

/**
 * The live status line: 10 s / 60 s / 15 min hash rates (and each thread's 10 s rate on
 * request), shares, share latency (submit → verdict, median/max), difficulty, pool, uptime.
 *
 * @example Usage
 * ```ts
 * import { formatStatusLine } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * const stats = {
 *   startedAt: 0, uptimeMs: 65_000, kernels: ["wasm", "wasm"], pool: "127.0.0.1:3333",
 *   poolIndex: 0, difficulty: 65536n, job: { id: "7", height: 12 }, hashrate: 7_200_000,
 *   threadHashrates: [3_600_000, 3_600_000], hashes: 0, accepted: 10, rejected: 1, stale: 2,
 *   lost: 0, blocks: 1, rejectReasons: { "Share is above target": 1 }, connections: 1,
 *   jobSwitchMs: [], rates: { s10: 7_200_000, s60: 7_100_000, m15: 7_000_000 },
 *   threadRates: [
 *     { s10: 3_600_000, s60: 3_550_000, m15: 3_500_000 },
 *     { s10: 3_600_000, s60: 3_550_000, m15: 3_500_000 },
 *   ],
 *   paused: false, latency: { samples: 13, p50Ms: 4, maxMs: 31 },
 *   lastRejections: [{ reason: "Share is above target", at: 0 }],
 * };
 * assert.equal(
 *   formatStatusLine(stats),
 *   "7.20/7.10/7.00 MH/s | A 10 R 1 S 2 | lat 4.0/31 ms | blocks 1 | diff 65536 | " +
 *     "127.0.0.1:3333 | up 1m05s",
 * );
 * assert.match(formatStatusLine(stats, { threads: true }), /^7\.20\/7\.10\/7\.00 MH\/s \[3\.60\|3\.60\] \|/);
 * ```
 *
 * @param stats A statistics snapshot.
 * @param options What else to show.
 * @returns One line, without a newline.
 */
export function formatStatusLine(stats: MinerStats, options: StatusLineOptions = {}): string {
  const parts: string[] = [];
  if (stats.paused) parts.push("PAUSED");
  let rates = formatRates(stats.rates);
  if (options.threads) {
    rates += ` [${stats.threadRates.map((r) => (r.s10 / 1e6).toFixed(2)).join("|")}]`;
  }
  parts.push(rates);
  parts.push(`A ${stats.accepted} R ${stats.rejected} S ${stats.stale}`);
  const l = stats.latency;
  if (l.samples > 0) parts.push(`lat ${formatMs(l.p50Ms)}/${formatMs(l.maxMs)} ms`);
  if (stats.blocks > 0) parts.push(`blocks ${stats.blocks}`);
  parts.push(`diff ${formatDifficulty(stats.difficulty)}`);
  parts.push(stats.pool === undefined ? "not connected" : stats.pool.replace(/^[a-z+]+:\/\//i, ""));
  parts.push(`up ${formatDuration(stats.uptimeMs)}`);
  return parts.join(" | ");
}

/**
 * The rate report (hotkey `h`, SIGUSR1): the total and every thread's rate over 10 s, 60 s
 * and 15 min, with its kernel.
 *
 * @example Usage
 * ```ts
 * import { formatRateReport } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatRateReport({
 *     startedAt: 0, uptimeMs: 65_000, kernels: ["wasm", "wasm"], pool: "127.0.0.1:3333",
 *     poolIndex: 0, difficulty: 65536n, job: { id: "7", height: 12 }, hashrate: 7_200_000,
 *     threadHashrates: [3_600_000, 3_600_000], hashes: 0, accepted: 10, rejected: 1, stale: 2,
 *     lost: 0, blocks: 1, rejectReasons: { "Share is above target": 1 }, connections: 1,
 *     jobSwitchMs: [], rates: { s10: 7_200_000, s60: 7_100_000, m15: 7_000_000 },
 *     threadRates: [
 *       { s10: 3_600_000, s60: 3_550_000, m15: 3_500_000 },
 *       { s10: 3_600_000, s60: 3_550_000, m15: 3_500_000 },
 *     ],
 *     paused: false, latency: { samples: 13, p50Ms: 4, maxMs: 31 },
 *     lastRejections: [{ reason: "Share is above target", at: 0 }],
 *   });
 * assert.match(text, /^speed 10s\/60s\/15m 7\.20\/7\.10\/7\.00 MH\/s/);
 * assert.match(text, /thread 1 \(wasm\)\s+3\.60\/3\.55\/3\.50 MH\/s/);
 * ```
 *
 * @param stats A statistics snapshot.
 * @returns Several lines.
 */
export function formatRateReport(stats: MinerStats): string {
  const lines = [
    `speed 10s/60s/15m ${formatRates(stats.rates)} on ${stats.threadRates.length} thread(s)` +
    `${stats.paused ? " (paused)" : ""}; up ${formatDuration(stats.uptimeMs)}`,
  ];
  const labels = stats.threadRates.map((_, i) => `thread ${i} (${stats.kernels[i] ?? "?"})`);
  const width = Math.max(0, ...labels.map((l) => l.length));
  stats.threadRates.forEach((r, i) =>
    lines.push(`  ${labels[i]!.padEnd(width)}  ${formatRates(r)}`)
  );
  return lines.join("\n");
}

function formatRejections(stats: MinerStats): string | undefined {
  if (stats.lastRejections.length === 0) return undefined;
  const items = stats.lastRejections.map((r) =>
    `${new Date(r.at).toISOString().slice(11, 19)} ${r.reason}`
  );
  return `last rejections (UTC): ${items.join("; ")}`;
}

/**
 * The share report (hotkey `s`, SIGUSR1): counts, latency, difficulty and pool, and the
 * reasons of the latest rejections.
 *
 * @example Usage
 * ```ts
 * import { formatShareReport } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatShareReport({
 *     startedAt: 0, uptimeMs: 65_000, kernels: ["wasm", "wasm"], pool: "127.0.0.1:3333",
 *     poolIndex: 0, difficulty: 65536n, job: { id: "7", height: 12 }, hashrate: 7_200_000,
 *     threadHashrates: [3_600_000, 3_600_000], hashes: 0, accepted: 10, rejected: 1, stale: 2,
 *     lost: 0, blocks: 1, rejectReasons: { "Share is above target": 1 }, connections: 1,
 *     jobSwitchMs: [], rates: { s10: 7_200_000, s60: 7_100_000, m15: 7_000_000 },
 *     threadRates: [
 *       { s10: 3_600_000, s60: 3_550_000, m15: 3_500_000 },
 *       { s10: 3_600_000, s60: 3_550_000, m15: 3_500_000 },
 *     ],
 *     paused: false, latency: { samples: 13, p50Ms: 4, maxMs: 31 },
 *     lastRejections: [{ reason: "Share is above target", at: 0 }],
 *   });
 * assert.match(text, /^shares 10 accepted, 1 rejected, 2 stale, 0 without a verdict/);
 * assert.match(text, /latency \(submit → verdict\) p50 4\.0 ms, max 31 ms over 13 shares/);
 * assert.match(text, /last rejections \(UTC\): 00:00:00 Share is above target/);
 * ```
 *
 * @param stats A statistics snapshot.
 * @returns Several lines.
 */
export function formatShareReport(stats: MinerStats): string {
  const pool = stats.pool === undefined ? "not connected" : stats.pool;
  const lines = [
    `shares ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.stale} stale, ` +
    `${stats.lost} without a verdict; blocks ${stats.blocks}`,
    `pool ${pool}, difficulty ${stats.difficulty?.toString() ?? "-"}`,
    `latency (submit → verdict) ${
      formatLatency(stats.latency)
    } over ${stats.latency.samples} shares`,
  ];
  const rejections = formatRejections(stats);
  if (rejections !== undefined) lines.push(rejections);
  return lines.join("\n");
}

/**
 * The summary printed on exit: uptime, hashes and average rate, the 10 s / 60 s / 15 min
 * rates, shares, latency, blocks, rejection reasons.
 *
 * @example Usage
 * ```ts
 * import { formatSummary } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * const text = formatSummary({
 *   startedAt: 0, uptimeMs: 10_000, kernels: ["wasm"], pool: undefined, poolIndex: undefined,
 *   difficulty: undefined, job: undefined, hashrate: 0, threadHashrates: [0], hashes: 36_000_000,
 *   accepted: 5, rejected: 1, stale: 0, lost: 0, blocks: 0,
 *   rejectReasons: { "Share is above target": 1 }, connections: 1, jobSwitchMs: [],
 *   rates: { s10: 3.6e6, s60: 3.6e6, m15: 3.6e6 }, threadRates: [{ s10: 3.6e6, s60: 3.6e6, m15: 3.6e6 }],
 *   paused: false, latency: { samples: 6, p50Ms: 3, maxMs: 12 },
 *   lastRejections: [{ reason: "Share is above target", at: 5000 }],
 * });
 * assert.match(text, /average 3\.60 MH\/s/);
 * assert.match(text, /Share is above target: 1/);
 * assert.match(text, /latency p50 3\.0 ms, max 12 ms/);
 * ```
 *
 * @param stats Final statistics.
 * @returns Several lines.
 */
export function formatSummary(stats: MinerStats): string {
  const seconds = stats.uptimeMs / 1000;
  const average = seconds > 0 ? stats.hashes / seconds : 0;
  const lines = [
    `Mined for ${formatDuration(stats.uptimeMs)} on ${stats.kernels.length} thread(s) ` +
    `(${[...new Set(stats.kernels)].join(", ") || "no kernel"})`,
    `Hashes: ${stats.hashes} (average ${formatHashrate(average)}; last 10s/60s/15m ` +
    `${formatRates(stats.rates)})`,
    `Shares: ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.stale} stale, ` +
    `${stats.lost} without a verdict; latency ${formatLatency(stats.latency)}`,
    `Blocks found: ${stats.blocks}; connections: ${stats.connections}`,
  ];
  const reasons = Object.entries(stats.rejectReasons);
  if (reasons.length > 0) {
    lines.push(`Rejected: ${reasons.map(([r, n]) => `${r}: ${n}`).join("; ")}`);
  }
  return lines.join("\n");
}
