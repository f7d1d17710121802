/**
 * The GPU as one mining slot beside the CPU threads: it takes the same per-slot work, counts
 * its hashes in the same control block and reports "started" and "share" messages the way a
 * mining worker does, so the miner treats it as one more thread. It runs on the main thread
 * (each step awaits a dispatch; nothing blocks). Should the device be lost or fail later,
 * the slot carries on as a CPU mining worker on the same work.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Control } from "../_control.ts";
import {
  type FromMiningWorker,
  type KernelChoice,
  spawnMiningWorker,
  type ToMiningWorker,
} from "../mining_worker.ts";
import type { WorkLoopReport } from "../work_loop.ts";
import type { ThreadWork } from "../work.ts";
import { checkGpuKernel } from "./check_gpu_kernel.ts";
import { createGpuKernel, type GpuKernel } from "./gpu_kernel.ts";
import { type AsyncScanner, GpuWorkLoop } from "./gpu_work_loop.ts";

const log = getLogger(["vbkpool", "miner", "gpu"]);

/** A kernel the slot can drive: scans plus a way to release it. */
export interface GpuSlotKernel extends AsyncScanner {
  /** A description of the device. */
  readonly adapter: string;
  /** Release the device (safe to call more than once). */
  destroy(): void;
}

/** Options for {@linkcode GpuSlot.start}. */
export interface GpuSlotOptions {
  /** The slot's index in the control block (after the CPU threads). */
  index: number;
  /** The shared control block. */
  control: Control;
  /** Fixed nonces per dispatch; 0 tunes toward `dispatchMs`. @default 0 */
  batch?: number;
  /** Target dispatch duration when tuning, ms. @default 75 */
  dispatchMs?: number;
  /** Invocations per workgroup. @default 64 */
  workgroupSize?: number;
  /** Nonces per shader invocation. @default 1 */
  noncesPerInvocation?: number;
  /** Most shares reported per dispatch. @default 8 */
  maxResults?: number;
  /** Kernel of the CPU worker that takes over after a GPU failure. @default "auto" */
  fallbackKernel?: KernelChoice;
  /** Scan slice of that worker, ms. @default 10 */
  sliceMs?: number;
  /** Receives "started" and "share" reports (from the GPU loop or its CPU replacement). */
  report: (message: WorkLoopReport) => void;
  /** The GPU failed while mining; the slot now mines on the CPU. */
  onFallback?: (reason: string) => void;
  /** Creates the kernel (tests inject one). @default createGpuKernel + checkGpuKernel */
  createKernel?: () => Promise<GpuSlotKernel>;
}

/** Options for {@linkcode createCheckedGpuKernel}. */
export interface CheckedGpuKernelOptions {
  /** Invocations per workgroup. @default 64 */
  workgroupSize?: number;
  /** Nonces per shader invocation. @default 1 */
  noncesPerInvocation?: number;
}

/**
 * Create the GPU kernel and run its self-test ({@linkcode checkGpuKernel}) before it mines.
 *
 * @example Usage
 * ```ts ignore
 * import { createCheckedGpuKernel } from "./gpu_slot.ts";
 *
 * const kernel = await createCheckedGpuKernel(); // rejects with the reason when unusable
 * kernel.destroy();
 * ```
 *
 * @param options Shader shape.
 * @returns A kernel that passed the self-test.
 * @throws {Error} With a clear reason when there is no usable GPU (no WebGPU, no adapter,
 * the shader fails to build, or the self-test fails).
 */
