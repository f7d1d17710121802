import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore, type Store, StoreUnavailableError } from "../../store/mod.ts";
import { crashAndCount } from "./_crash.ts";
import { sampleShare } from "./_samples.ts";
import { waitUntil } from "../_process.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-sqlite-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function until(condition: () => boolean): Promise<void> {
  await waitUntil(condition, "the condition", 60_000);
}

for (const thread of [true, false]) {
  const mode = thread ? "writer thread" : "inline writer";
  Deno.test(`openSqliteStore() (${mode}) refuses writes while another process holds the lock, then recovers`, async () => {
    await withDir(async (dir) => {
      const path = `${dir}/pool.sqlite`;
      const store = await openSqliteStore(path, {
        thread,
        busyTimeoutMs: 100,
        probeIntervalMs: 20,
      });
      try {
        assert.equal(await store.recordShare(sampleShare()), true);
        const other = new DatabaseSync(path);
        other.exec("BEGIN EXCLUSIVE");
        try {
          await assert.rejects(store.recordShare(sampleShare()), (err: Error) => {
            assert.ok(err instanceof StoreUnavailableError);
            assert.match(err.message, /^Cannot commit 1 operation\(s\) to .*: database is locked$/);
            return true;
          });
          assert.equal(store.stats().healthy, false);
          // While failing, writes are refused at once (no commit attempted).
          const batches = store.stats().batches;
          await assert.rejects(
            store.recordShare(sampleShare()),
            /is failing \(database is locked\)/,
          );
          assert.equal(store.stats().batches, batches);
          // Reads still work (WAL readers are not blocked by a writer).
          assert.equal(await store.countShares(), 1);
        } finally {
          other.exec("ROLLBACK");
          other.close();
        }
        await until(() => store.stats().healthy);
        assert.equal(await store.recordShare(sampleShare()), true);
        assert.equal(await store.countShares(), 2);
      } finally {
        await store.close();
      }
    });
  });
}

Deno.test("openSqliteStore() uses WAL and the chosen synchronous level", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/pool.sqlite`;
    const store = await openSqliteStore(path, { thread: false, synchronous: "normal" });
    await store.close();
    const db = new DatabaseSync(path);
    try {
      assert.deepEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
    } finally {
      db.close();
    }
  });
});

Deno.test("openSqliteStore() fails clearly on a bad path or file", async () => {
  await withDir(async (dir) => {
    await assert.rejects(openSqliteStore(`${dir}/missing/pool.sqlite`), (err: Error) => {
      assert.ok(err instanceof StoreUnavailableError);
      assert.match(err.message, /^Cannot open store .*missing\/pool\.sqlite: /);
      return true;
    });
    await Deno.writeTextFile(`${dir}/junk.sqlite`, "this is not a database, ".repeat(100));
    await assert.rejects(
      openSqliteStore(`${dir}/junk.sqlite`, { thread: false }),
      /Cannot open store .*junk\.sqlite: file is not a database/,
    );
    await assert.rejects(openSqliteStore(":memory:"), TypeError);
    await assert.rejects(openSqliteStore(""), TypeError);
    await assert.rejects(openSqliteStore(5 as never), TypeError);
    await assert.rejects(
      openSqliteStore(`${dir}/a.sqlite`, { synchronous: "off" as never }),
      RangeError,
    );
    await assert.rejects(openSqliteStore(`${dir}/b.sqlite`, { batchMaxRows: 0 }), RangeError);
  });
});

Deno.test("openSqliteStore() lets two stores (server and payouts) share one file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/pool.sqlite`;
    const stores: Store[] = await Promise.all([openSqliteStore(path), openSqliteStore(path)]);
    try {
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) => stores[i % 2]!.recordShare(sampleShare())),
      );
      assert.ok(results.every((r) => r));
      assert.equal(await stores[0]!.countShares(), 400);
      const reserved = await Promise.all(
        Array.from(
          { length: 40 },
          (_, i) => stores[i % 2]!.reserveExtranonces(1, { count: 3n, limit: 1000n }),
        ),
      );
      const starts = reserved.map((r) => r.start).sort((a, b) => (a < b ? -1 : 1));
      assert.deepEqual(starts, Array.from({ length: 40 }, (_, i) => BigInt(i * 3)));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

Deno.test("openSqliteStore() keeps every acknowledged share when the process is killed", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/pool.sqlite`;
    const { acked, stored } = await crashAndCount(path);
    assert.ok(stored >= acked);
  });
});
