/**
 * The miner's threads: N mining workers sharing one control block. Work is handed out by
 * bumping the generation counter (stale work stops within one slice) and posting each worker
 * its part; hash counts are read from the control block. Optionally one more slot, after the
 * CPU threads, mines on the GPU (`gpu/`): it takes work and reports like a worker.
 *
 * @module
 */
import { type Control, createControl } from "./_control.ts";
import {
  type FromMiningWorker,
  type KernelChoice,
  spawnMiningWorker,
  type ToMiningWorker,
} from "./mining_worker.ts";
import type { FoundShare, WorkLoopReport } from "./work_loop.ts";
import type { ThreadWork } from "./work.ts";
import { createCheckedGpuKernel, GpuSlot, type GpuSlotKernel } from "./gpu/mod.ts";

/** Options for the GPU slot ({@linkcode MiningThreadsOptions.gpu}). */
export interface MiningGpuOptions {
  /** Fixed nonces per GPU dispatch; 0 tunes toward ~75 ms dispatches. @default 0 */
  batch?: number;
  /** The GPU cannot be used (no adapter, build or self-test failure): the CPU threads mine
   * without it, one per core when none were asked for. */
  onUnavailable?: (reason: string) => void;
  /** The GPU failed while mining: its slot continues on a CPU thread. */
  onFallback?: (reason: string) => void;
  /** Creates the self-tested kernel (tests inject one). @default createCheckedGpuKernel */
  createKernel?: () => Promise<GpuSlotKernel>;
}

/** Options for {@linkcode MiningThreads.start}. */
export interface MiningThreadsOptions {
  /** Number of CPU threads (1..256; 0 allowed with `gpu`). */
  threads: number;
  /** Also mine on the GPU, in one more slot after the CPU threads. */
  gpu?: MiningGpuOptions;
  /** Kernel choice. @default "auto" */
  kernel?: KernelChoice;
  /** Target scan slice in ms (bounds the job-switch latency). @default 3 */
  sliceMs?: number;
  /** Most shares a thread reports per slice. @default 8 */
  maxResults?: number;
  /** How long to wait for the workers to start, in ms. @default 20000 */
  startTimeoutMs?: number;
  /** A thread found a share. */
  onShare?: (share: FoundShare) => void;
  /** A thread started on work of `generation` at `at` (epoch ms, sub-ms precision). */
  onStarted?: (index: number, generation: number, at: number) => void;
  /** A thread reported an error. */
  onError?: (index: number, message: string) => void;
}

/**
 * A set of mining worker threads.
 *
 * @example Usage
 * ```ts
 * import { MiningThreads } from "./threads.ts";
 * import { createBestKernel } from "../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const threads = await MiningThreads.start({ threads: 1 });
 * try {
 *   assert.equal(threads.kernels[0], createBestKernel().name); // "wasm-simd" where SIMD works
 *   threads.setWork((_thread, generation) => ({
 *     generation, key: "demo", jobId: "1", header: new Uint8Array(64), extranonce: 0n,
 *     minTime: 0, nonceStart: 0, nonceEnd: 2 ** 32, target: new Uint8Array(24),
 *   }));
 *   await new Promise((r) => setTimeout(r, 50));
 *   assert.ok(threads.hashes()[0]! > 0);
 * } finally {
 *   threads.terminate();
 * }
 * ```
 */
export class MiningThreads {
  /** Fallback reasons, per thread, when `auto` could not use WebAssembly. */
  readonly fallbacks: readonly (string | undefined)[];
  #kernels: readonly string[];
  #workers: Worker[];
  #control: Control;
  #gpu: GpuSlot | undefined;
  #terminated = false;

  /**
   * Use {@linkcode MiningThreads.start}.
   *
   * @param workers Started workers.
   * @param control Their control block.
   * @param kernels Kernel name per thread.
   * @param fallbacks Fallback reason per thread.
   * @param gpu The GPU slot (index `workers.length`), if any.
   */
  constructor(
    workers: Worker[],
    control: Control,
    kernels: string[],
    fallbacks: (string | undefined)[],
    gpu?: GpuSlot,
  ) {
    this.#workers = workers;
    this.#control = control;
    this.#kernels = kernels;
    this.fallbacks = gpu ? [...fallbacks, undefined] : fallbacks;
    this.#gpu = gpu;
  }

  /** Kernel name per thread ("wasm" or "ts"; "webgpu" for the GPU slot, which is last). */
  get kernels(): readonly string[] {
    return this.#gpu ? [...this.#kernels, this.#gpu.kernel] : this.#kernels;
  }

  /** The GPU's adapter description while the GPU slot exists. */
  get gpuAdapter(): string | undefined {
    return this.#gpu?.adapter;
  }

