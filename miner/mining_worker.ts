/**
 * The mining thread: a Web Worker running a {@linkcode WorkLoop} on the WebAssembly kernel
 * (or the TypeScript reference where WebAssembly is unavailable or fails its self-test).
 *
 * The module spawns itself (`new Worker(import.meta.url)`) and installs its message handler
 * only inside a worker with its own name, so the same code works from source, from the
 * `deno bundle` output (the whole bundle is the worker script) and from a compiled binary.
 *
 * @module
 */
import {
  createBestKernel,
  createKernel,
  KERNEL_NAMES,
  type KernelName,
  type VblakeKernel,
} from "../hash/mod.ts";
import { openControl } from "./_control.ts";
import { WorkLoop, type WorkLoopReport } from "./work_loop.ts";
import type { ThreadWork } from "./work.ts";

const WORKER_NAME = "vbkpool-miner";

/** Which kernel a thread uses: the best available (self-tested), or one forced by name. */
export type KernelChoice = "auto" | KernelName;

/** The kernel choices, for option checking. */
export const KERNEL_CHOICES: readonly KernelChoice[] = ["auto", ...KERNEL_NAMES];

/** Messages to a mining worker. */
export type ToMiningWorker =
  | {
    type: "init";
    /** Thread index. */
    index: number;
    /** The control block's buffer. */
    control: SharedArrayBuffer;
    /** Kernel choice. */
    kernel: KernelChoice;
    /** Target slice duration in ms. */
    sliceMs: number;
    /** Most shares reported per slice. */
    maxResults: number;
  }
  | { type: "work"; work: ThreadWork };

/** Messages from a mining worker. */
export type FromMiningWorker =
  | WorkLoopReport
  | {
    type: "ready";
    index: number;
    /** Name of the kernel in use ("wasm-simd", "wasm" or "ts"). */
    kernel: string;
    /** Why the WebAssembly kernel was not used, when `auto` fell back. */
    fallback?: string;
  }
  | { type: "error"; index: number; message: string };

/**
 * Create the kernel a thread uses: with `auto`, the fastest kernel that passes its self-test
 * (WebAssembly SIMD, then scalar WebAssembly, then the TypeScript reference).
 *
 * @example Usage
 * ```ts
 * import { createThreadKernel } from "./mining_worker.ts";
 * import { createBestKernel } from "../hash/mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(createThreadKernel("ts").kernel.name, "ts");
 * assert.equal(createThreadKernel("wasm").kernel.name, "wasm");
 * assert.equal(createThreadKernel("auto").kernel.name, createBestKernel().name);
 * ```
 *
 * @param choice Kernel choice.
 * @returns The kernel, and the fallback reason when `auto` could not use its first choice.
 * @throws {Error} When a forced kernel cannot run here.
 */
export function createThreadKernel(
  choice: KernelChoice,
): { kernel: VblakeKernel; fallback?: string } {
  if (choice !== "auto") return { kernel: createKernel(choice) };
  let fallback: string | undefined;
  const kernel = createBestKernel({
    onFallback: (reason) => {
      const text = reason instanceof Error ? reason.message : String(reason);
      fallback = fallback === undefined ? text : `${fallback}; ${text}`;
    },
  });
  return fallback === undefined ? { kernel } : { kernel, fallback };
}

/**
 * Start a mining worker thread; post it an `init` message, then `work` messages.
 *
 * @example Usage
 * ```ts
 * import { type FromMiningWorker, spawnMiningWorker } from "./mining_worker.ts";
 * import assert from "node:assert/strict";
 *
 * const worker = spawnMiningWorker();
 * const ready = new Promise<FromMiningWorker>((resolve) => {
 *   worker.onmessage = (e: MessageEvent<FromMiningWorker>) => resolve(e.data);
 * });
 * const control = new SharedArrayBuffer(16); // generation + one hash counter
 * worker.postMessage({ type: "init", index: 0, control, kernel: "ts", sliceMs: 3, maxResults: 8 });
 * assert.deepEqual(await ready, { type: "ready", index: 0, kernel: "ts" });
 * worker.terminate();
 * ```
 *
 * @returns The worker.
 */
export function spawnMiningWorker(): Worker {
  return new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
}

function runWorker(scope: {
  postMessage(message: FromMiningWorker): void;
  onmessage: ((event: MessageEvent<ToMiningWorker>) => void) | null;
}): void {
  let loop: WorkLoop | undefined;
  let wake: (() => void) | undefined;
  let index = -1;

  async function run(current: WorkLoop): Promise<void> {
    for (;;) {
      while (current.step()) {
        // Busy: a slice at a time; the generation counter stops stale work.
      }
      await new Promise<void>((resolve) => wake = resolve);
    }
  }

  scope.onmessage = (event) => {
    const message = event.data;
    try {
      if (message.type === "init") {
        index = message.index;
        const { kernel, fallback } = createThreadKernel(message.kernel);
        loop = new WorkLoop(kernel, openControl(message.control), {
          index,
          sliceMs: message.sliceMs,
          maxResults: message.maxResults,
          report: (m) => scope.postMessage(m),
        });
        scope.postMessage({
          type: "ready",
          index,
          kernel: kernel.name,
          ...(fallback === undefined ? {} : { fallback }),
        });
        run(loop).catch((err) => {
          scope.postMessage({ type: "error", index, message: String(err?.message ?? err) });
        });
      } else if (message.type === "work" && loop !== undefined) {
        loop.offer(message.work);
        const w = wake;
        wake = undefined;
        w?.();
      }
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      scope.postMessage({ type: "error", index, message: text });
    }
  };
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope.name === WORKER_NAME) {
  runWorker(scope);
}
