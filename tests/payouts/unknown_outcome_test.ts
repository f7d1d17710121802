/**
 * Issue 15, defect 5: a payment whose outcome is unknown is never failed and paid again until
 * the ledger proves it was not executed. From the attacker's side, over the devnet's real HTTP
 * API with its test-only faults: NodeCore answers `sendcoins` too late and creates the
 * transaction only after the payer's next pass; it never executes it; another sender moves the
 * pool address's signature index; a reorganisation drops a sent transaction. Every test checks
 * the devnet ledger (each miner paid exactly once) and the store's books.
 */
import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import {
  listUnknownOutcomes,
  NodeCoreRpc,
  Payer,
  type PayerOptions,
  PayoutService,
  settlePayment,
} from "../../payouts/mod.ts";
import { waitUntil } from "../_process.ts";
import { assertBooks } from "./_books.ts";
import { A, B, C, creditBalances, FEE, type PayoutStack, POOL, stackTest, VBK } from "./_stack.ts";

/** A client that gives up after 300 ms (the devnet's faults answer later). */
function impatient(s: PayoutStack): NodeCoreRpc {
  return new NodeCoreRpc({ url: s.url, timeoutMs: 300 });
}

function payerOptions(over: Partial<PayerOptions> = {}): PayerOptions {
  return {
    owner: "service",
    poolAddress: POOL,
    minimumPayment: VBK,
    paymentConfirmations: 2,
    ...over,
  };
}

/** Collect the payer's log records while `fn` runs. */
async function withPayerLog(fn: (records: LogRecord[]) => Promise<void>): Promise<void> {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["vbkpool", "payouts", "payer"], sinks: ["memory"], lowestLevel: "info" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    await fn(records);
  } finally {
    resetSync();
  }
}

/** Log lines about payment `id` that contain `text`. */
function logged(records: readonly LogRecord[], id: bigint, text: string): number {
  return records.filter((r) =>
    r.properties.id === id.toString() && String(r.properties.problem ?? "").includes(text)
  ).length;
}

async function mineConfirmations(s: PayoutStack, n = 2): Promise<void> {
  for (let i = 0; i < n; i++) await s.devnet.rival.mineBlock();
}

stackTest(
  "PayoutService (one owner, several passes): sendcoins times out, NodeCore creates the " +
    "transaction after the next pass, every miner is paid exactly once",
  (s) =>
    withPayerLog(async (records) => {
      await s.minePool(3); // 150 VBK in the pool wallet: enough to pay everyone twice
      await creditBalances(s.store, { [A]: 2n * VBK, [B]: 3n * VBK });
      const service = new PayoutService(s.store, impatient(s), {
        unlocker: { poolAddress: POOL, confirmations: 3 },
        payer: payerOptions(),
      });
      try {
        // NodeCore creates the transaction only when the test says so: after two more passes.
        const { promise: go, resolve: execute } = Promise.withResolvers<void>();
        const late = s.devnet.faults.nextSend({ executeWhen: go });

        const first = await service.runOnce();
        assert.equal(first.error, undefined);
        assert.deepEqual(first.pay?.sent, []);
        assert.match(first.pay!.problems[0]!.problem, /no answer within 300 ms/);
        const [intent] = await s.store.payouts.listPayments({ status: "pending" });
        assert.ok(intent?.signatureIndex !== undefined, "the index was stored with the intent");
        assert.deepEqual(intent.signatureIndex, { blockchainIndex: -1n, poolIndex: -1n });

        await creditBalances(s.store, { [C]: 4n * VBK }); // C is due now too
        const second = await service.runOnce();
        const third = await service.runOnce();
        for (const pass of [second, third]) {
          assert.equal(pass.pay?.skipped, "a payment's outcome is still unknown");
          assert.deepEqual(pass.pay?.failed, [], "never failed while the outcome is unknown");
          assert.deepEqual(pass.pay?.sent, [], "nothing new is paid meanwhile");
          assert.match(pass.pay!.problems[0]!.problem, /outcome unknown: no transaction with/);
        }
        assert.deepEqual(s.devnet.ledger.pending(), []);
        assert.equal(await s.store.payouts.balance(A), 0n, "still debited by the intent");
        assert.equal(
          logged(records, intent.id, "outcome unknown: no transaction with"),
          1,
          "an unchanged problem is logged once, not once per pass",
        );

        execute();
        const { txIds } = await late; // NodeCore created the transaction now
        assert.equal(txIds.length, 1);
        const fourth = await service.runOnce();
        assert.deepEqual(fourth.pay?.recovered.map((p) => [p.id, p.txIds]), [[intent.id, txIds]]);
        assert.deepEqual(fourth.pay?.sent.map((p) => p.items), [[{
          address: C,
          amount: 4n * VBK,
        }]]);
        await mineConfirmations(s);
        const fifth = await service.runOnce();
        assert.equal(fifth.pay?.confirmed.length, 2);
        assert.equal(s.devnet.ledger.balance(A).confirmed, 2n * VBK, "A paid exactly once");
        assert.equal(s.devnet.ledger.balance(B).confirmed, 3n * VBK, "B paid exactly once");
        assert.equal(s.devnet.ledger.balance(C).confirmed, 4n * VBK, "C paid exactly once");
        await assertBooks(s.store, s.devnet.ledger, { recipients: [A, B, C] });
      } finally {
        await service.stop();
      }
    }),
);

