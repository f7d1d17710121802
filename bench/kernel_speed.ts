/**
 * `deno task bench:kernel`: vBlake hash rate of every kernel (WebAssembly SIMD, scalar
 * WebAssembly, TypeScript reference), per thread and over 1..N threads, against this
 * project's plain C vBlake (`bench/c/`) built with the local C compiler and measured in the
 * same run, interleaved with the kernels so that noise from other processes hits both.
 *
 * Every figure is the median of `--runs` runs of `--seconds` each. Per-thread rates are given
 * two ways: by wall clock, and per CPU-second of the process (the hashing thread plus an idle
 * main thread), which is steadier on a shared machine; the kernel/C ratios use the latter.
 * Each worker warms up before timing, so the WebAssembly tier-up is not measured.
 *
 * ```sh
 * deno task bench:kernel                                 # 5 runs × 2 s, threads 1..cores
 * deno run -A bench/kernel_speed.ts --runs 3 --seconds 1 --threads 2 --cflags "-O3"
 * deno run -A bench/kernel_speed.ts --kernels wasm-simd,wasm --no-c --json /tmp/k.json
 * ```
 *
 * Writes the table to stdout and the data to `--json` (default `bench/results/kernel.json`).
 *
 * @module
 */
import process from "node:process";
import { hexToBytes } from "../hash/hex.ts";
import { createKernel, KERNEL_NAMES, type KernelName } from "../hash/kernel.ts";
import { buildC, C_VARIANTS, type CBinary, type CVariant, findCompiler, runC } from "./kernel_c.ts";
import { type FromKernelWorker, spawnKernelWorker } from "./kernel_worker.ts";

/** Mainnet header #5000 (spec §5.2 #5); only the nonce bytes vary. */
const HEADER = hexToBytes(
  "00001388000294E7DC3E3BE21A96ECCF0FBDF5F62A3331DC995C36B0935637860679DDD5DB0F135312B2C27867C9A83EF1B99B985C9B949307023AD672BAFD77",
);

/** Benchmark settings (command-line flags). */
interface KernelBenchOptions {
  seconds: number;
  runs: number;
  maxThreads: number;
  kernels: KernelName[];
  c: boolean;
  cflags: string[];
  warmupMs: number;
  json: string;
}

/** Parse the command line; throws RangeError on an unknown flag or a bad value. */
function parseArgs(args: readonly string[]): KernelBenchOptions {
  const options: KernelBenchOptions = {
    seconds: 2,
    runs: 5,
    maxThreads: navigator.hardwareConcurrency || 1,
    kernels: [...KERNEL_NAMES],
    c: true,
    cflags: ["-O3", "-march=native"],
    warmupMs: 600,
    json: new URL("./results/kernel.json", import.meta.url).pathname,
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new RangeError(`Cannot parse arguments: ${flag} needs a value`);
      return v;
    };
    const positive = (text: string): number => {
      const n = Number(text);
      if (!(n > 0) || !Number.isFinite(n)) {
        throw new RangeError(`Cannot parse arguments: ${flag} ${text} is not a positive number`);
      }
      return n;
    };
    if (flag === "--seconds") options.seconds = positive(value());
    else if (flag === "--runs") options.runs = Math.ceil(positive(value()));
    else if (flag === "--threads") options.maxThreads = Math.ceil(positive(value()));
    else if (flag === "--warmup-ms") options.warmupMs = positive(value());
    else if (flag === "--json") options.json = value();
    else if (flag === "--no-c") options.c = false;
    else if (flag === "--cflags") options.cflags = value().split(/\s+/).filter((f) => f !== "");
    else if (flag === "--kernels") {
      const names = value().split(",");
      for (const name of names) {
        if (!KERNEL_NAMES.includes(name as KernelName)) {
          throw new RangeError(`Cannot parse arguments: unknown kernel ${name}`);
        }
      }
      options.kernels = names as KernelName[];
    } else throw new RangeError(`Cannot parse arguments: unknown flag ${flag}`);
  }
  return options;
}

/** Median of a non-empty list (mean of the middle two for even lengths). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function request(worker: Worker, message: unknown): Promise<FromKernelWorker> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<FromKernelWorker>) => {
      if (e.data.type === "error") reject(new Error(e.data.message));
      else resolve(e.data);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
    worker.postMessage(message);
  });
}

/** A group of warmed-up workers running one kernel. */
class WorkerGroup {
  #workers: Worker[];

  private constructor(workers: Worker[]) {
    this.#workers = workers;
  }

  static async start(kernel: KernelName, threads: number, warmupMs: number): Promise<WorkerGroup> {
    const group = new WorkerGroup(Array.from({ length: threads }, spawnKernelWorker));
    try {
      await Promise.all(
        group.#workers.map((w) => request(w, { type: "init", kernel, header: HEADER, warmupMs })),
      );
    } catch (error) {
      group.stop();
      throw error;
    }
    return group;
  }

