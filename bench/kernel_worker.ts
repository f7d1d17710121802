/**
 * Bench-only hashing thread for `bench/kernel_speed.ts`: a Web Worker that creates one kernel,
 * warms it up (so the WebAssembly tier-up has happened), then scans for a requested time and
 * reports how many nonces it hashed. The module spawns itself (`new Worker(import.meta.url)`)
 * and installs its handler only inside a worker carrying its own name.
 *
 * @module
 */
import { createKernel, type KernelName, type VblakeKernel } from "../hash/kernel.ts";

const WORKER_NAME = "vbkpool-kernel-bench";

/** Messages to a kernel bench worker. */
export type ToKernelWorker =
  | {
    type: "init";
    /** Kernel to create. */
    kernel: KernelName;
    /** 64-byte header template. */
    header: Uint8Array;
    /** Warm-up time in ms. */
    warmupMs: number;
  }
  | {
    type: "run";
    /** How long to hash, in ms. */
    ms: number;
    /** First nonce (each thread gets its own range). */
    startNonce: number;
  };

/** Messages from a kernel bench worker. */
export type FromKernelWorker =
  | { type: "ready"; kernel: string }
  | { type: "done"; hashes: number; wallMs: number }
  | { type: "error"; message: string };

/**
 * Start a bench worker thread; post it `init`, wait for `ready`, then post `run` messages.
 *
 * @example Usage
 * ```ts
 * import { type FromKernelWorker, spawnKernelWorker } from "./kernel_worker.ts";
 * import assert from "node:assert/strict";
 *
 * const worker = spawnKernelWorker();
 * const next = () =>
 *   new Promise<FromKernelWorker>((resolve) => worker.onmessage = (e) => resolve(e.data));
 * worker.postMessage({ type: "init", kernel: "wasm", header: new Uint8Array(64), warmupMs: 1 });
 * assert.deepEqual(await next(), { type: "ready", kernel: "wasm" });
 * worker.postMessage({ type: "run", ms: 5, startNonce: 0 });
 * const done = await next();
 * assert.ok(done.type === "done" && done.hashes > 0);
 * worker.terminate();
 * ```
 *
 * @returns The worker.
 */
export function spawnKernelWorker(): Worker {
  return new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
}

/**
 * Nonces per scan call for a kernel: small enough to check the clock often, large enough that
 * the call overhead does not count.
 */
function sliceFor(kernel: VblakeKernel): number {
  return kernel.name === "ts" ? 2_000 : 60_000;
}

/**
 * Hash for about `ms` milliseconds with an unreachable target (every hash is counted).
 *
 * @example Usage
 * ```ts
 * import { hashFor } from "./kernel_worker.ts";
 * import { createReferenceKernel } from "../hash/kernel.ts";
 * import assert from "node:assert/strict";
 *
 * const { hashes, wallMs } = hashFor(createReferenceKernel(), new Uint8Array(64), {
 *   ms: 2,
 *   startNonce: 0,
 * });
 * assert.ok(hashes >= 2000 && wallMs >= 2);
 * ```
 *
 * @param kernel The kernel.
 * @param header The header template.
 * @param options Duration in ms and first nonce.
 * @returns Nonces hashed and the wall time they took.
 */
export function hashFor(
  kernel: VblakeKernel,
  header: Uint8Array,
  options: { ms: number; startNonce: number },
): { hashes: number; wallMs: number } {
  const slice = sliceFor(kernel);
  let nonce = options.startNonce >>> 0;
  let hashes = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    if (nonce > 2 ** 32 - slice) nonce = 0;
    hashes += kernel.scan(header, { startNonce: nonce, count: slice, target: 0n }).tried;
    nonce += slice;
    elapsed = performance.now() - t0;
  } while (elapsed < options.ms);
  return { hashes, wallMs: elapsed };
}

function runWorker(scope: {
  postMessage(message: FromKernelWorker): void;
  onmessage: ((event: MessageEvent<ToKernelWorker>) => void) | null;
}): void {
  let kernel: VblakeKernel | undefined;
  let header: Uint8Array = new Uint8Array(64);
  scope.onmessage = (event) => {
    const message = event.data;
    try {
      if (message.type === "init") {
        kernel = createKernel(message.kernel);
        header = message.header;
        hashFor(kernel, header, { ms: message.warmupMs, startNonce: 0 });
        scope.postMessage({ type: "ready", kernel: kernel.name });
      } else if (message.type === "run" && kernel !== undefined) {
        const { hashes, wallMs } = hashFor(kernel, header, message);
        scope.postMessage({ type: "done", hashes, wallMs });
      }
    } catch (error) {
      scope.postMessage({
        type: "error",
        message: error instanceof Error ? error.message : String(error),
      });
    }
  };
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope.name === WORKER_NAME) {
  runWorker(scope);
}
