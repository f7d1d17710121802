/**
 * Poisson tail tests and confidence bounds for the vardiff controller, in closed form.
 *
 * A Poisson count relates to a chi-square variable: `P(X ≥ n | λ) = P(χ²(2n) ≤ 2λ)` and
 * `P(X ≤ n | λ) = P(χ²(2n + 2) ≥ 2λ)`. The Wilson–Hilferty approximation
 * `(χ²(k) / k)^(1/3) ≈ Normal(1 − 2/(9k), 2/(9k))` turns both into z-scores and back into bounds
 * without any special functions. It is accurate to a few percent in the tail probability even for
 * `n = 0` (where `P(X = 0) = e^(−λ)` exactly), and it accepts fractional counts, which the
 * controller needs because shares at a lower difficulty count as a fraction of a share.
 *
 * @module
 */

/**
 * How strongly `n` observed events contradict a Poisson mean `lambda` from above, as a z-score.
 *
 * @param n Observed count (may be fractional); `0` gives `-Infinity`.
 * @param lambda Expected count under the hypothesis.
 * @returns The z-score of `P(X ≥ n | lambda)`; ≥ 3 means that tail is below ~0.0013.
 */
export function zAbove(n: number, lambda: number): number {
  if (!(n > 0)) return -Infinity;
  return (1 - 1 / (9 * n) - Math.cbrt(lambda / n)) * 3 * Math.sqrt(n);
}

/**
 * How strongly `n` observed events contradict a Poisson mean `lambda` from below, as a z-score.
 *
 * @param n Observed count (may be fractional, ≥ 0).
 * @param lambda Expected count under the hypothesis.
 * @returns The z-score of `P(X ≤ n | lambda)`; ≥ 3 means that tail is below ~0.0013.
 */
export function zBelow(n: number, lambda: number): number {
  const m = n + 1;
  return (Math.cbrt(lambda / m) - 1 + 1 / (9 * m)) * 3 * Math.sqrt(m);
}

/**
 * One-sided lower confidence bound on a Poisson mean after observing `n` events.
 *
 * @param n Observed count (may be fractional, ≥ 0).
 * @param z Confidence in standard deviations (1 ≈ 84 %).
 * @returns The bound, never negative.
 */
export function lowerBound(n: number, z: number): number {
  if (!(n > 0)) return 0;
  const base = 1 - 1 / (9 * n) - z / (3 * Math.sqrt(n));
  return base > 0 ? n * base ** 3 : 0;
}

/**
 * One-sided upper confidence bound on a Poisson mean after observing `n` events.
 *
 * @param n Observed count (may be fractional, ≥ 0).
 * @param z Confidence in standard deviations (1 ≈ 84 %).
 * @returns The bound, positive even for `n = 0`.
 */
export function upperBound(n: number, z: number): number {
  const m = n + 1;
  return m * (1 - 1 / (9 * m) + z / (3 * Math.sqrt(m))) ** 3;
}
