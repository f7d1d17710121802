/**
 * Variable share difficulty (vardiff): a pure controller that keeps each miner near one share
 * every `targetShareSeconds`.
 *
 * It measures the work rate, not the gaps between shares. A window holds the shares since the
 * last change (`n`, counted at the current difficulty `D`, so `n × D` is the work) and its length
 * `T`; the hashrate estimate is `n × D / T` and the ideal difficulty is that times
 * `targetShareSeconds`. At the right difficulty `λ = T / targetShareSeconds` shares were expected,
 * so `n / λ` is the ratio ideal / current. Poisson tests (closed-form, see `_vardiff_stats.ts`)
 * decide when the evidence is strong enough, in three ways:
 *
 * 1. **Measurement.** Once the window holds 80 shares, or that many share
 *    times have passed, a ratio outside two thirds of the dead band (±20 % by default) that is
 *    significant at 3 standard deviations moves the difficulty to the estimate (shrunk by half a
 *    sigma toward the current value). With 80 shares the estimate is within ±11 % (1 σ).
 * 2. **Large error, few shares.** Before that, a ratio outside the dead band (±`variancePercent`
 *    of the share time) at `confidence` sigmas (4) moves at once, to a cautious bound (1.5 σ) on
 *    the fast side (a difficulty that is rather too low, so the next measurement comes quickly).
 *    A start 1000× too low is raised after a few shares; with zero shares this is the timer path
 *    ({@linkcode checkVardiff}): silence for 11 share times bounds the hashrate from above, so a
 *    difficulty far too high is lowered ÷16 per ~110 s (geometrically).
 * 3. **Changed hashrate.** Two recent windows (one per direction, CUSUM style) restart where the
 *    evidence for their direction falls to zero, so old data never dilutes a change; either one
 *    at `confidence + 1` sigmas moves like case 2.
 *
 * Every change is at most ×/÷ `maxChangeFactor` and restarts all windows; changes are at least
 * `retargetSeconds` apart. A share credited at a difficulty below the current one (an old job
 * after an increase) counts as a fraction of a share; one above it counts as one share, so a
 * stale share cannot cause a jump.
 *
 * Measured in simulation (`bench/vardiff_sim.ts`, 500 seeds, Poisson shares, timer every 10 s):
 * from a start 1000× too low the difficulty is within ±30 % for good after 4-5 min (median;
 * p90 10 min), from 1000× too high after 10 min (p90 18 min); once there it changes 0.2-0.35
 * times per 2 h (staying in the band), and started at the right difficulty about once in
 * 300 hours. A doubled hashrate is followed in 5 min (median), a halved one in 14 min, and a
 * miner that falls silent is first lowered after ~3 min.
 *
 * Results are integer (`bigint`) difficulties clamped to `[minDifficulty, maxDifficulty]` and
 * never above the network difficulty (which wins over `minDifficulty`); a difficulty outside
 * those limits is corrected at the next call, without evidence. Exact values are used by
 * default (as ckpool does); `powerOfTwo` rounds to the nearest power of two (the share time is
 * then off by up to ×√2, and a power of two is only taken when clearly nearer than the current
 * difficulty, by a quarter octave, so a miner halfway between two does not flip-flop).
 *
 * The module is pure: no I/O, no timers, and time is passed in (`now`, in milliseconds). The
 * functions update the small state object in place and return the new difficulty when it
 * changed; the caller then sends `mining.set_difficulty` followed by a fresh job.
 *
 * @example Usage
 * ```ts
 * import { checkVardiff, createVardiff, recordShare } from "./vardiff.ts";
 * import assert from "node:assert/strict";
 *
 * const config = { minDifficulty: 1n, maxDifficulty: 1n << 48n }; // 10 s per share by default
 * const state = createVardiff(1000n, 0);
 * // A 1 MH/s miner at difficulty 1000 finds 1000 shares a second: raised after a few shares.
 * let raised: bigint | undefined;
 * for (let ms = 1; raised === undefined; ms++) {
 *   raised = recordShare(state, 1000n, { config, now: ms });
 * }
 * assert.equal(raised, 16000n); // one change is at most ×16
 * // Then silence for two minutes: the timer path lowers it.
 * const lowered = checkVardiff(state, { config, now: 120_000 });
 * assert.ok(lowered !== undefined && lowered < raised);
 * ```
 *
 * @module
 */

