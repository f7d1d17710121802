/**
 * Crash injection: `vbkpool payouts --once` (a real subprocess) kills itself with SIGKILL at each
 * step of a payment (after the intent is written, after sendcoins returned, after the
 * transaction id is recorded); the next run reconciles with the devnet's NodeCore API (an intent
 * never sent is failed by the proof rule: older than the window, the pool address's signature
 * index unchanged), and in the end every miner holds exactly what it was credited on the devnet
 * ledger: paid once, the store's books agree, and `vbkpool audit --nodecore` finds them in order.
 */
import assert from "node:assert/strict";
import { PAYER_STEPS, type PayerStep } from "../../payouts/mod.ts";
import {
  A,
  B,
  C,
  type PayoutStack,
  POOL,
  STACK_BACKENDS,
  VBK,
  withStack,
} from "../payouts/_stack.ts";
import { assertBooks } from "../payouts/_books.ts";
import { runAudit, runPayouts } from "./_payouts_stack.ts";
import { waitUntil } from "../_wait.ts";

async function setUp(s: PayoutStack): Promise<void> {
  const blocks = await s.minePool(3); // 150 VBK in the pool wallet
  let t = 1000;
  for (const block of blocks) {
    await s.share(A, 500n, 1000n, t++);
    await s.share(B, 300n, 1000n, t++);
    await s.share(C, 200n, 1000n, t++);
    await s.recordFound(block, t++);
  }
  for (let i = 0; i < 3; i++) await s.devnet.rival.mineBlock();
}

/** Wait until the payout lock is free: a probe takes it and gives it back at once. */
async function lockFree(s: PayoutStack): Promise<void> {
  await waitUntil(
    async () => {
      if (!await s.store.payouts.acquireLock("test-probe", { ttlMs: 1000 })) return false;
      await s.store.payouts.releaseLock("test-probe");
      return true;
    },
    "the payout lock free",
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

function env(s: PayoutStack, crashAt?: PayerStep): Record<string, string> {
  return {
    VBKPOOL_STORE_URL: s.storeLocation,
    VBKPOOL_WALLET_URL: s.url,
    VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
    VBKPOOL_PAYOUTS_CONFIRMATIONS: "3",
    VBKPOOL_PAYOUTS_PPLNS_WINDOW: "1000",
    VBKPOOL_PAYOUTS_FEES: `${POOL}=1`,
    VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1",
    VBKPOOL_PAYOUTS_PAYMENT_CONFIRMATIONS: "2",
    VBKPOOL_PAYOUTS_LOCK_TTL_SECONDS: "1",
    VBKPOOL_PAYOUTS_RECONCILE_GRACE_SECONDS: "0",
    VBKPOOL_PAYOUTS_UNKNOWN_OUTCOME_SECONDS: "1",
    VBKPOOL_LOG_LEVEL: "warning",
    ...(crashAt === undefined ? {} : { VBKPOOL_TEST_CRASH_AT: crashAt }),
  };
}

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name:
      `vbkpool payouts (${backend.name}) killed at each payment step pays every miner exactly once`,
    ignore: backend.ignore,
    fn: (t) => crashAtEachStep(t, backend.name),
  });
}

