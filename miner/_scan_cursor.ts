/**
 * The search-space bookkeeping shared by the CPU thread's `WorkLoop` and the GPU's
 * `GpuWorkLoop`, which add only the scan itself (synchronous on the CPU, awaited on the GPU).
 *
 * Rules: work takes effect once its generation is the current one in the shared control
 * block, and work whose generation is no longer current stops at the next step. The header
 * time rolls with the clock and never drops below the job time; when the nonce range is
 * exhausted within one second, the time moves one second ahead, so no (time, nonce) pair is
 * tried twice for the same search space. New work with the same key (the same search space,
 * e.g. only the difficulty changed) keeps the position. The scan size can tune itself toward
 * a target duration per scan.
 *
 * @module
 */
import type { ScanOptions, ScanResult } from "../hash/mod.ts";
import type { Control } from "./_control.ts";
import { shareHeader, type ThreadWork } from "./work.ts";

/** A share found by a thread. */
export interface FoundShare {
  /** Thread index. */
  index: number;
  /** Generation of the work it was found on. */
  generation: number;
  /** Job id of that work. */
  jobId: string;
  /** Extranonce (signed 64-bit). */
  extranonce: bigint;
  /** Header time. */
  ntime: number;
  /** Nonce. */
  nonce: number;
  /** The 24-byte vBlake hash, as computed by the thread's kernel. */
  hash: Uint8Array;
}

/** Messages a mining thread reports. */
export type WorkLoopReport =
  | { type: "started"; index: number; generation: number; at: number }
  | ({ type: "share" } & FoundShare);

/** How many nonces one scan covers, and how that number tunes itself. */
export interface ScanSize {
  /** The first size. */
  initial: number;
  /** Tune the size toward `targetMs` per scan (otherwise it stays `initial`). */
  adapt: boolean;
  /** Target duration of one scan, in ms. */
  targetMs: number;
  /** Smallest tuned size. */
  min: number;
  /** Largest tuned size. */
  max: number;
  /** Tuned sizes are multiples of this. */
  granule: number;
}

/** Options for {@linkcode ScanCursor}. */
export interface ScanCursorOptions {
  /** Thread index (its hash counter in the control block). */
  index: number;
  /** Most shares reported per scan. */
  maxResults: number;
  /** Where reports go. */
  report: (message: WorkLoopReport) => void;
  /** Clock in Unix seconds. @default from Date.now() */
  nowSeconds?: () => number;
  /** Scan size and its tuning. */
  size: ScanSize;
}

/** One scan handed out by {@linkcode ScanCursor.begin}. */
export interface ScanStep {
  /** The work it belongs to. */
  work: ThreadWork;
  /** The header time it scans. */
  time: number;
  /**
   * The header template with that time: the cursor's own buffer, valid until the next
   * `begin()` (kernels copy it when a scan starts).
   */
  header: Uint8Array;
  /** What to scan: the nonce range, the work's target and the result cap. */
  options: ScanOptions & { target: Uint8Array; maxResults: number };
  /** When the scan started (`performance.now()`). */
  startedAt: number;
}

function defaultNowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Epoch milliseconds with sub-millisecond precision, comparable across threads. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A mining slot's position in its search space: {@linkcode ScanCursor.offer} work as it
 * arrives; per step, {@linkcode ScanCursor.begin} hands out the next scan (or nothing when no
 * work is current), the caller runs it, and {@linkcode ScanCursor.finish} reports its shares,
 * counts its hashes, moves the position on and tunes the size.
 */
export class ScanCursor {
  #control: Control;
  #index: number;
  #maxResults: number;
  #report: (message: WorkLoopReport) => void;
  #nowSeconds: () => number;
  #tuning: ScanSize;
  #size: number;
  #work: ThreadWork | undefined;
  #pending: ThreadWork | undefined;
  #header = new Uint8Array(64);
  #headerView = new DataView(this.#header.buffer);
  #key = "";
  #time = -1;
  #nonce = 0;

