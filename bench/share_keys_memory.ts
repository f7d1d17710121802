/**
 * Heap held by the duplicate check over one long round: 64 live jobs (mempool updates of one
 * block), N accepted shares on each from 5,000 connections, with the round-wide live-key budget at
 * its default or off. Prints the keys held, the heap after a full collection and the time per share.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc,--max-old-space-size=8000 bench/share_keys_memory.ts default 100000
 * deno run -A --v8-flags=--expose-gc,--max-old-space-size=8000 bench/share_keys_memory.ts off 100000
 * ```
 *
 * @module
 */
import { JobManager } from "../server/jobs.ts";
import { vectorTemplate } from "../tests/server/_pool.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
const budget = Deno.args[0] === "off" ? "off" : "default";
const perJob = Number(Deno.args[1] ?? 40_000);
const manager = new JobManager(budget === "off" ? { maxLiveKeys: 2 ** 40 } : {});
const owners = Array.from({ length: 5000 }, (_, i) => 0x7c000000000f4240n + BigInt(i) * 1000n);
const hex = owners.map((o) => o.toString(16));
gc();
const base = Deno.memoryUsage().heapUsed;
const started = performance.now();
for (let t = 0; t < 64; t++) {
  const job = manager.add(vectorTemplate({
    upstreamJobId: t,
    kind: t === 0 ? "job" : "mempool_update",
    normalRoot: new Uint8Array(32).fill(t + 1),
  }));
  const ntime = 1_560_000_000 + t;
  for (let n = 0; n < perJob; n++) {
    const i = n % owners.length;
    const key = `${hex[i]}:${ntime}:${n}`;
    const owner = owners[i]!;
    if (job.seen.check(key, ntime, { owner, cap: 262_144 }) === "new") {
      job.seen.add(key, ntime, owner);
    }
  }
}
const ms = performance.now() - started;
gc();
console.log(JSON.stringify({
  budget,
  shares: 64 * perJob,
  liveKeys: manager.seenStats.liveKeys,
  heapMiB: Number(((Deno.memoryUsage().heapUsed - base) / 2 ** 20).toFixed(1)),
  nsPerShare: Math.round(ms * 1e6 / (64 * perJob)),
}));
