/**
 * The payout part of the store contract (`store.payouts`), run against SQLite (writer thread and
 * inline) and PostgreSQL (when VBKPOOL_TEST_POSTGRES_URL is set).
 */
import assert from "node:assert/strict";
import type { Store } from "../../store/mod.ts";
import { contractTest, type Fixture, warnIfNoPostgres } from "./_backends.ts";
import { sampleBlock, sampleShare } from "./_samples.ts";

warnIfNoPostgres();

const A = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
const B = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
const C = "VCea32PtTGh7qDEXp9KFh1xGx9USvh";
const T0 = 1_700_000_040_000;

function contract(title: string, fn: (f: Fixture, store: Store) => Promise<void>): void {
  contractTest("PayoutStore", title, fn);
}

/** A confirmed block that credited `amounts` (A, B, C …) as PPLNS shares. */
async function credited(store: Store, amounts: Record<string, bigint>): Promise<Uint8Array> {
  const { block } = await store.recordBlock(sampleBlock());
  const credits = Object.entries(amounts).map(([address, amount]) => ({
    address,
    amount,
    reason: "share" as const,
  }));
  const reward = credits.reduce((s, c) => s + c.amount, 0n);
  assert.equal(
    await store.payouts.creditBlock(block.hash, { reward, confirmations: 3, credits }),
    true,
  );
  return block.hash;
}

contract("credits a confirmed block once, with an audit row per credit", async (_f, store) => {
  const { block } = await store.recordBlock(sampleBlock({ height: 42 }));
  const credit = {
    reward: 5_000_000_000n,
    confirmations: 6,
    credits: [
      { address: A, amount: 3_000_000_000n, reason: "share" as const, details: "score 3/5" },
      { address: B, amount: 1_949_999_999n, reason: "share" as const },
      { address: C, amount: 50_000_000n, reason: "fee" as const },
      { address: C, amount: 1n, reason: "rounding" as const },
    ],
  };
  assert.equal(await store.payouts.creditBlock(block.hash, credit), true);
  assert.equal(await store.payouts.creditBlock(block.hash, credit), false, "credited twice");
  const row = (await store.getBlock(block.hash))!;
  assert.equal(row.status, "confirmed");
  assert.equal(row.reward, 5_000_000_000n);
  assert.equal(row.confirmations, 6);
  assert.equal(await store.payouts.balance(A), 3_000_000_000n);
  assert.equal(await store.payouts.balance(B), 1_949_999_999n);
  assert.equal(await store.payouts.balance(C), 50_000_001n);
  assert.equal(await store.payouts.balance("Vnobody"), 0n);
  const changes = await store.payouts.listBalanceChanges({ blockHash: block.hash });
  assert.equal(changes.length, 4);
  assert.equal(changes.reduce((s, c) => s + c.amount, 0n), 5_000_000_000n);
  const a = changes.find((c) => c.address === A)!;
  assert.equal(a.reason, "share");
  assert.equal(a.details, "score 3/5");
  assert.equal(a.blockHeight, 42);
  assert.deepEqual(a.blockHash, block.hash);
  assert.equal(a.paymentId, undefined);
  const balances = await store.payouts.listBalances();
  assert.deepEqual(balances.map((b) => b.address), [A, B, C]);
});

contract(
  "never credits an orphaned or unknown block, nor credits that miss the reward",
  async (_f, store) => {
    const { block } = await store.recordBlock(sampleBlock());
    await store.updateBlock(block.hash, { status: "orphaned" });
    const credit = {
      reward: 10n,
      confirmations: 1,
      credits: [{ address: A, amount: 10n, reason: "share" as const }],
    };
    assert.equal(await store.payouts.creditBlock(block.hash, credit), false);
    assert.equal(await store.payouts.creditBlock(sampleBlock().hash, credit), false);
    const { block: other } = await store.recordBlock(sampleBlock());
    await assert.rejects(
      store.payouts.creditBlock(other.hash, { ...credit, reward: 11n }),
      (e: Error) => e instanceof RangeError && /add up to 10, not the reward 11/.test(e.message),
    );
    await assert.rejects(
      store.payouts.creditBlock(other.hash, {
        reward: 2n,
        confirmations: 1,
        credits: [
          { address: A, amount: 1n, reason: "share" },
          { address: A, amount: 1n, reason: "share" },
        ],
      }),
      RangeError,
    );
    await assert.rejects(
      store.payouts.creditBlock(other.hash, {
        reward: 0n,
        confirmations: 1,
        credits: [{ address: A, amount: 0n, reason: "share" }],
      }),
      RangeError,
    );
    assert.equal(await store.payouts.balance(A), 0n);
    assert.equal((await store.getBlock(other.hash))!.status, "pending");
  },
);