stackTest(
  "Payer: sendcoins times out and NodeCore never executed it: after the window the intent " +
    "fails, the amounts return and are paid exactly once",
  async (s) => {
    await s.minePool(2);
    await creditBalances(s.store, { [A]: 2n * VBK, [B]: 3n * VBK });
    const windowMs = 1500;
    const payer = new Payer(
      s.store,
      impatient(s),
      payerOptions({ unknownOutcomeWindowMs: windowMs }),
    );
    const nothing = s.devnet.faults.nextSend({ execute: false, replyDelayMs: 1000 });
    const first = await payer.run();
    assert.match(first.problems[0]!.problem, /no answer within 300 ms/);
    const [intent] = await s.store.payouts.listPayments({ status: "pending" });
    assert.deepEqual((await nothing).txIds, [], "NodeCore answered at last, having done nothing");

    const early = await payer.run();
    assert.equal(early.skipped, "a payment's outcome is still unknown");
    assert.deepEqual(early.failed, [], "not before the window has passed");
    assert.deepEqual(early.sent, []);

    await waitUntil(() => Date.now() >= intent!.createdAt + windowMs, "the window to pass");
    const late = await payer.run();
    assert.deepEqual(late.failed.map((p) => p.id), [intent!.id]);
    assert.match(
      late.failed[0]!.error!,
      /^not executed: \d+ s after the intent, the pool address's signature index has not moved/,
    );
    assert.deepEqual(late.sent.map((p) => p.items), [intent!.items], "paid again, once");
    const back = await s.store.payouts.listBalanceChanges({ paymentId: intent!.id });
    assert.deepEqual(back.map((c) => c.reason).sort(), [
      "payment",
      "payment",
      "payment_failed",
      "payment_failed",
    ]);
    await mineConfirmations(s);
    assert.equal((await payer.run()).confirmed.length, 1);
    assert.equal(s.devnet.ledger.balance(A).confirmed, 2n * VBK);
    assert.equal(s.devnet.ledger.balance(B).confirmed, 3n * VBK);
    await assertBooks(s.store, s.devnet.ledger, { recipients: [A, B] });
    await payer.unlock();
  },
);

