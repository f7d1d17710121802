/**
 * `deno run -A bench/pool_memory.ts`: the pool's memory while miners work through many new
 * blocks (the vardiff step of `bench:pool --realistic`, without the timing). The pool runs with
 * `--inspect` on a loopback port; this process reads, every `--sample-every` blocks, the pool's
 * RSS (`/proc`) and its V8 heap (`Deno.memoryUsage()` evaluated over the inspector), and takes
 * heap snapshots (`HeapProfiler.takeHeapSnapshot`, after a forced GC) at the blocks listed in
 * `--snapshots`, written to `--snapshot-dir`. At the end it forces a GC and reads the memory
 * again, then lets the pool idle for `--idle-seconds` and reads once more. Compare two snapshots
 * with `bench/heap_snapshot_diff.ts`.
 *
 * ```sh
 * deno run -A bench/pool_memory.ts --miners 1000 --blocks 300 --round-gap-ms 300 \
 *   --snapshots 50,300 --snapshot-dir /tmp/snap
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startDevnet } from "../devnet/mod.ts";
import {
  cpuSeconds,
  fmt,
  freePort,
  Generator,
  lines,
  loadAverage,
  readProc,
  rssKiB,
  sleep,
} from "./_pool_common.ts";
import { poolConfig } from "./_pool_realistic.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    miners: { type: "string", default: "1000" },
    blocks: { type: "string", default: "200" },
    "round-gap-ms": { type: "string", default: "300" },
    "job-interval": { type: "string", default: "5" },
    "sample-every": { type: "string", default: "10" },
    snapshots: { type: "string", default: "" },
    "snapshot-dir": { type: "string", default: "/tmp/vbkpool-heap" },
    hashrate: { type: "string", default: "16" },
    "network-difficulty": { type: "string", default: "1000000" },
    "pool-flags": { type: "string", default: "" },
    "idle-seconds": { type: "string", default: "0" },
    json: { type: "string" },
    smaps: { type: "string" },
    "alloc-profile": { type: "string" },
    "alloc-minor": { type: "boolean", default: false },
    rate: { type: "string" },
    "malloc-trim": { type: "boolean", default: false },
    "count-gc": { type: "boolean", default: false },
    "gc-every": { type: "string" },
    seconds: { type: "string", default: "120" },
  },
});
const miners = Number(values.miners);
const blocks = Number(values.blocks);
const gapMs = Number(values["round-gap-ms"]);
const jobInterval = Number(values["job-interval"]);
const sampleEvery = Number(values["sample-every"]);
const snapshotsAt = new Set(
  values.snapshots!.split(",").filter((s) => s !== "").map(Number),
);
const snapshotDir = values["snapshot-dir"]!;
const hashrate = Number(values.hashrate);
const poolFlags = values["pool-flags"]!.split(/\s+/).filter((f) => f !== "");

/** The pool's V8 inspector: one websocket, requests by id. */
class Inspector {
  #ws: WebSocket;
  #next = 1;
  #waiting = new Map<number, (v: Record<string, unknown>) => void>();
  #onEvent: ((method: string, params: Record<string, unknown>) => void) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data as string);
      if (typeof m.id === "number") {
        this.#waiting.get(m.id)?.(m);
        this.#waiting.delete(m.id);
      } else this.#onEvent?.(m.method, m.params);
    };
  }

  static async open(port: number): Promise<Inspector> {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    console.log(`inspector targets: ${list.map((t: { url: string }) => t.url).join(", ")}`);
    const url = list[0].webSocketDebuggerUrl as string;
    const ws = new WebSocket(url);
    await new Promise((r, j) => {
      ws.onopen = r;
      ws.onerror = j;
    });
    return new Inspector(ws);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const answer = new Promise<Record<string, unknown>>((r) => this.#waiting.set(id, r));
    this.#ws.send(JSON.stringify({ id, method, params }));
    return answer.then((m) => {
      if (m.error !== undefined) throw new Error(`${method}: ${JSON.stringify(m.error)}`);
      return m.result as Record<string, unknown>;
    });
  }

  async memory(): Promise<Record<string, number>> {
    const r = await this.call("Runtime.evaluate", {
      expression: `(async () => {
        const v8 = await import("node:v8");
        const m = Deno.memoryUsage();
        for (const s of v8.getHeapSpaceStatistics()) m[s.space_name] = s.space_size;
        return JSON.stringify(m);
      })()`,
      returnByValue: true,
      awaitPromise: true,
    });
    return JSON.parse((r.result as { value: string }).value);
  }

  async gc(): Promise<void> {
    await this.call("HeapProfiler.collectGarbage");
  }

  async snapshot(path: string): Promise<void> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    const enc = new TextEncoder();
    this.#onEvent = (method, params) => {
      if (method === "HeapProfiler.addHeapSnapshotChunk") {
        file.writeSync(enc.encode(params.chunk as string));
      }
    };
    await this.call("HeapProfiler.enable");
    await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    this.#onEvent = undefined;
    file.close();
  }

  close(): void {
    this.#ws.close();
  }
}

