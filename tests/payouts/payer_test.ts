import assert from "node:assert/strict";
import { transactionSize } from "../../devnet/mod.ts";
import { NodeCoreRpc, Payer, type PayerOptions } from "../../payouts/mod.ts";
import type { SignatureIndex } from "../../store/mod.ts";
import { type AlertEvent, alertEvents } from "../../log/mod.ts";
import { A, B, C, creditBalances, type PayoutStack, POOL, stackTest, VBK } from "./_stack.ts";

/** Credit balances through a (fake) confirmed block, as the unlocker would. */
const credit = creditBalances;

function payer(s: PayoutStack, options: Partial<PayerOptions> = {}): Payer {
  return new Payer(s.store, s.rpc, {
    owner: "test-payer",
    poolAddress: POOL,
    minimumPayment: VBK,
    paymentConfirmations: 2,
    ...options,
  });
}

const fee = (outputs: number) => 1000n * BigInt(transactionSize(outputs));

/** The pool address's signature index, as the payer reads it before an intent. */
async function poolIndex(s: PayoutStack): Promise<SignatureIndex> {
  const [x] = await s.rpc.getSignatureIndex([POOL]);
  return { blockchainIndex: x!.blockchainIndex, poolIndex: x!.poolIndex };
}

stackTest(
  "Payer pays every miner above the threshold in one transaction, then confirms it",
  async (s) => {
    await s.minePool(2); // 100 VBK in the pool wallet
    await credit(s.store, { [A]: 3n * VBK, [B]: 3n * VBK / 2n, [C]: VBK / 2n });
    const p = payer(s);
    const alerts: AlertEvent[] = [];
    const unsubscribe = alertEvents.subscribe((e) => alerts.push(e));
    const report = await p.run();
    unsubscribe();
    assert.equal(report.sent.length, 1);
    const payment = report.sent[0]!;
    assert.deepEqual(alerts.map((e) => [e.type, e.details.transactions]), [
      ["payment_sent", payment.txIds[0]!.toLowerCase()],
    ]);
    assert.deepEqual(payment.items, [{ address: A, amount: 3n * VBK }, {
      address: B,
      amount: 3n * VBK / 2n,
    }]);
    assert.equal(payment.status, "sent");
    const [tx] = s.devnet.ledger.pending();
    assert.equal(tx!.txId, payment.txIds[0]);
    assert.equal(tx!.sourceAddress, POOL);
    assert.deepEqual(tx!.outputs, [{ address: A, amount: 3n * VBK }, {
      address: B,
      amount: 3n * VBK / 2n,
    }]);
    assert.equal(await s.store.payouts.balance(A), 0n);
    assert.equal(await s.store.payouts.balance(C), VBK / 2n, "below the threshold");
    await s.devnet.rival.mineBlock();
    let next = await p.run();
    assert.equal(next.confirmed.length, 0, "1 confirmation of 2");
    assert.equal((await s.store.payouts.getPayment(payment.id))!.confirmations, 1);
    await s.devnet.rival.mineBlock();
    next = await p.run();
    assert.equal(next.confirmed.length, 1);
    assert.equal(next.sent.length, 0, "nothing paid twice");
    assert.equal((await s.store.payouts.getPayment(payment.id))!.status, "confirmed");
    assert.equal(s.devnet.ledger.balance(A).confirmed, 3n * VBK);
    assert.equal(s.devnet.ledger.balance(B).confirmed, 3n * VBK / 2n);
    assert.equal(s.devnet.ledger.balance(POOL).confirmed, 100n * VBK - 9n * VBK / 2n - fee(2));
  },
);

