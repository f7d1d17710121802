/**
 * Backpressure from the store to the miners, with a real `vbkpool server` process and SQLite:
 * while the database is locked (slow, not failing), the shares waiting for their commit would
 * fill the commit queue and be answered "Internal error"; with `[store] pause_reads_at` the
 * server stops reading instead, and every share is answered `true` once the lock goes.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { bytesToHex } from "../../hash/hex.ts";
import { openStore } from "../../store/mod.ts";
import { LoadMiner, spawnServer } from "./_server_process.ts";
import { ADDRESSES } from "../server/_pool.ts";
import { waitUntil } from "../_process.ts";

const A = ADDRESSES[0]!;
const MINERS = 10;
/** Submits each miner keeps in flight: 2,000 in all, more than a commit and its queue hold. */
const WINDOW = 200;

interface Outcome {
  errors: number;
  acked: string[];
  stored: Set<string>;
  log: string;
}

/** Lock the database, offer 2,000 shares at once, release the lock, count the answers. */
async function offerUnderLock(pauseReadsAt: number): Promise<Outcome> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-backpressure-" });
  const path = `${dir}/pool.sqlite`;
  const server = spawnServer({
    VBKPOOL_STORE_URL: path,
    VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0 diff=1 min=1 vardiff=off",
    VBKPOOL_STRATUM_REQUESTS_PER_SECOND: "1000000",
    VBKPOOL_STRATUM_REQUEST_BURST: "1000000",
    VBKPOOL_STRATUM_BAN_ENABLED: "false",
    VBKPOOL_STORE_PRUNE_INTERVAL_MINUTES: "0",
    // At most 100 shares in a commit and 1,000 queued behind it.
    VBKPOOL_STORE_BATCH_MAX_ROWS: "100",
    VBKPOOL_STORE_MAX_QUEUE: "1000",
    VBKPOOL_STORE_PAUSE_READS_AT: String(pauseReadsAt),
    // Slow, not failing: commits wait for the lock.
    VBKPOOL_STORE_SQLITE_BUSY_TIMEOUT_MS: "120000",
    VBKPOOL_STORE_COMMIT_TIMEOUT_SECONDS: "120",
  }, dir);
  const miners: LoadMiner[] = [];
  let done = false;
  try {
    const { stratum } = await server.serverAddresses();
    for (let i = 0; i < MINERS; i++) {
      miners.push(await LoadMiner.connect(stratum[0]!, `${A}.m${i}`));
    }
    await Promise.all(miners.map((m) => m.job()));
    const lock = new DatabaseSync(path);
    let loads: Promise<void[]>;
    const from = server.err.length;
    try {
      lock.exec("PRAGMA busy_timeout = 30000");
      lock.exec("BEGIN EXCLUSIVE");
      loads = Promise.all(miners.map((m) => m.run(() => done, WINDOW)));
      const errors = () => miners.reduce((n, m) => n + m.errors, 0);
      const inFlight = () => miners.reduce((n, m) => n + m.inFlight, 0);
      // Every miner has its whole window out (written to its socket) while nothing commits…
      await waitUntil(
        () => inFlight() === MINERS * WINDOW || errors() > 0,
        () => `${MINERS * WINDOW} submits in flight (${inFlight()})`,
        60_000,
      );
      // …and the server has either refused some (no backpressure; the answers wait behind the
      // earlier submits of the same connection, which wait for the lock) or paused its reads.
      await waitUntil(
        () => /the store is behind|commit queue is full/.test(server.err.slice(from)),
        "a refused record or the server pausing its reads",
        60_000,
      );
      lock.exec("ROLLBACK");
    } finally {
      lock.close();
    }
    done = true;
    await loads;
    await Promise.all(miners.map((m) => m.close()));
    assert.equal(await server.stop("SIGTERM"), 0, server.err);
    const store = await openStore(path);
    let stored: Set<string>;
    try {
      stored = new Set(
        (await store.listShares({ limit: 1_000_000 })).map((r) => bytesToHex(r.hash)),
      );
    } finally {
      await store.close();
    }
    return {
      errors: miners.reduce((n, m) => n + m.errors, 0),
      acked: miners.flatMap((m) => [...m.acked]),
      stored,
      log: server.err.slice(from),
    };
  } finally {
    done = true;
    await server.kill();
    await Promise.all(miners.map((m) => m.close()));
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("vbkpool server pauses its reads while the store is behind: 2,000 shares, none refused", async () => {
  const outcome = await offerUnderLock(300);
  assert.equal(outcome.errors, 0, outcome.log);
  assert.ok(outcome.acked.length >= MINERS * WINDOW, `${outcome.acked.length} acknowledged`);
  assert.deepEqual(outcome.acked.filter((h) => !outcome.stored.has(h)), []);
  const pauses = outcome.log.split("\n").filter((l) => l.includes("the store is behind"));
  assert.ok(pauses.length >= 1 && pauses.length <= 2, outcome.log); // once, then counted
  assert.doesNotMatch(outcome.log, /commit queue is full|cannot renew the lease/);
});

Deno.test("without pause_reads_at the same load overflows the commit queue (the control)", async () => {
  const outcome = await offerUnderLock(0);
  assert.ok(outcome.errors > 0, "no share was refused: the scenario did not overload the queue");
  assert.deepEqual(outcome.acked.filter((h) => !outcome.stored.has(h)), []);
  assert.equal(outcome.log.includes("the store is behind"), false);
  assert.match(outcome.log, /the commit queue is full/);
});