const dir = await Deno.makeTempDir({ prefix: "vbkpool-bench-mem-" });
await Deno.mkdir(snapshotDir, { recursive: true });
const devnet = await startDevnet({
  hostname: "127.0.0.1",
  port: 0,
  minDifficulty: BigInt(values["network-difficulty"]!),
  window: 1_000_000,
  mempoolIntervalMs: 0,
  rivalShare: 0,
});
const storeUrl = `${dir}/pool.sqlite`;
await Deno.writeTextFile(
  `${dir}/pool.toml`,
  poolConfig({
    devnetPort: devnet.addr.port,
    storeUrl,
    startDifficulty: Math.round(hashrate * 10),
    workers: 1,
  }),
);
const inspectPort = freePort();
// stdbuf -oL: V8 prints --trace-gc with C stdio, fully buffered into a pipe (stdbuf execs Deno,
// which keeps its pid).
const pool = new Deno.Command(values["count-gc"] ? "stdbuf" : Deno.execPath(), {
  args: [
    ...(values["count-gc"] ? ["-oL", Deno.execPath()] : []),
    "run",
    "-A",
    `--inspect=127.0.0.1:${inspectPort}`,
    ...poolFlags,
    `${ROOT}main.ts`,
    "server",
    "--config",
    `${dir}/pool.toml`,
  ],
  stdin: "null",
  stdout: values["count-gc"] ? "piped" : "null",
  stderr: "piped",
  // V8 prints --trace-gc to stdout, a line per collection (DENO_V8_FLAGS: --pool-flags may have
  // its own --v8-flags).
  env: values["count-gc"] ? { DENO_V8_FLAGS: "--trace-gc" } : {},
}).spawn();
/** Collections seen in --trace-gc's output: scavenges, full (mark-compact) ones. */
const gcs = { scavenge: 0, markCompact: 0 };
const gcLines = values["count-gc"]
  ? lines(pool.stdout, (line) => {
    if (/Scavenge|Minor Mark/.test(line)) gcs.scavenge++;
    else if (/Mark-Compact/.test(line)) gcs.markCompact++;
  })
  : Promise.resolve();
let portFound: (p: number) => void;
const portKnown = new Promise<number>((r) => portFound = r);
let stratumPort = 0;
const poolLines = lines(pool.stderr, (line) => {
  const m = /Stratum on "?127\.0\.0\.1"?:(\d+)/.exec(line);
  if (m !== null) stratumPort = Number(m[1]);
  if (/upstream ready/.test(line)) portFound(stratumPort);
  if (/ERROR|FATAL|WARN/i.test(line) && !/inspector|Debugger/i.test(line)) {
    console.error(`pool: ${line}`);
  }
});
const port = await portKnown;
const insp = await Inspector.open(inspectPort);
console.log(
  `pool pid ${pool.pid}, stratum ${port}, inspector ${inspectPort}; load ${loadAverage()}`,
);