contract("the payer lock has one owner until it expires or is released", async (_f, store) => {
  const p = store.payouts;
  assert.equal(await p.acquireLock("one", { ttlMs: 1000, now: T0 }), true);
  assert.equal(await p.acquireLock("two", { ttlMs: 1000, now: T0 + 500 }), false);
  assert.equal(await p.acquireLock("one", { ttlMs: 1000, now: T0 + 900 }), true, "renewal");
  assert.equal(await p.acquireLock("two", { ttlMs: 1000, now: T0 + 1800 }), false);
  assert.equal(await p.acquireLock("two", { ttlMs: 1000, now: T0 + 1900 }), true, "expired");
  await p.releaseLock("one"); // not the holder: no effect
  assert.equal(await p.acquireLock("one", { ttlMs: 1000, now: T0 + 2000 }), false);
  await p.releaseLock("two");
  assert.equal(await p.acquireLock("one", { ttlMs: 1000, now: T0 + 2000 }), true);
});

contract("two stores on one database never both hold the lock", async (f, store) => {
  const other = await f.open();
  try {
    const now = Date.now();
    for (let round = 0; round < 5; round++) {
      const [x, y] = await Promise.all([
        store.payouts.acquireLock("x", { ttlMs: 60_000, now }),
        other.payouts.acquireLock("y", { ttlMs: 60_000, now }),
      ]);
      assert.equal(Number(x) + Number(y), 1, `round ${round}: ${x} ${y}`);
      await store.payouts.releaseLock("x");
      await other.payouts.releaseLock("y");
    }
  } finally {
    await other.close();
  }
});

contract(
  "a payment intent debits balances before sending and is fenced by the lock",
  async (_f, store) => {
    const p = store.payouts;
    await credited(store, { [A]: 700n, [B]: 300n });
    const intent = {
      items: [{ address: A, amount: 700n }, { address: B, amount: 300n }],
      startHeight: 9,
    };
    await assert.rejects(p.createPayment("payer", intent), /payout lock is not held by payer/);
    assert.equal(await p.acquireLock("payer", { ttlMs: 60_000 }), true);
    await assert.rejects(
      p.createPayment("payer", { items: [{ address: A, amount: 701n }], startHeight: 9 }),
      (e: Error) =>
        e instanceof RangeError && /balance of V5U\w+ is 700, below 701/.test(e.message),
    );
    assert.equal(await p.balance(A), 700n, "a refused intent changes nothing");
    const payment = await p.createPayment("payer", intent);
    assert.equal(payment.status, "pending");
    assert.equal(payment.total, 1000n);
    assert.equal(payment.startHeight, 9);
    assert.deepEqual(payment.items, [{ address: A, amount: 700n }, { address: B, amount: 300n }]);
    assert.deepEqual(payment.txIds, []);
    assert.equal(await p.balance(A), 0n);
    assert.equal(await p.balance(B), 0n);
    const debits = await p.listBalanceChanges({ paymentId: payment.id });
    assert.deepEqual(debits.map((d) => d.amount).sort(), [-300n, -700n]);
    assert.ok(debits.every((d) => d.reason === "payment"));
    await assert.rejects(p.markPaymentSent("intruder", payment.id, ["AB"]), /not held by intruder/);
    const sent = await p.markPaymentSent("payer", payment.id, ["ab".repeat(32)]);
    assert.equal(sent.status, "sent");
    assert.deepEqual(sent.txIds, ["AB".repeat(32)]);
    const seen = await p.confirmPayment("payer", payment.id, { confirmations: 1, final: false });
    assert.equal(seen.status, "sent");
    assert.equal(seen.confirmations, 1);
    const done = await p.confirmPayment("payer", payment.id, { confirmations: 3, final: true });
    assert.equal(done.status, "confirmed");
    await assert.rejects(p.failPayment("payer", payment.id, "late"), /payment \d+ is confirmed/);
    assert.equal(await p.balance(A), 0n);
    assert.deepEqual(await p.getPayment(payment.id), done);
  },
);

