/**
 * `vbkpool bench`: hash rate of each mining kernel, per thread and in total, over 1..N threads.
 * It runs the miner's own threads and scanning loop on a synthetic job whose target no hash
 * meets, so the numbers are what `vbkpool mine` can reach minus the network.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import {
  BENCH_JOB,
  buildThreadWork,
  MiningThreads,
  runVerifyWorkload,
  type ThreadWork,
  VERIFY_NONCES,
  type VerifyResult,
  type VerifyScanner,
} from "../miner/mod.ts";
import { createCheckedGpuKernel } from "../miner/gpu/mod.ts";
import { createKernel, type KernelName } from "../hash/mod.ts";

const KERNELS = ["wasm-simd", "wasm", "ts"] as const;

function benchWork(thread: number, generation: number, threads: number): ThreadWork {
  return buildThreadWork(BENCH_JOB, {
    generation,
    sessionId: 0,
    extranonce: 0n,
    thread,
    threads,
    target: 0n, // unreachable: nothing is reported, every hash is counted
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One measured row. */
export interface BenchRow {
  /** Kernel name. */
  kernel: string;
  /** Threads used at once. */
  threads: number;
  /** Total hashes per second. */
  total: number;
  /** Per-thread hashes per second (mean). */
  perThread: number;
  /** The GPU adapter, for the "webgpu" row. */
  device?: string;
}

