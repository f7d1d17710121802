/**
 * Episode logging: a log line that clients can trigger at will (a refused share, a malformed
 * request, a refused connection, a failing upstream attempt) is written once when its episode
 * starts, then counted silently; while it continues, one summary line every `summaryMs` says how
 * many more there were; when none came for a whole period, one line ends the episode with its
 * total. However fast the events come, the log grows by a bounded number of lines per period.
 *
 * An episode is named by a key (what kind of event: `"record"`, `"refused:per-ip cap"`); keys
 * are few and fixed by the call sites, and at most `maxEpisodes` are open at once per
 * {@linkcode EpisodeLog} (events of further kinds are counted together, in one line per period),
 * so memory stays bounded whatever the clients send. Per event, the cost is a level check, a map
 * lookup and two increments; the properties of the latest event are kept by reference (the
 * summary repeats its message with them).
 *
 * @module
 */
import type { Logger, LogLevel } from "@logtape/logtape";

/** Levels an episode is logged at. */
export type EpisodeLevel = Extract<LogLevel, "debug" | "info" | "warning" | "error">;

/** An event's properties, or a function that makes them only when the line is written. */
export type EpisodeProperties = Record<string, unknown> | (() => Record<string, unknown>);

/** Options for {@linkcode EpisodeLog}. */
export interface EpisodeLogOptions {
  /**
   * Time between two summary lines of a continuing episode, ms; an episode without events for
   * that long ends. @default the process default (see {@linkcode setEpisodeSummaryMs}), 10000
   */
  summaryMs?: number;
  /** Episodes open at once at most; events of further kinds are counted together. @default 64 */
  maxEpisodes?: number;
  /** Clock, ms. @default Date.now */
  now?: () => number;
}

interface Episode {
  level: EpisodeLevel;
  message: string;
  /** The latest event's properties. */
  last: EpisodeProperties | undefined;
  started: number;
  lastAt: number;
  windowStart: number;
  /** Next summary (or end) time. */
  due: number;
  total: number;
  inWindow: number;
}

let defaultSummaryMs = 10_000;
/** Logs with open episodes (so that {@linkcode endAllEpisodes} finds them). */
const LIVE = new Set<EpisodeLog>();

/**
 * Set the summary period of every {@linkcode EpisodeLog} created without `summaryMs` (the
 * `[log] summary_seconds` setting; `cli/` calls this once at start).
 *
 * @example Usage
 * ```ts
 * import { episodeSummaryMs, setEpisodeSummaryMs } from "./episode_log.ts";
 * import assert from "node:assert/strict";
 *
 * setEpisodeSummaryMs(30_000);
 * assert.equal(episodeSummaryMs(), 30_000);
 * setEpisodeSummaryMs(10_000);
 * ```
 *
 * @param ms The period, ms (≥ 1).
 * @throws {RangeError} When `ms` is not a number ≥ 1.
 */
export function setEpisodeSummaryMs(ms: number): void {
  if (!Number.isFinite(ms) || ms < 1) {
    throw new RangeError(`Cannot set the episode summary period: expected ms >= 1, got ${ms}`);
  }
  defaultSummaryMs = ms;
}

/**
 * The process default summary period.
 *
 * @example Usage
 * ```ts
 * import { episodeSummaryMs } from "./episode_log.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(episodeSummaryMs() >= 1);
 * ```
 *
 * @returns Milliseconds.
 */
export function episodeSummaryMs(): number {
  return defaultSummaryMs;
}

/**
 * End every open episode of every {@linkcode EpisodeLog} now, each with its end line (at
 * shutdown, so that the last counts are not lost).
 *
 * @example Usage
 * ```ts
 * import { endAllEpisodes } from "./episode_log.ts";
 *
 * endAllEpisodes();
 * ```
 */
export function endAllEpisodes(): void {
  for (const log of [...LIVE]) log.endAll();
}

/**
 * Rate-limited, summarised logging of repeated events, by episode (see the module doc).
 *
 * @example Usage
 * ```ts
 * import { configureSync, getLogger, type LogRecord, resetSync } from "@logtape/logtape";
 * import { EpisodeLog } from "./episode_log.ts";
 * import assert from "node:assert/strict";
 *
 * const lines: LogRecord[] = [];
 * configureSync({
 *   reset: true,
 *   sinks: { memory: (record) => lines.push(record) },
 *   loggers: [
 *     { category: ["example"], sinks: ["memory"], lowestLevel: "debug" },
 *     { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
 *   ],
 * });
 * const episodes = new EpisodeLog(getLogger(["example"]), { summaryMs: 10_000 });
 * for (let i = 0; i < 1000; i++) {
 *   episodes.warn("refused", "refused a share of {worker}", { worker: `rig${i}` });
 * }
 * episodes.endAll();
 * assert.equal(lines.length, 2);
 * assert.equal(lines[0]!.properties.worker, "rig0");
 * assert.equal(lines[1]!.properties.episodeTotal, 1000);
 * assert.equal(lines[1]!.properties.worker, "rig999");
 * resetSync();
 * ```
 */
export class EpisodeLog {
  #logger: Logger;
  #summaryMs: number | undefined;
  #maxEpisodes: number;
  #now: () => number;
  #open = new Map<string, Episode>();
  #overflow = 0;
  #overflowSince = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param logger Where the lines go.
   * @param options Summary period, bound on open episodes, clock.
   */
  constructor(logger: Logger, options: EpisodeLogOptions = {}) {
    this.#logger = logger;
    this.#summaryMs = options.summaryMs;
    this.#maxEpisodes = Math.max(1, options.maxEpisodes ?? 64);
    this.#now = options.now ?? Date.now;
  }

