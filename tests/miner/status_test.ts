import assert from "node:assert/strict";
import {
  formatDifficulty,
  formatDuration,
  formatHashrate,
  formatRateReport,
  formatRates,
  formatShareReport,
  formatStatusLine,
  formatSummary,
} from "../../miner/status.ts";
import type { MinerStats } from "../../miner/miner.ts";

function stats(over: Partial<MinerStats> = {}): MinerStats {
  return {
    startedAt: 0,
    uptimeMs: 3_723_000,
    kernels: ["wasm", "wasm"],
    pool: "stratum+tcp://pool.example:3333",
    poolIndex: 0,
    difficulty: 1_048_576n,
    job: { id: "9", height: 100 },
    hashrate: 7_000_000,
    threadHashrates: [3_500_000, 3_500_000],
    hashes: 26_061_000_000,
    accepted: 3,
    rejected: 0,
    stale: 1,
    lost: 0,
    blocks: 0,
    rejectReasons: {},
    connections: 1,
    jobSwitchMs: [],
    rates: { s10: 7_000_000, s60: 6_900_000, m15: 6_500_000 },
    threadRates: [
      { s10: 3_500_000, s60: 3_450_000, m15: 3_250_000 },
      { s10: 3_500_000, s60: 3_450_000, m15: 3_250_000 },
    ],
    paused: false,
    latency: { samples: 0, p50Ms: 0, maxMs: 0 },
    lastRejections: [],
    ...over,
  };
}

Deno.test("formatHashrate() picks a unit", async (t) => {
  const rows: [number, string][] = [
    [0, "0 H/s"],
    [999, "999 H/s"],
    [1000, "1.00 kH/s"],
    [4_090_000, "4.09 MH/s"],
    [2.5e9, "2.50 GH/s"],
    [-5, "0 H/s"],
    [Number.NaN, "0 H/s"],
  ];
  for (const [input, want] of rows) {
    await t.step(`${input}`, () => assert.equal(formatHashrate(input), want));
  }
});

Deno.test("formatDuration() shows the two or three largest units", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(59_999), "59s");
  assert.equal(formatDuration(60_000), "1m00s");
  assert.equal(formatDuration(3_723_000), "1h02m03s");
  assert.equal(formatDuration(-10), "0s");
});

Deno.test("formatDifficulty() shortens large values", () => {
  assert.equal(formatDifficulty(1n), "1");
  assert.equal(formatDifficulty(999_999n), "999999");
  assert.equal(formatDifficulty(90_000_000_000n), "90.00G");
  assert.match(formatDifficulty(2n ** 191n), /e\+57$/);
});

Deno.test("formatRates() shows three windows in the unit of the largest", () => {
  assert.equal(formatRates({ s10: 999, s60: 1000, m15: 0 }), "1.00/1.00/0.00 kH/s");
  assert.equal(formatRates({ s10: 2.5e9, s60: 2e9, m15: 1e6 }), "2.50/2.00/0.00 GH/s");
  assert.equal(formatRates({ s10: Number.NaN, s60: -1, m15: 12 }), "0/0/12 H/s");
});

Deno.test("formatStatusLine() shows rates, shares, latency, difficulty, pool and uptime", () => {
  assert.equal(
    formatStatusLine(stats()),
    "7.00/6.90/6.50 MH/s | A 3 R 0 S 1 | diff 1.05M | pool.example:3333 | up 1h02m03s",
  );
  assert.equal(
    formatStatusLine(stats({ latency: { samples: 4, p50Ms: 2.25, maxMs: 120.4 } }), {
      threads: true,
    }),
    "7.00/6.90/6.50 MH/s [3.50|3.50] | A 3 R 0 S 1 | lat 2.3/120 ms | diff 1.05M | " +
      "pool.example:3333 | up 1h02m03s",
  );
  assert.match(formatStatusLine(stats({ pool: undefined, blocks: 2 })), /blocks 2 .*not connected/);
  assert.match(formatStatusLine(stats({ paused: true })), /^PAUSED \| 7\.00/);
});

Deno.test("formatRateReport() lists the total and every thread with its kernel", () => {
  const text = formatRateReport(stats({ kernels: ["wasm-simd", "webgpu"], paused: true }));
  const lines = text.split("\n");
  assert.match(
    lines[0]!,
    /^speed 10s\/60s\/15m 7\.00\/6\.90\/6\.50 MH\/s on 2 thread\(s\) \(paused\)/,
  );
  assert.equal(lines[1], "  thread 0 (wasm-simd)  3.50/3.45/3.25 MH/s");
  assert.equal(lines[2], "  thread 1 (webgpu)     3.50/3.45/3.25 MH/s");
});

Deno.test("formatShareReport() shows counts, latency and the latest rejections", () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5);
  const text = formatShareReport(stats({
    rejected: 2,
    latency: { samples: 5, p50Ms: 8, maxMs: 40 },
    lastRejections: [{ reason: "Duplicate share", at }, { reason: "Stale job", at: at + 1000 }],
  }));
  assert.match(text, /shares 3 accepted, 2 rejected, 1 stale, 0 without a verdict/);
  assert.match(text, /pool stratum\+tcp:\/\/pool\.example:3333, difficulty 1048576/);
  assert.match(text, /p50 8\.0 ms, max 40 ms over 5 shares/);
  assert.match(text, /last rejections \(UTC\): 03:04:05 Duplicate share; 03:04:06 Stale job/);
  assert.doesNotMatch(formatShareReport(stats()), /last rejections/);
});

Deno.test("formatSummary() reports totals, the average rate, the windows and latency", () => {
  const text = formatSummary(stats({
    rejected: 2,
    rejectReasons: { "Duplicate share": 2 },
    latency: { samples: 3, p50Ms: 5, maxMs: 9 },
  }));
  assert.match(text, /Mined for 1h02m03s on 2 thread\(s\) \(wasm\)/);
  assert.match(text, /average 7\.00 MH\/s; last 10s\/60s\/15m 7\.00\/6\.90\/6\.50 MH\/s/);
  assert.match(
    text,
    /3 accepted, 2 rejected, 1 stale, 0 without a verdict; latency p50 5\.0 ms, max 9\.0 ms/,
  );
  assert.match(text, /Duplicate share: 2/);
});
