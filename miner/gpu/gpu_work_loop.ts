/**
 * The GPU's scanning loop: the asynchronous counterpart of {@linkcode WorkLoop}, with the
 * same search-space rules (header time rolls with the clock, never below the job time; a
 * range exhausted within one second moves the time one second ahead; work with the same key
 * keeps its position) and the same reports. Each step submits one dispatch and awaits its
 * results, so the event loop stays free; the batch size tunes itself toward a dispatch time
 * of about 75 ms, so new work is picked up within roughly a tenth of a second.
 *
 * @module
 */
import type { ScanOptions, ScanResult } from "../../hash/mod.ts";
import { vblake } from "../../hash/mod.ts";
import type { Control } from "../_control.ts";
import type { WorkLoopReport } from "../work_loop.ts";
import { shareHeader, type ThreadWork } from "../work.ts";

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

function defaultNowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

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
  #control: Control;
  #index: number;
  #fixed: number;
  #dispatchMs: number;
  #maxResults: number;
  #report: (message: WorkLoopReport) => void;
  #nowSeconds: () => number;
  #batch: number;
  #work: ThreadWork | undefined;
  #pending: ThreadWork | undefined;
  #header = new Uint8Array(64);
  #headerView = new DataView(this.#header.buffer);
  #key = "";
  #time = -1;
  #nonce = 0;

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
    this.#control = control;
    this.#index = options.index;
    this.#fixed = fixed;
    this.#dispatchMs = options.dispatchMs ?? 75;
    this.#maxResults = options.maxResults ?? 8;
    this.#report = options.report;
    this.#nowSeconds = options.nowSeconds ?? defaultNowSeconds;
    this.#batch = fixed > 0 ? fixed : options.initialBatch ?? 65536;
  }

  /** Nonces per dispatch now (tuned unless fixed). */
  get batchSize(): number {
    return this.#batch;
  }

  /** The position in the current search space: header time and next nonce. */
  get position(): { key: string; time: number; nonce: number } {
    return { key: this.#key, time: this.#time, nonce: this.#nonce };
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
   * Scan one batch of the current work on the kernel.
   *
   * @returns False when no work matches the current generation.
   * @throws {Error} When the kernel fails (e.g. the device was lost).
   */
  async step(): Promise<boolean> {
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
    const count = Math.min(this.#batch, work.nonceEnd - this.#nonce);
    const time = this.#time;
    const started = performance.now();
    const result = await this.#kernel.scan(this.#header, {
      startNonce: this.#nonce,
      count,
      target: work.target,
      maxResults: this.#maxResults,
    });
    const elapsed = performance.now() - started;
    for (const nonce of result.nonces) this.#found(work, time, nonce);
    if (this.#work === work && this.#time === time) this.#nonce += result.tried;
    Atomics.add(this.#control.hashes, this.#index, BigInt(result.tried));
    if (this.#fixed === 0 && result.tried === count && count === this.#batch && elapsed > 0) {
      const ideal = (count * this.#dispatchMs) / elapsed;
      const next = Math.round((this.#batch + ideal) / 2 / MIN_GPU_BATCH) * MIN_GPU_BATCH;
      this.#batch = Math.min(MAX_GPU_BATCH, Math.max(MIN_GPU_BATCH, next));
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

  #found(work: ThreadWork, time: number, nonce: number): void {
    const header = shareHeader(work.header, time, nonce);
    this.#report({
      type: "share",
      index: this.#index,
      generation: work.generation,
      jobId: work.jobId,
      extranonce: work.extranonce,
      ntime: time,
      nonce,
      // The GPU keeps its hashes; the share's hash comes from the reference (the miner
      // verifies it against the target, which catches a faulty device).
      hash: vblake(header),
    });
  }
}
