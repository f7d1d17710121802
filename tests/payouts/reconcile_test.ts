import assert from "node:assert/strict";
import { type BlockFacts, type BlockVerdict, judgeBlock } from "../../payouts/mod.ts";

const HASH = "00AB".repeat(12);
const OTHER = "00CD".repeat(12);

Deno.test("judgeBlock() follows the reconciliation rules", async (t) => {
  // [case, status, tip, main-chain hash at height 10, verdict]; N = 2.
  const rows: [string, BlockFacts["status"], number, string | undefined, BlockVerdict][] = [
    ["candidate above the tip", "submitted", 9, undefined, { action: "wait", confirmations: 0 }],
    ["pending above the tip", "pending", 9, undefined, { action: "wait", confirmations: 0 }],
    ["no block listed at the height", "submitted", 12, undefined, {
      action: "wait",
      confirmations: 0,
    }],
    ["candidate at the tip", "submitted", 10, HASH, { action: "on_chain", confirmations: 1 }],
    ["candidate settled (lower case)", "submitted", 20, HASH.toLowerCase(), {
      action: "on_chain",
      confirmations: 11,
    }],
    ["pending at depth N", "pending", 11, HASH, { action: "wait", confirmations: 2 }],
    ["pending past N", "pending", 12, HASH, { action: "credit", confirmations: 3 }],
    ["candidate, other block shallow", "submitted", 11, OTHER, {
      action: "wait",
      confirmations: 0,
    }],
    ["candidate, other block settled", "submitted", 12, OTHER, { action: "reject" }],
    ["pending, other block shallow", "pending", 11, OTHER, { action: "wait", confirmations: 0 }],
    ["pending, other block settled", "pending", 12, OTHER, { action: "orphan" }],
  ];
  for (const [name, status, tip, chainHash, verdict] of rows) {
    await t.step(name, () => {
      assert.deepEqual(
        judgeBlock({ status, hash: HASH, height: 10, tip, chainHash, confirmations: 2 }),
        verdict,
      );
    });
  }
});