function parseThreads(text: string | undefined): number[] {
  const cores = navigator.hardwareConcurrency || 1;
  if (text === undefined) return cores > 1 ? [1, cores] : [1];
  const range = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  if (range) {
    const a = Number(range[1]), b = Number(range[2]);
    if (a < 1 || b < a || b > 256) throw new UsageError(`--threads range ${text} is not valid`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 256) {
    throw new UsageError(`--threads expects N or A..B (1..256), got ${JSON.stringify(text)}`);
  }
  const n = Number(text);
  return n === 1 ? [1] : [1, n];
}

async function measure(kernel: typeof KERNELS[number], threads: number, ms: number) {
  const pool = await MiningThreads.start({ threads, kernel });
  try {
    pool.setWork((thread, generation) => benchWork(thread, generation, threads));
    // Warm up: the WebAssembly tier-up and the slice-size adaptation happen here.
    await sleep(Math.min(1000, Math.max(100, ms / 2)));
    const before = pool.hashes();
    const t0 = performance.now();
    await sleep(ms);
    const after = pool.hashes();
    const seconds = (performance.now() - t0) / 1000;
    const rates = after.map((h, i) => (h - before[i]!) / seconds);
    const total = rates.reduce((a, b) => a + b, 0);
    return { kernel, threads, total, perThread: total / threads };
  } finally {
    pool.terminate();
  }
}

/** The GPU row: the miner's GPU slot alone, or the reason there is none. */
async function measureGpu(ms: number, batch: number): Promise<BenchRow | string> {
  let kernel;
  try {
    kernel = await createCheckedGpuKernel();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const adapter = kernel.adapter;
  const pool = await MiningThreads.start({
    threads: 0,
    gpu: { batch, createKernel: () => Promise.resolve(kernel) },
  });
  try {
    pool.setWork((thread, generation) => benchWork(thread, generation, 1));
    // Warm up: shader compilation on first use and the batch tuning happen here.
    await sleep(Math.min(2000, Math.max(500, ms / 2)));
    const before = pool.hashes()[0]!;
    const t0 = performance.now();
    await sleep(ms);
    const total = (pool.hashes()[0]! - before) / ((performance.now() - t0) / 1000);
    return { kernel: "webgpu", threads: 1, total, perThread: total, device: adapter };
  } finally {
    await pool.terminate();
  }
}

function formatRate(hs: number): string {
  if (hs >= 1e6) return `${(hs / 1e6).toFixed(2)} MH/s`;
  if (hs >= 1e3) return `${(hs / 1e3).toFixed(1)} kH/s`;
  return `${hs.toFixed(0)} H/s`;
}

/**
 * Format rows as a table.
 *
 * @param rows Measured rows.
 * @returns Table text.
 */
export function formatBenchTable(rows: readonly BenchRow[]): string {
  const lines = ["kernel     threads  total         per thread    scaling"];
  for (const r of rows) {
    const one = rows.find((o) => o.kernel === r.kernel && o.threads === 1);
    const scaling = one ? `${(r.total / one.total).toFixed(2)}x` : "";
    lines.push(
      `${r.kernel.padEnd(9)}  ${String(r.threads).padStart(7)}  ${
        formatRate(r.total).padEnd(12)
      }  ${formatRate(r.perThread).padEnd(12)}  ${scaling}`,
    );
  }
  return lines.join("\n");
}

/**
 * Format verify results as a table, with the verdict.
 *
 * @param results One row per kernel.
 * @returns Table text.
 */
export function formatVerifyTable(results: readonly VerifyResult[]): string {
  const lines = [
    `${"kernel".padEnd(9)}  ${"nonces".padStart(10)}  ${"found".padStart(5)}  ` +
    `${"checksum (SHA-256 of the found nonces)".padEnd(64)}  rate`,
  ];
  for (const r of results) {
    lines.push(
      `${r.kernel.padEnd(9)}  ${String(r.nonces).padStart(10)}  ${String(r.found).padStart(5)}  ` +
        `${r.checksum}  ${formatRate(r.rate)}`,
    );
  }
  const sums = new Set(results.map((r) => r.checksum));
  if (sums.size === 1) {
    const agree = results.length > 1 ? `: all ${results.length} kernels agree` : "";
    lines.push(`checksum ${results[0]!.checksum}${agree}`);
  } else if (sums.size > 1) {
    lines.push("MISMATCH: the kernels disagree; a kernel computes wrong hashes");
  }
  return lines.join("\n");
}

async function runVerify(ctx: CommandContext, only: string | undefined): Promise<number> {
  const nonces = (ctx.args.options.nonces as number | undefined) ?? VERIFY_NONCES;
  if (!Number.isInteger(nonces) || nonces < 1 || nonces > 2 ** 32) {
    throw new UsageError("--nonces must be in 1..4294967296");
  }
  console.log(
    `verify: nonces 0..${nonces - 1} of the fixed header (VeriBlock block 5000), ` +
      "hashes below 2^184 (first byte zero) counted, one thread per kernel",
  );
  const signal = ctx.stopSignal;
  const results: VerifyResult[] = [];
  const kernels = only === undefined ? KERNELS : KERNELS.filter((k) => k === only);
  for (const name of kernels) {
    if (signal.aborted) return 130;
    results.push(await runVerifyWorkload(createKernel(name as KernelName), { nonces, signal }));
  }
  let gpuNote: string | undefined;
  if (ctx.args.options.gpu && !signal.aborted) {
    let gpu;
    try {
      gpu = await createCheckedGpuKernel();
    } catch (error) {
      gpuNote = `webgpu: not run: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (gpu !== undefined) {
      try {
        results.push(await runVerifyWorkload(gpu as VerifyScanner, { nonces, signal }));
        gpuNote = `webgpu: ${gpu.adapter}`;
      } finally {
        gpu.destroy();
      }
    }
  }
  console.log(formatVerifyTable(results));
  if (gpuNote !== undefined) console.log(gpuNote);
  if (ctx.args.options.json) console.log(JSON.stringify({ verify: results }));
  return new Set(results.map((r) => r.checksum)).size > 1 ? 1 : 0;
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.args.positionals.length > 0) throw new UsageError("bench takes no arguments");
  const seconds = (ctx.args.options.seconds as number | undefined) ?? 3;
  if (!(seconds > 0 && seconds <= 3600)) throw new UsageError("--seconds must be in (0, 3600]");
  const threads = parseThreads(ctx.args.options.threads as string | undefined);
  const only = ctx.args.options.kernel as string | undefined;
  if (only !== undefined && !(KERNELS as readonly string[]).includes(only)) {
    throw new UsageError(`--kernel must be one of ${KERNELS.join(", ")}`);
  }
  if (ctx.args.options.verify) return await runVerify(ctx, only);
  const gpuBatch = (ctx.args.options["gpu-batch"] as number | undefined) ?? 0;
  if (!Number.isInteger(gpuBatch) || gpuBatch < 0 || gpuBatch > 2 ** 31) {
    throw new UsageError("--gpu-batch must be in 0..2147483648");
  }
  const rows: BenchRow[] = [];
  for (const kernel of KERNELS) {
    if (only !== undefined && kernel !== only) continue;
    for (const t of threads) {
      if (ctx.stopSignal.aborted) break;
      rows.push(await measure(kernel, t, seconds * 1000));
    }
  }
  let gpuNote: string | undefined;
  if (ctx.args.options.gpu && !ctx.stopSignal.aborted) {
    const gpu = await measureGpu(seconds * 1000, gpuBatch);
    if (typeof gpu === "string") {
      gpuNote = `webgpu: not measured: ${gpu}`;
    } else {
      rows.push(gpu);
      gpuNote = `webgpu: ${gpu.device} (one GPU slot, as vbkpool mine --gpu runs it)`;
    }
  }
  console.log(formatBenchTable(rows));
  if (gpuNote !== undefined) console.log(gpuNote);
  if (ctx.args.options.json) console.log(JSON.stringify({ rows }));
  return 0;
}

/** The `bench` command. */
export const benchCommand: Command = {
  name: "bench",
  summary: "measure the hash rate of the mining kernels",
  usage: [
    "bench [--seconds S] [--threads N | --threads A..B] [--kernel wasm-simd|wasm|ts] [--gpu]",
    "bench --verify [--nonces N] [--kernel wasm-simd|wasm|ts] [--gpu]",
  ],
  description: [
    "Each kernel hashes for S seconds (after a short warm-up) on 1 thread and on N threads at",
    "once (or on every count from A to B), running the miner's own threads and scanning loop;",
    "the total and per-thread rates and the scaling over one thread are printed as a table.",
    "--gpu adds a webgpu row: the GPU kernel (self-tested first) in the miner's GPU slot.",
    "--verify hashes a fixed workload instead (nonces 0..N-1 of a fixed header; N = --nonces,",
    "default 1048576) with each kernel on one thread and prints the SHA-256 of the nonces",
    "whose hash has a zero first byte beside the rate: every correct kernel prints the same",
    "checksum (see README); a mismatch exits with status 1.",
  ],
  options: [
    { flag: "seconds", kind: "number", valueName: "S", doc: "seconds per measurement (3)" },
    { flag: "threads", kind: "string", valueName: "N|A..B", doc: "threads (default 1 and all)" },
    { flag: "kernel", kind: "string", valueName: "NAME", doc: "only this kernel" },
    { flag: "gpu", kind: "boolean", doc: "also measure the GPU (WebGPU)" },
    {
      flag: "gpu-batch",
      kind: "integer",
      valueName: "N",
      doc: "nonces per GPU dispatch (0: tune toward ~75 ms)",
    },
    { flag: "verify", kind: "boolean", doc: "hash the fixed workload, print its checksum" },
    {
      flag: "nonces",
      kind: "integer",
      valueName: "N",
      doc: "nonces of the --verify workload (1048576; e.g. 10485760)",
    },
    { flag: "json", kind: "boolean", doc: "also print the rows as JSON" },
  ],
  sections: [],
  run,
};
