/**
 * The whole-table walks (`store.scan`) and the read-only snapshot store, run against SQLite
 * (writer thread and inline) and PostgreSQL (when VBKPOOL_TEST_POSTGRES_URL is set).
 */
import assert from "node:assert/strict";
import type { Balance, BalanceChange, Block, Payment, Store } from "../../store/mod.ts";
import { BACKENDS, contractTest, type Fixture, warnIfNoPostgres } from "./_backends.ts";
import { sampleBlock, sampleShare } from "./_samples.ts";

warnIfNoPostgres();

const A = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const B = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
const C = "VCea32PtTGh7qDEXp9KFh1xGx9USvh";
const T0 = 1_700_000_040_000;
const OWNER = "test-payer";

function contract(title: string, fn: (f: Fixture, store: Store) => Promise<void>): void {
  contractTest("StoreScan", title, fn);
}

/** Walk every page of a scan, `limit` rows at a time. */
async function walk<T, K>(
  page: (after: K | undefined) => Promise<T[]>,
  key: (row: T) => K,
): Promise<T[]> {
  const out: T[] = [];
  let after: K | undefined;
  for (let i = 0; i < 1000; i++) {
    const rows = await page(after);
    if (rows.length === 0) return out;
    out.push(...rows);
    after = key(rows.at(-1)!);
  }
  throw new Error("the walk did not end");
}

/** Blocks (three), credits, a payment and a failed one. */
async function history(store: Store): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const { block } = await store.recordBlock(sampleBlock({ height: 10 + i, time: T0 + i }));
    const credits = [
      { address: A, amount: 600n + BigInt(i), reason: "share" as const },
      { address: B, amount: 400n, reason: "share" as const },
      { address: C, amount: 10n, reason: "fee" as const },
    ];
    const reward = credits.reduce((s, c) => s + c.amount, 0n);
    assert.ok(await store.payouts.creditBlock(block.hash, { reward, confirmations: 3, credits }));
  }
  assert.ok(await store.payouts.acquireLock(OWNER, { ttlMs: 60_000 }));
  const paid = await store.payouts.createPayment(OWNER, {
    items: [{ address: B, amount: 500n }, { address: A, amount: 700n }],
    startHeight: 12,
  });
  await store.payouts.markPaymentSent(OWNER, paid.id, ["ab12"]);
  const failed = await store.payouts.createPayment(OWNER, {
    items: [{ address: C, amount: 30n }],
    startHeight: 12,
  });
  await store.payouts.failPayment(OWNER, failed.id, "refused");
}

contract("walks blocks, balance changes, balances and payments in pages", async (_f, store) => {
  await history(store);
  const blocks = await walk<Block, bigint>(
    (after) => store.scan.blocks({ ...(after === undefined ? {} : { after }), limit: 2 }),
    (b) => b.id,
  );
  assert.deepEqual(blocks.map((b) => b.height), [10, 11, 12]);
  assert.ok(blocks.every((b) => b.status === "confirmed"));
  const changes = await walk<BalanceChange, bigint>(
    (after) => store.scan.balanceChanges({ ...(after === undefined ? {} : { after }), limit: 4 }),
    (c) => c.id,
  );
  assert.equal(changes.length, 9 + 2 + 2);
  assert.ok(changes.every((c, i) => i === 0 || c.id > changes[i - 1]!.id), "oldest first");
  assert.deepEqual(
    changes.slice(9).map((c) => `${c.reason} ${c.amount}`).sort(),
    ["payment -30", "payment -500", "payment -700", "payment_failed 30"],
  );
  const balances = await walk<Balance, string>(
    (after) => store.scan.balances({ ...(after === undefined ? {} : { after }), limit: 1 }),
    (b) => b.address,
  );
  assert.deepEqual(balances.map((b) => [b.address, b.amount]), [
    [A, 600n + 601n + 602n - 700n],
    [B, 1200n - 500n],
    [C, 30n],
  ]);
  const payments = await walk<Payment, bigint>(
    (after) => store.scan.payments({ ...(after === undefined ? {} : { after }), limit: 1 }),
    (p) => p.id,
  );
  assert.deepEqual(payments.map((p) => [p.status, p.txIds, p.items.length]), [
    ["sent", ["AB12"], 2],
    ["failed", [], 1],
  ]);
  assert.deepEqual(payments[0]!.items, [{ address: A, amount: 700n }, {
    address: B,
    amount: 500n,
  }]);
});

