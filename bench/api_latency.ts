/**
 * HTTP API latency against a live `vbkpool server` (embedded devnet, SQLite in a temporary
 * directory, rate limit off): a simple loop of sequential requests per path with `fetch`
 * (keep-alive), then the same with a fresh connection per request, and the time taken;
 * p50/p99/max per path. `--main` points at another checkout's `main.ts` to compare builds (the
 * `Deno.serve` API before and the own HTTP server after, for example).
 *
 * ```sh
 * deno run -A bench/api_latency.ts                       # 2000 requests per path
 * deno run -A bench/api_latency.ts --requests 500 --main ../other/main.ts
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    main: { type: "string", default: fileURLToPath(new URL("../main.ts", import.meta.url)) },
  },
});
const REQUESTS = Number(values.requests);
const PATHS = ["/api/health", "/api/pool", "/metrics"];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function measure(url: string, fresh: boolean): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const response = await fetch(url, fresh ? { headers: { connection: "close" } } : {});
    await response.arrayBuffer();
    times.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
  }
  times.sort((a, b) => a - b);
  const f = (ms: number) => ms.toFixed(3).padStart(8);
  return `p50 ${f(percentile(times, 0.5))} ms  p99 ${f(percentile(times, 0.99))} ms  max ${
    f(times.at(-1)!)
  } ms`;
}

const dir = await Deno.makeTempDir({ prefix: "vbkpool-api-latency-" });
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    values.main!,
    "server",
    "--listen",
    "127.0.0.1:0",
    "--api-listen",
    "127.0.0.1:0",
  ],
  cwd: dir,
  env: { NO_COLOR: "1", VBKPOOL_API_RATE_LIMIT_PER_SECOND: "0" },
  stdout: "null",
  stderr: "piped",
}).spawn();
let log = "";
const reading = (async () => {
  for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) log += t;
})();
try {
  const deadline = Date.now() + 120_000;
  let api: string | undefined;
  while (api === undefined) {
    if (Date.now() > deadline) throw new Error(`no API address in the log:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
    if (/upstream "ready"/.test(log)) {
      api = /HTTP API on "?(http:\/\/[^\s"]+)\/api"?/.exec(log)?.[1];
    }
  }
  for (const path of PATHS) await measure(`${api}${path}`, false); // warm-up
  console.log(`${values.main}: ${REQUESTS} sequential requests per path`);
  for (const path of PATHS) {
    console.log(`  keep-alive  ${path.padEnd(12)} ${await measure(`${api}${path}`, false)}`);
  }
  for (const path of PATHS) {
    console.log(`  new conn.   ${path.padEnd(12)} ${await measure(`${api}${path}`, true)}`);
  }
} finally {
  child.kill("SIGINT");
  await child.status;
  await reading;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}
