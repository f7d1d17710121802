/**
 * The scanning loop of one mining thread, independent of the worker it runs in (so it can be
 * driven and tested on the main thread). It scans in small slices (about `sliceMs` each) and
 * checks the shared generation counter between slices: work whose generation is no longer
 * current stops at once. The header time rolls with the clock and never drops below the job
 * time; when a thread exhausts its nonce range within one second it moves its time one second
 * ahead, so no (time, nonce) pair is tried twice for the same search space.
 *
 * @module
 */
import type { VblakeKernel } from "../hash/mod.ts";
import type { Control } from "./_control.ts";
import type { ThreadWork } from "./work.ts";
import { shareHeader } from "./work.ts";

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

/** Options for {@linkcode WorkLoop}. */
export interface WorkLoopOptions {
  /** Thread index (its hash counter in the control block). */
  index: number;
  /** Target duration of one scan slice, in ms. @default 3 */
  sliceMs?: number;
  /** Most shares reported per slice (a flood guard for absurdly low difficulties). @default 8 */
  maxResults?: number;
  /** Where reports go. */
  report: (message: WorkLoopReport) => void;
  /** Clock in Unix seconds. @default from Date.now() */
  nowSeconds?: () => number;
  /** First slice size in nonces. @default 4096 */
  initialSlice?: number;
  /** Adapt the slice size to `sliceMs`. @default true */
  adaptSlice?: boolean;
}

const MIN_SLICE = 64;
const MAX_SLICE = 1 << 24;

function defaultNowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Epoch milliseconds with sub-millisecond precision, comparable across threads. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One mining thread's loop: call {@linkcode WorkLoop.offer} with work as it arrives and
 * {@linkcode WorkLoop.step} repeatedly; `step` returns false when there is nothing current to
 * do (wait for the next message then).
 *
 * @example Usage
 * ```ts
 * import { WorkLoop } from "./work_loop.ts";
 * import { createControl } from "./_control.ts";
 * import { createReferenceKernel } from "../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const control = createControl(1);
 * const reports: string[] = [];
 * const loop = new WorkLoop(createReferenceKernel(), control, {
 *   index: 0,
 *   initialSlice: 100,
 *   report: (m) => reports.push(m.type),
 * });
 * assert.equal(loop.step(), false); // no work yet
 * Atomics.store(control.generation, 0, 1);
 * loop.offer({
 *   generation: 1, key: "k", jobId: "1", header: new Uint8Array(64), extranonce: 0n,
 *   minTime: 0, nonceStart: 0, nonceEnd: 2 ** 32, target: new Uint8Array(24), // unreachable
 * });
 * assert.equal(loop.step(), true);
 * assert.deepEqual(reports, ["started"]);
 * assert.ok(Atomics.load(control.hashes, 0) > 0n);
 * Atomics.store(control.generation, 0, 2); // a new job is coming: stop at once
 * assert.equal(loop.step(), false);
 * ```
 */
export class WorkLoop {
  #kernel: VblakeKernel;
  #control: Control;
  #index: number;
  #sliceMs: number;
  #maxResults: number;
  #report: (message: WorkLoopReport) => void;
  #nowSeconds: () => number;
  #slice: number;
  #adapt: boolean;
  #work: ThreadWork | undefined;
  #pending: ThreadWork | undefined;
  #header = new Uint8Array(64);
  #headerView = new DataView(this.#header.buffer);
  #key = "";
  #time = -1;
  #nonce = 0;

  /**
   * @param kernel The vBlake kernel this thread uses.
   * @param control The shared control block.
   * @param options Index, slice size, reporting, clock.
   */
  constructor(kernel: VblakeKernel, control: Control, options: WorkLoopOptions) {
    this.#kernel = kernel;
    this.#control = control;
    this.#index = options.index;
    this.#sliceMs = options.sliceMs ?? 3;
    this.#maxResults = options.maxResults ?? 8;
    this.#report = options.report;
    this.#nowSeconds = options.nowSeconds ?? defaultNowSeconds;
    this.#slice = options.initialSlice ?? 4096;
    this.#adapt = options.adaptSlice ?? true;
  }

  /** The position in the current search space: header time and next nonce. */
  get position(): { key: string; time: number; nonce: number } {
    return { key: this.#key, time: this.#time, nonce: this.#nonce };
  }

  /** Current slice size in nonces (adapts to `sliceMs`). */
  get sliceSize(): number {
    return this.#slice;
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
   * Scan one slice of the current work.
   *
   * @returns False when no work matches the current generation.
   */
  step(): boolean {
    const generation = Atomics.load(this.#control.generation, 0);
    if (this.#work === undefined || this.#work.generation !== generation) {
      const next = this.#pending;
      if (next === undefined || next.generation !== generation) return false;
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
    const count = Math.min(this.#slice, work.nonceEnd - this.#nonce);
    const started = performance.now();
    const result = this.#kernel.scan(this.#header, {
      startNonce: this.#nonce,
      count,
      target: work.target,
      maxResults: this.#maxResults,
    });
    const elapsed = performance.now() - started;
    for (const nonce of result.nonces) this.#found(work, nonce);
    this.#nonce += result.tried;
    Atomics.add(this.#control.hashes, this.#index, BigInt(result.tried));
    if (this.#adapt && result.tried === count && count === this.#slice && elapsed > 0) {
      const ideal = (count * this.#sliceMs) / elapsed;
      const next = Math.round((this.#slice + ideal) / 2);
      this.#slice = Math.min(MAX_SLICE, Math.max(MIN_SLICE, next));
    }
    return true;
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

  #found(work: ThreadWork, nonce: number): void {
    const header = shareHeader(this.#header, this.#time, nonce);
    this.#report({
      type: "share",
      index: this.#index,
      generation: work.generation,
      jobId: work.jobId,
      extranonce: work.extranonce,
      ntime: this.#time,
      nonce,
      hash: this.#kernel.hash(header),
    });
  }
}
