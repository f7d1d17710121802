/**
 * settlePayment() and listUnknownOutcomes(): the operator's settling of a payment whose outcome
 * is unknown, against the devnet's real HTTP API. Wrong, unknown or reused transaction ids are
 * refused; "not sent" is refused while a transaction with the intent's outputs exists; nothing
 * changes on a refusal; a settled payment is paid exactly once.
 */
import assert from "node:assert/strict";
import { listUnknownOutcomes, NodeCoreRpc, Payer, settlePayment } from "../../payouts/mod.ts";
import { assertBooks } from "./_books.ts";
import { A, B, creditBalances, FEE, type PayoutStack, POOL, stackTest, VBK } from "./_stack.ts";

/** A payment whose sendcoins NodeCore executed at once but answered too late. */
async function timedOut(s: PayoutStack): Promise<{ payer: Payer; id: bigint; txId: string }> {
  await s.minePool(2);
  await creditBalances(s.store, { [A]: 2n * VBK, [B]: 3n * VBK });
  const payer = new Payer(s.store, new NodeCoreRpc({ url: s.url, timeoutMs: 300 }), {
    owner: "service",
    poolAddress: POOL,
    minimumPayment: VBK,
    paymentConfirmations: 2,
  });
  const late = s.devnet.faults.nextSend({ replyDelayMs: 1000 });
  await payer.run();
  await payer.unlock(); // the operator stopped the payout service
  const [pending] = await s.store.payouts.listPayments({ status: "pending" });
  const { txIds: [txId] } = await late;
  return { payer, id: pending!.id, txId: txId! };
}

stackTest(
  "settlePayment() --sent refuses a transaction that is malformed, unknown (unless forced), reused or pays other outputs",
  async (s) => {
    const { payer, id, txId } = await timedOut(s);
    const [other] = await s.rpc.sendCoins({
      sourceAddress: POOL,
      amounts: [{ address: A, amount: 2n * VBK }, { address: B, amount: 3n * VBK - 1n }],
    });
    const base = { id, poolAddress: POOL, owner: "operator" };
    const cases: [string, string, RegExp][] = [
      ["not hex", "xyz", /is not a transaction id \(64 hex digits\)/],
      ["too short", "AB".repeat(31), /is not a transaction id/],
      ["unknown to NodeCore", "00".repeat(32), /NodeCore does not know transaction 0{64}; --force/],
      [
        "one atomic unit short",
        other!,
        /pays 2 output\(s\), 4\.99999999 VBK, not exactly the intent's 2 output\(s\), 5 VBK/,
      ],
    ];
    for (const [why, tx, message] of cases) {
      const r = await settlePayment(s.store, s.rpc, { ...base, outcome: { sent: tx } });
      assert.ok(!r.ok, why);
      assert.match(r.reason, message, why);
    }
    const forcedWrong = await settlePayment(s.store, s.rpc, {
      ...base,
      outcome: { sent: other! },
      force: true,
    });
    assert.ok(!forcedWrong.ok, "--force never records a transaction with other outputs");
    const notSent = await settlePayment(s.store, s.rpc, { ...base, outcome: "not-sent" });
    assert.ok(!notSent.ok);
    assert.match(
      notSent.reason,
      new RegExp(`transaction ${txId.toLowerCase()} has exactly its outputs`),
    );
    assert.equal((await s.store.payouts.getPayment(id))?.status, "pending", "nothing changed");

    const right = await settlePayment(s.store, s.rpc, {
      ...base,
      outcome: { sent: txId.toLowerCase() },
    });
    assert.ok(right.ok, right.ok ? "" : right.reason);
    assert.deepEqual(right.payment.txIds, [txId]);
    assert.deepEqual(right.checks, [
      `transaction ${txId.toLowerCase()} is from the pool address with exactly the intent's outputs`,
    ]);
    const twice = await settlePayment(s.store, s.rpc, { ...base, outcome: { sent: txId } });
    assert.ok(!twice.ok);
    assert.match(twice.reason, /is sent: only a pending payment/);
    const missing = await settlePayment(s.store, s.rpc, { ...base, id: 99n, outcome: "not-sent" });
    assert.ok(!missing.ok);
    assert.match(missing.reason, /there is no payment 99/);
    assert.deepEqual(
      await listUnknownOutcomes(s.store, s.rpc, { poolAddress: POOL, windowMs: 0 }),
      [],
    );

    // Another intent: the recorded transaction cannot settle it; an unknown one only by force.
    await creditBalances(s.store, { [A]: VBK });
    assert.ok(await s.store.payouts.acquireLock("old", { ttlMs: 60_000 }));
    const another = await s.store.payouts.createPayment("old", {
      items: [{ address: A, amount: VBK }],
      startHeight: s.devnet.chain.height,
    });
    await s.store.payouts.releaseLock("old");
    const next = { ...base, id: another.id };
    const reused = await settlePayment(s.store, s.rpc, { ...next, outcome: { sent: txId } });
    assert.ok(!reused.ok);
    assert.match(reused.reason, /is already recorded on a payment/);
    const unknown = "00".repeat(32);
    const forced = await settlePayment(s.store, s.rpc, {
      ...next,
      outcome: { sent: unknown },
      force: true,
    });
    assert.ok(forced.ok, forced.ok ? "" : forced.reason);
    assert.deepEqual(forced.checks, [
      `NodeCore does not know transaction ${unknown}: recorded anyway (--force)`,
    ]);

    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock();
    const pass = await payer.run();
    assert.deepEqual(pass.confirmed.map((p) => p.id), [id]);
    assert.deepEqual(pass.problems.map((p) => p.payment.id), [another.id], "followed as any");
    assert.match(pass.problems[0]!.problem, /is unknown to the node/);
    // The operator's own transaction also reached A; the store paid A 2 VBK once, then 1 by hand.
    assert.equal(s.devnet.ledger.balance(A).confirmed, 4n * VBK);
    assert.equal(await s.store.payouts.balance(A), 0n);
    await payer.unlock();
  },
);

