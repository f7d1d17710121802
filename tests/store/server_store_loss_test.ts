/**
 * A real `vbkpool server` whose SQLite files are deleted, or replaced by another database, while
 * a miner submits: within a second or two no more `true`, `/api/health` answers 503
 * `store_failing`, the loss is logged once, and a new miner still gets work. Starting on a
 * missing file announces a new, empty database; starting on an existing one does not.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "../../store/mod.ts";
import { LoadMiner, spawnServer } from "./_server_process.ts";
import { ADDRESSES } from "../server/_pool.ts";
import { waitUntil, withTempDir } from "../_process.ts";

const A = ADDRESSES[0]!;
const B = ADDRESSES[1]!;
const BANNER = /NEW DATABASE: .*pool\.sqlite had no vbkpool data/;

/** A difficulty-1 port without limits, the HTTP API on a free port, no periodic stats. */
function serverEnv(store: string): Record<string, string> {
  return {
    VBKPOOL_STORE_URL: store,
    VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0 diff=1 min=1 vardiff=off",
    VBKPOOL_STRATUM_REQUESTS_PER_SECOND: "1000000",
    VBKPOOL_STRATUM_REQUEST_BURST: "1000000",
    VBKPOOL_STRATUM_BAN_ENABLED: "false",
    VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
    VBKPOOL_STORE_PRUNE_INTERVAL_MINUTES: "0",
    VBKPOOL_API_ENABLED: "true",
    VBKPOOL_API_LISTEN: "127.0.0.1:0",
    VBKPOOL_API_RATE_LIMIT_PER_SECOND: "0",
  };
}

async function health(api: string): Promise<{ status: number; reasons: string[] }> {
  const response = await fetch(`${api}/api/health`);
  const body = await response.json() as { reasons: string[] };
  return { status: response.status, reasons: body.reasons };
}

/** Lines of the log matching `re`. */
function lines(log: string, re: RegExp): string[] {
  return log.split("\n").filter((line) => re.test(line));
}

/**
 * Run a server on `path`, break its store with `lose` under load, and check what miners, the
 * health endpoint and the log see. Returns the server's whole log.
 */
async function loseUnderLoad(
  dir: string,
  path: string,
  lose: () => Promise<void>,
): Promise<string> {
  const server = spawnServer(serverEnv(path), dir);
  const miners: LoadMiner[] = [];
  let done = false;
  try {
    const { stratum, api } = await server.serverAddresses();
    assert.ok(api !== undefined, server.err);
    const port = stratum[0]!;
    await waitUntil(async () => (await health(api)).status === 200, "a healthy pool", 60_000);
    const m = await LoadMiner.connect(port, `${A}.loss`);
    miners.push(m);
    const load = m.run(() => done, 8);
    await waitUntil(() => m.acked.size > 0, "a share committed before the loss");
    const lostAt = performance.now();
    await lose();
    await waitUntil(() => m.errors > 0, "an error reply after the loss", 10_000);
    const noticedMs = Math.round(performance.now() - lostAt);
    // From the first error on, every reply is an error: 1,000 more prove it.
    const acked = m.acked.size;
    const errors = m.errors;
    await waitUntil(() => m.errors >= errors + 1000, "1,000 more error replies", 60_000);
    assert.equal(m.acked.size, acked, "a share was answered true after the loss was noticed");
    assert.deepEqual(await health(api), { status: 503, reasons: ["store_failing"] });
    // A miner that connects now still gets work.
    const late = await LoadMiner.connect(port, `${B}.late`);
    miners.push(late);
    await late.job();
    done = true;
    await load;
    await Promise.all(miners.map((x) => x.close()));
    assert.equal(await server.stop("SIGTERM"), 0, server.err);
    assert.ok(noticedMs < 10_000, `noticed after ${noticedMs} ms`);
    return server.err;
  } finally {
    done = true;
    await server.kill();
    await Promise.all(miners.map((x) => x.close()));
  }
}

/** What the log must say about a lost store: once, and nothing about recovering. */
function assertLostOnce(log: string, what: RegExp): void {
  assert.equal(lines(log, /is LOST: /).length, 1, log);
  assert.equal(lines(log, what).length, 1, log);
  assert.equal(
    lines(log, /Store .* (is failing, writes|is still failing|is accepting writes again)/).length,
    0,
    log,
  );
  // The refused shares: one line when it started, then only counts.
  const refused = lines(log, /cannot record a share of/);
  assert.equal(refused.filter((l) => !/\(\+\d+ more in the last|\(ended: /.test(l)).length, 1);
}

Deno.test("vbkpool server (SQLite) stops answering true when its database files are deleted", async () => {
  await withTempDir("vbkpool-loss-", async (dir) => {
    const path = `${dir}/pool.sqlite`;
    const log = await loseUnderLoad(dir, path, async () => {
      for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix);
    });
    // It started on a missing file: the new database was announced.
    assert.equal(lines(log, BANNER).length, 1, log);
    assertLostOnce(log, /is LOST: .*pool\.sqlite: the file was removed while the pool ran/);
  });
});

Deno.test("vbkpool server (SQLite) stops answering true when its database file is replaced", async () => {
  await withTempDir("vbkpool-loss-", async (dir) => {
    const path = `${dir}/pool.sqlite`;
    // An existing pool database: no announcement at start.
    const store = await openStore(path, { thread: false });
    await store.close();
    const log = await loseUnderLoad(dir, path, async () => {
      const other = new DatabaseSync(`${dir}/other.sqlite`);
      other.exec("CREATE TABLE t (x INTEGER)");
      other.close();
      await Deno.rename(`${dir}/other.sqlite`, path);
    });
    assert.equal(lines(log, /NEW DATABASE/).length, 0, log);
    assertLostOnce(log, /is LOST: .*pool\.sqlite: the file was replaced by another/);
  });
});
