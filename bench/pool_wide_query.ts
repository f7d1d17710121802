/**
 * Cost of the API's pool-wide figures (`[api] pool_wide`): `Store.activity` (one aggregate over
 * the per-minute rollups of the window) with a million shares stored, against the same figures
 * computed straight from the shares table. The shares come from three instances, 1,000
 * addresses with 3 workers each, spread over the last 10 minutes (plus older ones outside the
 * window), recorded through the store as the pool records them.
 *
 * ```sh
 * deno run -A bench/pool_wide_query.ts --store postgres   # needs VBKPOOL_TEST_POSTGRES_URL
 * deno run -A bench/pool_wide_query.ts --store sqlite --shares 200000
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { DatabaseSync } from "node:sqlite";
import { openStore, type Share } from "../store/mod.ts";

const args = parseArgs({
  options: {
    store: { type: "string", default: "postgres" },
    shares: { type: "string", default: "1000000" },
    runs: { type: "string", default: "20" },
  },
});
const total = Number(args.values.shares);
const runs = Number(args.values.runs);
const backend = args.values.store;

const MINUTE = 60_000;
const now = Date.now();
const WINDOW = 10 * MINUTE;

async function freshLocation(): Promise<{ url: string; drop(): Promise<void> }> {
  if (backend === "sqlite") {
    const dir = await Deno.makeTempDir({ prefix: "vbkpool-bench-wide-" });
    return {
      url: `${dir}/pool.sqlite`,
      drop: () => Deno.remove(dir, { recursive: true }),
    };
  }
  const admin = Deno.env.get("VBKPOOL_TEST_POSTGRES_URL");
  if (admin === undefined) throw new Error("set VBKPOOL_TEST_POSTGRES_URL");
  const name = `vbk_bench_wide_${Date.now().toString(36)}`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe(`CREATE DATABASE ${name}`);
  await sql.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(admin, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

function share(i: number): Share {
  const worker = i % 3000;
  const hash = new Uint8Array(24);
  new DataView(hash.buffer).setUint32(0, i);
  crypto.getRandomValues(hash.subarray(4));
  // Nine in ten inside the window, the rest up to an hour before it.
  const age = i % 10 === 9 ? WINDOW + (i % 50) * MINUTE : (i * 7919) % WINDOW;
  return {
    instance: worker % 3,
    address: `V${String(Math.floor(worker / 3)).padStart(29, "0")}`,
    worker: `rig${worker % 3}`,
    jobId: "1",
    difficulty: 1000n + BigInt(i % 17),
    networkDifficulty: 1_000_000_000n,
    height: 1000,
    time: now - age,
    hash,
    solo: false,
  };
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  return `median ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${s[0]!.toFixed(1)} ms`;
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const location = await freshLocation();
const store = await openStore(location.url, { thread: backend === "sqlite" });
try {
  const t0 = performance.now();
  const batch = 20_000;
  for (let i = 0; i < total; i += batch) {
    const n = Math.min(batch, total - i);
    await Promise.all(Array.from({ length: n }, (_, k) => store.recordShare(share(i + k))));
  }
  const loadS = (performance.now() - t0) / 1000;
  console.log(
    `${backend}: ${total} shares stored in ${loadS.toFixed(1)} s (${Math.round(total / loadS)}/s)`,
  );
  if (backend !== "sqlite") {
    const sql = postgres(location.url, { max: 1, onnotice: () => {} });
    await sql.unsafe("ANALYZE");
    await sql.end();
  }
  const since = now - WINDOW - ((now - WINDOW) % MINUTE);
  const a = await store.activity({ since });
  console.log(`activity: ${JSON.stringify({ ...a, difficulty: String(a.difficulty) })}`);
  console.log(
    `Store.activity over the rollups: ${stats(await time(() => store.activity({ since })))}`,
  );

  // The same figures from the shares table (what a naive pool-wide API would run).
  const direct = `SELECT COUNT(*) AS shares, SUM(difficulty) AS difficulty,
    COUNT(DISTINCT address) AS miners, COUNT(DISTINCT address || ':' || worker) AS workers
    FROM shares WHERE time >= ${since}`;
  if (backend === "sqlite") {
    const db = new DatabaseSync(location.url, { readOnly: true });
    console.log(
      `rollup rows: ${JSON.stringify(db.prepare("SELECT COUNT(*) AS n FROM rollups").get())}`,
    );
    console.log(
      `from the shares table: ${
        stats(await time(() => Promise.resolve(db.prepare(direct).get())))
      }`,
    );
    db.close();
  } else {
    const sql = postgres(location.url, { max: 1, onnotice: () => {} });
    console.log(`rollup rows: ${(await sql`SELECT COUNT(*) AS n FROM rollups`)[0]!.n}`);
    console.log(`from the shares table: ${stats(await time(() => sql.unsafe(direct)))}`);
    await sql.end();
  }
} finally {
  await store.close();
  await location.drop();
}
