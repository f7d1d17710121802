import assert from "node:assert/strict";
import { openPostgresStore, type Store, StoreUnavailableError } from "../../store/mod.ts";
import { freshPostgresDatabase, POSTGRES_URL, warnIfNoPostgres } from "./_backends.ts";
import { crashAndCount } from "./_crash.ts";
import { sampleBlock, sampleShare } from "./_samples.ts";
import { TcpProxy } from "./_tcp_proxy.ts";
import { alertEvents } from "../../log/mod.ts";
import { waitUntil } from "../_process.ts";

warnIfNoPostgres();
const ignore = POSTGRES_URL === undefined;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function until(condition: () => boolean, what = "condition"): Promise<void> {
  await waitUntil(condition, what, 60_000);
}

async function withDatabase(fn: (url: string) => Promise<void>): Promise<void> {
  const db = await freshPostgresDatabase();
  try {
    await fn(db.url);
  } finally {
    await db.drop();
  }
}

/** The database URL, rewritten to go through a proxy. */
function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(proxy.port);
  return u.toString();
}

function target(url: string): { hostname: string; port: number } {
  const u = new URL(url);
  return { hostname: u.hostname, port: Number(u.port || 5432) };
}

Deno.test("openPostgresStore() fails clearly when the server is unreachable, without the password", async () => {
  const port = 1; // tcpmux: nothing listens there, the connection is refused at once
  await assert.rejects(
    openPostgresStore(`postgres://pool:secret@127.0.0.1:${port}/pool`, { connectTimeoutS: 2 }),
    (err: Error) => {
      assert.ok(err instanceof StoreUnavailableError);
      assert.match(
        err.message,
        new RegExp(`^Cannot open store postgres://pool:\\*\\*\\*@127\\.0\\.0\\.1:${port}/pool: `),
      );
      assert.ok(!err.message.includes("secret"));
      return true;
    },
  );
  await assert.rejects(openPostgresStore("mysql://x"), TypeError);
  await assert.rejects(openPostgresStore("postgres://x/y", { readers: 0 }), RangeError);
});

Deno.test({
  name: "openPostgresStore() refuses shares while the database is gone and recovers after",
  ignore,
  async fn() {
    await withDatabase(async (url) => {
      const proxy = new TcpProxy(target(url));
      const store = await openPostgresStore(viaProxy(url, proxy), {
        probeIntervalMs: 50,
        connectTimeoutS: 1,
      });
      const alerts: string[] = [];
      const unsubscribe = alertEvents.subscribe((e) => {
        if (e.type.startsWith("store_")) alerts.push(e.type);
      });
      try {
        const acked: string[] = [];
        let refused = 0;
        const record = async () => {
          const share = sampleShare();
          try {
            await store.recordShare(share);
            acked.push(hex(share.hash));
          } catch (err) {
            assert.ok(err instanceof StoreUnavailableError, String(err));
            refused++;
          }
        };
        // A steady stream of shares; the database disappears in the middle of it. Each phase
        // lasts until what it is about happened (however slow the machine).
        let streaming = true;
        const stream = (async () => {
          const pending: Promise<void>[] = [];
          while (streaming) {
            pending.push(record());
            await new Promise((r) => setTimeout(r, 2)); // pacing: a share every 2 ms
          }
          await Promise.all(pending);
        })();
        try {
          await until(() => acked.length > 0, "a share acknowledged before the outage");
          proxy.cut();
          await until(() => !store.stats().healthy, "the outage noticed");
          await until(() => refused > 0, "a share refused during the outage");
          proxy.restore();
          await until(() => store.stats().healthy, "the recovery");
          const atRecovery = acked.length;
          await until(() => acked.length > atRecovery, "a share acknowledged after recovery");
        } finally {
          streaming = false;
          await stream;
        }
        // No false acknowledgement: every share answered true is in the database.
        const rows = await store.listShares({ limit: 100_000 });
        const stored = new Set(rows.map((r) => hex(r.hash)));
        assert.deepEqual(acked.filter((h) => !stored.has(h)), []);
        // The operator is alerted once for the outage and once for the recovery.
        assert.deepEqual(alerts, ["store_failing", "store_recovered"]);
      } finally {
        unsubscribe();
        await store.close();
        await proxy.close();
      }
    });
  },
});

Deno.test({
  name: "openPostgresStore() fails a batch on a hung connection and recovers",
  ignore,
  async fn() {
    await withDatabase(async (url) => {
      const proxy = new TcpProxy(target(url));
      const store = await openPostgresStore(viaProxy(url, proxy), {
        commitTimeoutMs: 300,
        probeIntervalMs: 50,
        connectTimeoutS: 1,
      });
      try {
        await store.recordShare(sampleShare());
        proxy.hang();
        await assert.rejects(store.recordShare(sampleShare()), /commit took longer than 300 ms/);
        assert.equal(store.stats().healthy, false);
        proxy.restore();
        await until(() => store.stats().healthy);
        await store.recordShare(sampleShare());
      } finally {
        await store.close();
        await proxy.close();
      }
    });
  },
});

Deno.test({
  name: "openPostgresStore() lets two pool instances share one database without collisions",
  ignore,
  async fn() {
    await withDatabase(async (url) => {
      // Both start at once on an empty database: migrations are serialised.
      const [a, b]: [Store, Store] = await Promise.all([
        openPostgresStore(url),
        openPostgresStore(url),
      ]);
      try {
        const work = (store: Store, instance: number) =>
          Promise.all([
            ...Array.from(
              { length: 1500 },
              (_, i) => store.recordShare(sampleShare({ instance, time: 1_700_000_000_000 + i })),
            ),
            ...Array.from(
              { length: 10 },
              (_, i) =>
                store.recordBlock(
                  sampleBlock({ instance, height: i, time: 1_700_000_000_000 + i }),
                ),
            ),
            ...Array.from({ length: 30 }, () => store.setWorkerDifficulty("Vshared", "rig", 64n)),
          ]);
        await Promise.all([work(a, 1), work(b, 2)]);
        assert.equal(await a.countShares(), 3000);
        assert.equal((await b.listBlocks({ limit: 100 })).length, 20);
        // Extranonce reservations of one instance id from two processes never overlap.
        const ranges = await Promise.all(
          Array.from(
            { length: 60 },
            (_, i) => [a, b][i % 2]!.reserveExtranonces(5, { count: 7n, limit: 1n << 50n }),
          ),
        );
        const starts = ranges.map((r) => r.start).sort((x, y) => (x < y ? -1 : 1));
        assert.deepEqual(starts, Array.from({ length: 60 }, (_, i) => BigInt(i * 7)));
        // Round work is pool-wide: a block on one instance counts the other's shares too.
        await Promise.all([
          a.recordShare(sampleShare({ instance: 1, difficulty: 300_000n })),
          b.recordShare(sampleShare({ instance: 2, difficulty: 200_000n })),
        ]);
        const found = await a.recordBlock(sampleBlock({ instance: 1 }));
        assert.equal(found.block.effort, 0.5);
        // The same block reported by both lands once.
        const twin = sampleBlock({ instance: 2 });
        const both = await Promise.all([a.recordBlock(twin), b.recordBlock(twin)]);
        assert.deepEqual(both.map((r) => r.inserted).sort(), [false, true]);
        assert.equal(both[0]!.block.id, both[1]!.block.id);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  },
});

Deno.test({
  name: "openPostgresStore() keeps every acknowledged share when the process is killed",
  ignore,
  async fn() {
    await withDatabase(async (url) => {
      const { acked, stored } = await crashAndCount(url);
      assert.ok(stored >= acked);
    });
  },
});
