/**
 * A flood of IP bans against the store while shares are recorded: what an attacker with many
 * addresses (a whole IPv6 range: each ban costs it three bad connections) does to the commits the
 * miners wait for. The table first holds `--ended` rows of bans that ended (a day of such a
 * flood), then bursts of `--burst` ban writes go in while shares arrive at `--rate` per second.
 * Reports the bursts' times, the shares' p50/p99/max commit latency and any refused share, and the
 * prune of the ended rows. Not a test.
 *
 * ```sh
 * deno run -A bench/ban_flood.ts                                  # SQLite
 * deno run -A bench/ban_flood.ts --postgres postgres://u@host/db  # a fresh database in it
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import postgres from "postgres";
import { openStore, type Share, type Store } from "../store/mod.ts";

const { values } = parseArgs({
  options: {
    ended: { type: "string", default: "200000" },
    burst: { type: "string", default: "1000" },
    bursts: { type: "string", default: "5" },
    rate: { type: "string", default: "2000" },
    postgres: { type: "string" },
  },
});
const ENDED = Number(values.ended);
const BURST = Number(values.burst);
const BURSTS = Number(values.bursts);
const RATE = Number(values.rate);
const DAY = 86_400_000;

function share(i: number): Share {
  const hash = new Uint8Array(24);
  new DataView(hash.buffer).setUint32(0, i);
  crypto.getRandomValues(hash.subarray(4));
  return {
    instance: 0,
    address: "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C",
    worker: "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C.rig",
    jobId: "1",
    difficulty: 1000n,
    networkDifficulty: 1_000_000n,
    height: 100,
    time: Date.now(),
    hash,
  };
}

function ban(ip: string, at: number, until: number) {
  return {
    ip,
    since: at,
    until,
    reason: "flood",
    offences: 3,
    lifted: false,
    updatedAt: at,
    instance: 0,
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function run(name: string, store: Store): Promise<void> {
  const now = Date.now();
  for (let k = 0; k * 1000 < ENDED; k++) {
    await Promise.all(
      Array.from({ length: Math.min(1000, ENDED - k * 1000) }, (_, i) =>
        store.recordBan(
          ban(`2001:db8:${k.toString(16)}::${i.toString(16)}`, now - 2 * DAY, now - 2 * DAY + 1),
        )),
    );
  }
  const latencies: number[] = [];
  let refused = 0;
  let sent = 0;
  let stop = false;
  const pending: Promise<void>[] = [];
  const shares = (async () => {
    const start = performance.now();
    while (!stop) {
      const due = Math.floor((performance.now() - start) / 1000 * RATE);
      for (; sent < due; sent++) {
        const t0 = performance.now();
        pending.push(
          store.recordShare(share(sent)).then(
            () => void latencies.push(performance.now() - t0),
            () => void refused++,
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const bursts: number[] = [];
  for (let r = 0; r < BURSTS; r++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const at = Date.now();
    const t0 = performance.now();
    await Promise.all(
      Array.from(
        { length: BURST },
        (_, i) => store.recordBan(ban(`2001:db9:${r}::${i.toString(16)}`, at, at + 600_000)),
      ),
    );
    bursts.push(performance.now() - t0);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  stop = true;
  await shares;
  await Promise.all(pending);
  const t1 = performance.now();
  const pruned = await store.prune({ sharesBefore: 0, rollupsBefore: 0, pplnsWindow: 0 });
  const pruneMs = performance.now() - t1;
  latencies.sort((a, b) => a - b);
  const sortedBursts = [...bursts].sort((a, b) => a - b);
  console.log(
    `${name}: ${ENDED} ended rows; ${BURSTS} bursts of ${BURST} bans: median ` +
      `${quantile(sortedBursts, 0.5).toFixed(0)} ms (${
        bursts.map((b) => b.toFixed(0)).join(", ")
      }); ` +
      `${latencies.length} shares at ${RATE}/s meanwhile: p50 ${
        quantile(latencies, 0.5).toFixed(1)
      } ` +
      `ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms, max ${
        latencies.at(-1)?.toFixed(1)
      } ms, ${refused} refused; prune of ${pruned.bans} ended rows ${pruneMs.toFixed(0)} ms`,
  );
}

const dir = await Deno.makeTempDir({ prefix: "vbkpool-ban-flood-" });
try {
  const sqlite = await openStore(`${dir}/pool.sqlite`);
  await run("sqlite", sqlite);
  await sqlite.close();
  if (values.postgres !== undefined) {
    const admin = postgres(values.postgres, { max: 1, onnotice: () => {} });
    const db = `vbk_ban_flood_${Date.now()}`;
    await admin.unsafe(`CREATE DATABASE ${db}`);
    try {
      const url = new URL(values.postgres);
      url.pathname = `/${db}`;
      const pg = await openStore(url.toString());
      await run("postgres", pg);
      await pg.close();
    } finally {
      await admin.unsafe(`DROP DATABASE ${db} WITH (FORCE)`);
      await admin.end();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
