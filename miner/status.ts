/**
 * Text for the miner's status: hash rates, durations, the live status line and the summary.
 * Pure formatting of {@linkcode MinerStats}.
 *
 * @module
 */
import type { MinerStats } from "./miner.ts";

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

/**
 * The live status line: total and per-thread hash rate, shares, difficulty, pool, uptime.
 *
 * @example Usage
 * ```ts
 * import { formatStatusLine } from "./status.ts";
 * import assert from "node:assert/strict";
 *
 * const line = formatStatusLine({
 *   startedAt: 0, uptimeMs: 65_000, kernels: ["wasm", "wasm"], pool: "127.0.0.1:3333",
 *   poolIndex: 0, difficulty: 65536n, job: { id: "7", height: 12 }, hashrate: 7_200_000,
 *   threadHashrates: [3_600_000, 3_600_000], hashes: 0, accepted: 10, rejected: 1, stale: 2,
 *   lost: 0, blocks: 1, rejectReasons: {}, connections: 1, jobSwitchMs: [],
 * });
 * assert.equal(
 *   line,
 *   "7.20 MH/s [3.60|3.60] | A 10 R 1 S 2 | blocks 1 | diff 65536 | 127.0.0.1:3333 | up 1m05s",
 * );
 * ```
 *
 * @param stats A statistics snapshot.
 * @returns One line, without a newline.
 */
export function formatStatusLine(stats: MinerStats): string {
  const threads = stats.threadHashrates.map((h) => (h / 1e6).toFixed(2)).join("|");
  const parts = [
    `${formatHashrate(stats.hashrate)} [${threads}]`,
    `A ${stats.accepted} R ${stats.rejected} S ${stats.stale}`,
  ];
  if (stats.blocks > 0) parts.push(`blocks ${stats.blocks}`);
  parts.push(`diff ${formatDifficulty(stats.difficulty)}`);
  parts.push(stats.pool === undefined ? "not connected" : stats.pool.replace(/^[a-z+]+:\/\//i, ""));
  parts.push(`up ${formatDuration(stats.uptimeMs)}`);
  return parts.join(" | ");
}

/**
 * The summary printed on exit: uptime, hashes and average rate, shares, blocks, reasons.
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
 * });
 * assert.match(text, /average 3\.60 MH\/s/);
 * assert.match(text, /Share is above target: 1/);
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
    `Hashes: ${stats.hashes} (average ${formatHashrate(average)})`,
    `Shares: ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.stale} stale, ` +
    `${stats.lost} without a verdict`,
    `Blocks found: ${stats.blocks}; connections: ${stats.connections}`,
  ];
  const reasons = Object.entries(stats.rejectReasons);
  if (reasons.length > 0) {
    lines.push(`Rejected: ${reasons.map(([r, n]) => `${r}: ${n}`).join("; ")}`);
  }
  return lines.join("\n");
}