stackTest(
  "Payer: another sender moves the pool address's signature index, no transaction matches: " +
    "the intent stays pending, nothing is paid again, only the operator settles it",
  (s) =>
    withPayerLog(async (records) => {
      await s.minePool(3);
      await creditBalances(s.store, { [A]: 2n * VBK, [B]: 3n * VBK });
      // A window of 0: only the index keeps the payer from concluding "not executed".
      const payer = new Payer(s.store, impatient(s), payerOptions({ unknownOutcomeWindowMs: 0 }));
      const nothing = s.devnet.faults.nextSend({ execute: false, replyDelayMs: 1000 });
      await payer.run();
      const [intent] = await s.store.payouts.listPayments({ status: "pending" });
      await nothing;
      // The operator (or a thief with the wallet) sends from the pool address meanwhile.
      const [unrelated] = await s.rpc.sendCoins({
        sourceAddress: POOL,
        amounts: [{ address: FEE, amount: VBK }],
      });
      for (let i = 0; i < 2; i++) {
        const pass = await payer.run();
        assert.equal(pass.skipped, "a payment's outcome is still unknown");
        assert.deepEqual(pass.failed, []);
        assert.deepEqual(pass.sent, []);
        assert.match(pass.problems[0]!.problem, /signed a transaction since the intent/);
      }
      assert.equal(logged(records, intent!.id, "signed a transaction since"), 1);
      assert.deepEqual(s.devnet.ledger.pending().map((t) => t.txId), [unrelated]);

      const [shown] = await listUnknownOutcomes(s.store, s.rpc, {
        poolAddress: POOL,
        windowMs: 0,
      });
      assert.equal(shown?.payment.id, intent!.id);
      assert.ok(shown.verdict?.kind === "unknown" && shown.verdict.code === "advanced");
      assert.match(shown.waitingFor, /--settle \d+ --sent TXID, or --not-sent --force/);

      const settle = { id: intent!.id, poolAddress: POOL, owner: "operator" } as const;
      assert.ok(await s.store.payouts.acquireLock("service", { ttlMs: 60_000 }));
      const busy = await settlePayment(s.store, s.rpc, { ...settle, outcome: "not-sent" });
      assert.ok(!busy.ok);
      assert.match(busy.reason, /holds the payer lock/);
      await payer.unlock();
      const refused = await settlePayment(s.store, s.rpc, { ...settle, outcome: "not-sent" });
      assert.ok(!refused.ok);
      assert.match(refused.reason, /signed a transaction since the intent.*--force/);
      assert.equal((await s.store.payouts.getPayment(intent!.id))?.status, "pending");
      assert.equal(await s.store.payouts.balance(A), 0n, "a refusal changes nothing");
      const forced = await settlePayment(s.store, s.rpc, {
        ...settle,
        outcome: "not-sent",
        force: true,
      });
      assert.ok(forced.ok, forced.ok ? "" : forced.reason);
      assert.equal(forced.payment.status, "failed");
      assert.equal(await s.store.payouts.balance(A), 2n * VBK);

      const again = await payer.run();
      assert.deepEqual(again.sent.map((p) => p.items), [intent!.items]);
      await mineConfirmations(s);
      assert.equal((await payer.run()).confirmed.length, 1);
      assert.equal(s.devnet.ledger.balance(A).confirmed, 2n * VBK);
      assert.equal(s.devnet.ledger.balance(B).confirmed, 3n * VBK);
      assert.equal(s.devnet.ledger.balance(FEE).confirmed, VBK, "the unrelated transaction");
      await assertBooks(s.store, s.devnet.ledger, { recipients: [A, B] });
      await payer.unlock();
    }),
);

stackTest(
  "Payer never fails an intent written without a signature index (by an older vbkpool)",
  async (s) => {
    await s.minePool(1);
    await creditBalances(s.store, { [A]: 2n * VBK });
    assert.ok(await s.store.payouts.acquireLock("old", { ttlMs: 60_000 }));
    const old = await s.store.payouts.createPayment("old", {
      items: [{ address: A, amount: 2n * VBK }],
      startHeight: s.devnet.chain.height,
    });
    await s.store.payouts.releaseLock("old");
    const payer = new Payer(
      s.store,
      s.rpc,
      payerOptions({
        reconcileGraceMs: 0,
        unknownOutcomeWindowMs: 0,
      }),
    );
    for (let i = 0; i < 2; i++) {
      const pass = await payer.run();
      assert.deepEqual(pass.failed, []);
      assert.deepEqual(pass.sent, []);
      assert.match(pass.problems[0]!.problem, /no stored signature index/);
    }
    assert.equal((await s.store.payouts.getPayment(old.id))?.status, "pending");
    await payer.unlock();
    const settle = {
      id: old.id,
      poolAddress: POOL,
      owner: "operator",
      outcome: "not-sent",
    } as const;
    const refused = await settlePayment(s.store, s.rpc, settle);
    assert.ok(!refused.ok);
    assert.match(refused.reason, /no stored signature index/);
    assert.ok((await settlePayment(s.store, s.rpc, { ...settle, force: true })).ok);
    assert.equal((await payer.run()).sent.length, 1);
    await mineConfirmations(s);
    assert.equal((await payer.run()).confirmed.length, 1);
    assert.equal(s.devnet.ledger.balance(A).confirmed, 2n * VBK);
    await assertBooks(s.store, s.devnet.ledger, { recipients: [A] });
    await payer.unlock();
  },
);