import {
  checkDifficulty,
  checkNow,
  resolveConfig,
  type Settings,
  type VardiffOptions,
} from "./_vardiff_config.ts";
import { lowerBound, upperBound, zAbove, zBelow } from "./_vardiff_stats.ts";

export type { VardiffConfig, VardiffOptions } from "./_vardiff_config.ts";

/**
 * One connection's vardiff state: eight numbers, updated in place.
 *
 * Treat the fields other than `difficulty` as private to this module. Share counts are in
 * shares at the current difficulty (a share credited at a lower difficulty counts as a fraction).
 */
export interface VardiffState {
  /** The difficulty currently assigned to the miner. */
  difficulty: bigint;
  /** When the difficulty last changed (ms), `-Infinity` before the first change. */
  changedAt: number;
  /** Start of the window since the last change (or creation) (ms). */
  windowStart: number;
  /** Shares in that window. */
  windowShares: number;
  /** Start of the recent window that argues most for a higher difficulty (ms). */
  upStart: number;
  /** Shares in that window. */
  upShares: number;
  /** Start of the recent window that argues most for a lower difficulty (ms). */
  downStart: number;
  /** Shares in that window. */
  downShares: number;
}

/**
 * Shares (or share times) after a change before the measurement check applies; with 80 shares
 * the estimate is within ±11 % (one standard deviation).
 */
const CHECK_SHARES = 80;
/** Evidence (sigmas) for the measurement check. */
const CHECK_CONFIDENCE = 3;
/** How far the measurement's step is shrunk toward the current difficulty (sigmas). */
const CHECK_STEP_SIGMA = 0.5;
/** How cautious a quick step is (sigmas, toward a lower difficulty). */
const QUICK_STEP_SIGMA = 1.5;
/** Extra evidence (sigmas) for the recent windows, which are chosen after the fact. */
const RECENT_EXTRA_CONFIDENCE = 1;
/** Shares the recent up window needs at least (a burst of a few shares is not a trend). */
const RECENT_UP_MIN_SHARES = 8;

/**
 * Create the vardiff state for a new connection.
 *
 * @example Usage
 * ```ts
 * import { createVardiff } from "./vardiff.ts";
 * import assert from "node:assert/strict";
 * const state = createVardiff(65536n, 1_000);
 * assert.equal(state.difficulty, 65536n);
 * ```
 *
 * @param difficulty The starting difficulty (a positive integer; the port's start difficulty or
 *   the worker's persisted one). It is clamped to the port limits at the first update.
 * @param now Current time in milliseconds.
 * @returns A fresh state with empty windows.
 * @throws {TypeError} When `difficulty` is not a bigint or `now` not a finite number.
 * @throws {RangeError} When `difficulty` is below 1.
 */
export function createVardiff(difficulty: bigint, now: number): VardiffState {
  checkDifficulty(difficulty, "create vardiff", "difficulty");
  checkNow(now, "create vardiff");
  return {
    difficulty,
    changedAt: -Infinity,
    windowStart: now,
    windowShares: 0,
    upStart: now,
    upShares: 0,
    downStart: now,
    downShares: 0,
  };
}

/**
 * Record an accepted share and retarget if the evidence now calls for it.
 *
 * Call it only for valid shares, with the difficulty the share is credited at (the difficulty of
 * its job, which may be the previous one just after a change).
 *
 * @example Usage
 * ```ts
 * import { createVardiff, recordShare } from "./vardiff.ts";
 * import assert from "node:assert/strict";
 * const config = { minDifficulty: 1n, maxDifficulty: 1n << 40n };
 * const state = createVardiff(1000n, 0);
 * // One share after 10 s at difficulty 1000 is exactly on target: no change.
 * assert.equal(recordShare(state, 1000n, { config, now: 10_000 }), undefined);
 * assert.equal(state.difficulty, 1000n);
 * ```
 *
 * @param state The connection's state (updated in place).
 * @param shareDifficulty The difficulty the share is credited at.
 * @param options The port config, the current time and optionally the network difficulty.
 * @returns The new difficulty when it changed, else `undefined`.
 * @throws {TypeError} When an argument has the wrong type.
 * @throws {RangeError} When a difficulty or a config value is out of range.
 */
