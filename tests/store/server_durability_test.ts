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
import { freePort, LoadMiner, spawnServer, waitReady } from "./_server_process.ts";
import { TcpProxy } from "./_tcp_proxy.ts";
import { ADDRESSES } from "../server/_pool.ts";

warnIfNoPostgres();

const A = ADDRESSES[0]!;
const B = ADDRESSES[1]!;

/** Server settings for a load test: a difficulty-1 port and a vardiff port, no rate limits. */
function serverEnv(store: string, ports: [number, number], instance: number) {
  return {
    VBKPOOL_STORE_URL: store,
    VBKPOOL_STRATUM_LISTEN: `127.0.0.1:${ports[0]} diff=1 min=1 vardiff=off,` +
      `127.0.0.1:${ports[1]} diff=1024 min=1`,
    VBKPOOL_STRATUM_INSTANCE_ID: String(instance),
    VBKPOOL_STRATUM_REQUESTS_PER_SECOND: "1000000",
    VBKPOOL_STRATUM_REQUEST_BURST: "1000000",
    VBKPOOL_STRATUM_BAN_ENABLED: "false",
    VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
    VBKPOOL_STORE_SQLITE_BUSY_TIMEOUT_MS: "100",
    VBKPOOL_STORE_PRUNE_INTERVAL_MINUTES: "0",
  };
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
  const ports: [number, number] = [freePort(), freePort()];
  const env = serverEnv(location, ports, 7);
  // Run 1: load on two miners, a vardiff miner asks for 4096, then kill -9 at a random moment.
  let server = spawnServer(env, dir);
  const extranonces: bigint[] = [];
  let acked: string[] = [];
  try {
    await waitReady(server, ports[1]);
    const vd = await LoadMiner.connect(ports[1], `${B}.vd`);
    await vd.call("mining.suggest_difficulty", ["4096"]);
    await vd.difficulty(4096n);
    const miners = await Promise.all([
      LoadMiner.connect(ports[0], `${A}.one`),
      LoadMiner.connect(ports[0], `${A}.two`),
    ]);
    extranonces.push(vd.extranonce, ...miners.map((m) => m.extranonce));
    let killed = false;
    const load = Promise.all(miners.map((m) => m.run(() => killed)));
    await new Promise((r) => setTimeout(r, 700 + Math.random() * 800));
    await server.kill();
    killed = true;
    await load;
    acked = miners.flatMap((m) => [...m.acked]);
    assert.ok(acked.length > 100, `only ${acked.length} shares acknowledged before the kill`);
    await Promise.all([...miners, vd].map((m) => m.close()));
  } finally {
    await server.kill();
  }
  // Every share answered true is in the database.
  const stored = await storedHashes(location);
  assert.deepEqual(missing(acked, stored), [], "acknowledged shares lost by kill -9");
  // Run 2: the restarted server carries on with fresh extranonces and the worker's difficulty.
  server = spawnServer(env, dir);
  try {
    await waitReady(server, ports[1]);
    const again = await LoadMiner.connect(ports[0], `${A}.one`);
    assert.ok(!extranonces.includes(again.extranonce), "an extranonce was handed out twice");
    assert.ok(again.extranonce > extranonces.reduce((a, b) => (a > b ? a : b)));
    assert.equal(again.extranonce >> 58n, 7n);
    const vd = await LoadMiner.connect(ports[1], `${B}.vd`);
    await vd.difficulty(4096n);
    let done = false;
    const load = again.run(() => done);
    await new Promise((r) => setTimeout(r, 300));
    done = true;
    await load;
    assert.ok(again.acked.size > 0, "the restarted server accepted nothing");
    await Promise.all([again.close(), vd.close()]);
    assert.equal(await server.stop(), 0);
    assert.deepEqual(missing(again.acked, await storedHashes(location)), []);
  } finally {
    await server.kill();
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
    const closed = freePort();
    for (
      const [url, expect] of [
        [
          `postgres://pool:secret@127.0.0.1:${closed}/pool`,
          /Cannot open store postgres:\/\/pool:\*\*\*@/,
        ],
        [`${dir}/no/such/dir/pool.sqlite`, /Cannot open store .*no\/such\/dir\/pool\.sqlite/],
      ] as const
    ) {
      const server = spawnServer(serverEnv(url, [freePort(), freePort()], 1), dir);
      const code = await server.exited;
      assert.equal(code, 1, server.log());
      assert.match(server.log(), expect);
      assert.ok(!server.log().includes("secret"));
    }
  });
});

