/**
 * The GPU's scanning loop: the asynchronous counterpart of {@linkcode WorkLoop}, with the
 * same search-space rules (header time rolls with the clock, never below the job time; a
 * range exhausted within one second moves the time one second ahead; work with the same key
 * keeps its position) and the same reports, through the same bookkeeping
 * (`../_scan_cursor.ts`). Each step submits one dispatch and awaits its results, so the event
 * loop stays free; the batch size tunes itself toward a dispatch time of about 75 ms, so new
 * work is picked up within roughly a tenth of a second.
 *
 * @module
 */
import type { ScanOptions, ScanResult } from "../../hash/mod.ts";
import { vblake } from "../../hash/mod.ts";
import type { Control } from "../_control.ts";
import { ScanCursor } from "../_scan_cursor.ts";
import type { WorkLoopReport } from "../work_loop.ts";
import type { ThreadWork } from "../work.ts";

/** What the loop needs of a kernel: an asynchronous scan (the GPU kernel has one). */
export interface AsyncScanner {
  /** Kernel name. */
  readonly name: string;
  /** Scan as {@linkcode VblakeKernel.scan} does, asynchronously. */
  scan(header: Uint8Array, options: ScanOptions): Promise<ScanResult>;
}

/** Options for {@linkcode GpuWorkLoop}. */
export interface GpuWorkLoopOptions {
  /** Slot index (its hash counter in the control block). */
  index: number;
  /** Fixed nonces per dispatch; 0 tunes the batch toward `dispatchMs`. @default 0 */
  batch?: number;
  /** Target dispatch duration when tuning, in ms. @default 75 */
  dispatchMs?: number;
  /** First batch size when tuning. @default 65536 */
  initialBatch?: number;
  /** Most shares reported per dispatch. @default 8 */
  maxResults?: number;
  /** Where reports go. */
  report: (message: WorkLoopReport) => void;
  /** Clock in Unix seconds. @default from Date.now() */
  nowSeconds?: () => number;
}

/** Smallest tuned batch. */
export const MIN_GPU_BATCH = 256;
/** Largest batch (tuned or fixed). */
export const MAX_GPU_BATCH = 2 ** 31;

/**
 * The GPU slot's loop: {@linkcode GpuWorkLoop.offer} work as it arrives and await
 * {@linkcode GpuWorkLoop.step} repeatedly; it resolves false when there is nothing current to
 * do (wait for the next offer then).
 *
 * @example Usage
 * ```ts
 * import { GpuWorkLoop } from "./gpu_work_loop.ts";
 * import { createControl } from "../_control.ts";
 * import { createReferenceKernel } from "../../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const cpu = createReferenceKernel();
 * const scanner = { name: "fake", scan: (h: Uint8Array, o: Parameters<typeof cpu.scan>[1]) => Promise.resolve(cpu.scan(h, o)) };
 * const control = createControl(1);
 * const reports: string[] = [];
 * const loop = new GpuWorkLoop(scanner, control, { index: 0, batch: 100, report: (m) => reports.push(m.type) });
 * assert.equal(await loop.step(), false); // no work yet
 * Atomics.store(control.generation, 0, 1);
 * loop.offer({
 *   generation: 1, key: "k", jobId: "1", header: new Uint8Array(64), extranonce: 0n,
 *   minTime: 0, nonceStart: 0, nonceEnd: 2 ** 32, target: new Uint8Array(24), // unreachable
 * });
 * assert.equal(await loop.step(), true);
 * assert.deepEqual(reports, ["started"]);
 * assert.equal(Atomics.load(control.hashes, 0), 100n);
 * ```
 */
export class GpuWorkLoop {
  #kernel: AsyncScanner;
  #cursor: ScanCursor;

  /**
   * @param kernel The asynchronous kernel (the GPU kernel).
   * @param control The shared control block.
   * @param options Index, batch, reporting, clock.
   * @throws {RangeError} When the batch is out of range.
   */
  constructor(kernel: AsyncScanner, control: Control, options: GpuWorkLoopOptions) {
    const fixed = options.batch ?? 0;
    if (!Number.isInteger(fixed) || fixed < 0 || fixed > MAX_GPU_BATCH) {
      throw new RangeError(`Cannot start the GPU loop: batch ${fixed} is not in 0..2^31`);
    }
    this.#kernel = kernel;
    this.#cursor = new ScanCursor(control, {
      index: options.index,
      maxResults: options.maxResults ?? 8,
      report: options.report,
      nowSeconds: options.nowSeconds,
      size: {
        initial: fixed > 0 ? fixed : options.initialBatch ?? 65536,
        adapt: fixed === 0,
        targetMs: options.dispatchMs ?? 75,
        min: MIN_GPU_BATCH,
        max: MAX_GPU_BATCH,
        granule: MIN_GPU_BATCH,
      },
    });
  }

  /** Nonces per dispatch now (tuned unless fixed). */
  get batchSize(): number {
    return this.#cursor.size;
  }

  /** The position in the current search space: header time and next nonce. */
  get position(): { key: string; time: number; nonce: number } {
    return this.#cursor.position;
  }

  /** The newest work offered (current or pending), if any. */
  get latestWork(): ThreadWork | undefined {
    return this.#cursor.latestWork;
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
   * Scan one batch of the current work on the kernel.
   *
   * @returns False when no work matches the current generation.
   * @throws {Error} When the kernel fails (e.g. the device was lost).
   */
  async step(): Promise<boolean> {
    const step = this.#cursor.begin();
    if (step === undefined) return false;
    const result = await this.#kernel.scan(step.header, step.options);
    // The GPU keeps its hashes; a share's hash comes from the reference (the miner verifies
    // it against the target, which catches a faulty device).
    this.#cursor.finish(step, result, vblake);
    return true;
  }
}
