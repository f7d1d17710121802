/**
 * The proof rule for a payment intent whose outcome is unknown, case by case, from the side of a
 * node that lies by omission: an old intent without an index, a node that cannot be asked, an
 * index moved by another sender, an index that went back after a restart, and the window.
 */
import assert from "node:assert/strict";
import { judgeUnknownOutcome, type OutcomeFacts } from "../../payouts/mod.ts";

const WINDOW = 600_000;
const T0 = 1_700_000_000_000;
const stored = { blockchainIndex: 3n, poolIndex: 5n };

function facts(over: Partial<OutcomeFacts>): OutcomeFacts {
  return { createdAt: T0, stored, current: stored, now: T0 + WINDOW, windowMs: WINDOW, ...over };
}

Deno.test("judgeUnknownOutcome() proves 'not executed' only when nothing moved for the whole window", async (t) => {
  const cases: [string, Partial<OutcomeFacts>, string, string?][] = [
    ["unchanged, window passed", {}, "not-executed"],
    ["unchanged, long after", { now: T0 + 100 * WINDOW }, "not-executed"],
    [
      "pending transactions of before the intent got mined (blockchain index caught up)",
      { current: { blockchainIndex: 5n, poolIndex: 5n } },
      "not-executed",
    ],
    ["unchanged, 1 ms short of the window", { now: T0 + WINDOW - 1 }, "waiting"],
    ["unchanged, right after the intent", { now: T0 }, "waiting"],
    ["no stored index (an older vbkpool)", { stored: undefined }, "unknown", "no-index"],
    [
      "no stored index, and the index never moved",
      { stored: undefined, now: T0 + 100 * WINDOW },
      "unknown",
      "no-index",
    ],
    ["the node cannot be asked", { current: { error: "timeout" } }, "unknown", "no-node"],
    [
      "another transaction signed since (pool index +1)",
      { current: { blockchainIndex: 3n, poolIndex: 6n } },
      "unknown",
      "advanced",
    ],
    [
      "another transaction signed and mined since (blockchain index past the stored pool index)",
      { current: { blockchainIndex: 6n, poolIndex: 6n } },
      "unknown",
      "advanced",
    ],
    [
      "a blockchain index past the pool index (an inconsistent node)",
      { current: { blockchainIndex: 6n, poolIndex: 5n } },
      "unknown",
      "advanced",
    ],
    [
      "advanced, even inside the window",
      { current: { blockchainIndex: 3n, poolIndex: 6n }, now: T0 },
      "unknown",
      "advanced",
    ],
    [
      "the index went back (restarted node, mempool lost)",
      { current: { blockchainIndex: 3n, poolIndex: 4n } },
      "unknown",
      "went-back",
    ],
  ];
  for (const [name, over, kind, code] of cases) {
    await t.step(name, () => {
      const verdict = judgeUnknownOutcome(facts(over));
      assert.equal(verdict.kind, kind, JSON.stringify(verdict));
      if (code !== undefined) assert.equal(verdict.kind === "unknown" && verdict.code, code);
    });
  }
});

Deno.test("judgeUnknownOutcome() explains each verdict with the indexes it saw", () => {
  const waiting = judgeUnknownOutcome(facts({ now: T0 + 1000 }));
  assert.ok(waiting.kind === "waiting");
  assert.equal(waiting.until, T0 + WINDOW);
  assert.match(waiting.problem, /has not moved \(blockchain 3, pool 5\)/);
  assert.match(waiting.problem, new RegExp(new Date(T0 + WINDOW).toISOString()));
  const done = judgeUnknownOutcome(facts({}));
  assert.ok(done.kind === "not-executed");
  assert.match(done.reason, /^not executed: 600 s after the intent/);
  const moved = judgeUnknownOutcome(facts({ current: { blockchainIndex: 4n, poolIndex: 7n } }));
  assert.ok(moved.kind === "unknown");
  assert.match(moved.problem, /then blockchain 3, pool 5, now blockchain 4, pool 7/);
  const down = judgeUnknownOutcome(facts({ current: { error: "Cannot call getsignatureindex" } }));
  assert.ok(down.kind === "unknown");
  assert.match(down.problem, /\(Cannot call getsignatureindex\)/);
  const big = (1n << 62n) + 1n; // beyond 2^53: compared as bigints
  const huge = judgeUnknownOutcome(facts({
    stored: { blockchainIndex: big, poolIndex: big },
    current: { blockchainIndex: big, poolIndex: big + 1n },
  }));
  assert.equal(huge.kind, "unknown");
});
