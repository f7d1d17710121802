/**
 * PPLNS ("pay per last N shares") in exact integer arithmetic. A share's score is its difficulty
 * divided by the network difficulty when it was submitted (1.0 ≈ one block's expected work);
 * the window holds the newest shares up to a total score of X (MiningCore's `factor`, default
 * 2.0), the oldest share counted only in part so the window is exactly X. After the pool fees,
 * each miner gets its score's share of the reward, rounded down to an atomic unit; the rounding
 * remainder goes to one defined address, so the credits always add up to the reward exactly.
 *
 * Unlike MiningCore, when the stored shares add up to less than X the whole reward is still
 * distributed over the shares that exist (MiningCore leaves the unfilled part in the pool
 * wallet).
 *
 * @module
 */
import { decimalFraction, type Fraction, gcd, lcm } from "./_fraction.ts";

/** One share as PPLNS sees it. */
export interface PplnsShare {
  /** The miner's payout address. */
  address: string;
  /** Share difficulty (> 0). */
  difficulty: bigint;
  /** Network difficulty when the share was submitted (> 0). */
  networkDifficulty: bigint;
}

/** A pool fee: a percentage of each block's reward to an address. */
export interface PoolFee {
  /** Who receives it. */
  address: string;
  /** Percent of the reward, e.g. "1.5" or 1.5 (read exactly as a decimal). */
  percent: string | number;
}

/** One credit of a block's reward. */
export interface RewardCredit {
  /** Who. */
  address: string;
  /** Atomic units (> 0). */
  amount: bigint;
  /** `share` (PPLNS), `fee` (pool fee) or `rounding` (the remainder of integer division). */
  reason: "share" | "fee" | "rounding";
  /** Human-readable explanation for the audit row. */
  details: string;
}

/** Options for {@linkcode PplnsWindow.split}. */
export interface SplitOptions {
  /** Pool fees (distinct addresses, percentages adding up to at most 100). @default [] */
  fees?: readonly PoolFee[];
  /**
   * Where the rounding remainder goes. @default the first fee address, or when there is no fee
   * the miner with the largest score (ties: the smallest address)
   */
  remainderAddress?: string;
}

/** The outcome of splitting a reward. */
export interface RewardSplit {
  /** Credits (amount > 0), adding up to the reward exactly. */
  credits: RewardCredit[];
  /** Shares counted (the last one possibly in part). */
  shares: number;
  /** True when the shares filled the whole window. */
  filled: boolean;
  /** Total score counted, as an exact reduced fraction (X when filled). */
  score: Fraction;
}

function reduced(num: bigint, den: bigint): Fraction {
  const g = gcd(num, den);
  return g === 0n ? { num: 0n, den: 1n } : { num: num / g, den: den / g };
}

function approx(num: bigint, den: bigint): string {
  if (den === 0n) return "0";
  const scaled = num * 1_000_000n / den;
  const whole = scaled / 1_000_000n;
  return `${whole}.${(scaled % 1_000_000n).toString().padStart(6, "0")}`;
}

/**
 * Accumulates shares, newest first, into a PPLNS window and splits a reward over it.
 *
 * @example Usage
 * ```ts
 * import { PplnsWindow } from "./pplns.ts";
 * import assert from "node:assert/strict";
 *
 * const window = new PplnsWindow(1);
 * // Two shares of half a block each (difficulty 50 at network difficulty 100).
 * window.add({ address: "VA", difficulty: 50n, networkDifficulty: 100n });
 * assert.equal(window.add({ address: "VB", difficulty: 50n, networkDifficulty: 100n }), false);
 * const split = window.split(1001n, { fees: [{ address: "VF", percent: "1" }] });
 * assert.deepEqual(split.credits.map((c) => [c.address, c.amount, c.reason]), [
 *   ["VF", 10n, "fee"],
 *   ["VA", 495n, "share"],
 *   ["VB", 495n, "share"],
 *   ["VF", 1n, "rounding"],
 * ]);
 * ```
 */
export class PplnsWindow {
  /** The window X as an exact fraction. */
  readonly window: Fraction;
  /** Common denominator of every score so far. */
  #den: bigint;
  /** X in units of 1/#den. */
  #target: bigint;
  /** Σ counted score in units of 1/#den. */
  #total = 0n;
  #scores = new Map<string, bigint>();
  #counts = new Map<string, number>();
  #perNetwork = new Map<bigint, bigint>();
  #shares = 0;

  /**
   * @param window X in network-difficulty units (> 0), e.g. 2 or "2.0".
   * @throws {RangeError} When X is not a decimal > 0.
   */
  constructor(window: number | string) {
    this.window = decimalFraction(window, "PPLNS window");
    if (this.window.num === 0n) throw new RangeError("Cannot create PPLNS window: X must be > 0");
    this.#den = this.window.den;
    this.#target = this.window.num;
  }

