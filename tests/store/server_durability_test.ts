/**
 * Durability of a real `vbkpool server` process with its store: kill -9 under load, restart,
 * database unavailable at start, database lost mid-run, and two instances on one PostgreSQL.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { bytesToHex } from "../../hash/hex.ts";
import { startDevnet } from "../../devnet/mod.ts";
import { openStore } from "../../store/mod.ts";
import { freshPostgresDatabase, POSTGRES_URL, warnIfNoPostgres } from "./_backends.ts";
import { LoadMiner, spawnServer } from "./_server_process.ts";
import { TcpProxy } from "./_tcp_proxy.ts";
import { ADDRESSES } from "../server/_pool.ts";
import { type VbkpoolProcess, waitUntil } from "../_process.ts";

warnIfNoPostgres();

const A = ADDRESSES[0]!;
const B = ADDRESSES[1]!;

/**
 * Server settings for a load test: a difficulty-1 port and a vardiff port (both on any free
 * port: `serverPorts` reads them from the log), no rate limits.
 */
function serverEnv(store: string, instance: number) {
  return {
    VBKPOOL_STORE_URL: store,
    VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0 diff=1 min=1 vardiff=off,127.0.0.1:0 diff=1024 min=1",
    VBKPOOL_STRATUM_INSTANCE_ID: String(instance),
    VBKPOOL_STRATUM_REQUESTS_PER_SECOND: "1000000",
    VBKPOOL_STRATUM_REQUEST_BURST: "1000000",
    VBKPOOL_STRATUM_BAN_ENABLED: "false",
    VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
    VBKPOOL_STORE_SQLITE_BUSY_TIMEOUT_MS: "100",
    VBKPOOL_STORE_PRUNE_INTERVAL_MINUTES: "0",
  };
}

