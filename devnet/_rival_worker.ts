/**
 * The rival miner's thread: a Web Worker that grinds rival blocks with the best vBlake kernel
 * (`createBestKernel()`), so the rival gets a core of its own and the devnet's event loop keeps
 * serving UCP while it mines.
 *
 * A search can be paced to a hash rate: the thread scans slices of about 50 ms and then waits
 * until the nonces tried so far "should" have taken that long at the paced rate, and a block
 * found at the n-th nonce is reported n / rate seconds after the search began. Finds therefore
 * arrive as a Poisson process of rate (paced hash rate) / difficulty, exactly like a miner of
 * that hash rate, while every block is real proof of work. An unpaced search runs flat out.
 *
 * The module spawns itself (`new Worker(import.meta.url)`) and installs its message handler only
 * inside a worker with its own name, so the same code works from source, from the `deno bundle`
 * output (the whole bundle is the worker script) and from a compiled binary.
 *
 * @module
 */
import { createBestKernel } from "../hash/kernel.ts";

const WORKER_NAME = "vbkpool-rival";
/** Wall time of one scan slice when running flat out, ms. */
const SLICE_MS = 50;
/** How often the thread reports its flat-out hash rate, ms. */
const SPEED_REPORT_MS = 2000;
/** Longest single wait while pacing (a new message wakes it earlier anyway), ms. */
const MAX_WAIT_MS = 1000;

type ToRivalWorker =
  | { type: "grind"; id: number; header: Uint8Array; target: bigint; hashRate: number }
  | { type: "pace"; id: number; hashRate: number }
  | { type: "idle" };

type FromRivalWorker =
  | { type: "ready"; kernel: string }
  | { type: "found"; id: number; header: Uint8Array }
  | { type: "speed"; hashesPerSecond: number }
  | { type: "error"; message: string };

/** Options for {@linkcode RivalThread.grind}. */
export interface RivalGrindOptions {
  /** The network target the hash must be below. */
  target: bigint;
  /** Hashes per second to pace the search to (`Infinity`: flat out). @default Infinity */
  hashRate?: number;
}

interface Pending {
  id: number;
  resolve: (header: Uint8Array | undefined) => void;
  reject: (reason: Error) => void;
}

/**
 * The main thread's handle on the rival's grinding thread. One search runs at a time: a new
 * {@linkcode RivalThread.grind} replaces the one in progress, whose promise then resolves
 * `undefined`.
 *
 * @example Usage
 * ```ts
 * import { RivalThread } from "./_rival_worker.ts";
 * import { createBestKernel } from "../hash/kernel.ts";
 * import { hashToBigInt } from "../hash/difficulty.ts";
 * import assert from "node:assert/strict";
 *
 * const thread = new RivalThread();
 * const target = 1n << 180n; // 1 in 4096 hashes
 * const header = await thread.grind(new Uint8Array(64), { target });
 * assert.ok(header !== undefined);
 * assert.ok(hashToBigInt(createBestKernel().hash(header)) < target);
 * thread.close();
 * ```
 */
export class RivalThread {
  #worker: Worker;
  #nextId = 1;
  #pending: Pending | undefined;
  #hashesPerSecond: number | undefined;
  #kernel: string | undefined;
  #failure: Error | undefined;
  #closed = false;