export function recordShare(
  state: VardiffState,
  shareDifficulty: bigint,
  options: VardiffOptions,
): bigint | undefined {
  checkDifficulty(shareDifficulty, "record share", "shareDifficulty");
  const settings = resolveConfig(options, "record share");
  const now = checkNow(options.now, "record share");
  const current = state.difficulty;
  const share = shareDifficulty < current ? Number(shareDifficulty) / Number(current) : 1;
  observe(state, now, share, settings);
  return decide(state, now, settings, options.networkDifficulty);
}

/**
 * The timer path: retarget without a new share (lowers a miner that has gone quiet).
 *
 * Call it periodically (e.g. every `targetShareSeconds`) for every connection, and whenever the
 * network difficulty changes.
 *
 * @example Usage
 * ```ts
 * import { checkVardiff, createVardiff } from "./vardiff.ts";
 * import assert from "node:assert/strict";
 * const config = { minDifficulty: 1n, maxDifficulty: 1n << 40n };
 * const state = createVardiff(1_000_000n, 0);
 * assert.equal(checkVardiff(state, { config, now: 60_000 }), undefined); // too early to tell
 * assert.equal(checkVardiff(state, { config, now: 120_000 }), 62_500n); // 12 share times, none
 * // The network difficulty is a cap that applies at once.
 * assert.equal(checkVardiff(state, { config, now: 121_000, networkDifficulty: 5000n }), 5000n);
 * ```
 *
 * @param state The connection's state (updated in place).
 * @param options The port config, the current time and optionally the network difficulty.
 * @returns The new difficulty when it changed, else `undefined`.
 * @throws {TypeError} When an argument has the wrong type.
 * @throws {RangeError} When a difficulty or a config value is out of range.
 */
export function checkVardiff(state: VardiffState, options: VardiffOptions): bigint | undefined {
  const settings = resolveConfig(options, "check vardiff");
  const now = checkNow(options.now, "check vardiff");
  observe(state, now, 0, settings);
  return decide(state, now, settings, options.networkDifficulty);
}

/**
 * The hashrate (hashes per second) measured since the last difficulty change.
 *
 * A share at difficulty `D` takes `D` hashes on average, so this is Σ difficulty / time. It is
 * `0` right after a change and noisy until a few dozen shares are in.
 *
 * @example Usage
 * ```ts
 * import { createVardiff, estimateHashrate, recordShare } from "./vardiff.ts";
 * import assert from "node:assert/strict";
 * const config = { minDifficulty: 1n, maxDifficulty: 1n << 40n };
 * const state = createVardiff(5000n, 0);
 * recordShare(state, 5000n, { config, now: 5_000 });
 * recordShare(state, 5000n, { config, now: 10_000 });
 * assert.equal(estimateHashrate(state, 10_000), 1000);
 * ```
 *
 * @param state The connection's state (not modified).
 * @param now Current time in milliseconds.
 * @returns Hashes per second, or `0` when nothing has been measured yet.
 */
export function estimateHashrate(state: VardiffState, now: number): number {
  const seconds = (now - state.windowStart) / 1000;
  return seconds > 0 ? state.windowShares * Number(state.difficulty) / seconds : 0;
}

/** A clock that stepped backwards: shift the history so that no time has passed. */
function rebase(state: VardiffState, now: number): void {
  const latest = Math.max(state.windowStart, state.changedAt, state.upStart, state.downStart);
  if (now >= latest) return;
  const shift = now - latest;
  state.changedAt += shift;
  state.windowStart += shift;
  state.upStart += shift;
  state.downStart += shift;
}

/**
 * Bring the windows up to `now` and add `share` (a share count, 0 for a timer tick). The recent
 * windows follow a CUSUM: each restarts where the log-likelihood ratio for its direction (a
 * rate at the dead-band edge against the current one) has fallen to zero.
 */
function observe(state: VardiffState, now: number, share: number, settings: Settings): void {
  rebase(state, now);
  const toLambda = 1 / 1000 / settings.target;
  const up = state.upShares * Math.log(settings.fast) -
    (settings.fast - 1) * (now - state.upStart) * toLambda;
  if (up <= 0) {
    state.upStart = now;
    state.upShares = 0;
  }
  state.upShares += share;
  state.windowShares += share;
  if (share > 0) {
    state.downShares += share;
    const down = (1 - settings.slow) * (now - state.downStart) * toLambda +
      state.downShares * Math.log(settings.slow);
    if (down <= 0) {
      state.downStart = now;
      state.downShares = 0;
    }
  }
}

