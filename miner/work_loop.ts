/**
 * The scanning loop of one mining thread, independent of the worker it runs in (so it can be
 * driven and tested on the main thread). It scans in small slices (about `sliceMs` each) and
 * checks the shared generation counter between slices: work whose generation is no longer
 * current stops at once. The header time rolls with the clock and never drops below the job
 * time; when a thread exhausts its nonce range within one second it moves its time one second
 * ahead, so no (time, nonce) pair is tried twice for the same search space (the bookkeeping,
 * shared with the GPU's loop, is in `_scan_cursor.ts`).
 *
 * @module
 */
import type { VblakeKernel } from "../hash/mod.ts";
import type { Control } from "./_control.ts";
import { ScanCursor, type WorkLoopReport } from "./_scan_cursor.ts";
import type { ThreadWork } from "./work.ts";

export type { FoundShare, WorkLoopReport } from "./_scan_cursor.ts";

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
  #cursor: ScanCursor;
  #hash: (header: Uint8Array) => Uint8Array;

  /**
   * @param kernel The vBlake kernel this thread uses.
   * @param control The shared control block.
   * @param options Index, slice size, reporting, clock.
   */
  constructor(kernel: VblakeKernel, control: Control, options: WorkLoopOptions) {
    this.#kernel = kernel;
    this.#hash = (header) => kernel.hash(header);
    this.#cursor = new ScanCursor(control, {
      index: options.index,
      maxResults: options.maxResults ?? 8,
      report: options.report,
      nowSeconds: options.nowSeconds,
      size: {
        initial: options.initialSlice ?? 4096,
        adapt: options.adaptSlice ?? true,
        targetMs: options.sliceMs ?? 3,
        min: MIN_SLICE,
        max: MAX_SLICE,
        granule: 1,
      },
    });
  }

  /** The position in the current search space: header time and next nonce. */
  get position(): { key: string; time: number; nonce: number } {
    return this.#cursor.position;
  }

  /** Current slice size in nonces (adapts to `sliceMs`). */
  get sliceSize(): number {
    return this.#cursor.size;
  }

  /**
   * Hand over new work (it takes effect once its generation is the current one).
   *
   * @param work The work.
   */
  offer(work: ThreadWork): void {
    this.#cursor.offer(work);
  }

  /**
   * Scan one slice of the current work.
   *
   * @returns False when no work matches the current generation.
   */
  step(): boolean {
    const step = this.#cursor.begin();
    if (step === undefined) return false;
    const result = this.#kernel.scan(step.header, step.options);
    this.#cursor.finish(step, result, this.#hash);
    return true;
  }
}