  /** Spawn the thread (it loads its kernel in the background). */
  constructor() {
    this.#worker = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
    this.#worker.onmessage = (event: MessageEvent<FromRivalWorker>) => this.#receive(event.data);
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`Cannot grind rival blocks: the thread failed: ${event.message}`));
    };
  }

  /** The thread's flat-out speed in hashes per second, once it has measured it. */
  get hashesPerSecond(): number | undefined {
    return this.#hashesPerSecond;
  }

  /** The kernel the thread uses ("wasm-simd", "wasm" or "ts"), once it is ready. */
  get kernel(): string | undefined {
    return this.#kernel;
  }

  /**
   * Search for a nonce (rolling the timestamp when the 2^32 nonces run out) that puts the
   * header's hash below the target. Replaces any search in progress.
   *
   * @param header 64 header bytes (copied; the caller's array is not modified).
   * @param options Target and pacing.
   * @returns The solved header, or `undefined` when replaced, cancelled or closed.
   * @throws {Error} When the thread failed.
   */
  grind(header: Uint8Array, options: RivalGrindOptions): Promise<Uint8Array | undefined> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#settle(undefined);
    if (this.#closed) return Promise.resolve(undefined);
    const id = this.#nextId++;
    const promise = new Promise<Uint8Array | undefined>((resolve, reject) => {
      this.#pending = { id, resolve, reject };
    });
    this.#post({
      type: "grind",
      id,
      header: header.slice(),
      target: options.target,
      hashRate: options.hashRate ?? Infinity,
    });
    return promise;
  }

  /**
   * Change the pace of the search in progress (no-op when there is none).
   *
   * @param hashRate Hashes per second (`Infinity`: flat out).
   */
  pace(hashRate: number): void {
    if (this.#pending !== undefined) {
      this.#post({ type: "pace", id: this.#pending.id, hashRate });
    }
  }

  /** Abandon the search in progress (its promise resolves `undefined`). */
  cancel(): void {
    if (this.#pending === undefined) return;
    this.#settle(undefined);
    this.#post({ type: "idle" });
  }

  /** Stop the thread; a search in progress resolves `undefined`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#settle(undefined);
    this.#worker.terminate();
  }

  #post(message: ToRivalWorker): void {
    if (!this.#closed) this.#worker.postMessage(message);
  }

  #settle(header: Uint8Array | undefined): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.resolve(header);
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    const p = this.#pending;
    this.#pending = undefined;
    p?.reject(err);
    if (!this.#closed) {
      this.#closed = true;
      this.#worker.terminate();
    }
  }

  #receive(message: FromRivalWorker): void {
    switch (message.type) {
      case "ready":
        this.#kernel = message.kernel;
        break;
      case "speed":
        this.#hashesPerSecond = message.hashesPerSecond;
        break;
      case "found":
        if (this.#pending?.id === message.id) this.#settle(message.header);
        break;
      case "error":
        this.#fail(new Error(`Cannot grind rival blocks: ${message.message}`));
        break;
    }
  }
}

/** A usable pace: a positive number or Infinity (anything else becomes 1 H/s). */
function positive(hashRate: number): number {
  return hashRate > 0 ? hashRate : 1;
}

interface Job {
  id: number;
  header: Uint8Array;
  view: DataView;
  target: bigint;
  hashRate: number;
  nonce: number;
  /** When the paced clock started (performance.now()). */
  clockStart: number;
  /** Nonces tried since the clock started. */
  tried: number;
}

function runWorker(scope: {
  postMessage(message: FromRivalWorker): void;
  onmessage: ((event: MessageEvent<ToRivalWorker>) => void) | null;
}): void {
  const kernel = createBestKernel();
  let job: Job | undefined;
  let running = false;
  let wake: (() => void) | undefined;
  let chunk = 20_000;
  let scanMs = 0;
  let scanned = 0;
  let lastReport = performance.now();

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  function report(): void {
    const now = performance.now();
    if (now - lastReport < SPEED_REPORT_MS || scanMs < 100) return;
    scope.postMessage({ type: "speed", hashesPerSecond: scanned / scanMs * 1000 });
    lastReport = now;
    scanMs = 0;
    scanned = 0;
  }

  /** Scan one slice; returns the solved header or undefined. */
  function slice(j: Job): Uint8Array | undefined {
    const count = Math.min(chunk, 2 ** 32 - j.nonce);
    const started = performance.now();
    const result = kernel.scan(j.header, {
      startNonce: j.nonce,
      count,
      target: j.target,
      maxResults: 1,
    });
    const ms = performance.now() - started;
    scanMs += ms;
    scanned += result.tried;
    j.tried += result.tried;
    if (result.tried === count && ms > 0) {
      chunk = Math.max(1000, Math.min(4_000_000, Math.round(chunk * SLICE_MS / ms)));
    }
    const nonce = result.nonces[0];
    if (nonce !== undefined) {
      const solved = j.header.slice();
      new DataView(solved.buffer).setUint32(60, nonce);
      return solved;
    }
    j.nonce += count;
    if (j.nonce >= 2 ** 32) {
      j.view.setUint32(52, j.view.getUint32(52) + 1);
      j.nonce = 0;
    }
    return undefined;
  }

  async function loop(): Promise<void> {
    while (job !== undefined) {
      const j = job;
      const solved = slice(j);
      report();
      // Pace: the nonces tried so far take tried / hashRate seconds at the paced rate.
      for (;;) {
        const wait = j.clockStart + j.tried / j.hashRate * 1000 - performance.now();
        await sleep(Math.max(0, Math.min(wait, MAX_WAIT_MS)));
        if (job !== j || wait <= MAX_WAIT_MS) break;
      }
      if (job !== j || solved === undefined) continue;
      job = undefined;
      scope.postMessage({ type: "found", id: j.id, header: solved });
    }
  }

  scope.onmessage = (event) => {
    const message = event.data;
    if (message.type === "grind") {
      const header = message.header;
      job = {
        id: message.id,
        header,
        view: new DataView(header.buffer, header.byteOffset, header.byteLength),
        target: message.target,
        hashRate: positive(message.hashRate),
        nonce: Math.floor(Math.random() * 2 ** 31),
        clockStart: performance.now(),
        tried: 0,
      };
    } else if (message.type === "pace") {
      if (job?.id === message.id) {
        // Nonces tried but not yet "paid for" at the old rate carry over to the new one.
        const now = performance.now();
        const paid = Number.isFinite(job.hashRate)
          ? (now - job.clockStart) / 1000 * job.hashRate
          : job.tried;
        job.tried = Math.max(0, job.tried - paid);
        job.hashRate = positive(message.hashRate);
        job.clockStart = now;
      }
    } else {
      job = undefined;
    }
    wake?.();
    if (!running && job !== undefined) {
      running = true;
      loop().then(
        () => running = false,
        (err) => {
          running = false;
          job = undefined;
          scope.postMessage({ type: "error", message: String(err?.message ?? err) });
        },
      );
    }
  };
  scope.postMessage({ type: "ready", kernel: kernel.name });
}

// deno-lint-ignore no-explicit-any
const scope = globalThis as any;
if (typeof scope.WorkerGlobalScope !== "undefined" && scope.name === WORKER_NAME) {
  runWorker(scope);
}