interface Sample {
  block: number;
  seconds: number;
  rssMiB: number;
  /** Anonymous resident memory (heap, malloc), MiB: RSS less mapped files. */
  rssAnonMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** V8 space sizes (reserved, MiB): new, old, code, large objects. */
  spaces: Record<string, number>;
  note?: string;
}
const samples: Sample[] = [];
const t0 = performance.now();
async function sample(block: number, note?: string): Promise<Sample> {
  const m = await insp.memory();
  const s: Sample = {
    block,
    seconds: (performance.now() - t0) / 1000,
    rssMiB: rssKiB(pool.pid) / 1024,
    rssAnonMiB: Number(/^RssAnon:\s+(\d+)/m.exec(readProc(pool.pid, "status"))?.[1]) / 1024,
    heapUsedMiB: m.heapUsed! / 2 ** 20,
    heapTotalMiB: m.heapTotal! / 2 ** 20,
    externalMiB: m.external! / 2 ** 20,
    spaces: Object.fromEntries(
      Object.entries(m).filter(([k]) => k.endsWith("_space")).map(([k, v]) => [
        k.replace(/_space$/, ""),
        Math.round(v / 2 ** 20 * 10) / 10,
      ]),
    ),
    note,
  };
  samples.push(s);
  if (values.smaps !== undefined && note !== undefined) {
    await Deno.mkdir(values.smaps, { recursive: true });
    await Deno.writeTextFile(
      `${values.smaps}/${samples.length}-${note.replace(/\W+/g, "_")}.smaps`,
      readProc(pool.pid, "smaps"),
    );
  }
  console.log(
    `block ${String(block).padStart(4)} t=${fmt(s.seconds, 0).padStart(4)} s  RSS ${
      fmt(s.rssMiB).padStart(6)
    } (anon ${fmt(s.rssAnonMiB).padStart(6)})  heap used ${fmt(s.heapUsedMiB).padStart(6)} total ${
      fmt(s.heapTotalMiB).padStart(6)
    }  external ${
      fmt(s.externalMiB).padStart(6)
    } MiB; spaces new ${s.spaces.new} old ${s.spaces.old} lo ${s.spaces.large_object} code ${s.spaces.code}${
      note === undefined ? "" : `  (${note})`
    }`,
  );
  return s;
}

