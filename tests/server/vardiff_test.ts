import assert from "node:assert/strict";
import {
  checkVardiff,
  createVardiff,
  estimateHashrate,
  recordShare,
  type VardiffConfig,
  type VardiffOptions,
} from "../../server/vardiff.ts";
import { lowerBound, upperBound, zAbove, zBelow } from "../../server/_vardiff_stats.ts";
import {
  changesBetween,
  difficultyAt,
  inBand,
  settleTime,
  type SimOptions,
  type SimResult,
  simulate,
  timeInBand,
} from "./_sim.ts";

const MINUTE = 60;
const HOUR = 3600;
const TARGET = 10;
const CONFIG: VardiffConfig = { minDifficulty: 1n, maxDifficulty: 1n << 50n };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function options(now: number, extra: Partial<VardiffOptions> = {}): VardiffOptions {
  return { config: CONFIG, now, ...extra };
}

// ---------------------------------------------------------------------------------------------
// Convergence, stability and tracking on simulated Poisson share streams (simulated time only).

Deno.test("vardiff settles from a start 1000x off in either direction and then holds", async (t) => {
  // Observed with these seeds (time until within ±30 % for good): medians 6-8 min from below and
  // 11-16 min from above, every run under 26 min; in the 2 h after settling 0-1 changes (all
  // inside the band), once 4. See bench/vardiff_sim.ts for the distributions over 500 seeds.
  for (const hashrate of [1e4, 1e6, 1e8, 1e10]) {
    await t.step(`${hashrate.toExponential(0)} H/s`, () => {
      const ideal = hashrate * TARGET;
      for (const factor of [1 / 1000, 1000]) {
        const settles: number[] = [];
        let changes = 0;
        for (let i = 0; i < 10; i++) {
          const result = simulate({
            seed: 1000 * Math.log10(hashrate) + i + (factor > 1 ? 500 : 0),
            config: CONFIG,
            startDifficulty: BigInt(Math.round(ideal * factor)),
            hashrate,
            durationSeconds: 3 * HOUR,
          });
          for (const change of result.changes) assert.equal(typeof change.difficulty, "bigint");
          // Settled = within ±30 % from then on, to the end of the 3 h run.
          const settled = settleTime(result, ideal);
          assert.ok(settled !== undefined && settled <= 30 * MINUTE, `settled at ${settled} s`);
          const after = changesBetween(result, settled, settled + 2 * HOUR);
          assert.ok(after <= 4, `${after} changes in the 2 h after settling`);
          settles.push(settled);
          changes += after;
        }
        assert.ok(median(settles) <= 20 * MINUTE, `median settle ${median(settles)} s`);
        assert.ok(changes <= 12, `${changes} changes after settling in 10 runs`);
      }
    });
  }
});

Deno.test("vardiff does not oscillate at steady state", () => {
  // Started at the right difficulty: a good controller leaves it alone. Observed: 0 changes in
  // 10 h for most seeds (p99 2 over 500 seeds), in band ~100 % of the time.
  const hashrate = 1e6;
  const ideal = hashrate * TARGET;
  let total = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const result = simulate({
      seed: 77 + seed,
      config: CONFIG,
      startDifficulty: BigInt(ideal),
      hashrate,
      durationSeconds: 10 * HOUR,
    });
    const changes = result.changes.length - 1;
    assert.ok(changes <= 3, `${changes} changes in 10 h`);
    assert.ok(timeInBand(result, ideal, 0, 10 * HOUR) >= 0.99);
    total += changes;
  }
  assert.ok(total <= 4, `${total} changes in 50 h`);
});

Deno.test("vardiff follows a hashrate that doubles or halves", async (t) => {
  // Observed over 500 seeds: doubling followed in 5 min (median), halving in 14 min.
  for (const [label, step] of [["doubles", 2], ["halves", 0.5]] as const) {
    await t.step(label, () => {
      const hashrate = 1e8;
      const follows: number[] = [];
      for (let seed = 1; seed <= 8; seed++) {
        const result = simulate({
          seed: seed + (step > 1 ? 200 : 300),
          config: CONFIG,
          startDifficulty: BigInt(hashrate * TARGET),
          hashrate: [[0, hashrate], [HOUR, hashrate * step]],
          durationSeconds: 3 * HOUR,
        });
        assert.ok(inBand(difficultyAt(result, HOUR), hashrate * TARGET, 0.3));
        const settled = settleTime(result, hashrate * step * TARGET, { from: HOUR });
        assert.ok(settled !== undefined && settled - HOUR <= 35 * MINUTE, `followed at ${settled}`);
        follows.push(settled - HOUR);
      }
      assert.ok(median(follows) <= 20 * MINUTE, `median ${median(follows)} s`);
    });
  }
});