export async function createCheckedGpuKernel(
  options: CheckedGpuKernelOptions = {},
): Promise<GpuSlotKernel> {
  const kernel: GpuKernel = await createGpuKernel({
    // One dispatch per step: the work loop sizes its batches (~75 ms) itself.
    maxDispatch: 2 ** 31,
    ...(options.workgroupSize ? { workgroupSize: options.workgroupSize } : {}),
    ...(options.noncesPerInvocation ? { noncesPerInvocation: options.noncesPerInvocation } : {}),
  });
  try {
    await checkGpuKernel(kernel);
  } catch (error) {
    kernel.destroy();
    throw error;
  }
  return kernel;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One GPU mining slot. {@linkcode GpuSlot.start} creates and self-tests the kernel; then
 * {@linkcode GpuSlot.offer} it work like a mining worker.
 *
 * @example Usage
 * ```ts
 * import { GpuSlot } from "./gpu_slot.ts";
 * import { createControl } from "../_control.ts";
 * import { createReferenceKernel } from "../../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const cpu = createReferenceKernel();
 * const control = createControl(1);
 * const slot = await GpuSlot.start({
 *   index: 0,
 *   control,
 *   batch: 64,
 *   report: () => {},
 *   // A stand-in for the GPU kernel (the real one needs an adapter).
 *   createKernel: () => Promise.resolve({
 *     name: "fake", adapter: "none", destroy() {},
 *     scan: (h, o) => Promise.resolve(cpu.scan(h, o)),
 *   }),
 * });
 * try {
 *   Atomics.store(control.generation, 0, 1);
 *   slot.offer({
 *     generation: 1, key: "k", jobId: "1", header: new Uint8Array(64), extranonce: 0n,
 *     minTime: 0, nonceStart: 0, nonceEnd: 2 ** 32, target: new Uint8Array(24),
 *   });
 *   await new Promise((r) => setTimeout(r, 50));
 *   assert.ok(Atomics.load(control.hashes, 0) > 0n);
 *   assert.equal(slot.kernel, "fake");
 * } finally {
 *   await slot.terminate();
 * }
 * ```
 */
export class GpuSlot {
  /** The device description ("llvmpipe (...)" for Mesa's software adapter). */
  readonly adapter: string;
  #options: GpuSlotOptions;
  #kernel: GpuSlotKernel;
  #loop: GpuWorkLoop;
  #wake: (() => void) | undefined;
  #running: Promise<void>;
  #stopped = false;
  #worker: Worker | undefined;
  #workerKernel: string | undefined;

  /**
   * Use {@linkcode GpuSlot.start}.
   *
   * @param kernel A checked kernel.
   * @param options Slot options.
   */
  constructor(kernel: GpuSlotKernel, options: GpuSlotOptions) {
    this.#kernel = kernel;
    this.#options = options;
    this.adapter = kernel.adapter;
    this.#loop = new GpuWorkLoop(kernel, options.control, {
      index: options.index,
      batch: options.batch ?? 0,
      dispatchMs: options.dispatchMs ?? 75,
      maxResults: options.maxResults ?? 8,
      report: options.report,
    });
    this.#running = this.#run();
  }

  /**
   * Create and self-test the GPU kernel, and start the slot (idle until offered work).
   *
   * @param options Slot options.
   * @returns The running slot.
   * @throws {Error} With a clear reason when there is no usable GPU (no WebGPU, no adapter,
   * the shader fails to build, or the self-test fails).
   */
  static async start(options: GpuSlotOptions): Promise<GpuSlot> {
    const kernel = await (options.createKernel ?? (() => createCheckedGpuKernel(options)))();
    return new GpuSlot(kernel, options);
  }

  /** "webgpu" while the GPU mines; the CPU kernel's name after a fallback. */
  get kernel(): string {
    return this.#worker === undefined ? this.#kernel.name : this.#workerKernel ?? "cpu";
  }

  /** Nonces per dispatch now (tuned unless fixed). */
  get batchSize(): number {
    return this.#loop.batchSize;
  }

  /**
   * Hand over new work (its generation must be current, or become current, to be mined).
   *
   * @param work The slot's work.
   */
  offer(work: ThreadWork): void {
    if (this.#stopped) return;
    if (this.#worker !== undefined) {
      const message: ToMiningWorker = { type: "work", work };
      this.#worker.postMessage(message);
      return;
    }
    this.#loop.offer(work);
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Stop for good and release the device. Safe to call more than once. */
  async terminate(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#worker?.terminate();
      const wake = this.#wake;
      this.#wake = undefined;
      wake?.();
    }
    await this.#running;
    this.#kernel.destroy();
  }

  async #run(): Promise<void> {
    try {
      while (!this.#stopped) {
        const started = performance.now();
        if (!(await this.#loop.step())) {
          if (!this.#stopped) await new Promise<void>((resolve) => this.#wake = resolve);
        } else if (performance.now() - started < 1) {
          // The step did not wait for a device (a tiny batch, or a kernel that answers at
          // once): let timers and I/O run before the next one.
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
    } catch (error) {
      if (this.#stopped) return;
      this.#fallBack(errorText(error));
    }
  }

  #fallBack(reason: string): void {
    const o = this.#options;
    log.error("The GPU stopped working ({reason}); its slot continues on a CPU thread", {
      reason,
    });
    this.#kernel.destroy();
    const worker = spawnMiningWorker();
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<FromMiningWorker>) => {
      const m = event.data;
      if (m.type === "started" || m.type === "share") o.report(m);
      else if (m.type === "ready") this.#workerKernel = m.kernel;
      else if (m.type === "error") log.error("CPU fallback thread failed: {m}", { m: m.message });
    };
    worker.onerror = (event) => {
      event.preventDefault();
      log.error("CPU fallback thread failed: {m}", { m: event.message });
    };
    const init: ToMiningWorker = {
      type: "init",
      index: o.index,
      control: o.control.buffer,
      kernel: o.fallbackKernel ?? "auto",
      sliceMs: o.sliceMs ?? 10,
      maxResults: o.maxResults ?? 8,
    };
    worker.postMessage(init);
    const work = this.#loop.latestWork;
    if (work !== undefined) this.offer(work);
    try {
      o.onFallback?.(reason);
    } catch (error) {
      log.error("GPU fallback handler failed: {error}", { error: errorText(error) });
    }
  }
}
