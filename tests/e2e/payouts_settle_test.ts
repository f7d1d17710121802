/**
 * The operator's commands as a user runs them: `vbkpool payouts --once`, `--status` and
 * `--settle` (real subprocesses) against a store and the devnet's NodeCore HTTP API, whose
 * test-only faults make `sendcoins` answer too late (executed or not). In the end every miner
 * holds exactly what it was credited on the devnet ledger, and the store's books agree.
 */
import assert from "node:assert/strict";
import { spawnVbkpool } from "../_process.ts";
import { assertBooks } from "../payouts/_books.ts";
import {
  A,
  B,
  C,
  creditBalances,
  FEE,
  type PayoutStack,
  POOL,
  STACK_BACKENDS,
  VBK,
  withStack,
} from "../payouts/_stack.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Run `vbkpool payouts ARGS` to completion against the stack. */
async function payouts(s: PayoutStack, ...args: string[]): Promise<Run> {
  await using child = spawnVbkpool(["payouts", ...args], {
    env: {
      VBKPOOL_STORE_URL: s.storeLocation,
      VBKPOOL_WALLET_URL: s.url,
      VBKPOOL_WALLET_TIMEOUT_SECONDS: "0.3",
      VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
      VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1",
      VBKPOOL_PAYOUTS_PAYMENT_CONFIRMATIONS: "2",
      VBKPOOL_PAYOUTS_RECONCILE_GRACE_SECONDS: "0",
      VBKPOOL_LOG_LEVEL: "error",
    },
  });
  const status = await child.exited;
  return { code: status.code, out: child.out, err: child.err };
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `${r.out}\n${r.err}`);
  return r;
}

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `vbkpool payouts --status and --settle (${backend.name}) as an operator runs them: ` +
      "refused when NodeCore contradicts, settled once, paid exactly once",
    ignore: backend.ignore,
    fn: () => withStack(operatorSettles, {}, backend.name),
  });
}

async function operatorSettles(s: PayoutStack): Promise<void> {
  await s.minePool(3);
  await creditBalances(s.store, { [A]: 2n * VBK, [B]: 3n * VBK });

  // 1. NodeCore does nothing and answers too late; then the pool address sends something else.
  const nothing = s.devnet.faults.nextSend({ execute: false, replyDelayMs: 1000 });
  const first = ok(await payouts(s, "--once"));
  assert.match(first.out, /0 payment\(s\) sent.*payment 1: Cannot call sendcoins .*no answer/);
  await nothing;
  const [unrelated] = await s.rpc.sendCoins({
    sourceAddress: POOL,
    amounts: [{ address: FEE, amount: VBK }],
  });
  const stuck = ok(await payouts(s, "--once"));
  assert.match(stuck.out, /payer: a payment's outcome is still unknown/);

  const status = ok(await payouts(s, "--status"));
  assert.match(status.out, /^payments whose outcome is unknown \(1\):$/m);
  assert.match(
    status.out,
    /^ {2}#1 pending for \d+s: 2 recipient\(s\), 5 VBK; signature index at the intent: blockchain -1, pool -1; now: blockchain -1, pool 0$/m,
  );
  assert.match(status.out, /last problem: outcome unknown: the pool address signed a transaction/);
  assert.match(
    status.out,
    /waiting for: the operator: vbkpool payouts --settle 1 --sent TXID, or --not-sent --force \(advanced/,
  );

  const wrongTx = await payouts(s, "--settle", "1", "--sent", unrelated!);
  assert.equal(wrongTx.code, 1);
  assert.match(
    wrongTx.err,
    /Cannot settle payment 1: transaction [0-9a-f]{64} pays 1 output\(s\), 1 VBK, not exactly the intent's 2 output\(s\), 5 VBK/,
  );
  const unforced = await payouts(s, "--settle", "1", "--not-sent");
  assert.equal(unforced.code, 1);
  assert.match(unforced.err, /Cannot settle payment 1: the node does not confirm it was not sent/);
  assert.match(unforced.err, /--force settles it anyway/);
  assert.ok(await s.store.payouts.acquireLock("a running payer", { ttlMs: 60_000 }));
  const busy = await payouts(s, "--settle", "1", "--not-sent", "--force");
  assert.equal(busy.code, 1);
  assert.match(busy.err, /Cannot settle payment 1: a payout process holds the payer lock/);
  await s.store.payouts.releaseLock("a running payer");
  assert.equal(
    (await s.store.payouts.getPayment(1n))?.status,
    "pending",
    "refusals change nothing",
  );

  const forced = ok(await payouts(s, "--settle", "1", "--not-sent", "--force"));
  assert.match(
    forced.out,
    /^payment 1 settled: not sent; 5 VBK returned to 2 balance\(s\), paid again by the next pass$/m,
  );
  assert.match(
    forced.out,
    /checked: .*signed a transaction since the intent.*settled anyway \(--force\)/,
  );
  assert.match(ok(await payouts(s, "--once")).out, /1 payment\(s\) sent/);

  // 2. NodeCore executes at once but answers too late: the operator names the transaction.
  await creditBalances(s.store, { [C]: 4n * VBK });
  const late = s.devnet.faults.nextSend({ replyDelayMs: 1000 });
  ok(await payouts(s, "--once"));
  const { txIds: [sent] } = await late;
  const pending = (await s.store.payouts.listPayments({ status: "pending" }))[0]!;
  const named = ok(await payouts(s, "--settle", String(pending.id), "--sent", sent!.toLowerCase()));
  assert.match(
    named.out,
    new RegExp(`payment ${pending.id} settled: sent in transaction ${sent!.toLowerCase()}`),
  );
  assert.match(
    named.out,
    /checked: transaction .* from the pool address with exactly the intent's outputs/,
  );

  await s.devnet.rival.mineBlock();
  await s.devnet.rival.mineBlock();
  assert.match(ok(await payouts(s, "--once")).out, /0 payment\(s\) sent, 2 confirmed/);
  assert.match(ok(await payouts(s, "--status")).out, /payments whose outcome is unknown: none/);
  assert.equal(s.devnet.ledger.balance(A).confirmed, 2n * VBK);
  assert.equal(s.devnet.ledger.balance(B).confirmed, 3n * VBK);
  assert.equal(s.devnet.ledger.balance(C).confirmed, 4n * VBK);
  await assertBooks(s.store, s.devnet.ledger, { recipients: [A, B, C] });
}