Deno.test("vbkpool server (SQLite) never answers true while its database is locked", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/pool.sqlite`;
    const ports: [number, number] = [freePort(), freePort()];
    const server = spawnServer(serverEnv(path, ports, 2), dir);
    try {
      await waitReady(server, ports[0]);
      const miner = await LoadMiner.connect(ports[0], `${A}.lock`);
      let done = false;
      const load = miner.run(() => done, 8);
      await new Promise((r) => setTimeout(r, 300));
      const lock = new DatabaseSync(path);
      lock.exec("BEGIN EXCLUSIVE");
      await new Promise((r) => setTimeout(r, 700));
      lock.exec("ROLLBACK");
      lock.close();
      const errorsDuringLock = miner.errors;
      await new Promise((r) => setTimeout(r, 1500));
      done = true;
      await load;
      await miner.close();
      assert.ok(errorsDuringLock > 0, "no error replies while the database was locked");
      assert.ok(miner.acked.size > 0);
      assert.equal(await server.stop(), 0);
      assert.deepEqual(missing(miner.acked, await storedHashes(path)), []);
    } finally {
      await server.kill();
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
        const ports: [number, number] = [freePort(), freePort()];
        const server = spawnServer(serverEnv(via.toString(), ports, 3), dir);
        try {
          await waitReady(server, ports[0]);
          const miner = await LoadMiner.connect(ports[0], `${A}.pg`);
          let done = false;
          const load = miner.run(() => done, 8);
          await new Promise((r) => setTimeout(r, 300));
          proxy.cut();
          await new Promise((r) => setTimeout(r, 800));
          proxy.restore();
          const errors = miner.errors;
          const before = miner.acked.size;
          await new Promise((r) => setTimeout(r, 2500));
          done = true;
          await load;
          await miner.close();
          assert.ok(errors > 0, "no error replies while the database was gone");
          assert.ok(miner.acked.size > before, "no shares accepted after the database came back");
          assert.equal(await server.stop(), 0);
          assert.deepEqual(missing(miner.acked, await storedHashes(db.url)), []);
        } finally {
          await server.kill();
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
        const servers = [1, 2].map((instance) => {
          const ports: [number, number] = [freePort(), freePort()];
          const server = spawnServer({
            ...serverEnv(db.url, ports, instance),
            VBKPOOL_NODECORE_ENDPOINTS: `127.0.0.1:${devnet.addr.port}`,
            VBKPOOL_NODECORE_ADDRESS: ADDRESSES[3]!,
          }, dir);
          return { server, ports };
        });
        try {
          await Promise.all(servers.map((s) => waitReady(s.server, s.ports[0])));
          const miners = await Promise.all(
            servers.map((s, i) => LoadMiner.connect(s.ports[0], `${[A, B][i]}.m${i}`)),
          );
          assert.notEqual(miners[0]!.extranonce >> 58n, miners[1]!.extranonce >> 58n);
          let done = false;
          const load = Promise.all(miners.map((m) => m.run(() => done, 16)));
          await new Promise((r) => setTimeout(r, 2500));
          done = true;
          await load;
          await Promise.all(miners.map((m) => m.close()));
          for (const s of servers) assert.equal(await s.server.stop(), 0);
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
          for (const s of servers) await s.server.kill();
        }
      });
    } finally {
      await devnet.stop();
      await db.drop();
    }
  },
});
