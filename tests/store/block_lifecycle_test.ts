/**
 * Schema 5 on every backend: block candidates (`submitted`) and their reconciliation statuses,
 * guarded status changes, reason codes, SOLO shares outside PPLNS windows, the credit basis kept
 * with the credits; and the SQLite upgrade from schema 4.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore, type Store } from "../../store/mod.ts";
import { SQLITE_MIGRATIONS } from "../../store/_sqlite_schema.ts";
import { contractTest, type Fixture, warnIfNoPostgres } from "./_backends.ts";
import { sampleBlock, sampleShare } from "./_samples.ts";

warnIfNoPostgres();

const T0 = 1_700_000_040_000;

function contract(title: string, fn: (f: Fixture, store: Store) => Promise<void>): void {
  contractTest("Store", title, fn);
}

contract("keeps a candidate as submitted with its flags, then moves it on", async (_f, store) => {
  const candidate = sampleBlock({ height: 7, time: T0 });
  const first = await store.recordBlock({ ...candidate, status: "submitted", solo: true });
  assert.equal(first.inserted, true);
  assert.equal(first.block.status, "submitted");
  assert.equal(first.block.solo, true);
  assert.equal(first.block.source, "share");
  assert.equal(first.block.note, "");
  assert.equal(first.block.creditBasis, undefined);
  // Recording the same hash again (e.g. the accepted answer after the candidate) changes nothing.
  const again = await store.recordBlock(candidate);
  assert.equal(again.inserted, false);
  assert.equal(again.block.status, "submitted");

  const accepted = await store.updateBlock(candidate.hash, {
    status: "pending",
    ifStatus: ["submitted"],
    note: "",
  });
  assert.equal(accepted?.status, "pending");
  // A guarded update whose guard fails leaves the row alone and returns it as it is.
  const late = await store.updateBlock(candidate.hash, {
    status: "rejected",
    ifStatus: ["submitted"],
    note: "submit_rejected",
  });
  assert.equal(late?.status, "pending");
  assert.equal(late?.note, "");
  const noted = await store.updateBlock(candidate.hash, { note: "coinbase_not_pool" });
  assert.equal(noted?.note, "coinbase_not_pool");
  assert.equal(noted?.status, "pending");
});

contract("refuses free text where a reason code belongs", async (_f, store) => {
  const block = sampleBlock({ time: T0 });
  await assert.rejects(store.recordBlock({ ...block, note: "Error: ECONNREFUSED" }), RangeError);
  await store.recordBlock(block);
  await assert.rejects(store.updateBlock(block.hash, { note: "has spaces" }), RangeError);
  await assert.rejects(
    store.recordBlock({ ...sampleBlock(), status: "confirmed" as never }),
    RangeError,
  );
});

contract("lists blocks by several statuses and by height", async (_f, store) => {
  const a = sampleBlock({ height: 10, time: T0 });
  const b = sampleBlock({ height: 10, time: T0 + 1 });
  const c = sampleBlock({ height: 11, time: T0 + 2 });
  await store.recordBlock({ ...a, status: "submitted" });
  await store.recordBlock({ ...b, status: "submitted" });
  await store.recordBlock(c);
  await store.updateBlock(b.hash, { status: "rejected" });
  const open = await store.listBlocks({ status: ["submitted", "pending"] });
  assert.deepEqual(open.map((x) => x.height), [11, 10]);
  const atTen = await store.listBlocks({ height: 10 });
  assert.deepEqual(atTen.map((x) => x.status), ["rejected", "submitted"]);
  const rejected = await store.listBlocks({ status: "rejected", height: 10 });
  assert.equal(rejected.length, 1);
  await assert.rejects(store.listBlocks({ status: [] }), RangeError);
});

contract("keeps SOLO shares out of PPLNS windows", async (_f, store) => {
  const pplns = sampleShare({ time: T0, address: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX" });
  const solo = sampleShare({ time: T0 + 1, solo: true });
  await store.recordShare(pplns);
  await store.recordShare(solo);
  const listed = await store.listShares();
  assert.deepEqual(listed.map((s) => s.solo), [true, false]);
  const window = await store.payouts.windowShares(T0 + 10);
  assert.equal(window.length, 1);
  assert.equal(window[0]!.solo, false);
  assert.equal(window[0]!.time, T0);
});

contract("keeps the credit basis with the credits", async (_f, store) => {
  const block = sampleBlock({ time: T0 });
  await store.recordBlock(block);
  const basis = JSON.stringify({ scheme: "pplns", window: "2" });
  assert.equal(
    await store.payouts.creditBlock(block.hash, {
      reward: 100n,
      confirmations: 21,
      credits: [{ address: "V1", amount: 100n, reason: "share" }],
      basis,
    }),
    true,
  );
  const stored = await store.getBlock(block.hash);
  assert.equal(stored?.status, "confirmed");
  assert.equal(stored?.creditBasis, basis);
});

contract("credits only pending blocks: a submitted candidate is not credited", async (_f, s) => {
  const block = sampleBlock({ time: T0 });
  await s.recordBlock({ ...block, status: "submitted" });
  const credit = {
    reward: 100n,
    confirmations: 21,
    credits: [{ address: "V1", amount: 100n, reason: "share" as const }],
  };
  assert.equal(await s.payouts.creditBlock(block.hash, credit), false);
  assert.equal(await s.payouts.balance("V1"), 0n);
});

Deno.test("openSqliteStore() upgrades a schema-4 database and keeps its blocks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/pool.sqlite`;
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(`CREATE TABLE schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    for (const m of SQLITE_MIGRATIONS.filter((m) => m.version <= 4)) {
      for (const statement of m.statements) db.exec(statement);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, 0)").run(m.version, m.name);
    }
    const old = sampleBlock({ height: 42, time: T0 });
    db.prepare(
      `INSERT INTO blocks (hash, height, instance, address, worker, network_difficulty, reward,
        status, confirmations, effort, time, updated_at)
        VALUES (?, 42, 0, ?, 'rig', 1000, 5, 'confirmed', 21, 1.5, ?, ?)`,
    ).run(old.hash, old.address, T0, T0);
    db.close();

    const store = await openSqliteStore(path, { thread: false });
    try {
      const [block] = await store.listBlocks();
      assert.equal(block?.height, 42);
      assert.equal(block?.status, "confirmed");
      assert.equal(block?.reward, 5n);
      assert.equal(block?.effort, 1.5);
      assert.equal(block?.solo, false);
      assert.equal(block?.source, "share");
      assert.equal(block?.note, "");
      // The new statuses are allowed after the upgrade.
      const next = sampleBlock({ height: 43, time: T0 + 1 });
      await store.recordBlock({ ...next, status: "submitted" });
      assert.equal(
        (await store.updateBlock(next.hash, { status: "rejected" }))?.status,
        "rejected",
      );
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
