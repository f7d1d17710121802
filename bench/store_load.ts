/**
 * Store load generator: sustained accepted shares per second through `Store.recordShare` (group
 * commit, durable before it resolves), with p50/p99 commit latency and the event loop's worst
 * stall. Not a test.
 *
 * ```sh
 * deno run -A bench/store_load.ts                         # SQLite, every writer mode
 * deno run -A bench/store_load.ts --postgres URL          # and PostgreSQL
 * deno run -A bench/store_load.ts --seconds 5 --rate 5000 # open loop at a fixed rate
 * ```
 *
 * Closed loop (default): `--concurrency` shares are always in flight, like that many miners
 * each waiting for their reply; this gives the ceiling. Open loop (`--rate`): shares arrive at a
 * fixed rate whatever the store does; this gives the latency a pool sees at that load.
 *
 * @module
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { openStore, type OpenStoreOptions, type Share } from "../store/mod.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "2000" },
    rate: { type: "string" },
    postgres: { type: "string" },
    only: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const rate = values.rate === undefined ? undefined : Number(values.rate);

interface Result {
  name: string;
  shares: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  stallMs: number;
  batches: number;
}

let seq = 0;
function share(): Share {
  const hash = new Uint8Array(24);
  const view = new DataView(hash.buffer);
  view.setUint32(0, seq++);
  view.setUint32(4, Deno.pid);
  view.setFloat64(8, performance.now());
  return {
    instance: 1,
    address: `V${(seq % 500).toString().padStart(29, "x")}`,
    worker: `rig${seq % 4}`,
    jobId: (seq >> 10).toString(16),
    difficulty: 65536n + BigInt(seq % 1000),
    networkDifficulty: 1_000_000_000_000n,
    height: 4_000_000,
    time: Date.now(),
    hash,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function run(name: string, location: string, options: OpenStoreOptions): Promise<Result> {
  const store = await openStore(location, options);
  // Event-loop stall: the longest gap between 1 ms ticks.
  let last = performance.now();
  let stall = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const latencies: number[] = [];
  const warmEnd = performance.now() + 500;
  const end = warmEnd + seconds * 1000;
  let counted = 0;
  let failed = 0;
  const one = async () => {
    const start = performance.now();
    try {
      await store.recordShare(share());
    } catch {
      failed++;
      return;
    }
    const done = performance.now();
    if (start >= warmEnd && done <= end) {
      latencies.push(done - start);
      counted++;
    }
  };
  const startBatches = { value: 0 };
  setTimeout(() => startBatches.value = store.stats().batches, 500);
  if (rate === undefined) {
    const loop = async () => {
      while (performance.now() < end) await one();
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  } else {
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    let sent = 0;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      while (sent < due) {
        pending.push(one());
        sent++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
  }
  clearInterval(ticker);
  const batches = store.stats().batches - startBatches.value;
  await store.close();
  if (failed > 0) console.error(`${name}: ${failed} records failed`);
  const sorted = Float64Array.from(latencies).sort();
  return {
    name,
    shares: counted,
    perSecond: Math.round(counted / seconds),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? 0,
    stallMs: stall,
    batches,
  };
}

const dir = await Deno.makeTempDir({ prefix: "vbkpool-bench-" });
const cases: [string, () => Promise<[string, OpenStoreOptions, () => Promise<void>]>][] = [
  ["sqlite thread full", () => Promise.resolve([`${dir}/a.sqlite`, { thread: true }, noop])],
  ["sqlite inline full", () => Promise.resolve([`${dir}/b.sqlite`, { thread: false }, noop])],
  [
    "sqlite thread normal",
    () => Promise.resolve([`${dir}/c.sqlite`, { thread: true, synchronous: "normal" }, noop]),
  ],
  [
    "sqlite inline normal",
    () => Promise.resolve([`${dir}/d.sqlite`, { thread: false, synchronous: "normal" }, noop]),
  ],
];
function noop(): Promise<void> {
  return Promise.resolve();
}
if (values.postgres !== undefined) {
  const admin = values.postgres;
  cases.push(["postgres", async () => {
    const name = `vbk_bench_${Deno.pid}`;
    const sql = postgres(admin, { max: 1, onnotice: () => {} });
    await sql.unsafe(`DROP DATABASE IF EXISTS ${name}`);
    await sql.unsafe(`CREATE DATABASE ${name}`);
    await sql.end();
    const u = new URL(admin);
    u.pathname = `/${name}`;
    return [u.toString(), {}, async () => {
      const s = postgres(admin, { max: 1, onnotice: () => {} });
      await s.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await s.end();
    }];
  }]);
}

const mode = rate === undefined ? `closed loop, ${concurrency} in flight` : `open loop, ${rate}/s`;
console.log(`store load: ${seconds} s per case after 0.5 s warm-up, ${mode}`);
console.log(
  "case                   shares/s   p50 ms   p99 ms   max ms  worst loop stall ms  batches",
);
try {
  for (const [name, make] of cases) {
    if (values.only !== undefined && !name.includes(values.only)) continue;
    const [location, options, cleanup] = await make();
    try {
      const r = await run(name, location, options);
      console.log(
        `${r.name.padEnd(22)} ${String(r.perSecond).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${
          r.p99.toFixed(1).padStart(8)
        } ${r.max.toFixed(1).padStart(8)} ${r.stallMs.toFixed(1).padStart(20)} ${
          String(r.batches).padStart(8)
        }`,
      );
    } finally {
      await cleanup();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