/** Wait until the server serves Stratum; its difficulty-1 port and its vardiff port. */
async function serverPorts(server: VbkpoolProcess): Promise<[number, number]> {
  const { stratum } = await server.serverAddresses();
  assert.equal(stratum.length, 2, server.err);
  return [stratum[0]!, stratum[1]!];
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-durability-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function storedHashes(location: string): Promise<Set<string>> {
  const store = await openStore(location);
  try {
    const rows = await store.listShares({ limit: 1_000_000 });
    return new Set(rows.map((r) => bytesToHex(r.hash)));
  } finally {
    await store.close();
  }
}

function missing(acked: Iterable<string>, stored: Set<string>): string[] {
  return [...acked].filter((h) => !stored.has(h));
}

async function killUnderLoad(location: string, dir: string): Promise<void> {
  const env = serverEnv(location, 7);
  // Run 1: load on two miners, a vardiff miner asks for 4096, then kill -9 at a random moment
  // once more than 100 shares were acknowledged.
  let server = spawnServer(env, dir);
  const extranonces: bigint[] = [];
  let acked: string[] = [];
  let miners: LoadMiner[] = [];
  let killed = false;
  try {
    const ports = await serverPorts(server);
    const vd = await LoadMiner.connect(ports[1], `${B}.vd`);
    miners.push(vd);
    await vd.call("mining.suggest_difficulty", ["4096"]);
    await vd.difficulty(4096n);
    const loaded = await Promise.all([
      LoadMiner.connect(ports[0], `${A}.one`),
      LoadMiner.connect(ports[0], `${A}.two`),
    ]);
    miners.push(...loaded);
    extranonces.push(...miners.map((m) => m.extranonce));
    const load = Promise.all(loaded.map((m) => m.run(() => killed)));
    const count = () => loaded.reduce((n, m) => n + m.acked.size, 0);
    await waitUntil(() => count() > 100, "100 acknowledged shares", 120_000);
    // Part of the scenario: kill -9 at a random moment of the load, not right at the 100th.
    await new Promise((r) => setTimeout(r, Math.random() * 800));
    await server.kill();
    killed = true;
    await load;
    acked = loaded.flatMap((m) => [...m.acked]);
    assert.ok(acked.length > 100, `only ${acked.length} shares acknowledged before the kill`);
  } finally {
    killed = true;
    await server.kill();
    await Promise.all(miners.map((m) => m.close()));
  }
  // Every share answered true is in the database.
  const stored = await storedHashes(location);
  assert.deepEqual(missing(acked, stored), [], "acknowledged shares lost by kill -9");
  // Run 2: the restarted server carries on with fresh extranonces and the worker's difficulty.
  server = spawnServer(env, dir);
  miners = [];
  let done = false;
  try {
    const ports = await serverPorts(server);
    const again = await LoadMiner.connect(ports[0], `${A}.one`);
    miners.push(again);
    assert.ok(!extranonces.includes(again.extranonce), "an extranonce was handed out twice");
    assert.ok(again.extranonce > extranonces.reduce((a, b) => (a > b ? a : b)));
    assert.equal(again.extranonce >> 58n, 7n);
    const vd = await LoadMiner.connect(ports[1], `${B}.vd`);
    miners.push(vd);
    await vd.difficulty(4096n);
    const load = again.run(() => done);
    await waitUntil(() => again.acked.size > 0 || again.errors > 0, "a reply from the restart");
    done = true;
    await load;
    assert.ok(again.acked.size > 0, "the restarted server accepted nothing");
    await Promise.all(miners.map((m) => m.close()));
    assert.equal(await server.stop("SIGTERM"), 0, server.err);
    assert.deepEqual(missing(again.acked, await storedHashes(location)), []);
  } finally {
    done = true;
    await server.kill();
    await Promise.all(miners.map((m) => m.close()));
  }
}

Deno.test("vbkpool server (SQLite) keeps every share answered true through kill -9, then carries on", async () => {
  await withDir((dir) => killUnderLoad(`${dir}/pool.sqlite`, dir));
});

Deno.test({
  name:
    "vbkpool server (PostgreSQL) keeps every share answered true through kill -9, then carries on",
  ignore: POSTGRES_URL === undefined,
  async fn() {
    const db = await freshPostgresDatabase();
    try {
      await withDir((dir) => killUnderLoad(db.url, dir));
    } finally {
      await db.drop();
    }
  },
});

Deno.test("vbkpool server exits with a clear error when its database is unavailable", async () => {
  await withDir(async (dir) => {
    for (
      const [url, expect] of [
        [
          // Port 1 (tcpmux): nothing listens there, the connection is refused at once.
          "postgres://pool:secret@127.0.0.1:1/pool",
          /Cannot open store postgres:\/\/pool:\*\*\*@/,
        ],
        [`${dir}/no/such/dir/pool.sqlite`, /Cannot open store .*no\/such\/dir\/pool\.sqlite/],
      ] as const
    ) {
      const server = spawnServer(serverEnv(url, 1), dir);
      try {
        const { code } = await server.exited;
        assert.equal(code, 1, server.err);
        assert.match(server.err, expect);
        assert.ok(!server.err.includes("secret"));
      } finally {
        await server.kill();
      }
    }
  });
});

Deno.test("vbkpool server (SQLite) never answers true while its database is locked", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/pool.sqlite`;
    const server = spawnServer(serverEnv(path, 2), dir);
    let miner: LoadMiner | undefined;
    let done = false;
    try {
      const ports = await serverPorts(server);
      miner = await LoadMiner.connect(ports[0], `${A}.lock`);
      const m = miner;
      const load = m.run(() => done, 8);
      await waitUntil(() => m.acked.size > 0, "a share committed before the lock");
      const lock = new DatabaseSync(path);
      try {
        // The pool commits all the time: wait for its current transaction, then hold the lock.
        lock.exec("PRAGMA busy_timeout = 30000");
        lock.exec("BEGIN EXCLUSIVE");
        await waitUntil(() => m.errors > 0, "an error reply while the database is locked");
        lock.exec("ROLLBACK");
      } finally {
        lock.close();
      }
      const ackedAfterLock = m.acked.size;
      await waitUntil(() => m.acked.size > ackedAfterLock, "a share committed after the lock");
      done = true;
      await load;
      await m.close();
      assert.equal(await server.stop("SIGTERM"), 0, server.err);
      assert.deepEqual(missing(m.acked, await storedHashes(path)), []);
    } finally {
      done = true;
      await server.kill();
      await miner?.close();
    }
  });
});

Deno.test("vbkpool server (SQLite) logs 10,000 shares refused during a lock in under 4 KiB, with their count", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/pool.sqlite`;
    const server = spawnServer(serverEnv(path, 4), dir);
    let miner: LoadMiner | undefined;
    let done = false;
    try {
      const ports = await serverPorts(server);
      miner = await LoadMiner.connect(ports[0], `${A}.flood`);
      const m = miner;
      const load = m.run(() => done, 8);
      await waitUntil(() => m.acked.size > 0, "a share committed before the lock");
      const lock = new DatabaseSync(path);
      let from: number;
      try {
        lock.exec("PRAGMA busy_timeout = 30000");
        lock.exec("BEGIN EXCLUSIVE");
        from = server.err.length;
        await waitUntil(() => m.errors >= 10_000, "10,000 refused shares", 120_000);
        lock.exec("ROLLBACK");
      } finally {
        lock.close();
      }
      const ackedAfterLock = m.acked.size;
      await waitUntil(() => m.acked.size > ackedAfterLock, "a share committed after the lock");
      done = true;
      await load;
      await m.close();
      // The stop ends every episode still counting, with its total.
      assert.equal(await server.stop("SIGTERM"), 0, server.err);
      const log = server.err.slice(from);
      const bytes = new TextEncoder().encode(log).length;
      assert.ok(bytes < 4096, `${bytes} bytes of log for ${m.errors} refused shares:\n${log}`);
      const refused = log.split("\n").filter((l) => l.includes("cannot record a share of"));
      const ended = refused.map((l) => /\(ended: (\d+) in all over/.exec(l)).filter((x) => x);
      assert.equal(ended.length, 1, log);
      assert.equal(Number(ended[0]![1]), m.errors, "the summary's count");
      // Summaries in between (a slow machine) add up to the same count.
      const more = refused.map((l) => /\(\+(\d+) more in the last/.exec(l)?.[1]).filter((x) => x);
      if (more.length > 0) {
        assert.equal(more.reduce((n, x) => n + Number(x), 1), m.errors, log);
      }
      assert.equal(log.split("\n").filter((l) => /Store .* is failing, writes/.test(l)).length, 1);
    } finally {
      done = true;
      await server.kill();
      await miner?.close();
    }
  });
});

