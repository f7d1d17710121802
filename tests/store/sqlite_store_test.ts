import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore, type Store, StoreUnavailableError } from "../../store/mod.ts";
import { crashAndCount } from "./_crash.ts";
import { sampleShare } from "./_samples.ts";
import { SQLITE_MIGRATIONS } from "../../store/_sqlite_schema.ts";
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
        await store.recordShare(sampleShare());
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
        await store.recordShare(sampleShare());
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
      await Promise.all(
        Array.from({ length: 400 }, (_, i) => stores[i % 2]!.recordShare(sampleShare())),
      );
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

Deno.test("openSqliteStore() migrates a version-2 database and keeps its shares", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/pool.sqlite`;
    // A database as version 2 left it: migrations 1–2, hash UNIQUE, one share stored.
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`CREATE TABLE schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 2)) {
      for (const statement of m.statements) db.exec(statement);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, 0)").run(m.version, m.name);
    }
    const share = sampleShare({ time: 1_700_000_000_000 });
    db.prepare(
      `INSERT INTO shares (instance, address, worker, job_id, difficulty, network_difficulty,
        height, time, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(0, share.address, share.worker, share.jobId, 64, 1000, 5, share.time, share.hash);
    db.close();

    const store = await openSqliteStore(path, { thread: false });
    try {
      assert.equal(await store.countShares(), 1);
      await store.recordShare(share); // the unique index is gone
      assert.equal(await store.countShares(), 2);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    const indexes = check.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'shares'")
      .all().map((r) => r.name);
    check.close();
    assert.deepEqual(indexes.sort(), ["shares", "shares_time"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