Deno.test("vardiff lowers a silent miner from the timer path, geometrically", () => {
  const result = simulate({
    seed: 5,
    config: CONFIG,
    startDifficulty: 10_000_000n,
    hashrate: [[0, 1e6], [HOUR, 0]],
    durationSeconds: 2 * HOUR,
  });
  const silent = result.changes.filter((c) => c.at > HOUR);
  assert.ok(silent.length >= 3);
  assert.ok(silent.every((c) => c.by === "timer"));
  assert.ok(silent[0]!.at - HOUR <= 10 * MINUTE, `first lowering after ${silent[0]!.at - HOUR} s`);
  for (let i = 1; i < silent.length; i++) {
    assert.ok(silent[i]!.difficulty < silent[i - 1]!.difficulty);
  }
  // Down to the floor within the hour of silence (each step is ÷16 after ~2-3 minutes).
  assert.equal(difficultyAt(result, 2 * HOUR), 1n);
});

Deno.test("checkVardiff() lowers with zero shares ever, using elapsed time as the bound", () => {
  const state = createVardiff(1n << 40n, 0);
  const steps: bigint[] = [];
  let previous = state.difficulty;
  for (let now = 10_000; now <= 3_600_000; now += 10_000) {
    const next = checkVardiff(state, options(now));
    if (next === undefined) continue;
    assert.ok(next < previous && next * 16n >= previous, `${previous} -> ${next}`);
    steps.push(next);
    previous = next;
  }
  assert.ok(steps.length >= 8, `${steps.length} steps`);
  assert.equal(state.difficulty, 1n);
});

Deno.test("vardiff copes with shares in flight at the old difficulty", () => {
  // The miner switches 2 s after each change; shares found before are credited at the old
  // difficulty (a fraction of a share after an increase, capped at one after a decrease).
  const hashrate = 1e6;
  for (const factor of [1 / 1000, 1000]) {
    for (let seed = 1; seed <= 4; seed++) {
      const result = simulate({
        seed: seed + 40,
        config: CONFIG,
        startDifficulty: BigInt(hashrate * TARGET * factor),
        hashrate,
        durationSeconds: 3 * HOUR,
        latencySeconds: 2,
      });
      const settled = settleTime(result, hashrate * TARGET);
      assert.ok(settled !== undefined && settled <= 30 * MINUTE, `settled at ${settled}`);
    }
  }
});

