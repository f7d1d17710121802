/**
 * Submit latency through a real `vbkpool server` with its store: miners over loopback TCP submit
 * difficulty-1 shares (each answered only after its commit); reports accepted shares per second
 * and p50/p99 submit latency (send → reply). Not a test.
 *
 * ```sh
 * deno run -A bench/store_submit_load.ts                      # SQLite in a temporary folder
 * deno run -A bench/store_submit_load.ts --store postgres://… # PostgreSQL
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ADDRESSES } from "../tests/server/_pool.ts";
import { LoadMiner, spawnServer } from "../tests/store/_server_process.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    miners: { type: "string", default: "8" },
    window: { type: "string", default: "64" },
    store: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const dir = await Deno.makeTempDir({ prefix: "vbkpool-submit-bench-" });
const store = values.store ?? `${dir}/pool.sqlite`;
const server = spawnServer({
  VBKPOOL_STORE_URL: store,
  VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0 diff=1 min=1 vardiff=off",
  VBKPOOL_STRATUM_REQUESTS_PER_SECOND: "1000000",
  VBKPOOL_STRATUM_REQUEST_BURST: "1000000",
  VBKPOOL_STRATUM_BAN_ENABLED: "false",
  VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
}, dir);
try {
  const { stratum: [port] } = await server.serverAddresses();
  if (port === undefined) throw new Error(`no Stratum port in the log:\n${server.err}`);
  const miners = await Promise.all(
    Array.from(
      { length: Number(values.miners) },
      (_, i) => LoadMiner.connect(port, `${ADDRESSES[i % 3]}.bench${i}`),
    ),
  );
  let done = false;
  const load = Promise.all(miners.map((m) => m.run(() => done, Number(values.window))));
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const before = miners.map((m) => [m.acked.size, m.latencies.length]);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const accepted = miners.reduce((n, m, i) => n + m.acked.size - before[i]![0]!, 0);
  const latencies = Float64Array.from(
    miners.flatMap((m, i) => m.latencies.slice(before[i]![1]!)),
  ).sort();
  done = true;
  await load;
  await Promise.all(miners.map((m) => m.close()));
  const pct = (p: number) => latencies[Math.floor(latencies.length * p)]?.toFixed(1) ?? "-";
  console.log(
    `server + ${store.startsWith("postgres") ? "postgres" : "sqlite"}: ${miners.length} miners × ` +
      `${values.window} in flight, ${seconds} s: ${Math.round(accepted / elapsed)} accepted/s, ` +
      `submit latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, errors ${
        miners.reduce((n, m) => n + m.errors, 0)
      }`,
  );
} finally {
  await server.stop("SIGTERM");
  await Deno.remove(dir, { recursive: true });
}