  /** Hash on every thread for `ms`; returns total hashes, wall time and process CPU time. */
  async run(ms: number, run: number): Promise<{ hashes: number; wallMs: number; cpuMs: number }> {
    const cpu0 = cpuMs(), t0 = performance.now();
    const replies = await Promise.all(
      this.#workers.map((w, i) =>
        request(w, { type: "run", ms, startNonce: (i * 0x20000000 + run * 0x01000000) >>> 0 })
      ),
    );
    const wallMs = performance.now() - t0, cpu = cpuMs() - cpu0;
    let hashes = 0;
    for (const r of replies) if (r.type === "done") hashes += r.hashes;
    return { hashes, wallMs, cpuMs: cpu };
  }

  stop(): void {
    for (const w of this.#workers) w.terminate();
  }
}

/** Per-run rates of one implementation, in MH/s. */
interface Series {
  wall: number[];
  cpu: number[];
}

function addRun(series: Series, r: { hashes: number; wallMs: number; cpuMs: number }): void {
  series.wall.push(r.hashes / r.wallMs / 1000);
  series.cpu.push(r.hashes / r.cpuMs / 1000);
}

function machine(): Record<string, unknown> {
  let model = "unknown";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  return {
    cpu: model,
    logicalCpus: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

const fmt = (x: number | undefined, digits = 2): string =>
  x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits);

function loadAverage(): number[] | undefined {
  try {
    return Deno.loadavg().map((x) => Math.round(x * 100) / 100);
  } catch {
    return undefined;
  }
}

async function main(args: string[]): Promise<number> {
  const options = parseArgs(args);
  const loadBefore = loadAverage();
  const ms = options.seconds * 1000;
  const notes: string[] = [];
  const kernels: KernelName[] = [];
  for (const name of options.kernels) {
    try {
      createKernel(name);
      kernels.push(name);
    } catch (error) {
      notes.push(`${name} not available: ${error instanceof Error ? error.message : error}`);
    }
  }

  // The C builds, checked against the reference.
  const binaries: CBinary[] = [];
  let compiler: { cc: string; version: string } | undefined;
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-kernel-c-" });
  try {
    if (options.c) {
      compiler = await findCompiler();
      if (compiler === undefined) notes.push("no C compiler found: C comparison skipped");
      for (const variant of compiler ? C_VARIANTS : []) {
        try {
          binaries.push(
            await buildC(compiler!.cc, {
              variant,
              flags: options.cflags,
              dir,
              header: HEADER,
            }),
          );
        } catch (error) {
          notes.push(error instanceof Error ? error.message : String(error));
        }
      }
    }

    // Per thread: one warmed-up worker per kernel; every run measures all of them and the
    // C builds, interleaved.
    console.log(
      `kernel bench: ${options.runs} runs × ${options.seconds} s, kernels ${kernels.join(", ")}` +
        (binaries.length ? `, C: ${binaries.map((b) => b.command).join(" | ")}` : ""),
    );
    const perThread = new Map<string, Series>();
    const groups = new Map<KernelName, WorkerGroup>();
    for (const name of kernels) {
      groups.set(name, await WorkerGroup.start(name, 1, options.warmupMs));
      perThread.set(name, { wall: [], cpu: [] });
    }
    for (const b of binaries) perThread.set(b.variant, { wall: [], cpu: [] });
    try {
      const order: (KernelName | CBinary)[] = [];
      for (let i = 0; i < Math.max(kernels.length, binaries.length); i++) {
        if (kernels[i]) order.push(kernels[i]!);
        if (binaries[i]) order.push(binaries[i]!);
      }
      for (let run = 0; run < options.runs; run++) {
        for (const item of order) {
          if (typeof item === "string") {
            addRun(perThread.get(item)!, await groups.get(item)!.run(ms, run));
          } else {
            const r = await runC(item, { header: HEADER, ms, startNonce: run * 0x01000000 });
            addRun(perThread.get(item.variant)!, r);
          }
        }
        const line = [...perThread].map(([n, s]) => `${n} ${fmt(s.cpu.at(-1))}`).join(", ");
        console.log(`  run ${run + 1}: MH/s per CPU-s: ${line}`);
      }
    } finally {
      for (const g of groups.values()) g.stop();
    }

    // Scaling: 1..N threads per kernel: total by wall clock, and per CPU-second.
    const scaling = new Map<KernelName, Map<number, Series>>();
    for (const name of kernels) {
      const byThreads = new Map<number, Series>();
      scaling.set(name, byThreads);
      for (let threads = 1; threads <= options.maxThreads; threads++) {
        const group = await WorkerGroup.start(name, threads, options.warmupMs);
        try {
          const rates: Series = { wall: [], cpu: [] };
          for (let run = 0; run < options.runs; run++) addRun(rates, await group.run(ms, run));
          byThreads.set(threads, rates);
          console.log(
            `  scaling ${name} × ${threads}: ${fmt(median(rates.wall))} MH/s total, ` +
              `${fmt(median(rates.cpu))} MH/s per CPU-s`,
          );
        } finally {
          group.stop();
        }
      }
    }

    // Report.
    const med = (name: string, key: keyof Series): number | undefined => {
      const s = perThread.get(name);
      return s && s[key].length ? median(s[key]) : undefined;
    };
    const ratio = (a: string, b: string, key: keyof Series = "cpu") => {
      const x = med(a, key), y = med(b, key);
      return x !== undefined && y !== undefined ? x / y : undefined;
    };
    const cNames: CVariant[] = binaries.map((b) => b.variant);
    const rows = [...perThread.keys()];
    const header = [
      "kernel",
      "MH/s wall",
      "MH/s per CPU-s",
      "× wasm",
      ...cNames.map((c) => `× ${c}`),
    ];
    const table = rows.map((name) => [
      name,
      fmt(med(name, "wall")),
      fmt(med(name, "cpu")),
      fmt(ratio(name, "wasm")),
      ...cNames.map((c) => fmt(ratio(name, c))),
    ]);
    const threadCounts = Array.from({ length: options.maxThreads }, (_, i) => i + 1);
    const scaleHeader = [
      "kernel",
      ...threadCounts.map((t) => `${t} thr MH/s`),
      "speed-up",
      ...threadCounts.map((t) => `${t} thr per CPU-s`),
    ];
    const scaleTable = kernels.map((name) => {
      const wall = threadCounts.map((t) => median(scaling.get(name)!.get(t)!.wall));
      const cpu = threadCounts.map((t) => median(scaling.get(name)!.get(t)!.cpu));
      return [
        name,
        ...wall.map((x) => fmt(x)),
        fmt(wall.at(-1)! / wall[0]!),
        ...cpu.map((x) => fmt(x)),
      ];
    });
    const render = (head: string[], body: string[][]): string => {
      const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
      const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
      return [line(head), ...body.map(line)].join("\n");
    };
    console.log(
      `\nPer thread (median of ${options.runs} runs × ${options.seconds} s; ratios per CPU-s)`,
    );
    console.log(render(header, table));
    console.log(
      `\nScaling (median of ${options.runs} runs × ${options.seconds} s; MH/s: all threads, wall clock)`,
    );
    console.log(render(scaleHeader, scaleTable));
    const loadAfter = loadAverage();
    console.log(
      `\nload average (1, 5, 15 min): before ${loadBefore?.join(", ")}, after ${
        loadAfter?.join(", ")
      }`,
    );
    for (const note of notes) console.log(`note: ${note}`);

    const report = {
      date: new Date().toISOString(),
      command: `deno run -A bench/kernel_speed.ts ${args.join(" ")}`.trim(),
      machine: machine(),
      loadAverage: { before: loadBefore, after: loadAfter },
      settings: { ...options, json: undefined },
      compiler: compiler ? { ...compiler, builds: binaries.map((b) => b.command) } : undefined,
      perThread: Object.fromEntries(
        rows.map((name) => [name, {
          mhsWall: perThread.get(name)!.wall,
          mhsCpu: perThread.get(name)!.cpu,
          medianWall: med(name, "wall"),
          medianCpu: med(name, "cpu"),
        }]),
      ),
      ratios: Object.fromEntries(
        rows.map((name) => [name, {
          wasm: ratio(name, "wasm"),
          ...Object.fromEntries(cNames.map((c) => [c, ratio(name, c)])),
          wallWasm: ratio(name, "wasm", "wall"),
          ...Object.fromEntries(cNames.map((c) => [`wall_${c}`, ratio(name, c, "wall")])),
        }]),
      ),
      scaling: Object.fromEntries(
        kernels.map((name) => [
          name,
          Object.fromEntries(
            threadCounts.map((t) => {
              const series = scaling.get(name)!.get(t)!;
              return [t, {
                mhsWall: series.wall,
                mhsCpu: series.cpu,
                medianWall: median(series.wall),
                medianCpu: median(series.cpu),
              }];
            }),
          ),
        ]),
      ),
      notes,
    };
    const jsonUrl = options.json;
    await Deno.mkdir(jsonUrl.replace(/\/[^/]*$/, "") || ".", { recursive: true });
    await Deno.writeTextFile(jsonUrl, JSON.stringify(report, null, 2) + "\n");
    console.log(`\nwrote ${jsonUrl}`);
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