Deno.test({
  name: "vbkpool server (PostgreSQL) never answers true while the database is gone, and recovers",
  ignore: POSTGRES_URL === undefined,
  async fn() {
    const db = await freshPostgresDatabase();
    const u = new URL(db.url);
    const proxy = new TcpProxy({ hostname: u.hostname, port: Number(u.port || 5432) });
    const via = new URL(db.url);
    via.hostname = "127.0.0.1";
    via.port = String(proxy.port);
    try {
      await withDir(async (dir) => {
        const server = spawnServer(serverEnv(via.toString(), 3), dir);
        let miner: LoadMiner | undefined;
        let done = false;
        try {
          const ports = await serverPorts(server);
          miner = await LoadMiner.connect(ports[0], `${A}.pg`);
          const m = miner;
          const load = m.run(() => done, 8);
          await waitUntil(() => m.acked.size > 0, "a share committed before the cut");
          proxy.cut();
          await waitUntil(() => m.errors > 0, "an error reply while the database is gone");
          proxy.restore();
          const before = m.acked.size;
          await waitUntil(
            () => m.acked.size > before,
            "a share accepted after the database came back",
            120_000,
          );
          done = true;
          await load;
          await m.close();
          assert.equal(await server.stop("SIGTERM"), 0, server.err);
          assert.deepEqual(missing(m.acked, await storedHashes(db.url)), []);
        } finally {
          done = true;
          await server.kill();
          await miner?.close();
        }
      });
    } finally {
      await proxy.close();
      await db.drop();
    }
  },
});

Deno.test({
  name: "two vbkpool servers on one PostgreSQL: every share and block lands once",
  ignore: POSTGRES_URL === undefined,
  async fn() {
    const db = await freshPostgresDatabase();
    const devnet = await startDevnet({ hostname: "127.0.0.1", port: 0, minDifficulty: 1000n });
    try {
      await withDir(async (dir) => {
        const servers = [1, 2].map((instance) =>
          spawnServer({
            ...serverEnv(db.url, instance),
            VBKPOOL_NODECORE_ENDPOINTS: `127.0.0.1:${devnet.addr.port}`,
            VBKPOOL_NODECORE_ADDRESS: ADDRESSES[3]!,
          }, dir)
        );
        const miners: LoadMiner[] = [];
        let done = false;
        try {
          const ports = await Promise.all(servers.map(serverPorts));
          for (const [i, p] of ports.entries()) {
            miners.push(await LoadMiner.connect(p[0], `${[A, B][i]}.m${i}`));
          }
          assert.notEqual(miners[0]!.extranonce >> 58n, miners[1]!.extranonce >> 58n);
          const load = Promise.all(miners.map((m) => m.run(() => done, 16)));
          // Both instances record shares, and a block is found through one of them (difficulty
          // 1 shares against a devnet at 1000: about one share in a thousand is a block).
          await waitUntil(
            () => miners.every((m) => m.acked.size > 0) && devnet.chain.height >= 1,
            "shares on both instances and a block",
            120_000,
          );
          done = true;
          await load;
          await Promise.all(miners.map((m) => m.close()));
          for (const s of servers) assert.equal(await s.stop("SIGTERM"), 0, s.err);
          const store = await openStore(db.url);
          try {
            const rows = await store.listShares({ limit: 1_000_000 });
            const hashes = rows.map((r) => bytesToHex(r.hash));
            assert.equal(new Set(hashes).size, hashes.length, "a share landed twice");
            const acked = miners.flatMap((m) => [...m.acked]);
            assert.equal(rows.length, acked.length, "rows and acknowledgements differ");
            assert.deepEqual(missing(acked, new Set(hashes)), []);
            assert.deepEqual(new Set(rows.map((r) => r.instance)), new Set([1, 2]));
            const blocks = await store.listBlocks({ limit: 1000 });
            assert.equal(new Set(blocks.map((b) => bytesToHex(b.hash))).size, blocks.length);
            assert.ok(blocks.length > 0, "no block found (devnet difficulty too high?)");
          } finally {
            await store.close();
          }
        } finally {
          done = true;
          for (const s of servers) await s.kill();
          await Promise.all(miners.map((m) => m.close()));
        }
      });
    } finally {
      await devnet.stop();
      await db.drop();
    }
  },
});