contract(
  "a payment intent keeps the pool address's signature index exactly, through every status",
  async (_f, store) => {
    const p = store.payouts;
    await credited(store, { [A]: 700n, [B]: 300n });
    await p.acquireLock("payer", { ttlMs: 60_000 });
    const big = (1n << 62n) + 1n; // not representable as a JS number
    const payment = await p.createPayment("payer", {
      items: [{ address: A, amount: 700n }],
      startHeight: 4,
      signatureIndex: { blockchainIndex: -1n, poolIndex: big },
    });
    assert.deepEqual(payment.signatureIndex, { blockchainIndex: -1n, poolIndex: big });
    const sent = await p.markPaymentSent("payer", payment.id, ["AB".repeat(32)]);
    assert.deepEqual(sent.signatureIndex, { blockchainIndex: -1n, poolIndex: big });
    const [listed] = await p.listPayments({ status: "sent" });
    assert.deepEqual(listed, sent);
    const old = await p.createPayment("payer", {
      items: [{ address: B, amount: 1n }],
      startHeight: 4,
    });
    assert.equal(old.signatureIndex, undefined, "none given: none stored");
    assert.equal("signatureIndex" in old, false);
    await assert.rejects(
      p.createPayment("payer", {
        items: [{ address: B, amount: 1n }],
        startHeight: 4,
        signatureIndex: { blockchainIndex: 1n, poolIndex: 2 as never },
      }),
      (e: Error) => e instanceof TypeError && /signatureIndex\.poolIndex/.test(e.message),
    );
    await assert.rejects(
      p.createPayment("payer", {
        items: [{ address: B, amount: 1n }],
        startHeight: 4,
        signatureIndex: { blockchainIndex: 1n << 63n, poolIndex: 2n },
      }),
      RangeError,
    );
    assert.equal(await p.balance(B), 299n, "the refused intents debited nothing");
  },
);

contract("a failed payment returns every amount to its balance, audited", async (_f, store) => {
  const p = store.payouts;
  await credited(store, { [A]: 500n, [B]: 250n });
  await p.acquireLock("payer", { ttlMs: 60_000 });
  const payment = await p.createPayment("payer", {
    items: [{ address: A, amount: 400n }, { address: B, amount: 250n }],
    startHeight: 1,
  });
  assert.equal(await p.balance(A), 100n);
  await p.notePayment(payment.id, "node unreachable");
  assert.equal((await p.getPayment(payment.id))!.error, "node unreachable");
  const failed = await p.failPayment("payer", payment.id, "[V008] insufficient funds");
  assert.equal(failed.status, "failed");
  assert.equal(failed.error, "[V008] insufficient funds");
  assert.equal(await p.balance(A), 500n);
  assert.equal(await p.balance(B), 250n);
  const changes = await p.listBalanceChanges({ address: A });
  assert.deepEqual(changes.map((c) => [c.reason, c.amount]), [
    ["payment_failed", 400n],
    ["payment", -400n],
    ["share", 500n],
  ]);
  await assert.rejects(p.failPayment("payer", payment.id, "again"), /is failed/);
  await assert.rejects(p.markPaymentSent("payer", 999n, ["AA"]), /no payment 999/);
});

contract("lists payable miners by their own threshold or the pool minimum", async (_f, store) => {
  const p = store.payouts;
  await credited(store, { [A]: 100n, [B]: 60n, [C]: 40n });
  assert.deepEqual(await p.listPayable(50n, 100), [
    { address: A, amount: 100n },
    { address: B, amount: 60n },
  ]);
  await p.setPaymentThreshold(A, 150n);
  await p.setPaymentThreshold(C, 30n);
  assert.deepEqual(await p.listPayable(50n, 100), [
    { address: B, amount: 60n },
    { address: C, amount: 40n },
  ]);
  await p.setPaymentThreshold(A, undefined);
  assert.deepEqual((await p.listPayable(50n, 1)).map((x) => x.address), [A]);
  await p.setPaymentThreshold("V2C86eV6xi1uPykYPNnP8nWwu9GJxf", 5n); // no balance yet
  assert.equal((await p.listPayable(1n, 100)).length, 3);
  const balances = await p.listBalances({ minimum: 0n });
  assert.equal(balances.find((b) => b.address === C)!.threshold, 30n);
  await assert.rejects(p.setPaymentThreshold(A, 0n), RangeError);
});