contract("finds share hashes stored twice, in a time range", async (_f, store) => {
  const once = sampleShare({ time: T0 });
  const twice = sampleShare({ time: T0 + 1, address: B });
  const thrice = sampleShare({ time: T0 + 2 });
  for (const s of [once, twice, thrice, { ...twice, time: T0 + 3 }, thrice, thrice]) {
    await store.recordShare(s);
  }
  const all = await store.scan.duplicateShares();
  assert.equal(all.shares, 6);
  assert.equal(all.hashes, 2);
  assert.deepEqual(all.duplicates.map((d) => [d.hash, d.count, d.address, d.time]), [
    [twice.hash, 2, B, T0 + 1],
    [thrice.hash, 3, A, T0 + 2],
  ]);
  assert.ok(all.duplicates[0]!.firstId < all.duplicates[0]!.lastId);
  const first = await store.scan.duplicateShares({ limit: 1 });
  assert.equal(first.hashes, 2, "the count covers every duplicated hash");
  assert.equal(first.duplicates.length, 1);
  const late = await store.scan.duplicateShares({ since: T0 + 2 });
  assert.deepEqual([late.shares, late.hashes], [4, 1]);
  assert.equal((await store.scan.duplicateShares({ since: T0 + 10 })).hashes, 0);
});

contract("refuses malformed pages", async (_f, store) => {
  await assert.rejects(store.scan.blocks({ after: -1n }), RangeError);
  await assert.rejects(store.scan.balanceChanges({ limit: 0 }), RangeError);
  await assert.rejects(store.scan.payments({ after: 1 as unknown as bigint }), TypeError);
  await assert.rejects(store.scan.balances({ after: 5 as unknown as string }), TypeError);
  await assert.rejects(store.scan.duplicateShares({ since: -1 }), RangeError);
});

contract("opens read-only on one snapshot and refuses writes", async (f, store) => {
  await history(store);
  const snapshot = await f.open({ readOnly: true });
  try {
    assert.equal(snapshot.readOnly, true);
    assert.equal(store.readOnly, false);
    // Written after the snapshot was taken: not seen by it.
    await store.recordBlock(sampleBlock({ height: 99 }));
    await store.payouts.setPaymentThreshold(A, 5n);
    await store.flush();
    assert.equal((await store.listBlocks()).length, 4);
    assert.equal((await snapshot.listBlocks()).length, 3);
    assert.equal((await snapshot.scan.blocks()).length, 3);
    const [a] = await snapshot.scan.balances({ limit: 1 });
    assert.equal(a!.threshold, undefined);
    await assert.rejects(snapshot.recordShare(sampleShare()), /open read-only/);
    await assert.rejects(snapshot.payouts.acquireLock("x", { ttlMs: 10 }), /open read-only/);
  } finally {
    await snapshot.close();
  }
  assert.equal((await store.listBlocks()).length, 4, "the writer is unaffected");
});

for (const backend of BACKENDS) {
  Deno.test({
    name:
      `StoreScan (${backend.name}) a read-only store needs the current schema and creates nothing`,
    ignore: backend.ignore,
    async fn() {
      const f = await backend.fresh();
      try {
        if (backend.name === "postgres") {
          await assert.rejects(f.open({ readOnly: true }), /it holds no vbkpool schema/);
          assert.deepEqual(await f.query("SELECT to_regclass('schema_migrations') AS t"), [{
            t: null,
          }]);
        } else {
          await assert.rejects(f.open({ readOnly: true }), /unable to open database file/);
          await assert.rejects(Deno.stat(f.location), Deno.errors.NotFound, "nothing created");
        }
        await (await f.open()).close();
        await f.query("DELETE FROM schema_migrations WHERE version = 7");
        await assert.rejects(
          f.open({ readOnly: true }),
          /schema version 6 is older than this vbkpool's \(7\); let vbkpool server or payouts upgrade/,
        );
      } finally {
        await f.cleanup().catch(() => {});
      }
    },
  });
}