  /** Episodes open now. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Log a debug event of episode `key` (written at once when it starts the episode).
   *
   * @param key What kind of event.
   * @param message LogTape message template.
   * @param properties Its properties (or a function making them).
   */
  debug(key: string, message: string, properties?: EpisodeProperties): void {
    this.event("debug", key, message, properties);
  }

  /**
   * Log an info event of episode `key`.
   *
   * @param key What kind of event.
   * @param message LogTape message template.
   * @param properties Its properties (or a function making them).
   */
  info(key: string, message: string, properties?: EpisodeProperties): void {
    this.event("info", key, message, properties);
  }

  /**
   * Log a warning event of episode `key`.
   *
   * @param key What kind of event.
   * @param message LogTape message template.
   * @param properties Its properties (or a function making them).
   */
  warn(key: string, message: string, properties?: EpisodeProperties): void {
    this.event("warning", key, message, properties);
  }

  /**
   * Log an error event of episode `key`.
   *
   * @param key What kind of event.
   * @param message LogTape message template.
   * @param properties Its properties (or a function making them).
   */
  error(key: string, message: string, properties?: EpisodeProperties): void {
    this.event("error", key, message, properties);
  }

  /**
   * Log an event: the first of its episode is written at once, later ones are counted (the
   * summary and end lines use the latest one's message and properties).
   *
   * @param level Its level (nothing is counted when the logger drops that level).
   * @param key What kind of event.
   * @param message LogTape message template.
   * @param properties Its properties (or a function making them).
   */
  event(
    level: EpisodeLevel,
    key: string,
    message: string,
    properties?: EpisodeProperties,
  ): void {
    if (!this.#logger.isEnabledFor(level)) return;
    const now = this.#now();
    const open = this.#open.get(key);
    if (open !== undefined) {
      open.total++;
      open.inWindow++;
      open.lastAt = now;
      open.level = level;
      open.message = message;
      open.last = properties;
      return;
    }
    if (this.#open.size >= this.#maxEpisodes) {
      if (this.#overflow === 0) this.#overflowSince = now;
      this.#overflow++;
      return;
    }
    this.#open.set(key, {
      level,
      message,
      last: properties,
      started: now,
      lastAt: now,
      windowStart: now,
      due: now + this.#period(),
      total: 1,
      inWindow: 0,
    });
    if (this.#open.size === 1) LIVE.add(this);
    this.#write(level, message, resolve(properties));
    this.#arm(now);
  }

  /**
   * End episode `key` now (e.g. its cause went away), with its end line when it had repeats.
   *
   * @param key What kind of event.
   */
  end(key: string): void {
    const episode = this.#open.get(key);
    if (episode === undefined) return;
    this.#close(key, episode);
  }

  /** End every open episode now, each with its end line when it had repeats. */
  endAll(): void {
    const now = this.#now();
    for (const [key, episode] of [...this.#open]) this.#close(key, episode);
    this.#flushOverflow(now);
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #period(): number {
    return this.#summaryMs ?? defaultSummaryMs;
  }

  #write(level: EpisodeLevel, message: string, properties: Record<string, unknown>): void {
    switch (level) {
      case "debug":
        return this.#logger.debug(message, properties);
      case "info":
        return this.#logger.info(message, properties);
      case "warning":
        return this.#logger.warn(message, properties);
      case "error":
        return this.#logger.error(message, properties);
    }
  }

  /** Summarise what was counted since the last line (with the latest event's properties). */
  #summarise(episode: Episode, now: number): void {
    this.#write(
      episode.level,
      `${episode.message} (+{episodeMore} more in the last {episodeSeconds} s)`,
      {
        ...resolve(episode.last),
        episodeMore: episode.inWindow,
        episodeSeconds: seconds(now - episode.windowStart),
      },
    );
    episode.inWindow = 0;
    episode.windowStart = now;
  }

  #close(key: string, episode: Episode): void {
    this.#open.delete(key);
    if (this.#open.size === 0 && this.#overflow === 0) LIVE.delete(this);
    if (episode.total <= 1) return;
    this.#write(
      episode.level,
      `${episode.message} (ended: {episodeTotal} in all over {episodeSeconds} s)`,
      {
        ...resolve(episode.last),
        episodeTotal: episode.total,
        episodeSeconds: seconds(episode.lastAt - episode.started),
      },
    );
  }

  #flushOverflow(now: number): void {
    if (this.#overflow === 0) return;
    this.#logger.warn(
      "{episodeMore} events of other kinds were counted, not logged, in the last " +
        "{episodeSeconds} s (more than {episodeKinds} kinds at once)",
      {
        episodeMore: this.#overflow,
        episodeSeconds: seconds(now - this.#overflowSince),
        episodeKinds: this.#maxEpisodes,
      },
    );
    this.#overflow = 0;
    if (this.#open.size === 0) LIVE.delete(this);
  }

  #arm(now: number): void {
    if (this.#timer !== undefined) return;
    let due = Infinity;
    for (const episode of this.#open.values()) due = Math.min(due, episode.due);
    if (this.#overflow > 0) due = Math.min(due, this.#overflowSince + this.#period());
    if (due === Infinity) return;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - now));
    // A pending summary never keeps the process (or a test) alive.
    Deno.unrefTimer(this.#timer);
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (const [key, episode] of [...this.#open]) {
      if (now < episode.due) continue;
      if (episode.inWindow === 0) this.#close(key, episode);
      else {
        this.#summarise(episode, now);
        episode.due = now + this.#period();
      }
    }
    if (this.#overflow > 0 && now >= this.#overflowSince + this.#period()) {
      this.#flushOverflow(now);
    }
    this.#arm(now);
  }
}

function resolve(properties: EpisodeProperties | undefined): Record<string, unknown> {
  if (properties === undefined) return {};
  return typeof properties === "function" ? properties() : properties;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