  /**
   * @param control The shared control block.
   * @param options Index, result cap, reporting, clock, scan size.
   */
  constructor(control: Control, options: ScanCursorOptions) {
    this.#control = control;
    this.#index = options.index;
    this.#maxResults = options.maxResults;
    this.#report = options.report;
    this.#nowSeconds = options.nowSeconds ?? defaultNowSeconds;
    this.#tuning = options.size;
    this.#size = options.size.initial;
  }

  /** The position in the current search space: header time and next nonce. */
  get position(): { key: string; time: number; nonce: number } {
    return { key: this.#key, time: this.#time, nonce: this.#nonce };
  }

  /** Nonces per scan now. */
  get size(): number {
    return this.#size;
  }

  /** The newest work offered (current or pending), if any. */
  get latestWork(): ThreadWork | undefined {
    return this.#pending ?? this.#work;
  }

  /**
   * Hand over new work (it takes effect once its generation is the current one).
   *
   * @param work The work.
   */
  offer(work: ThreadWork): void {
    this.#pending = work;
  }

  /**
   * The next scan of the current work: switches to offered work whose generation has become
   * current (reporting "started") and rolls the header time.
   *
   * @returns The scan, or undefined when no work matches the current generation.
   */
  begin(): ScanStep | undefined {
    const generation = Atomics.load(this.#control.generation, 0);
    if (this.#work === undefined || this.#work.generation !== generation) {
      const next = this.#pending;
      if (next === undefined || next.generation !== generation) return undefined;
      this.#pending = undefined;
      this.#switchTo(next);
    }
    const work = this.#work!;
    const now = Math.max(work.minTime, this.#nowSeconds());
    if (now > this.#time) {
      this.#setTime(now);
    } else if (this.#nonce >= work.nonceEnd) {
      this.#setTime(this.#time + 1);
    }
    const count = Math.min(this.#size, work.nonceEnd - this.#nonce);
    return {
      work,
      time: this.#time,
      header: this.#header,
      options: {
        startNonce: this.#nonce,
        count,
        target: work.target,
        maxResults: this.#maxResults,
      },
      startedAt: performance.now(),
    };
  }

  /**
   * Account for a finished scan: report its shares (hashed by `hash`), move the position past
   * the nonces it tried (unless the cursor moved on meanwhile), count them, and tune the size.
   *
   * @param step The scan, from {@linkcode ScanCursor.begin}.
   * @param result What the kernel found and how many nonces it tried.
   * @param hash Hashes a share's full header for its report.
   */
  finish(step: ScanStep, result: ScanResult, hash: (header: Uint8Array) => Uint8Array): void {
    const elapsed = performance.now() - step.startedAt;
    const { work, time } = step;
    for (const nonce of result.nonces) {
      this.#report({
        type: "share",
        index: this.#index,
        generation: work.generation,
        jobId: work.jobId,
        extranonce: work.extranonce,
        ntime: time,
        nonce,
        hash: hash(shareHeader(work.header, time, nonce)),
      });
    }
    if (this.#work === work && this.#time === time) this.#nonce += result.tried;
    Atomics.add(this.#control.hashes, this.#index, BigInt(result.tried));
    const { count } = step.options;
    const t = this.#tuning;
    if (t.adapt && result.tried === count && count === this.#size && elapsed > 0) {
      const ideal = (count * t.targetMs) / elapsed;
      const next = Math.round((this.#size + ideal) / 2 / t.granule) * t.granule;
      this.#size = Math.min(t.max, Math.max(t.min, next));
    }
  }

  #switchTo(work: ThreadWork): void {
    this.#work = work;
    this.#header.set(work.header);
    if (work.key !== this.#key) {
      this.#key = work.key;
      this.#time = -1;
      this.#nonce = work.nonceStart;
    } else {
      // Same search space (e.g. only the difficulty changed): keep the position.
      this.#headerView.setUint32(52, this.#time >>> 0);
    }
    this.#report({
      type: "started",
      index: this.#index,
      generation: work.generation,
      at: preciseNow(),
    });
  }

  #setTime(time: number): void {
    this.#time = time;
    this.#nonce = this.#work!.nonceStart;
    this.#headerView.setUint32(52, time >>> 0);
  }
}
