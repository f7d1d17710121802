import assert from "node:assert/strict";
import {
  formatDifficulty,
  formatDuration,
  formatHashrate,
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

Deno.test("formatStatusLine() shows rate, threads, shares, difficulty, pool and uptime", () => {
  assert.equal(
    formatStatusLine(stats()),
    "7.00 MH/s [3.50|3.50] | A 3 R 0 S 1 | diff 1.05M | pool.example:3333 | up 1h02m03s",
  );
  assert.match(formatStatusLine(stats({ pool: undefined, blocks: 2 })), /blocks 2 .*not connected/);
});

Deno.test("formatSummary() reports totals and the average rate", () => {
  const text = formatSummary(stats({ rejected: 2, rejectReasons: { "Duplicate share": 2 } }));
  assert.match(text, /Mined for 1h02m03s on 2 thread\(s\) \(wasm\)/);
  assert.match(text, /average 7\.00 MH\/s/);
  assert.match(text, /3 accepted, 2 rejected, 1 stale/);
  assert.match(text, /Duplicate share: 2/);
});
