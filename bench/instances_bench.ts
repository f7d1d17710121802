/**
 * Aggregate throughput of several `vbkpool server` instances on one PostgreSQL against one
 * instance: for each instance count, a fresh database, that many servers (`[stratum]
 * instance_id` 0..N-1) fed by one devnet (network difficulty 4,000,000 as in `bench:pool`: a
 * block now and then), one load generator (`bench/pool_load.ts`) per instance holding its share of the
 * miners, then open-loop share steps at each aggregate rate. Reported per step: durably stored
 * shares/s (replies `true`: the pool answers after the commit; checked against the rows),
 * submit latency p50/p99, and the CPU each role used (servers, generators, PostgreSQL's
 * processes; % of one core over the step).
 *
 * With `--workers`, each count N is one `vbkpool server` with `[process] workers = N` on one port
 * (the kernel spreads the generators' miners over the workers) instead of N separate instances.
 *
 * ```sh
 * export VBKPOOL_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres
 * deno run -A bench/instances_bench.ts --instances 1,3 --miners 600 --rates 3000,6000,12000
 * deno run -A bench/instances_bench.ts --workers --instances 1,2 --rates 6000,12000,18000
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { startDevnet } from "../devnet/mod.ts";
import { freePort } from "./_pool_common.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const POOL = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

const { values } = parseArgs({
  options: {
    instances: { type: "string", default: "1,3" },
    miners: { type: "string", default: "600" },
    rates: { type: "string", default: "3000,6000,12000" },
    seconds: { type: "string", default: "20" },
    warmup: { type: "string", default: "5" },
    // One `vbkpool server` with `[process] workers = N` on one port instead of N instances.
    workers: { type: "boolean", default: false },
    // New work this often, as NodeCore sends templates when its mempool changes. Without it one
    // work lasts the whole step, and past the pool's 262,144 shares per work (the duplicate
    // state's cap) shares on a fixed ntime are refused as stale: the figure would be that cap.
    "mempool-seconds": { type: "string", default: "5" },
  },
});
const counts = values.instances!.split(",").map(Number);
const rates = values.rates!.split(",").map(Number);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const totalMiners = Number(values.miners);
const admin = Deno.env.get("VBKPOOL_TEST_POSTGRES_URL");
if (admin === undefined) throw new Error("set VBKPOOL_TEST_POSTGRES_URL (a PostgreSQL server)");

/** CPU seconds (user + system) of a process, 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Every PostgreSQL server process on this machine (other users' work counts too: noted). */
function postgresPids(): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/comm`).trim() === "postgres") {
        out.push(Number(e.name));
      }
    } catch {
      // Gone.
    }
  }
  return out;
}

function lines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  return (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = rest.indexOf("\n")) >= 0) {
        onLine(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
  })();
}

/** `bench/pool_load.ts`: one JSON command in, one JSON line out. */
class Generator {
  readonly child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #waiting: ((value: Record<string, unknown>) => void)[] = [];
  readonly done: Promise<void>;

  constructor() {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}bench/pool_load.ts`],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.done = lines(this.child.stdout, (line) => {
      try {
        this.#waiting.shift()?.(JSON.parse(line));
      } catch {
        console.error(`generator: ${line}`);
      }
    });
  }

  async call(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = new Promise<Record<string, unknown>>((r) => this.#waiting.push(r));
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(command) + "\n"));
    const value = await answer;
    if (typeof value.error === "string") throw new Error(`generator: ${value.error}`);
    return value;
  }

  async close(): Promise<void> {
    await this.call({ cmd: "close" }).catch(() => {});
    await this.#writer.close().catch(() => {});
    await this.child.status;
  }
}

/**
 * A `vbkpool server` instance (or, with `workers` > 1, one server running that many worker
 * processes on one port); resolves once every worker's upstream is ready.
 */