  /** True once the shares fill the window. */
  get full(): boolean {
    return this.#total >= this.#target;
  }

  /** Shares added and counted. */
  get shares(): number {
    return this.#shares;
  }

  /**
   * Add the next (older) share.
   *
   * @param share Address, difficulty, network difficulty.
   * @returns False once the window is full (further shares are not needed and are ignored).
   * @throws {RangeError} When a difficulty is not a bigint > 0.
   */
  add(share: PplnsShare): boolean {
    if (this.full) return false;
    const { difficulty: d, networkDifficulty: n } = share;
    if (typeof d !== "bigint" || typeof n !== "bigint" || d <= 0n || n <= 0n) {
      throw new RangeError("Cannot add share to PPLNS window: difficulties must be bigints > 0");
    }
    let unit = this.#perNetwork.get(n);
    if (unit === undefined) {
      if (this.#den % n !== 0n) this.#rescale(lcm(this.#den, n));
      unit = this.#den / n;
      this.#perNetwork.set(n, unit);
    }
    let score = d * unit;
    if (this.#total + score > this.#target) score = this.#target - this.#total;
    this.#total += score;
    this.#scores.set(share.address, (this.#scores.get(share.address) ?? 0n) + score);
    this.#counts.set(share.address, (this.#counts.get(share.address) ?? 0) + 1);
    this.#shares++;
    return !this.full;
  }

  #rescale(den: bigint): void {
    const f = den / this.#den;
    this.#den = den;
    this.#target *= f;
    this.#total *= f;
    for (const [a, s] of this.#scores) this.#scores.set(a, s * f);
    for (const [n, u] of this.#perNetwork) this.#perNetwork.set(n, u * f);
  }

  /**
   * Split a block's reward: fees first (each rounded down), the rest over the miners by score
   * (each rounded down), the remainder to the remainder address.
   *
   * @param reward Atomic units (≥ 0).
   * @param options Fees and remainder address.
   * @returns Credits adding up to `reward` exactly: fees, then shares by address, then rounding.
   * @throws {RangeError} When fees are malformed or exceed 100 %.
   */
  split(reward: bigint, options: SplitOptions = {}): RewardSplit {
    if (typeof reward !== "bigint" || reward < 0n) {
      throw new RangeError("Cannot split reward: it must be a bigint >= 0");
    }
    const fees = (options.fees ?? []).map((f) => ({
      address: f.address,
      share: decimalFraction(f.percent, `fee percent of ${f.address}`),
    }));
    const feeAddresses = new Set(fees.map((f) => f.address));
    if (feeAddresses.size !== fees.length) {
      throw new RangeError("Cannot split reward: a fee address appears twice");
    }
    // Σ percent ≤ 100, compared exactly.
    let sumNum = 0n;
    let sumDen = 1n;
    for (const f of fees) {
      const den = lcm(sumDen, f.share.den);
      sumNum = sumNum * (den / sumDen) + f.share.num * (den / f.share.den);
      sumDen = den;
    }
    if (sumNum > 100n * sumDen) throw new RangeError("Cannot split reward: fees exceed 100 %");

    const credits: RewardCredit[] = [];
    let left = reward;
    const miners = [...this.#scores].filter(([, s]) => s > 0n).sort((a, b) =>
      a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
    );
    const shareAmounts: [string, bigint][] = [];
    for (const f of fees) {
      const amount = reward * f.share.num / (100n * f.share.den);
      left -= amount;
      if (amount > 0n) {
        credits.push({
          address: f.address,
          amount,
          reason: "fee",
          details: `pool fee ${approx(f.share.num, f.share.den)} %`,
        });
      }
    }
    const net = left;
    for (const [address, score] of miners) {
      const amount = net * score / this.#total;
      left -= amount;
      shareAmounts.push([address, amount]);
    }
    for (const [address, amount] of shareAmounts) {
      if (amount === 0n) continue;
      credits.push({
        address,
        amount,
        reason: "share",
        details: `PPLNS score ${approx(this.#scores.get(address)!, this.#den)} of ${
          approx(this.#total, this.#den)
        } (${this.#counts.get(address)} shares)`,
      });
    }
    if (left > 0n) {
      let to = options.remainderAddress ?? fees[0]?.address;
      if (to === undefined) {
        let best: [string, bigint] | undefined;
        for (const m of miners) if (best === undefined || m[1] > best[1]) best = m;
        to = best?.[0];
      }
      if (to === undefined) {
        throw new RangeError(
          "Cannot split reward: there are no shares, no fee and no remainder address",
        );
      }
      credits.push({
        address: to,
        amount: left,
        reason: "rounding",
        details: miners.length === 0
          ? "no shares in the PPLNS window: the net reward goes to the remainder address"
          : "rounding remainder",
      });
    }
    return {
      credits,
      shares: this.#shares,
      filled: this.full,
      score: reduced(this.#total, this.#den),
    };
  }
}
