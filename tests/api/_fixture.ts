/**
 * Test helper for the API: a pool on loopback whose shares go to a SQLite store, live stats, a
 * settable upstream status, and a scripted miner that mines real shares (WASM kernel) on a
 * made-up template.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { LiveStats } from "../../api/live_stats.ts";
import { PoolData } from "../../api/pool_data.ts";
import type { BlockSubmitter, Pool } from "../../server/pool.ts";
import { StoreShareRecorder } from "../../server/store_share_recorder.ts";
import type { UpstreamStatus } from "../../server/upstream.ts";
import { openStore, type OpenStoreOptions, type Store } from "../../store/mod.ts";
import {
  ADDRESSES,
  freshTemplate,
  hex16,
  hex8,
  mine,
  startPool,
  testPort,
} from "../server/_pool.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";

/** Two valid addresses. */
export const ADDRESS = ADDRESSES[0]!;
export const OTHER_ADDRESS = ADDRESSES[1]!;

/** A pool, its store and the API data over them. */
export interface ApiFixture {
  pool: Pool;
  store: Store;
  stats: LiveStats;
  data: PoolData;
  /** Change what the upstream reports. */
  upstream: UpstreamStatus;
  port: number;
  /** The SQLite file behind `store`. */
  storePath: string;
  close(): Promise<void>;
}

/** Options for {@linkcode startFixture}. */
export interface FixtureOptions {
  /** Where the pool submits blocks. @default accept every block */
  upstream?: BlockSubmitter;
  /** Store settings (the store is always SQLite with an inline writer). */
  store?: OpenStoreOptions;
}

/** Start the fixture (port difficulty 16, vardiff off, one job). */
export async function startFixture(options: FixtureOptions = {}): Promise<ApiFixture> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-api-" });
  const storePath = `${dir}/pool.sqlite`;
  const store = await openStore(storePath, { ...options.store, thread: false });
  const { pool, port } = startPool({
    ports: [testPort({ difficulty: 16n, minDifficulty: 1n, vardiff: false })],
    recorder: new StoreShareRecorder(store, { instance: 0 }),
    ...(options.upstream === undefined ? {} : { upstream: options.upstream }),
  });
  pool.addTemplate(freshTemplate(1));
  const stats = new LiveStats(pool.events);
  const fixture: ApiFixture = {
    pool,
    store,
    stats,
    upstream: { state: "ready", endpoint: "127.0.0.1:8501", since: 1000, reconnects: 2 },
    data: undefined as unknown as PoolData,
    port: port(),
    storePath,
    async close() {
      stats.close();
      await pool.stop();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
  fixture.data = new PoolData({ pool, store, upstream: () => fixture.upstream, stats });
  return fixture;
}

/**
 * Make the store's commits fail with `message`, a real SQLite error raised by a trigger on the
 * shares table, and fail one: the store turns unhealthy with that message as its last error.
 * Open the fixture with a long `probeIntervalMs` so it stays unhealthy (its probe succeeds).
 */
export async function breakStore(f: ApiFixture, message: string): Promise<void> {
  const db = new DatabaseSync(f.storePath);
  try {
    const text = message.replaceAll("'", "''");
    db.exec(`CREATE TRIGGER fail_shares BEFORE INSERT ON shares BEGIN
      SELECT RAISE(ABORT, '${text}'); END`);
  } finally {
    db.close();
  }
  const stored = await f.store.recordShare({
    instance: 0,
    address: ADDRESS,
    worker: "",
    jobId: "x",
    difficulty: 1n,
    networkDifficulty: 1000n,
    height: 1,
    time: Date.now(),
    hash: new Uint8Array(24).fill(7),
  }).then(() => true, () => false);
  const stats = f.store.stats();
  if (stored || stats.healthy || stats.lastError !== message) {
    throw new Error(`Cannot break the store: ${JSON.stringify(stats)}`);
  }
}

/** A connected, authorized miner. */
export interface Miner {
  client: TestClient;
  worker: string;
  extranonce: bigint;
  /** Submit `n` valid shares on the newest job; resolves with the results. */
  submit(n: number): Promise<unknown[]>;
  /** Submit a share with a bad nonce (rejected low_difficulty, or another reason). */
  submitBad(): Promise<unknown>;
  close(): Promise<void>;
}

/** Connect a miner to the fixture's port. */
export async function connectMiner(port: number, worker: string): Promise<Miner> {
  const client = await TestClient.connect(port);
  const { extranonce } = await subscribeAndAuthorize(client, worker);
  await client.notification("mining.notify");
  let nextNonce = 0;
  const latest = () => {
    const notes = client.lines.filter((l) => l.json?.method === "mining.notify");
    return notes.at(-1)!.json.params as unknown[];
  };
  const ntime = Math.floor(Date.now() / 1000);
  return {
    client,
    worker,
    extranonce,
    async submit(n: number) {
      const params = latest();
      const nonces = mine(params, extranonce, { ntime, difficulty: 16n, startNonce: nextNonce })
        .slice(0, n);
      nextNonce = (nonces.at(-1) ?? nextNonce) + 1;
      const results = [];
      for (const nonce of nonces) {
        const reply = await client.call("mining.submit", [
          worker,
          params[0],
          hex16(extranonce),
          hex8(ntime),
          hex8(nonce),
        ]);
        results.push(reply.json.result ?? reply.json.error);
      }
      return results;
    },
    async submitBad() {
      const reply = await client.call("mining.submit", [
        worker,
        "no-such-job",
        hex16(extranonce),
        hex8(ntime),
        hex8(1),
      ]);
      return reply.json.error;
    },
    close: () => client.close(),
  };
}