stackTest(
  "settlePayment() --not-sent settles when NodeCore confirms it; listUnknownOutcomes() says what each payment waits for",
  async (s) => {
    await s.minePool(2);
    await creditBalances(s.store, { [A]: 2n * VBK, [B]: 3n * VBK });
    const payer = new Payer(s.store, new NodeCoreRpc({ url: s.url, timeoutMs: 300 }), {
      owner: "service",
      poolAddress: POOL,
      minimumPayment: VBK,
      paymentConfirmations: 2,
    });
    const nothing = s.devnet.faults.nextSend({ execute: false, replyDelayMs: 1000 });
    await payer.run();
    await nothing;
    await payer.unlock();
    const [pending] = await s.store.payouts.listPayments({ status: "pending" });
    const [listed] = await listUnknownOutcomes(s.store, s.rpc, {
      poolAddress: POOL,
      windowMs: 600_000,
    });
    assert.equal(listed?.verdict?.kind, "waiting");
    assert.match(
      listed!.waitingFor,
      /^a transaction with its outputs \(then it is recorded as sent\)/,
    );
    const offline = await listUnknownOutcomes(s.store, undefined, { windowMs: 600_000 });
    assert.equal(offline[0]?.current, undefined);
    assert.match(offline[0]!.waitingFor, /the node was not asked/);

    const settled = await settlePayment(s.store, s.rpc, {
      id: pending!.id,
      poolAddress: POOL,
      owner: "operator",
      outcome: "not-sent",
    });
    assert.ok(settled.ok, settled.ok ? "" : settled.reason);
    assert.equal(settled.payment.status, "failed");
    assert.equal(settled.payment.error, "settled by the operator: not sent");
    assert.match(settled.checks.join("\n"), /no pool transaction with its outputs/);
    assert.match(settled.checks.join("\n"), /signature index has not moved since the intent/);
    assert.equal(await s.store.payouts.balance(A), 2n * VBK);

    assert.equal((await payer.run()).sent.length, 1);
    await s.devnet.rival.mineBlock();
    await s.devnet.rival.mineBlock();
    assert.equal((await payer.run()).confirmed.length, 1);
    await assertBooks(s.store, s.devnet.ledger, { recipients: [A, B] });
    assert.equal(s.devnet.ledger.balance(FEE).confirmed, 0n);
    await payer.unlock();
  },
);