Deno.test("vardiff works with a slow timer", () => {
  const hashrate = 1e6;
  for (const factor of [1 / 1000, 1000]) {
    const result = simulate({
      seed: 9,
      config: CONFIG,
      startDifficulty: BigInt(hashrate * TARGET * factor),
      hashrate,
      durationSeconds: 3 * HOUR,
      timerSeconds: 60,
    });
    const settled = settleTime(result, hashrate * TARGET);
    assert.ok(settled !== undefined && settled <= 30 * MINUTE, `settled at ${settled}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Limits and options.

function run(extra: Partial<SimOptions> & { config: VardiffConfig }): SimResult {
  return simulate({
    seed: 3,
    startDifficulty: 10_000_000n,
    hashrate: 1e6,
    durationSeconds: 2 * HOUR,
    ...extra,
  });
}

Deno.test("vardiff keeps to minDifficulty and maxDifficulty", () => {
  // The ideal is 1e7 in both runs.
  const floored = run({ config: { ...CONFIG, minDifficulty: 50_000_000n } });
  assert.equal(floored.changes[1]?.difficulty, 50_000_000n, "clamped up at the first call");
  assert.ok(floored.changes.every((c, i) => i === 0 || c.difficulty >= 50_000_000n));
  assert.equal(difficultyAt(floored, 2 * HOUR), 50_000_000n);

  const capped = run({ config: { ...CONFIG, maxDifficulty: 1_000_000n }, startDifficulty: 1000n });
  assert.ok(capped.changes.every((c) => c.difficulty <= 1_000_000n));
  assert.equal(difficultyAt(capped, 2 * HOUR), 1_000_000n);
});

Deno.test("vardiff never goes above the network difficulty", () => {
  const result = run({ config: CONFIG, networkDifficulty: 2_000_000n, startDifficulty: 1000n });
  assert.ok(result.changes.every((c, i) => i === 0 || c.difficulty <= 2_000_000n));
  assert.equal(difficultyAt(result, 2 * HOUR), 2_000_000n);

  // A falling network difficulty applies at the next call, without evidence or retarget delay.
  const state = createVardiff(10_000_000n, 0);
  assert.equal(recordShare(state, 10_000_000n, options(5_000)), undefined);
  assert.equal(
    recordShare(state, 10_000_000n, options(5_001, { networkDifficulty: 4096n })),
    4096n,
  );
  assert.equal(checkVardiff(state, options(5_002, { networkDifficulty: 1000n })), 1000n);
  // It wins over minDifficulty (which still lifts the difficulty up to it).
  const high = { ...CONFIG, minDifficulty: 100_000n };
  assert.equal(checkVardiff(state, { config: high, now: 5_003, networkDifficulty: 2000n }), 2000n);
  assert.equal(
    checkVardiff(state, { config: high, now: 5_004, networkDifficulty: 2000n }),
    undefined,
  );
  assert.equal(state.difficulty, 2000n);
});

Deno.test("vardiff powerOfTwo gives powers of two and still settles", () => {
  const hashrate = 1e6; // ideal 1e7: the nearest powers of two are 2^23 (0.84×) and 2^24 (1.68×)
  for (const factor of [1 / 1000, 1000]) {
    const result = run({
      config: { ...CONFIG, powerOfTwo: true },
      startDifficulty: 1n << BigInt(Math.round(Math.log2(hashrate * TARGET * factor))),
      durationSeconds: 3 * HOUR,
    });
    for (const { difficulty } of result.changes) {
      assert.equal(difficulty & (difficulty - 1n), 0n, `${difficulty} is a power of two`);
    }
    const settled = settleTime(result, hashrate * TARGET);
    assert.ok(settled !== undefined && settled <= 30 * MINUTE, `settled at ${settled}`);
    assert.equal(difficultyAt(result, 3 * HOUR), 1n << 23n);
  }
  // A miner halfway between two powers of two does not flip-flop between them.
  for (let seed = 1; seed <= 5; seed++) {
    const halfway = run({
      seed,
      config: { ...CONFIG, powerOfTwo: true },
      startDifficulty: 1n << 23n,
      hashrate: 2 ** 23.5 / TARGET,
      durationSeconds: 10 * HOUR,
    });
    assert.ok(halfway.changes.length <= 2, `${halfway.changes.length - 1} changes`);
  }
});

Deno.test("vardiff respects retargetSeconds and maxChangeFactor", () => {
  const config = { ...CONFIG, retargetSeconds: 60, maxChangeFactor: 4 };
  const result = run({ config, startDifficulty: 10_000n });
  assert.ok(result.changes.length > 5);
  for (let i = 2; i < result.changes.length; i++) {
    const [a, b] = [result.changes[i - 1]!, result.changes[i]!];
    assert.ok(b.at - a.at >= 60, `changes at ${a.at} and ${b.at}`);
    const ratio = Number(b.difficulty) / Number(a.difficulty);
    assert.ok(ratio <= 4.0001 && ratio >= 0.2499, `ratio ${ratio}`);
  }
  // The first change is not delayed: a miner 1000x too low is raised within a second.
  assert.ok(result.changes[1]!.at < 1);
});

Deno.test("recordShare() counts a share from an old job at its own difficulty", () => {
  // After an increase, shares still credited at the old difficulty are a fraction of a share;
  // after a decrease, one stale high-difficulty share must not cause a jump back up.
  const state = createVardiff(1_000_000n, 0);
  for (let i = 1; i <= 20; i++) {
    recordShare(state, 1_000_000n, options(i * 10_000));
  }
  assert.equal(state.difficulty, 1_000_000n);
  assert.equal(recordShare(state, 1n << 40n, options(200_500)), undefined);
  assert.equal(recordShare(state, 1n << 40n, options(200_600)), undefined);
  assert.equal(state.difficulty, 1_000_000n);
});

Deno.test("estimateHashrate() measures work over time", () => {
  const state = createVardiff(2_000_000n, 0);
  for (let i = 1; i <= 50; i++) recordShare(state, 2_000_000n, options(i * 10_000));
  assert.equal(estimateHashrate(state, 500_000), 200_000);
  assert.equal(estimateHashrate(createVardiff(1n, 0), 0), 0);
});

Deno.test("vardiff survives a clock that steps backwards", () => {
  const state = createVardiff(1_000_000n, 10 * HOUR * 1000);
  for (let i = 1; i <= 10; i++) {
    recordShare(state, 1_000_000n, options(10 * HOUR * 1000 + i * 10_000));
  }
  // The clock jumps back an hour: no change from the jump, and nothing breaks afterwards.
  const back = 9 * HOUR * 1000;
  assert.equal(checkVardiff(state, options(back)), undefined);
  assert.equal(recordShare(state, 1_000_000n, options(back + 10_000)), undefined);
  assert.equal(checkVardiff(state, options(back + 20_000)), undefined);
  assert.equal(state.difficulty, 1_000_000n);
});

Deno.test("vardiff is deterministic for a seed", () => {
  const a = run({ config: CONFIG, startDifficulty: 10n });
  const b = run({ config: CONFIG, startDifficulty: 10n });
  assert.deepEqual(a, b);
});

// ---------------------------------------------------------------------------------------------
// Bad input.

Deno.test("createVardiff() rejects bad input", () => {
  assert.throws(
    () => createVardiff(1000 as unknown as bigint, 0),
    new TypeError("Cannot create vardiff: difficulty must be a bigint, got number"),
  );
  assert.throws(
    () => createVardiff(0n, 0),
    new RangeError("Cannot create vardiff: difficulty must be >= 1, got 0"),
  );
  assert.throws(
    () => createVardiff(1n, NaN),
    new TypeError("Cannot create vardiff: now must be a finite number of milliseconds"),
  );
});

Deno.test("recordShare() and checkVardiff() reject bad input and leave the state alone", async (t) => {
  const bad: [string, unknown, ErrorConstructor, string][] = [
    ["options null", null, TypeError, "options must be an object"],
    ["config missing", { now: 1 }, TypeError, "config must be an object"],
    [
      "now a string",
      { config: CONFIG, now: "1" },
      TypeError,
      "now must be a finite number of milliseconds",
    ],
    [
      "targetShareSeconds 0",
      { config: { ...CONFIG, targetShareSeconds: 0 }, now: 1 },
      RangeError,
      "targetShareSeconds must be > 0, got 0",
    ],
    [
      "targetShareSeconds a string",
      { config: { ...CONFIG, targetShareSeconds: "10" }, now: 1 },
      TypeError,
      "targetShareSeconds must be a number, got string",
    ],
    [
      "targetShareSeconds Infinity",
      { config: { ...CONFIG, targetShareSeconds: Infinity }, now: 1 },
      RangeError,
      "targetShareSeconds must be finite, got Infinity",
    ],
    [
      "minDifficulty 0",
      { config: { ...CONFIG, minDifficulty: 0n }, now: 1 },
      RangeError,
      "minDifficulty must be >= 1, got 0",
    ],
    [
      "maxDifficulty a number",
      { config: { ...CONFIG, maxDifficulty: 5 }, now: 1 },
      TypeError,
      "maxDifficulty must be a bigint, got number",
    ],
    [
      "maxDifficulty below minDifficulty",
      { config: { minDifficulty: 10n, maxDifficulty: 5n }, now: 1 },
      RangeError,
      "maxDifficulty (5) is below minDifficulty (10)",
    ],
    [
      "retargetSeconds negative",
      { config: { ...CONFIG, retargetSeconds: -1 }, now: 1 },
      RangeError,
      "retargetSeconds must be >= 0, got -1",
    ],
    [
      "variancePercent 100",
      { config: { ...CONFIG, variancePercent: 100 }, now: 1 },
      RangeError,
      "variancePercent must be in [0, 100), got 100",
    ],
    [
      "confidence 0",
      { config: { ...CONFIG, confidence: 0 }, now: 1 },
      RangeError,
      "confidence must be > 0, got 0",
    ],
    [
      "maxChangeFactor 1",
      { config: { ...CONFIG, maxChangeFactor: 1 }, now: 1 },
      RangeError,
      "maxChangeFactor must be > 1, got 1",
    ],
    [
      "powerOfTwo a string",
      { config: { ...CONFIG, powerOfTwo: "yes" }, now: 1 },
      TypeError,
      "powerOfTwo must be a boolean",
    ],
    [
      "networkDifficulty 0",
      { config: CONFIG, now: 1, networkDifficulty: 0n },
      RangeError,
      "networkDifficulty must be >= 1, got 0",
    ],
    [
      "networkDifficulty a number",
      { config: CONFIG, now: 1, networkDifficulty: 1e12 },
      TypeError,
      "networkDifficulty must be a bigint, got number",
    ],
  ];
  for (const [name, input, ErrorClass, message] of bad) {
    await t.step(name, () => {
      const state = createVardiff(1000n, 0);
      const before = { ...state };
      assert.throws(
        () => recordShare(state, 1000n, input as VardiffOptions),
        new ErrorClass(`Cannot record share: ${message}`),
      );
      assert.throws(
        () => checkVardiff(state, input as VardiffOptions),
        new ErrorClass(`Cannot check vardiff: ${message}`),
      );
      assert.deepEqual(state, before);
    });
  }
  await t.step("share difficulty", () => {
    const state = createVardiff(1000n, 0);
    assert.throws(
      () => recordShare(state, 0n, options(1)),
      new RangeError("Cannot record share: shareDifficulty must be >= 1, got 0"),
    );
    assert.throws(
      () => recordShare(state, "1000" as unknown as bigint, options(1)),
      new TypeError("Cannot record share: shareDifficulty must be a bigint, got string"),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The closed-form Poisson statistics behind the decisions.

function normalTail(z: number): number {
  // Numerical Recipes erfc (relative error < 1.2e-7).
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const r = t * Math.exp(
    -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409191 + t * (0.09678418 +
                  t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
                                  t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return 0.5 * (z >= 0 ? r : 2 - r);
}

function poissonCdf(n: number, lambda: number): number {
  let term = Math.exp(-lambda);
  let sum = term;
  for (let k = 1; k <= n; k++) {
    term *= lambda / k;
    sum += term;
  }
  return sum;
}

Deno.test("zAbove() and zBelow() match exact Poisson tails and err on the safe side", () => {
  let checked = 0;
  for (const n of [0, 1, 2, 3, 5, 8, 13, 21, 50, 80, 200]) {
    for (let lambda = 0.01; lambda < 500; lambda *= 1.07) {
      const above = n === 0 ? 1 : 1 - poissonCdf(n - 1, lambda); // P(X >= n)
      const below = poissonCdf(n, lambda); // P(X <= n)
      const pairs: [number, number][] = [[above, zAbove(n, lambda)], [below, zBelow(n, lambda)]];
      for (const [exact, z] of pairs) {
        if (!(exact > 1e-7 && exact < 0.05)) continue;
        const approx = normalTail(z);
        // Never claims more evidence than there is (a few % slack) ...
        assert.ok(approx >= 0.9 * exact, `n=${n} lambda=${lambda}: ${approx} vs ${exact}`);
        // ... and is close where most decisions fall (a handful of shares, not a burst).
        if (n >= 5 && lambda >= 1) assert.ok(approx <= 2.5 * exact, `n=${n} lambda=${lambda}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 300);
  assert.equal(zAbove(0, 1), -Infinity);
  assert.ok(Math.abs(zBelow(0, 6.61) - 3) < 0.1); // P(no share in 6.61 expected) = 0.00135
});

Deno.test("lowerBound() and upperBound() bracket the count", () => {
  for (const n of [0, 1, 4, 10, 80, 1000]) {
    assert.ok(lowerBound(n, 1) <= n && n <= upperBound(n, 1));
    assert.ok(lowerBound(n, 2) <= lowerBound(n, 1) && upperBound(n, 2) >= upperBound(n, 1));
  }
  assert.equal(lowerBound(0, 1), 0);
  assert.ok(Math.abs(upperBound(0, 1) - 1.83) < 0.03); // -ln(0.16)
  assert.ok(Math.abs(lowerBound(100, 1) - 90.5) < 0.5);
});
