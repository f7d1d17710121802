/**
 * Episodes of a repeated failure (accept errors, refused sockets), so that a flood writes a
 * handful of log lines instead of one per event: the first event starts an episode (reported
 * at once), a counted summary follows every `summaryMs` while it lasts, and it ends, with a
 * final count, after `quietMs` without an event.
 *
 * @module
 */

/** Counts by kind (an error code, a refusal reason). */
export type EpisodeCounts = Readonly<Record<string, number>>;

/** Options for {@linkcode Episode}. */
export interface EpisodeOptions {
  /** The first event of an episode. */
  onStart(kind: string): void;
  /** While it lasts, every `summaryMs`: events since the last report. */
  onSummary?(counts: EpisodeCounts, total: number, ms: number): void;
  /** It ended: every event of the episode. */
  onEnd(counts: EpisodeCounts, total: number, ms: number): void;
  /** Time without an event that ends an episode (ms). @default 5000 */
  quietMs?: number;
  /** Time between summaries while an episode lasts (ms). @default 60000 */
  summaryMs?: number;
  /** Clock (ms). @default Date.now */
  now?: () => number;
}

function add(counts: Record<string, number>, kind: string): void {
  counts[kind] = (counts[kind] ?? 0) + 1;
}

/** One kind of repeated failure, reported by episode. */
export class Episode {
  #o: EpisodeOptions;
  #quietMs: number;
  #summaryMs: number;
  #now: () => number;
  #counts: Record<string, number> = {};
  #recent: Record<string, number> = {};
  #total = 0;
  #recentTotal = 0;
  #startedAt = 0;
  #lastAt = 0;
  #summaryAt = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param options The reports and the timings.
   */
  constructor(options: EpisodeOptions) {
    this.#o = options;
    this.#quietMs = options.quietMs ?? 5000;
    this.#summaryMs = options.summaryMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether an episode is under way. */
  get active(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Count one event; the first of an episode is reported at once.
   *
   * @param kind What happened (an error code, a reason).
   */
  hit(kind: string): void {
    const now = this.#now();
    this.#lastAt = now;
    add(this.#counts, kind);
    add(this.#recent, kind);
    this.#total++;
    this.#recentTotal++;
    if (this.#timer !== undefined) return;
    this.#startedAt = this.#summaryAt = now;
    const tick = Math.max(10, Math.min(1000, this.#quietMs / 2));
    this.#timer = setInterval(() => this.#check(), tick);
    Deno.unrefTimer(this.#timer);
    this.#recent = {};
    this.#recentTotal = 0;
    this.#o.onStart(kind);
  }

  /** End the episode under way now (reporting it) and stop the timer. */
  close(): void {
    if (this.#timer !== undefined) this.#end(this.#now());
  }

  #check(): void {
    const now = this.#now();
    if (now - this.#lastAt >= this.#quietMs) return this.#end(now);
    if (now - this.#summaryAt >= this.#summaryMs && this.#recentTotal > 0) {
      this.#o.onSummary?.(this.#recent, this.#recentTotal, now - this.#summaryAt);
      this.#recent = {};
      this.#recentTotal = 0;
      this.#summaryAt = now;
    }
  }

  #end(now: number): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const counts = this.#counts;
    const total = this.#total;
    this.#counts = {};
    this.#recent = {};
    this.#total = this.#recentTotal = 0;
    this.#o.onEnd(counts, total, now - this.#startedAt);
  }
}

/**
 * Counts as text for a log line, largest first: `"EMFILE 812, ECONNABORTED 3"`.
 *
 * @param counts Counts by kind.
 * @returns The text.
 */
export function formatCounts(counts: EpisodeCounts): string {
  return Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`)
    .join(", ");
}
