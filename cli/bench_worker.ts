/**
 * The benchmark's worker thread. The module spawns itself (`new Worker(import.meta.url)`), so the
 * same code works from source, from the bundle and from a compiled binary.
 *
 * @module
 */
import { createReferenceKernel, createWasmKernel, type VblakeKernel } from "../hash/mod.ts";

const WORKER_NAME = "vbkpool-bench";

/** A request to hash for a while. */
export interface BenchRequest {
  /** Kernel to use. */
  kernel: "wasm" | "ts";
  /** How long to hash, in milliseconds. */
  ms: number;
  /** First nonce, so threads do not overlap. */
  startNonce: number;
}

/** What a worker reports back. */
export interface BenchReply {
  /** Hashes tried. */
  hashes: number;
  /** Elapsed milliseconds. */
  ms: number;
}

function makeKernel(name: BenchRequest["kernel"]): VblakeKernel {
  return name === "wasm" ? createWasmKernel() : createReferenceKernel();
}

/**
 * Hash a fixed header with one kernel for a while (the work a worker does).
 *
 * @param request Kernel, duration and first nonce.
 * @returns Hashes tried and time taken.
 */
export function hashFor(request: BenchRequest): BenchReply {
  const kernel = makeKernel(request.kernel);
  const header = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  const chunk = request.kernel === "wasm" ? 200_000 : 10_000;
  const start = performance.now();
  let hashes = 0;
  let nonce = request.startNonce >>> 0;
  while (performance.now() - start < request.ms) {
    const r = kernel.scan(header, { startNonce: nonce, count: chunk, target: 1n });
    hashes += r.tried;
    nonce = (nonce + chunk) >>> 0;
    if (nonce > 0xffffffff - chunk) nonce = 0;
  }
  return { hashes, ms: performance.now() - start };
}

/**
 * Start a benchmark worker thread.
 *
 * @returns The worker; post a {@linkcode BenchRequest}, receive a {@linkcode BenchReply}.
 */
export function spawnBenchWorker(): Worker {
  return new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope.name === WORKER_NAME) {
  scope.onmessage = (event: MessageEvent<BenchRequest>) => {
    scope.postMessage(hashFor(event.data));
  };
}