/** Stress instead of vardiff mining: `d=1` miners submitting `--rate` shares/s in all. */
const rate = values.rate === undefined ? undefined : Number(values.rate);
const spread = {
  workersPerAddress: 4,
  minersPerSource: 100,
  password: rate === undefined ? "x" : "d=1",
  hashrate: rate === undefined ? hashrate : 0,
};
const gen = new Generator([]);
await gen.call({ cmd: "connect", port, total: 1, spread });
await sleep(2000);
await sample(0, "1 miner");
const c = await gen.call({ cmd: "connect", port, total: miners, spread });
await sleep(3000);
await sample(0, `${c.connected} miners connected`);
let stressDone = false;
const stress = rate === undefined ? undefined : gen.call({
  cmd: "shares",
  rate,
  seconds: Number(values.seconds),
  warmupSeconds: 1,
  miners,
}).finally(() => stressDone = true);
if (stress === undefined) await gen.call({ cmd: "mine-start", warmupSeconds: 1 });
const mempoolTimer = setInterval(() => devnet.mempoolUpdate(), jobInterval * 1000);
if (values["alloc-profile"] !== undefined) {
  // Sampled allocations still alive or collected by a full GC (promoted garbage); with
  // --alloc-minor also those the scavenger collected (every allocation).
  await insp.call("HeapProfiler.enable");
  await insp.call("HeapProfiler.startSampling", {
    samplingInterval: 16384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: values["alloc-minor"],
  });
}
const cpu0 = cpuSeconds(pool.pid);
const gc0 = { ...gcs };
const mineStart = performance.now();
/** RSS after each block (MiB). */
const rssSeries: number[] = [];
let b = 0;
while (stress === undefined ? b < blocks : !stressDone) {
  b++;
  await sleep(gapMs * (0.5 + Math.random()));
  await devnet.rival.mineBlock();
  rssSeries.push(rssKiB(pool.pid) / 1024);
  if (b % sampleEvery === 0) await sample(b);
  if (values["gc-every"] !== undefined && b % Number(values["gc-every"]) === 0) {
    await insp.gc();
    await sample(b, "GC");
  }
  if (snapshotsAt.has(b)) {
    await insp.gc();
    await sample(b, "after GC");
    const path = `${snapshotDir}/block-${b}.heapsnapshot`;
    await insp.snapshot(path);
    console.log(`  snapshot ${path}`);
  }
}
clearInterval(mempoolTimer);
if (values["alloc-profile"] !== undefined) {
  const r = await insp.call("HeapProfiler.stopSampling");
  await Deno.writeTextFile(values["alloc-profile"], JSON.stringify(r.profile));
  console.log(`  allocation profile ${values["alloc-profile"]}`);
}
const mined = stress === undefined ? await gen.call({ cmd: "mine-stop" }) : await stress;
const mineSeconds = (performance.now() - mineStart) / 1000;
const poolCpu = cpuSeconds(pool.pid) - cpu0;
const gcDuring = {
  scavenge: gcs.scavenge - gc0.scavenge,
  markCompact: gcs.markCompact - gc0.markCompact,
};
const half = rssSeries.slice(Math.floor(rssSeries.length / 2));
const summary = {
  blocks: b,
  seconds: mineSeconds,
  accepted: mined.accepted as number,
  acceptedPerSecond: (mined.accepted as number) / mineSeconds,
  p99Ms: mined.p99 as number,
  poolCpuPercent: poolCpu / mineSeconds * 100,
  poolCpuMsPerBlock: poolCpu / b * 1000,
  rssMaxMiB: Math.max(...rssSeries),
  rssMeanSecondHalfMiB: half.reduce((a, b) => a + b, 0) / half.length,
  /** Over the mining step: the mean of the heap samples' V8 heap total, MiB. */
  heapTotalMeanMiB: mean(samples.filter((x) => x.note === undefined).map((x) => x.heapTotalMiB)),
  gc: values["count-gc"] ? gcDuring : undefined,
};
console.log(
  `mining ${fmt(mineSeconds, 0)} s: ${mined.accepted} accepted (${
    fmt(summary.acceptedPerSecond, 0)
  }/s, submit p99 ${fmt(summary.p99Ms)} ms), ${mined.setDifficulty} set_difficulty, errors ${
    JSON.stringify(mined.errors)
  }; pool CPU ${fmt(summary.poolCpuPercent, 0)} % (${
    fmt(summary.poolCpuMsPerBlock, 0)
  } ms per block); RSS max ${fmt(summary.rssMaxMiB)} MiB, mean over the second half ${
    fmt(summary.rssMeanSecondHalfMiB)
  } MiB; heap total mean ${fmt(summary.heapTotalMeanMiB)} MiB${
    summary.gc === undefined
      ? ""
      : `; ${summary.gc.scavenge} scavenges, ${summary.gc.markCompact} full collections`
  }; load ${loadAverage()}`,
);
await sample(b, "mining stopped");
await insp.gc();
await sleep(1000);
await sample(b, "after GC");
if (values["malloc-trim"]) {
  // glibc keeps freed memory in its arenas: malloc_trim(0) gives back what it can (the RSS it
  // frees was free memory, not live data).
  await insp.call("Runtime.evaluate", {
    expression: `(() => {
      const libc = Deno.dlopen("libc.so.6", {
        malloc_trim: { parameters: ["usize"], result: "i32" },
      });
      libc.symbols.malloc_trim(0);
      libc.close();
    })()`,
  });
  await sleep(500);
  await sample(b, "after GC and malloc_trim");
}
const idle = Number(values["idle-seconds"]);
if (idle > 0) {
  await sleep(idle * 1000);
  await sample(b, `idle ${idle} s`);
  await insp.gc();
  await sleep(1000);
  await sample(b, "idle, after GC");
}
if (values.json !== undefined) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({ args: Deno.args, summary, rssSeries, samples }, null, 2),
  );
}
insp.close();
await gen.close();
pool.kill("SIGKILL");
await pool.status;
await poolLines;
await gcLines;
await devnet.stop();
await Deno.remove(dir, { recursive: true }).catch(() => {});
