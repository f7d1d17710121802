/**
 * `vbkpool admin payments` and `admin settle` against a running `vbkpool server` whose store
 * holds a payment with an unknown outcome (NodeCore's test-only fault: `sendcoins` answers too
 * late and executes nothing): the payment is listed with what it waits for, settled as not
 * sent through the admin listener (the same checks as `payouts --settle`), and paid again.
 */
import assert from "node:assert/strict";
import { spawnVbkpool } from "../_process.ts";
import { A, B, creditBalances, type PayoutStack, POOL, VBK, withStack } from "../payouts/_stack.ts";

const TOKEN = "settle-token-0123456789abcdef";

async function run(args: string[], env: Record<string, string>) {
  await using child = spawnVbkpool(args, { env });
  const status = await child.exited;
  return { code: status.code, out: child.out, err: child.err };
}

async function adminSettles(s: PayoutStack): Promise<void> {
  await s.minePool(3);
  await creditBalances(s.store, { [A]: 2n * VBK, [B]: 3n * VBK });
  const env = {
    VBKPOOL_STORE_URL: s.storeLocation,
    VBKPOOL_WALLET_URL: s.url,
    VBKPOOL_WALLET_TIMEOUT_SECONDS: "0.3",
    VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
    VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "1",
    VBKPOOL_PAYOUTS_RECONCILE_GRACE_SECONDS: "0",
    VBKPOOL_ADMIN_TOKEN: TOKEN,
  };
  const nothing = s.devnet.faults.nextSend({ execute: false, replyDelayMs: 1000 });
  const once = await run(["payouts", "--once"], env);
  assert.equal(once.code, 0, once.err);
  await nothing;
  assert.equal((await s.store.payouts.getPayment(1n))?.status, "pending");

  const server = spawnVbkpool([
    "server",
    "--listen",
    "127.0.0.1:0",
    "--nodecore",
    `127.0.0.1:${s.devnet.addr.port}`,
    "--address",
    POOL,
    "--api.enabled",
    "false",
    "--admin.enabled",
    "true",
    "--admin.listen",
    "127.0.0.1:0",
  ], { env, cwd: s.dir });
  try {
    const url = (await server.waitForLog(/admin listener on http:\/\/([\d.:]+) /))[1]!;
    const admin = (...args: string[]) =>
      run(["admin", ...args, "--admin.listen", url], { VBKPOOL_ADMIN_TOKEN: TOKEN });
    const listed = await admin("payments");
    assert.equal(listed.code, 0, listed.err);
    const body = JSON.parse(listed.out);
    assert.equal(body.unknown.length, 1, listed.out);
    assert.equal(body.unknown[0].payment.id, "1");
    assert.match(body.summary.join("\n"), /#1 pending for .*2 recipient\(s\), 5 VBK/);
    const badTx = await admin("settle", "1", "--sent", "ab".repeat(32));
    assert.equal(badTx.code, 1);
    assert.match(badTx.err, /HTTP 409/);
    assert.equal((await s.store.payouts.getPayment(1n))?.status, "pending", "refusal: no change");
    const settled = await admin("settle", "1", "--not-sent");
    assert.equal(settled.code, 0, settled.err);
    assert.equal(JSON.parse(settled.out).payment.status, "failed");
    assert.equal((await s.store.payouts.getPayment(1n))?.status, "failed");
    const again = await admin("settle", "1", "--not-sent");
    assert.equal(again.code, 1);
    assert.equal(await server.stop("SIGINT"), 0, server.err);
  } finally {
    await server.kill();
  }
  const paid = await run(["payouts", "--once"], env);
  assert.equal(paid.code, 0, paid.err);
  assert.match(paid.out, /1 payment\(s\) sent/);
}

Deno.test({
  name: "vbkpool admin lists and settles a payment whose outcome is unknown",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => withStack(adminSettles),
});