  /**
   * Spawn the workers and wait until every one has its kernel ready.
   *
   * @param options Thread count, kernel and callbacks.
   * @returns The running (idle) threads.
   * @throws {RangeError} When the thread count is out of range.
   * @throws {Error} When a worker fails to start.
   */
  static async start(options: MiningThreadsOptions): Promise<MiningThreads> {
    const { kernel = "auto", sliceMs = 3, maxResults = 8 } = options;
    let { threads } = options;
    const min = options.gpu ? 0 : 1;
    if (!Number.isInteger(threads) || threads < min || threads > 256) {
      throw new RangeError(`Cannot start mining threads: count ${threads} is not in ${min}..256`);
    }
    let gpuKernel: GpuSlotKernel | undefined;
    if (options.gpu) {
      try {
        gpuKernel = await (options.gpu.createKernel ?? createCheckedGpuKernel)();
      } catch (err) {
        options.gpu.onUnavailable?.(err instanceof Error ? err.message : String(err));
        if (threads === 0) threads = navigator.hardwareConcurrency || 1;
      }
    }
    const control = createControl(threads + (gpuKernel ? 1 : 0));
    const workers: Worker[] = [];
    const kernels: string[] = [];
    const fallbacks: (string | undefined)[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < threads; index++) {
      const worker = spawnMiningWorker();
      workers.push(worker);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.onmessage = (event: MessageEvent<FromMiningWorker>) => {
            const m = event.data;
            switch (m.type) {
              case "ready":
                kernels[index] = m.kernel;
                fallbacks[index] = m.fallback;
                resolve();
                break;
              case "started":
                options.onStarted?.(m.index, m.generation, m.at);
                break;
              case "share": {
                const { type: _type, ...share } = m;
                options.onShare?.(share);
                break;
              }
              case "error":
                options.onError?.(m.index, m.message);
                reject(new Error(`Cannot start mining thread ${index}: ${m.message}`));
                break;
            }
          };
          worker.onerror = (event) => {
            event.preventDefault();
            options.onError?.(index, event.message);
            reject(new Error(`Cannot start mining thread ${index}: ${event.message}`));
          };
        }),
      );
      const init: ToMiningWorker = {
        type: "init",
        index,
        control: control.buffer,
        kernel,
        sliceMs,
        maxResults,
      };
      worker.postMessage(init);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("Cannot start mining threads: workers did not start in time")),
        options.startTimeoutMs ?? 20000,
      );
    });
    try {
      await Promise.race([Promise.all(ready), timeout]);
    } catch (err) {
      for (const w of workers) w.terminate();
      gpuKernel?.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const gpu = gpuKernel && new GpuSlot(gpuKernel, {
      index: threads,
      control,
      batch: options.gpu?.batch ?? 0,
      maxResults,
      sliceMs,
      fallbackKernel: kernel,
      report: (m: WorkLoopReport) => {
        if (m.type === "started") {
          options.onStarted?.(m.index, m.generation, m.at);
        } else {
          const { type: _type, ...share } = m;
          options.onShare?.(share);
        }
      },
      ...(options.gpu?.onFallback ? { onFallback: options.gpu.onFallback } : {}),
    });
    return new MiningThreads(workers, control, kernels, fallbacks, gpu);
  }

  /** Number of threads (the GPU slot included). */
  get count(): number {
    return this.#workers.length + (this.#gpu ? 1 : 0);
  }

  /** The current work generation. */
  get generation(): number {
    return Atomics.load(this.#control.generation, 0);
  }

  /**
   * Give every thread new work: the generation is bumped first (stale work stops within one
   * slice), then each thread is posted its part.
   *
   * @param build Builds thread `i`'s work for the new generation.
   * @returns The new generation.
   */
  setWork(build: (thread: number, generation: number) => ThreadWork): number {
    const works = Array.from({ length: this.count }, (_, i) => i);
    const generation = this.generation + 1;
    const built = works.map((i) => build(i, generation));
    Atomics.store(this.#control.generation, 0, generation);
    for (let i = 0; i < this.#workers.length; i++) {
      const message: ToMiningWorker = { type: "work", work: built[i]! };
      this.#workers[i]!.postMessage(message);
    }
    this.#gpu?.offer(built[this.#workers.length]!);
    return generation;
  }

  /**
   * Stop all threads' work (they idle until the next {@linkcode MiningThreads.setWork}).
   *
   * @returns The new generation (which has no work).
   */
  pause(): number {
    return Atomics.add(this.#control.generation, 0, 1) + 1;
  }

  /**
   * Hashes tried so far, per thread.
   *
   * @returns Cumulative counts.
   */
  hashes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) {
      out.push(Number(Atomics.load(this.#control.hashes, i)));
    }
    return out;
  }

  /**
   * Stop the threads for good. Safe to call more than once.
   *
   * @returns Resolves once the GPU slot (if any) has finished its dispatch and released the
   * device.
   */
  async terminate(): Promise<void> {
    if (!this.#terminated) {
      this.#terminated = true;
      this.pause();
      for (const w of this.#workers) w.terminate();
    }
    await this.#gpu?.terminate();
  }
}