/** Whether `shares` where `lambda` were expected call for a higher (1) or lower (-1) difficulty. */
function verdict(
  shares: number,
  lambda: number,
  confidence: number,
  fast: number,
  slow: number,
): number {
  if (!(lambda > 0)) return 0;
  if (shares > fast * lambda && zAbove(shares, lambda) >= confidence) return 1;
  if (shares < slow * lambda && zBelow(shares, lambda) >= confidence) return -1;
  return 0;
}

/** A quick step (ideal / current difficulty): a cautious bound, on the low-difficulty side. */
function quickStep(shares: number, lambda: number, direction: number): number {
  const low = lowerBound(shares, QUICK_STEP_SIGMA);
  return (direction > 0 ? low : Math.max(low, 0.25)) / lambda;
}

/** The retarget decision; applies and returns a new difficulty, if any. */
function decide(
  state: VardiffState,
  now: number,
  settings: Settings,
  networkDifficulty: bigint | undefined,
): bigint | undefined {
  const current = state.difficulty;
  const bounded = clamp(current, settings, networkDifficulty);
  if (bounded !== current) return apply(state, bounded, now);
  if (now - state.changedAt < settings.retargetMs) return undefined;

  const toLambda = 1 / 1000 / settings.target;
  const { fast, slow, confidence } = settings;
  const n = state.windowShares;
  const lambda = (now - state.windowStart) * toLambda;
  let ratio: number | undefined;
  // 1. The measurement since the last change, once it is precise.
  if (n >= CHECK_SHARES || lambda >= CHECK_SHARES) {
    const direction = verdict(n, lambda, CHECK_CONFIDENCE, settings.checkFast, settings.checkSlow);
    if (direction !== 0) {
      ratio = (direction > 0 ? lowerBound : upperBound)(n, CHECK_STEP_SIGMA) / lambda;
    }
  }
  // 2. A large error in the same window.
  if (ratio === undefined) {
    const direction = verdict(n, lambda, confidence, fast, slow);
    if (direction !== 0) ratio = quickStep(n, lambda, direction);
  }
  // 3. A changed hashrate in a recent window. The up window usually starts at a share,
  //    selected for being there, so that share is left out.
  if (ratio === undefined) {
    const recent = confidence + RECENT_EXTRA_CONFIDENCE;
    const upShares = Math.max(0, state.upShares - 1);
    const upLambda = (now - state.upStart) * toLambda;
    const downLambda = (now - state.downStart) * toLambda;
    if (
      upShares >= RECENT_UP_MIN_SHARES && verdict(upShares, upLambda, recent, fast, slow) > 0
    ) {
      ratio = quickStep(upShares, upLambda, 1);
    } else if (verdict(state.downShares, downLambda, recent, fast, slow) < 0) {
      ratio = quickStep(state.downShares, downLambda, -1);
    }
  }
  if (ratio === undefined) return undefined;
  ratio = Math.min(settings.maxFactor, Math.max(1 / settings.maxFactor, ratio));
  const wanted = Number(current) * ratio;
  const next = clamp(toDifficulty(wanted, settings.powerOfTwo), settings, networkDifficulty);
  // Rounding must not turn a step around, and a power of two must be clearly nearer (by a
  // quarter octave) than the current one, or a miner halfway between two would flip-flop.
  if (next === current || (next > current) !== (ratio > 1)) return undefined;
  if (
    settings.powerOfTwo &&
    Math.abs(Math.log2(wanted / Number(next))) + 0.25 > Math.abs(Math.log2(ratio))
  ) {
    return undefined;
  }
  return apply(state, next, now);
}

function apply(state: VardiffState, difficulty: bigint, now: number): bigint {
  state.difficulty = difficulty;
  state.changedAt = now;
  state.windowStart = now;
  state.windowShares = 0;
  state.upStart = now;
  state.upShares = 0;
  state.downStart = now;
  state.downShares = 0;
  return difficulty;
}

function toDifficulty(value: number, powerOfTwo: boolean): bigint {
  if (!(value >= 1)) return 1n;
  if (value > Number.MAX_VALUE) value = Number.MAX_VALUE;
  if (powerOfTwo) return 2n ** BigInt(Math.round(Math.log2(value)));
  return BigInt(Math.round(value));
}

function clamp(value: bigint, settings: Settings, networkDifficulty: bigint | undefined): bigint {
  let result = value < settings.min ? settings.min : value > settings.max ? settings.max : value;
  if (networkDifficulty !== undefined && result > networkDifficulty) result = networkDifficulty;
  return result;
}
