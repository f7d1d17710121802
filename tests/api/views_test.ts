import assert from "node:assert/strict";
import { blockView, paymentView, upstreamView } from "../../api/views.ts";

Deno.test("upstreamView() maps missing endpoint and error to null", () => {
  assert.deepEqual(
    upstreamView({ state: "connecting", endpoint: undefined, since: 1, reconnects: 0 }),
    {
      state: "connecting",
      connected: false,
      endpoint: null,
      since: 1,
      reconnects: 0,
      lastError: null,
    },
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
    solo: false,
    source: "share",
    note: "",
    creditBasis: undefined,
  });
  assert.deepEqual(view, {
    height: 10,
    hash: "01".repeat(24),
    finder: "V1",
    worker: "",
    status: "orphaned",
    confirmations: 3,
    effort: 1.25,
    reward: "5000000000",
    networkDifficulty: "4611686018427387904",
    time: 7,
  });
});

Deno.test("paymentView() sums an address's items and keeps the error", () => {
  const payment = {
    id: 2n ** 53n + 1n,
    status: "failed" as const,
    items: [{ address: "V1", amount: 5n }],
    total: 5n,
    txIds: [],
    startHeight: 1,
    confirmations: 0,
    error: "rejected by NodeCore",
    owner: "x",
    createdAt: 1,
    updatedAt: 2,
  };
  const view = paymentView(payment, { address: "V9" });
  assert.equal(view.id, "9007199254740993");
  assert.equal(view.amount, "0");
  assert.equal(view.error, "rejected by NodeCore");
  assert.equal(view.items, undefined);
});