async function startServer(
  id: number,
  storeUrl: string,
  devnetPort: number,
  workers = 1,
): Promise<{ child: Deno.ChildProcess; port: number; log: () => string; pids: () => number[] }> {
  const fixed = workers > 1 ? freePort() : 0;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, "server"],
    env: {
      NO_COLOR: "1",
      VBKPOOL_STRATUM_LISTEN: `127.0.0.1:${fixed} diff=1 min=1 vardiff=off`,
      VBKPOOL_STRATUM_INSTANCE_ID: String(workers > 1 ? 31 : id),
      VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
      VBKPOOL_NODECORE_ENDPOINTS: `127.0.0.1:${devnetPort}`,
      VBKPOOL_NODECORE_ADDRESS: POOL,
      VBKPOOL_STORE_URL: storeUrl,
      VBKPOOL_API_ENABLED: "false",
      VBKPOOL_PAYOUTS_TRACK_BLOCKS: "false",
      VBKPOOL_PROCESS_WORKERS: String(workers),
      VBKPOOL_LOG_LEVEL: "info",
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  let ready = 0;
  let port = fixed;
  const workerPids: number[] = [];
  let found: (ok: boolean) => void;
  const started = new Promise<boolean>((r) => found = r);
  void lines(child.stderr, (line) => {
    if (text.length < 200_000) text += line + "\n";
    const m = /Stratum on [\d.]+:(\d+)/.exec(line);
    if (m !== null) port = Number(m[1]);
    const w = /worker \d+ started \(pid (\d+)/.exec(line);
    if (w !== null) workerPids.push(Number(w[1]));
    if (/upstream ready/.test(line) && ++ready === workers) found(true);
  });
  const timeout = setTimeout(() => found(false), 120_000);
  const ok = await started;
  clearTimeout(timeout);
  if (!ok) throw new Error(`instance ${id} did not start:\n${text}`);
  return { child, port, log: () => text, pids: () => [child.pid, ...workerPids] };
}

async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `vbk_bench_inst_${Date.now().toString(36)}`;
  const sql = postgres(admin!, { max: 1, onnotice: () => {} });
  await sql.unsafe(`CREATE DATABASE ${name}`);
  await sql.end();
  const u = new URL(admin!);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(admin!, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

const rows: string[] = [];
const debug = (m: string) => Deno.env.get("BENCH_DEBUG") && console.error(m);
const devnet = await startDevnet({
  port: 0,
  minDifficulty: 4_000_000n, // as bench:pool: a block per ~400 s at 10,000 shares/s
  mempoolIntervalMs: Math.round(Number(values["mempool-seconds"]) * 1000),
});
try {
  for (const n of counts) {
    for (const rate of rates) {
      // A fresh database, servers and generators per step: nothing carries over between steps.
      const db = await freshDatabase();
      const servers: Awaited<ReturnType<typeof startServer>>[] = [];
      const generators: Generator[] = [];
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        if (values.workers) servers.push(await startServer(0, db.url, devnet.addr.port, n));
        else {
          for (let id = 0; id < n; id++) {
            servers.push(await startServer(id, db.url, devnet.addr.port));
          }
        }
        debug(`servers ${servers.map((s) => s.port)}`);
        for (let id = 0; id < n; id++) {
          const g = new Generator();
          generators.push(g);
          const c = await g.call({
            cmd: "connect",
            port: servers[values.workers ? 0 : id]!.port,
            total: totalMiners / n,
          });
          if (c.connected !== totalMiners / n) throw new Error(`connect: ${JSON.stringify(c)}`);
        }
        {
          const pg = postgresPids();
          const cpu = () => ({
            servers: servers.reduce(
              (s, x) => s + x.pids().reduce((t, pid) => t + cpuSeconds(pid), 0),
              0,
            ),
            generators: generators.reduce((s, x) => s + cpuSeconds(x.child.pid), 0),
            postgres: pg.reduce((s, pid) => s + cpuSeconds(pid), 0),
          });
          const [before] = await sql`SELECT COUNT(*)::int AS n FROM shares`;
          const c0 = cpu();
          const t0 = performance.now();
          const steps = await Promise.all(
            generators.map((g) =>
              g.call({ cmd: "shares", rate: rate / n, seconds, warmupSeconds: warmup })
            ),
          );
          const wall = (performance.now() - t0) / 1000;
          const c1 = cpu();
          const [after] = await sql`SELECT COUNT(*)::int AS n FROM shares`;
          const accepted = steps.reduce((s, x) => s + (x.accepted as number), 0);
          const sent = steps.reduce((s, x) => s + (x.sent as number), 0);
          const p99 = Math.max(...steps.map((x) => x.p99 as number));
          const p50 = Math.max(...steps.map((x) => x.p50 as number));
          const errors: Record<string, number> = {};
          for (const x of steps) {
            for (const [k, v] of Object.entries(x.errors as Record<string, number>)) {
              errors[k] = (errors[k] ?? 0) + v;
            }
          }
          const closed = steps.reduce((c, x) => c + (x.closed as number), 0);
          const missing = steps.reduce((c, x) => c + (x.missing as number), 0);
          const pct = (k: keyof typeof c0) => Math.round(((c1[k] - c0[k]) / wall) * 100);
          const row = `| ${n} | ${rate} | ${Math.round(sent / seconds)} | ${
            Math.round(accepted / seconds)
          } | ${Math.round((after!.n - before!.n) / wall)} | ${p50.toFixed(1)} | ${
            p99.toFixed(1)
          } | ${pct("servers")} | ${pct("generators")} | ${
            pct("postgres")
          } | ${missing} missing, ${closed} closed ${JSON.stringify(errors)} |`;
          console.log(row);
          rows.push(row);
        }
      } finally {
        await Promise.all(generators.map((g) => g.close()));
        for (const s of servers) {
          try {
            s.child.kill("SIGINT");
          } catch {
            // Gone.
          }
          await s.child.status;
        }
        await sql.end();
        await db.drop();
      }
    }
  }
} finally {
  await devnet.stop();
}
console.log(
  `\n| ${
    values.workers ? "workers" : "instances"
  } | offered/s | sent/s | stored/s (acks) | rows/s (whole step) | p50 ms | p99 ms (worst instance) | servers CPU % | generators CPU % | postgres CPU % | failures |`,
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