stackTest("Payer honours a miner's own threshold and batches by maxRecipients", async (s) => {
  await s.minePool(1);
  await credit(s.store, { [A]: 2n * VBK, [B]: 2n * VBK, [C]: VBK / 2n });
  await s.store.payouts.setPaymentThreshold(A, 5n * VBK);
  await s.store.payouts.setPaymentThreshold(C, VBK / 4n);
  const report = await payer(s, { maxRecipients: 1 }).run();
  assert.deepEqual(report.sent.map((p) => p.items.map((i) => i.address)), [[B], [C]]);
  assert.equal(s.devnet.ledger.pending().length, 2);
  assert.equal(await s.store.payouts.balance(A), 2n * VBK);
});

stackTest("Payer reports a payment NodeCore refuses and leaves the balances intact", async (s) => {
  await s.minePool(1); // exactly 50 VBK: enough for the amount, not for the fee
  await credit(s.store, { [A]: 50n * VBK });
  const p = payer(s);
  const alerts: AlertEvent[] = [];
  const unsubscribe = alertEvents.subscribe((e) => alerts.push(e));
  const report = await p.run();
  unsubscribe();
  assert.equal(report.sent.length, 0);
  assert.equal(report.failed.length, 1);
  const failed = report.failed[0]!;
  // The operator is told, with the payment and NodeCore's reason.
  assert.deepEqual(alerts.map((e) => [e.type, e.details.id, e.details.total]), [
    ["payment_failed", failed.id.toString(), "50"],
  ]);
  assert.match(String(alerts[0]!.details.error), /can't gather enough inputs/);
  assert.equal(failed.status, "failed");
  assert.match(failed.error!, /\[V008\] Send command error .*can't gather enough inputs/);
  assert.equal(await s.store.payouts.balance(A), 50n * VBK, "balance intact");
  assert.deepEqual(s.devnet.ledger.pending(), []);
  const audit = await s.store.payouts.listBalanceChanges({ paymentId: failed.id });
  assert.deepEqual(audit.map((c) => c.reason).sort(), ["payment", "payment_failed"]);
  // More coins arrive: the next pass pays it.
  await s.minePool(1);
  const later = await p.run();
  assert.equal(later.sent.length, 1);
  assert.equal(later.sent[0]!.total, 50n * VBK);
});

stackTest("Payer pays only what the pool wallet holds", async (s) => {
  await s.minePool(1);
  await credit(s.store, { [A]: 40n * VBK, [B]: 30n * VBK });
  const report = await payer(s).run();
  assert.deepEqual(report.sent.map((p) => p.items.map((i) => i.address)), [[A]]);
  assert.equal(await s.store.payouts.balance(B), 30n * VBK);
});

stackTest(
  "Payer reconciles intents left by a crashed payer: sent ones are found, the rest paid again",
  async (s) => {
    await s.minePool(2);
    await credit(s.store, { [A]: 2n * VBK, [B]: 3n * VBK, [C]: 4n * VBK });
    // A payer that died, as the payer works: index, intent, send; index, intent, and no send.
    const dead = s.store.payouts;
    assert.ok(await dead.acquireLock("dead", { ttlMs: 60_000 }));
    const tip = s.devnet.chain.height;
    const sentOne = await dead.createPayment("dead", {
      items: [{ address: A, amount: 2n * VBK }, { address: B, amount: 3n * VBK }],
      startHeight: tip,
      signatureIndex: await poolIndex(s),
    });
    await s.rpc.sendCoins({ sourceAddress: POOL, amounts: sentOne.items });
    const lost = await dead.createPayment("dead", {
      items: [{ address: C, amount: 4n * VBK }],
      startHeight: tip,
      signatureIndex: await poolIndex(s),
    });
    await s.devnet.rival.mineBlock(); // the sent one is now in a block, not in the mempool
    await dead.releaseLock("dead"); // as if its lock had expired
    const alerts: string[] = [];
    const unsubscribe = alertEvents.subscribe((e) => alerts.push(`${e.type} ${e.details.id}`));
    const report = await payer(s, { reconcileGraceMs: 0, unknownOutcomeWindowMs: 0 }).run();
    unsubscribe();
    assert.deepEqual(report.recovered.map((p) => p.id), [sentOne.id]);
    assert.deepEqual(report.failed.map((p) => p.id), [lost.id]);
    assert.equal(report.sent.length, 1, "the unsent amount is paid again");
    // The recovered payment is reported sent; the intent proven unsent is refunded and paid
    // again at once, which is no failure to page for.
    assert.deepEqual(alerts, [
      `payment_sent ${sentOne.id}`,
      `payment_sent ${report.sent[0]!.id}`,
    ]);
    assert.deepEqual(report.sent[0]!.items, [{ address: C, amount: 4n * VBK }]);
    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock();
    const after = await payer(s).run();
    assert.equal(after.confirmed.length, 2);
    for (const [m, amount] of [[A, 2n], [B, 3n], [C, 4n]] as const) {
      assert.equal(s.devnet.ledger.balance(m).confirmed, amount * VBK, `${m} paid exactly once`);
      assert.equal(await s.store.payouts.balance(m), 0n);
    }
  },
);

stackTest(
  "Payer leaves a payment with an unknown outcome pending and pays nothing new until it is reconciled",
  async (s) => {
    await s.minePool(1);
    await credit(s.store, { [A]: 2n * VBK });
    // A proxy in front of the devnet API that forwards sendcoins but answers too late.
    let slow = true;
    const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = await req.text();
      const res = await fetch(s.url, { method: "POST", body, headers: req.headers });
      const text = await res.text();
      // Part of the scenario: the answer comes after the payer's 300 ms timeout.
      if (slow && body.includes('"sendcoins"')) await new Promise((r) => setTimeout(r, 600));
      return new Response(text, { status: res.status, headers: res.headers });
    });
    try {
      const rpc = new NodeCoreRpc({
        url: `http://127.0.0.1:${proxy.addr.port}/api`,
        timeoutMs: 300,
      });
      const p = new Payer(s.store, rpc, { owner: "me", poolAddress: POOL, minimumPayment: VBK });
      const first = await p.run();
      assert.equal(first.sent.length, 0);
      assert.equal(first.problems.length, 1);
      assert.match(first.problems[0]!.problem, /no answer within 300 ms/);
      const [open] = await s.store.payouts.listPayments({ status: "pending" });
      assert.match(open!.error!, /outcome unknown/);
      assert.equal(s.devnet.ledger.pending().length, 1, "NodeCore did send it");
      await credit(s.store, { [B]: 2n * VBK });
      slow = false;
      const second = await p.run();
      assert.deepEqual(second.recovered.map((x) => x.id), [open!.id]);
      assert.equal(second.sent.length, 1, "then B is paid");
      assert.equal(s.devnet.ledger.pending().length, 2);
      assert.deepEqual(
        s.devnet.ledger.pending().map((t) => t.outputs.map((o) => o.address)),
        [[A], [B]],
      );
    } finally {
      await proxy.shutdown();
    }
  },
);

stackTest("Payer waits while another payer holds the lock", async (s) => {
  await s.minePool(1);
  await credit(s.store, { [A]: 2n * VBK });
  assert.ok(await s.store.payouts.acquireLock("other", { ttlMs: 60_000 }));
  const report = await payer(s).run();
  assert.match(report.skipped!, /another payout process holds the payer lock/);
  assert.deepEqual(s.devnet.ledger.pending(), []);
});

stackTest(
  "Payer never sends the pool address its own balance: it pays the transaction fees",
  async (s) => {
    await s.minePool(1);
    await credit(s.store, { [A]: 49n * VBK, [POOL]: VBK });
    const report = await payer(s).run();
    assert.deepEqual(report.sent.map((p) => p.items), [[{ address: A, amount: 49n * VBK }]]);
    assert.equal(await s.store.payouts.balance(POOL), VBK);
    assert.equal(s.devnet.ledger.pending()[0]!.fee, fee(1));
  },
);
