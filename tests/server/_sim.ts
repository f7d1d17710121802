/**
 * Simulated-clock harness for the vardiff controller: a seeded Poisson share stream from a miner
 * of a given hashrate, driven through `recordShare` and the `checkVardiff` timer.
 *
 * A miner of hashrate `H` (hashes per second) working at difficulty `D` finds shares with
 * exponential gaps of mean `D / H` seconds (no 2^32 factor in VeriBlock). A difficulty change
 * takes effect for the miner after `latencySeconds` (shares found before then are credited at
 * the old difficulty). Everything is deterministic for a given seed.
 *
 * @module
 */

import {
  checkVardiff,
  createVardiff,
  recordShare,
  type VardiffConfig,
  type VardiffOptions,
  type VardiffState,
} from "../../server/vardiff.ts";

/** A seeded PRNG (mulberry32) returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One simulated run. */
export interface SimOptions {
  /** PRNG seed. */
  seed: number;
  /** The port's vardiff config. */
  config: VardiffConfig;
  /** Difficulty at connect. */
  startDifficulty: bigint;
  /** Hashrate in H/s, or a schedule of `[fromSecond, hashrate]` steps starting at 0. */
  hashrate: number | ReadonlyArray<readonly [number, number]>;
  /** Simulated run length in seconds. */
  durationSeconds: number;
  /** Period of the `checkVardiff` timer in seconds. @default 10 */
  timerSeconds?: number;
  /** Delay before the miner works at a new difficulty. @default 0 */
  latencySeconds?: number;
  /** Network difficulty passed to the controller. */
  networkDifficulty?: bigint;
  /** Called before every controller call (for debugging). */
  onEvent?: (seconds: number, by: "share" | "timer", state: Readonly<VardiffState>) => void;
}

/** A difficulty change at a simulated time. */
export interface SimChange {
  /** Seconds since the start. */
  at: number;
  /** The new difficulty. */
  difficulty: bigint;
  /** Which path changed it. */
  by: "share" | "timer";
}

/** What happened in a run. */
export interface SimResult {
  /** The start difficulty at `at: 0`, then every change. */
  changes: SimChange[];
  /** Accepted shares. */
  shares: number;
  /** Run length in seconds. */
  durationSeconds: number;
}

/** Run one simulated miner against the controller. */
export function simulate(options: SimOptions): SimResult {
  const random = mulberry32(options.seed);
  const { config, networkDifficulty, durationSeconds } = options;
  const timerSeconds = options.timerSeconds ?? 10;
  const latency = options.latencySeconds ?? 0;
  const schedule = typeof options.hashrate === "number"
    ? [[0, options.hashrate] as const]
    : options.hashrate;
  const state = createVardiff(options.startDifficulty, 0);
  const changes: SimChange[] = [{ at: 0, difficulty: options.startDifficulty, by: "timer" }];
  const pending: { at: number; difficulty: bigint }[] = [];
  let minerDifficulty = options.startDifficulty;
  let scheduleIndex = 0;
  let hashrate = schedule[0]?.[1] ?? 0;
  let t = 0;
  let nextTimer = timerSeconds;
  let shares = 0;

  function gap(): number {
    if (!(hashrate > 0)) return Infinity;
    return -Math.log(1 - random()) * Number(minerDifficulty) / hashrate;
  }
  function opts(): VardiffOptions {
    return networkDifficulty === undefined
      ? { config, now: t * 1000 }
      : { config, now: t * 1000, networkDifficulty };
  }
  function changed(difficulty: bigint | undefined, by: "share" | "timer"): void {
    if (difficulty === undefined) return;
    changes.push({ at: t, difficulty, by });
    if (latency > 0) {
      pending.push({ at: t + latency, difficulty });
    } else {
      minerDifficulty = difficulty;
      nextShare = t + gap();
    }
  }

  let nextShare = gap();
  while (true) {
    const nextRate = schedule[scheduleIndex + 1]?.[0] ?? Infinity;
    const nextPending = pending[0]?.at ?? Infinity;
    const next = Math.min(nextShare, nextTimer, nextRate, nextPending);
    if (next > durationSeconds) break;
    t = next;
    if (next === nextRate) {
      scheduleIndex++;
      hashrate = schedule[scheduleIndex]?.[1] ?? 0;
      nextShare = t + gap(); // memoryless: resampling is exact
    } else if (next === nextPending) {
      minerDifficulty = pending.shift()!.difficulty;
      nextShare = t + gap();
    } else if (next === nextShare) {
      shares++;
      nextShare = t + gap();
      options.onEvent?.(t, "share", state);
      changed(recordShare(state, minerDifficulty, opts()), "share");
    } else {
      nextTimer += timerSeconds;
      options.onEvent?.(t, "timer", state);
      changed(checkVardiff(state, opts()), "timer");
    }
  }
  return { changes, shares, durationSeconds };
}

/** The difficulty in force at `seconds`. */
export function difficultyAt(result: SimResult, seconds: number): bigint {
  let difficulty = result.changes[0]!.difficulty;
  for (const change of result.changes) {
    if (change.at > seconds) break;
    difficulty = change.difficulty;
  }
  return difficulty;
}

/** Whether `difficulty` is within ±`band` (a fraction) of `ideal`. */
export function inBand(difficulty: bigint, ideal: number, band: number): boolean {
  const ratio = Number(difficulty) / ideal;
  return ratio >= 1 - band && ratio <= 1 + band;
}

/**
 * The first time from which the difficulty stays within ±`band` of `ideal` until the end of
 * the part of the run that has that ideal (`until`), or `undefined` if it never settles.
 */
export function settleTime(
  result: SimResult,
  ideal: number,
  options: { band?: number; from?: number; until?: number } = {},
): number | undefined {
  const { band = 0.3, from = 0, until = result.durationSeconds } = options;
  let settled: number | undefined = inBand(difficultyAt(result, from), ideal, band)
    ? from
    : undefined;
  for (const change of result.changes) {
    if (change.at <= from || change.at > until) continue;
    if (inBand(change.difficulty, ideal, band)) settled ??= change.at;
    else settled = undefined;
  }
  return settled;
}

/** Number of changes in the time range `(from, until]`. */
export function changesBetween(result: SimResult, from: number, until: number): number {
  return result.changes.filter((c) => c.at > from && c.at <= until).length;
}

/** Fraction of `[from, until]` during which the difficulty is within ±30 % of `ideal`. */
export function timeInBand(result: SimResult, ideal: number, from: number, until: number): number {
  let inside = 0;
  let t = from;
  let difficulty = difficultyAt(result, from);
  for (const change of result.changes) {
    if (change.at <= from) continue;
    if (change.at > until) break;
    if (inBand(difficulty, ideal, 0.3)) inside += change.at - t;
    t = change.at;
    difficulty = change.difficulty;
  }
  if (inBand(difficulty, ideal, 0.3)) inside += until - t;
  return inside / (until - from);
}
