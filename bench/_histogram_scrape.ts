/**
 * The pool's own latency histograms, read from its `/metrics` between two moments of a bench
 * step: what the pool measured (a submit from its arrival to its durable record, the event
 * loop's delay, the store's commits) beside what the generator measured at the miners.
 *
 * @module
 */

/** Cumulative bucket counts of each histogram: name → upper bound (`le`, seconds) → count. */
export type HistogramScrape = Map<string, Map<number, number>>;

/** What one histogram saw between two scrapes (bounds are bucket upper bounds, in ms). */
export interface HistogramDelta {
  /** Observations. */
  count: number;
  /** The bucket bound at or under which half of them fell. */
  p50LeMs: number;
  /** The bucket bound at or under which 99 % of them fell. */
  p99LeMs: number;
  /** The bucket bound of the largest one (Infinity: over the last bound). */
  maxLeMs: number;
}

/**
 * Read the buckets of some histograms from a Prometheus text page.
 *
 * @param url The `/metrics` URL.
 * @param names Histogram names.
 * @returns Their cumulative buckets (histograms with labels are summed over them).
 */
export async function scrapeHistograms(url: string, names: string[]): Promise<HistogramScrape> {
  const text = await (await fetch(url)).text();
  const out: HistogramScrape = new Map(names.map((n) => [n, new Map()]));
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)_bucket\{(?:[^}]*,)?le="([^"]+)"\} (\S+)$/.exec(line);
    if (m === null) continue;
    const buckets = out.get(m[1]!);
    if (buckets === undefined) continue;
    const le = m[2] === "+Inf" ? Infinity : Number(m[2]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[3]));
  }
  return out;
}

/**
 * One histogram's observations between two scrapes, as bucket bounds.
 *
 * @param before The earlier scrape.
 * @param after The later scrape.
 * @param name The histogram.
 * @returns Count and quantiles (bucket upper bounds, ms); undefined if it was not scraped.
 */
export function histogramDelta(
  before: HistogramScrape,
  after: HistogramScrape,
  name: string,
): HistogramDelta | undefined {
  const a = after.get(name);
  if (a === undefined || a.size === 0) return undefined;
  const b = before.get(name);
  const bounds = [...a.keys()].sort((x, y) => x - y);
  const cumulative = bounds.map((le) => (a.get(le) ?? 0) - (b?.get(le) ?? 0));
  const count = cumulative.at(-1) ?? 0;
  const at = (q: number): number => {
    const i = cumulative.findIndex((c) => c >= q * count);
    return (bounds[i] ?? Infinity) * 1000;
  };
  return { count, p50LeMs: at(0.5), p99LeMs: at(0.99), maxLeMs: at(1) };
}