stackTest(
  "Payer keeps a sent payment whose transaction a reorganisation dropped open, and never pays it again",
  (s) =>
    withPayerLog(async (records) => {
      await s.minePool(1); // the pool's only coins: a reorg that orphans this block drops the payment
      await creditBalances(s.store, { [A]: 2n * VBK });
      const payer = new Payer(s.store, s.rpc, payerOptions());
      const [payment] = (await payer.run()).sent;
      assert.ok(payment !== undefined);
      await s.devnet.rival.reorg(s.devnet.chain.height);
      assert.equal(s.devnet.ledger.transaction(payment.txIds[0]!), undefined, "dropped");
      for (let i = 0; i < 2; i++) {
        const pass = await payer.run();
        assert.deepEqual(pass.sent, [], "the debited amount is never paid again by itself");
        assert.deepEqual(pass.failed, []);
        assert.match(pass.problems[0]!.problem, /is unknown to the node \(dropped\?\)/);
      }
      assert.equal(logged(records, payment.id, "unknown to the node"), 1);
      assert.equal((await s.store.payouts.getPayment(payment.id))?.status, "sent");
      assert.equal(await s.store.payouts.balance(A), 0n);
      assert.equal(s.devnet.ledger.balance(A).confirmed, 0n);
      await payer.unlock();
    }),
);

stackTest(
  "Payer writes no intent without the pool address's signature index, and never fails one " +
    "whose index it cannot read",
  async (s) => {
    await s.minePool(2);
    await creditBalances(s.store, { [A]: 2n * VBK });
    // A proxy in front of the devnet's API that can make getsignatureindex fail (HTTP 500).
    let indexDown = true;
    const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = await req.text();
      if (indexDown && body.includes('"getsignatureindex"')) {
        return new Response("internal error\n", { status: 500 });
      }
      const res = await fetch(s.url, { method: "POST", body, headers: req.headers });
      return new Response(await res.text(), { status: res.status, headers: res.headers });
    });
    try {
      const rpc = new NodeCoreRpc({
        url: `http://127.0.0.1:${proxy.addr.port}/api`,
        timeoutMs: 300,
      });
      const payer = new Payer(s.store, rpc, payerOptions({ unknownOutcomeWindowMs: 0 }));
      await assert.rejects(payer.run(), /Cannot call getsignatureindex .*HTTP 500/);
      assert.deepEqual(await s.store.payouts.listPayments(), [], "no intent without the index");
      assert.equal(await s.store.payouts.balance(A), 2n * VBK);

      indexDown = false;
      const nothing = s.devnet.faults.nextSend({ execute: false, replyDelayMs: 1000 });
      await payer.run();
      await nothing;
      const [intent] = await s.store.payouts.listPayments({ status: "pending" });
      indexDown = true;
      const blind = await payer.run();
      assert.equal(blind.skipped, "a payment's outcome is still unknown");
      assert.deepEqual(blind.failed, []);
      assert.match(blind.problems[0]!.problem, /cannot read the pool address's signature index/);

      indexDown = false;
      const seen = await payer.run();
      assert.deepEqual(seen.failed.map((p) => p.id), [intent!.id], "proven once it can be read");
      assert.deepEqual(seen.sent.map((p) => p.items), [intent!.items]);
      await mineConfirmations(s);
      assert.equal((await payer.run()).confirmed.length, 1);
      assert.equal(s.devnet.ledger.balance(A).confirmed, 2n * VBK);
      await assertBooks(s.store, s.devnet.ledger, { recipients: [A] });
      await payer.unlock();
    } finally {
      await proxy.shutdown();
    }
  },
);