contract("lists payments newest first, by status and by recipient", async (_f, store) => {
  const p = store.payouts;
  await credited(store, { [A]: 1000n, [B]: 1000n });
  await p.acquireLock("payer", { ttlMs: 60_000 });
  const one = await p.createPayment("payer", {
    items: [{ address: A, amount: 10n }],
    startHeight: 1,
  });
  const two = await p.createPayment("payer", {
    items: [{ address: A, amount: 10n }, { address: B, amount: 10n }],
    startHeight: 2,
  });
  await p.markPaymentSent("payer", two.id, ["CD".repeat(32)]);
  assert.deepEqual((await p.listPayments()).map((x) => x.id), [two.id, one.id]);
  assert.deepEqual((await p.listPayments({ status: "pending" })).map((x) => x.id), [one.id]);
  assert.deepEqual(
    (await p.listPayments({ status: ["pending", "sent"] })).map((x) => x.id),
    [two.id, one.id],
  );
  assert.deepEqual((await p.listPayments({ address: B })).map((x) => x.id), [two.id]);
  assert.deepEqual((await p.listPayments({ limit: 1 })).map((x) => x.id), [two.id]);
  await assert.rejects(p.listPayments({ status: "lost" as never }), RangeError);
});

contract("walks the share window newest first across equal times", async (_f, store) => {
  const times = [T0, T0, T0, T0 + 1, T0 + 1, T0 + 2, T0 + 5];
  for (const time of times) await store.recordShare(sampleShare({ time }));
  const seen: number[] = [];
  const ids = new Set<bigint>();
  let cursor: { time: number; id: bigint } | undefined;
  for (;;) {
    const page = await store.payouts.windowShares(T0 + 2, {
      ...(cursor ? { cursor } : {}),
      limit: 2,
    });
    if (page.length === 0) break;
    for (const s of page) {
      seen.push(s.time);
      ids.add(s.id);
    }
    const last = page.at(-1)!;
    cursor = { time: last.time, id: last.id };
  }
  assert.deepEqual(seen, [T0 + 2, T0 + 1, T0 + 1, T0, T0, T0]);
  assert.equal(ids.size, 6);
});

contract("a refused payout write never fails the shares batched with it", async (_f, store) => {
  const results = await Promise.allSettled([
    store.recordShare(sampleShare({ time: T0 })),
    store.payouts.createPayment("nobody", { items: [{ address: A, amount: 1n }], startHeight: 0 }),
    store.recordShare(sampleShare({ time: T0 + 1 })),
  ]);
  assert.equal(results[0].status, "fulfilled");
  assert.equal(results[1].status, "rejected");
  assert.equal(results[2].status, "fulfilled");
  assert.equal(await store.countShares(), 2);
  assert.equal(store.stats().healthy, true);
});

contract("rejects malformed payout inputs with clear errors", async (_f, store) => {
  const p = store.payouts;
  await assert.rejects(p.createPayment("x", { items: [], startHeight: 0 }), RangeError);
  await assert.rejects(
    p.createPayment("x", {
      items: [{ address: A, amount: 1n }, { address: A, amount: 2n }],
      startHeight: 0,
    }),
    /appears twice/,
  );
  await assert.rejects(
    p.createPayment("x", { items: [{ address: A, amount: 1 as never }], startHeight: 0 }),
    TypeError,
  );
  await assert.rejects(p.markPaymentSent("x", 1n, []), RangeError);
  await assert.rejects(p.markPaymentSent("x", 1n, ["not hex"]), TypeError);
  await assert.rejects(p.getPayment(0n), RangeError);
  await assert.rejects(p.acquireLock("", { ttlMs: 10 }), RangeError);
  await assert.rejects(p.acquireLock("x", { ttlMs: 0 }), RangeError);
  await assert.rejects(p.windowShares(-1), RangeError);
});

contract(
  "two stores on one database (a server's tracker and a payout process) credit a block once",
  async (f, store) => {
    // Another process's connection: its own store on the same database.
    const other = await f.open();
    try {
      const hashes: Uint8Array[] = [];
      for (let i = 0; i < 20; i++) {
        hashes.push((await store.recordBlock(sampleBlock({ height: 100 + i }))).block.hash);
      }
      const credit = {
        reward: 7n,
        confirmations: 3,
        credits: [{ address: A, amount: 7n, reason: "share" as const }],
      };
      // Both race for every block, several times each.
      const results = await Promise.all(
        hashes.flatMap((h) =>
          [store, other, store, other].map((s) => s.payouts.creditBlock(h, credit))
        ),
      );
      assert.equal(results.filter((r) => r).length, hashes.length, "one success per block");
      assert.equal(await store.payouts.balance(A), 7n * BigInt(hashes.length));
      assert.equal(await other.payouts.balance(A), 7n * BigInt(hashes.length));
      for (const h of hashes) {
        assert.equal((await store.payouts.listBalanceChanges({ blockHash: h })).length, 1);
      }
    } finally {
      await other.close();
    }
  },
);
