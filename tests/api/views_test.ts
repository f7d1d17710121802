import assert from "node:assert/strict";
import {
  blockEventView,
  blockView,
  paymentView,
  storeHealthView,
  upstreamView,
} from "../../api/views.ts";

Deno.test("upstreamView() shows the state and counts, never the endpoint or the error", () => {
  assert.deepEqual(
    upstreamView({ state: "connecting", endpoint: undefined, since: 1, reconnects: 0 }),
    { state: "connecting", connected: false, since: 1, reconnects: 0 },
  );
  assert.deepEqual(
    upstreamView({
      state: "backoff",
      endpoint: "10.9.8.7:8501",
      since: 2,
      reconnects: 5,
      lastError: "SECRET-TEXT connect ECONNREFUSED 10.9.8.7:8501",
    }),
    { state: "backoff", connected: false, since: 2, reconnects: 5 },
  );
});

Deno.test("storeHealthView() leaves out the store's last error", () => {
  assert.deepEqual(
    storeHealthView({
      backend: "postgres",
      healthy: false,
      queueDepth: 7,
      batches: 1,
      committed: 2,
      failed: 3,
      lastCommitMs: 4,
      lastError: "SECRET-TEXT password authentication failed for user pool at 10.9.8.7",
    }),
    { backend: "postgres", healthy: false, queueDepth: 7 },
  );
});

Deno.test("blockEventView() turns NodeCore's verdict into a code, without reason or endpoint", () => {
  const event = {
    type: "block_result" as const,
    at: 5,
    hash: "ab".repeat(24),
    height: 9,
    accepted: false,
    outcome: "unknown" as const,
    reason: "Error: connect ECONNREFUSED 10.9.8.7:8501",
    endpoint: "10.9.8.7:8501",
  };
  assert.deepEqual(blockEventView(event), {
    hash: "ab".repeat(24),
    height: 9,
    accepted: false,
    code: "unknown",
    time: 5,
  });
  assert.equal(blockEventView({ ...event, outcome: "refused" }).code, "rejected");
  const accepted = { type: "block_result" as const, at: 6, hash: "cd".repeat(24), height: 10 };
  assert.equal(
    blockEventView({
      ...accepted,
      accepted: true,
      outcome: "accepted",
      endpoint: "10.9.8.7:8501",
    }).code,
    "accepted",
  );
});

Deno.test("blockView() writes exact quantities as decimal strings", () => {
  const view = blockView({
    id: 1n,
    instance: 3,
    height: 10,
    hash: new Uint8Array(24).fill(1),
    address: "V1",
    worker: "",
    networkDifficulty: 2n ** 62n,
    reward: 5_000_000_000n,
    status: "orphaned",
    confirmations: 3,
    effort: 1.25,
    time: 7,
    updatedAt: 9,
    solo: true,
    source: "share",
    note: "not_on_chain",
    creditBasis: undefined,
  });
  assert.deepEqual(view, {
    height: 10,
    hash: "01".repeat(24),
    finder: "V1",
    worker: "",
    status: "orphaned",
    solo: true,
    note: "not_on_chain",
    confirmations: 3,
    effort: 1.25,
    reward: "5000000000",
    networkDifficulty: "4611686018427387904",
    time: 7,
  });
});

Deno.test("paymentView() sums an address's items and shows the error as a code", () => {
  const payment = {
    id: 2n ** 53n + 1n,
    status: "failed" as const,
    items: [{ address: "V1", amount: 5n }],
    total: 5n,
    txIds: [],
    startHeight: 1,
    confirmations: 0,
    error: "SECRET-TEXT rejected by NodeCore at 10.9.8.7:10600",
    owner: "x",
    createdAt: 1,
    updatedAt: 2,
  };
  const view = paymentView(payment, { address: "V9" });
  assert.equal(view.id, "9007199254740993");
  assert.equal(view.amount, "0");
  assert.equal(view.error, "payment_failed");
  assert.equal(view.items, undefined);
  assert.equal(
    paymentView({ ...payment, status: "sent", error: "outcome unknown" }).error,
    "payment_problem",
  );
  assert.equal(paymentView({ ...payment, status: "pending", error: undefined }).error, null);
  assert.ok(!JSON.stringify(view).includes("SECRET-TEXT"));
});