async function crashAtEachStep(t: Deno.TestContext, backend: "sqlite" | "postgres") {
  for (const step of PAYER_STEPS) {
    await t.step(step, async () => {
      await withStack(
        async (s) => {
          await setUp(s);
          const crashed = await runPayouts(env(s, step));
          assert.equal(crashed.signal, "SIGKILL", crashed.err + crashed.out);
          assert.match(crashed.err, new RegExp(`killing the payout process at ${step}`));
          const [intent] = await s.store.payouts.listPayments();
          assert.ok(intent !== undefined, "the intent was written before anything was sent");
          assert.deepEqual(intent.signatureIndex, { blockchainIndex: -1n, poolIndex: -1n });
          assert.equal(intent.status, step === "after-record" ? "sent" : "pending");
          assert.equal(s.devnet.ledger.pending().length, step === "after-intent" ? 0 : 1);
          const credited = new Map<string, bigint>();
          for (const m of [A, B, C]) {
            const changes = await s.store.payouts.listBalanceChanges({ address: m });
            credited.set(
              m,
              changes.filter((c) => c.reason === "share").reduce((x, c) => x + c.amount, 0n),
            );
            assert.equal(await s.store.payouts.balance(m), 0n, "debited by the intent");
          }
          assert.ok(credited.get(A)! > 70n * VBK);

          await lockFree(s); // the dead payer's lock expires (its TTL is 1 s)
          const restarted = await runPayouts(env(s));
          assert.equal(restarted.code, 0, restarted.err + restarted.out);
          if (step === "after-intent") {
            assert.match(restarted.out, /1 payment\(s\) sent, 0 confirmed, 1 failed, 0 recovered/);
          } else if (step === "after-send") {
            assert.match(restarted.out, /0 payment\(s\) sent, 0 confirmed, 0 failed, 1 recovered/);
          } else {
            assert.match(restarted.out, /0 payment\(s\) sent, 0 confirmed, 0 failed, 0 recovered/);
          }
          assert.equal(s.devnet.ledger.pending().length, 1, "one transaction in all");

          await s.devnet.rival.mineBlock();
          await s.devnet.rival.mineBlock();
          await lockFree(s);
          const last = await runPayouts(env(s));
          assert.equal(last.code, 0, last.err + last.out);
          assert.match(last.out, /0 payment\(s\) sent, 1 confirmed/);
          for (const [m, amount] of credited) {
            assert.equal(s.devnet.ledger.balance(m).confirmed, amount, `${m} paid exactly once`);
            assert.equal(await s.store.payouts.balance(m), 0n);
          }
          const payments = await s.store.payouts.listPayments();
          assert.equal(payments.filter((p) => p.status === "confirmed").length, 1);
          const failed = payments.filter((p) => p.status === "failed");
          assert.equal(failed.length, step === "after-intent" ? 1 : 0);
          for (const f of failed) {
            assert.match(
              f.error!,
              /^not executed: \d+ s after the intent, the pool address's signature index has not moved/,
            );
          }
          await assertBooks(s.store, s.devnet.ledger, { recipients: [A, B, C] });
          const audit = await runAudit(env(s), ["--nodecore", s.url]);
          assert.equal(audit.code, 0, audit.out + audit.err);
          assert.match(audit.out, /^Result: PASS \(6 checks\)$/m);
        },
        {},
        backend,
      );
    });
  }
}

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `vbkpool payouts (${backend.name}) run again before NodeCore executed a timed-out ` +
      "sendcoins does not pay again; the next run finds the transaction",
    ignore: backend.ignore,
    fn: () => withStack(lateExecution, {}, backend.name),
  });
}

async function lateExecution(s: PayoutStack): Promise<void> {
  await setUp(s);
  const e = {
    ...env(s),
    VBKPOOL_WALLET_TIMEOUT_SECONDS: "0.3",
    VBKPOOL_PAYOUTS_UNKNOWN_OUTCOME_SECONDS: "600",
  };
  const { promise: go, resolve: execute } = Promise.withResolvers<void>();
  const late = s.devnet.faults.nextSend({ executeWhen: go });
  const first = await runPayouts(e);
  assert.equal(first.code, 0, first.err + first.out);
  assert.match(first.out, /0 payment\(s\) sent.*no answer within 300 ms/);
  const again = await runPayouts(e);
  assert.equal(again.code, 0, again.err + again.out);
  assert.match(again.out, /0 payment\(s\) sent, 0 confirmed, 0 failed, 0 recovered/);
  assert.match(again.out, /payer: a payment's outcome is still unknown/);
  assert.deepEqual(s.devnet.ledger.pending(), []);
  execute(); // NodeCore creates the transaction only now
  await late;
  const found = await runPayouts(e);
  assert.match(found.out, /0 payment\(s\) sent, 0 confirmed, 0 failed, 1 recovered/);
  await s.devnet.rival.mineBlock();
  await s.devnet.rival.mineBlock();
  assert.match((await runPayouts(e)).out, /0 payment\(s\) sent, 1 confirmed/);
  await assertBooks(s.store, s.devnet.ledger, { recipients: [A, B, C] });
  for (const m of [A, B, C]) {
    const credited = (await s.store.payouts.listBalanceChanges({ address: m }))
      .filter((c) => c.reason === "share").reduce((x, c) => x + c.amount, 0n);
    assert.equal(s.devnet.ledger.balance(m).confirmed, credited, `${m} paid exactly once`);
  }
}
