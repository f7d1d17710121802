/**
 * A SQLite database whose files are removed or replaced under a running store: the identity
 * check (device and inode of the file, its -wal and its -shm), and the store that stops taking
 * writes for good (no recovery onto another file), idle or busy, with either writer.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { FileIdentity, StoreFileLostError } from "../../store/_file_identity.ts";
import { openSqliteStore, type Store, StoreUnavailableError } from "../../store/mod.ts";
import { sampleShare } from "./_samples.ts";
import { waitUntil } from "../_process.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-identity-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A small SQLite database at `path` that is not a vbkpool store. */
function otherDatabase(path: string): void {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
  db.close();
}

/** Collect the store's log records while `fn` runs. */
async function withStoreLog(fn: (records: LogRecord[]) => Promise<void>): Promise<void> {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["vbkpool", "store"], sinks: ["memory"], lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    await fn(records);
  } finally {
    resetSync();
  }
}

function text(records: readonly LogRecord[]): string[] {
  return records.map((r) => r.message.map(String).join(""));
}

Deno.test("FileIdentity.check() notices a removed or replaced file, and a -wal that appears later", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/pool.sqlite`;
    await Deno.writeTextFile(path, "");
    const identity = FileIdentity.take(path);
    identity.check();
    // A -wal file that appears after the store opened is learned, then watched.
    await Deno.writeTextFile(`${path}-wal`, "");
    identity.check();
    await Deno.remove(`${path}-wal`);
    assert.throws(() => identity.check(), StoreFileLostError, "its -wal file was removed");
    await Deno.writeTextFile(`${path}-wal`, "");
    // Replaced: same name, another file.
    const again = FileIdentity.take(path);
    await Deno.writeTextFile(`${dir}/other`, "");
    await Deno.rename(`${dir}/other`, path);
    assert.throws(() => again.check(), StoreFileLostError, "the file was replaced by another");
    await Deno.remove(path);
    assert.throws(() => again.check(), StoreFileLostError, "the file was removed");
  });
});

for (const thread of [true, false]) {
  const mode = thread ? "writer thread" : "inline writer";

  Deno.test(`openSqliteStore() (${mode}) refuses writes for good once its files are deleted, even when a new file appears`, async () => {
    await withDir(async (dir) => {
      const path = `${dir}/pool.sqlite`;
      await withStoreLog(async (records) => {
        const store = await openSqliteStore(path, { thread, probeIntervalMs: 20 });
        try {
          await store.recordShare(sampleShare());
          for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix);
          // Idle: the watch notices without any write.
          await waitUntil(() => !store.stats().healthy, "the loss noticed", 10_000);
          await assert.rejects(store.recordShare(sampleShare()), (err: Error) => {
            assert.ok(err instanceof StoreUnavailableError);
            assert.match(err.message, /pool\.sqlite: the file was removed while the pool ran/);
            return true;
          });
          // Another database at the same path is not the store coming back.
          otherDatabase(path);
          const probes = store.stats().probes ?? 0;
          await waitUntil(
            () => (store.stats().probes ?? 0) >= probes + 3,
            "three more probes",
            10_000,
          );
          assert.equal(store.stats().healthy, false);
          await assert.rejects(store.recordShare(sampleShare()), StoreUnavailableError);
          const lines = text(records);
          assert.equal(
            lines.filter((l) => /is LOST: .*pool\.sqlite: the file was removed/.test(l)).length,
            1,
          );
          assert.ok(lines.some((l) => /restore them from a backup, then start it/.test(l)));
          assert.ok(
            !lines.some((l) => /is failing, writes|is still failing|accepting writes/.test(l)),
          );
        } finally {
          await store.close();
        }
      });
    });
  });

  Deno.test(`openSqliteStore() (${mode}) notices a replaced file on its next commit and answers no write true`, async () => {
    await withDir(async (dir) => {
      const path = `${dir}/pool.sqlite`;
      // A long probe interval: the commit path's own check finds it, not the idle watch.
      const store: Store = await openSqliteStore(path, { thread, probeIntervalMs: 60_000 });
      try {
        await store.recordShare(sampleShare());
        otherDatabase(`${dir}/other.sqlite`);
        await Deno.rename(`${dir}/other.sqlite`, path);
        // Writes may still land in the first second (the check runs at most once a second);
        // from the first refusal on, every write is refused.
        let refused: Error | undefined;
        await waitUntil(
          async () => {
            try {
              await store.recordShare(sampleShare());
            } catch (err) {
              refused = err as Error;
            }
            return refused !== undefined;
          },
          "a refused write",
          10_000,
        );
        assert.ok(refused instanceof StoreUnavailableError);
        assert.match(refused.message, /pool\.sqlite: the file was replaced by another/);
        assert.equal(store.stats().healthy, false);
        for (let i = 0; i < 20; i++) {
          await assert.rejects(store.recordShare(sampleShare()), StoreUnavailableError);
        }
      } finally {
        await store.close();
      }
    });
  });
}
