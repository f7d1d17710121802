/**
 * The proof rule for a payment intent whose outcome is unknown (`pending` after a crash, a
 * `sendcoins` timeout or a dropped connection): when may the payer decide that NodeCore did not
 * execute it, fail it and pay the amounts again? Only when the ledger proves it. The proof rests
 * on the pool address's signature index (`getsignatureindex`): every transaction the address
 * signs takes the next index, and the payer stores the index it read just before writing the
 * intent, so a transaction for the intent can only have an index above the stored `poolIndex`.
 *
 * The caller first looks for a pool transaction with exactly the intent's outputs in NodeCore's
 * mempool and in the blocks since the intent; found, the intent was sent (this rule is not
 * asked). Otherwise the facts are checked in this order, and the first that applies decides:
 *
 * 1. no stored index (an intent written by an older vbkpool): `unknown` (`no-index`), forever;
 * 2. the index cannot be read now: `unknown` (`no-node`), until it can;
 * 3. the index advanced: the blockchain or pool index now is above the stored pool index. Some
 *    transaction was signed since the intent, and none has its outputs: `unknown` (`advanced`);
 *    only the operator can tell what it was;
 * 4. the index went back: the pool index now is below the stored one. The node forgot
 *    transactions (a restart that lost its mempool, a reorganisation that dropped them); one it
 *    forgot may still be in other nodes' mempools and be mined: `unknown` (`went-back`);
 * 5. the intent is younger than the window (longer than NodeCore takes to execute and propagate
 *    a transaction): `waiting`, until the window has passed;
 * 6. otherwise nothing was signed from the pool address in all that time and nothing carries the
 *    intent's outputs: `not-executed`. The intent fails and its amounts return to the balances.
 *
 * `unknown` and `waiting` keep the intent `pending` and block new payments; the operator settles
 * an `unknown` one with `vbkpool payouts --settle`. The function is pure: facts in, a verdict out.
 *
 * A node that signed a transaction for the intent and then lost it (a restart that emptied its
 * mempool) may show exactly the stored index again, and the rule then concludes `not-executed`
 * once the window has passed. That stays safe because signature indexes are replay protection:
 * having forgotten the transaction, the node signs the payment made again with the very same
 * index, so at most one of the two can ever be mined (inferred from NodeCore's own clients, which
 * sign with `poolIndex + 1`; to verify on a live node). Should the forgotten one be mined after
 * all, the new payment is dropped and shows as a sent payment whose transaction NodeCore does not
 * know, open for manual checking: nobody is paid twice.
 *
 * @module
 */
import type { SignatureIndex } from "../store/mod.ts";

/** Default window after which an unexecuted intent may be proven so: 10 minutes. */
export const UNKNOWN_OUTCOME_WINDOW_MS = 600_000;

/** Why an outcome stays unknown. */
export type UnknownOutcomeCode = "no-index" | "no-node" | "advanced" | "went-back";

/** What {@linkcode judgeUnknownOutcome} decides. */
export type OutcomeVerdict =
  | { kind: "not-executed"; reason: string }
  | { kind: "waiting"; until: number; problem: string }
  | { kind: "unknown"; code: UnknownOutcomeCode; problem: string };

/** The facts about one `pending` intent for which no matching transaction was found. */
export interface OutcomeFacts {
  /** When the intent was written (ms). */
  createdAt: number;
  /** The pool address's signature index stored with the intent, when there is one. */
  stored: SignatureIndex | undefined;
  /** The pool address's signature index now, or why it could not be read. */
  current: SignatureIndex | { error: string };
  /** Now (ms). */
  now: number;
  /** How long after the intent "not executed" may be concluded (ms). */
  windowMs: number;
}

/**
 * A signature index as text.
 *
 * @example Usage
 * ```ts
 * import { formatSignatureIndex } from "./outcome_rule.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatSignatureIndex({ blockchainIndex: 4n, poolIndex: 6n }), "blockchain 4, pool 6");
 * ```
 *
 * @param index The index.
 * @returns "blockchain B, pool P".
 */
export function formatSignatureIndex(index: SignatureIndex): string {
  return `blockchain ${index.blockchainIndex}, pool ${index.poolIndex}`;
}

/**
 * Decide what is known about an intent no matching transaction was found for.
 *
 * @example Usage
 * ```ts
 * import { judgeUnknownOutcome } from "./outcome_rule.ts";
 * import assert from "node:assert/strict";
 *
 * const stored = { blockchainIndex: 3n, poolIndex: 4n };
 * const facts = { createdAt: 0, stored, windowMs: 600_000 };
 * const early = judgeUnknownOutcome({ ...facts, current: stored, now: 60_000 });
 * assert.equal(early.kind, "waiting");
 * const late = judgeUnknownOutcome({ ...facts, current: stored, now: 600_000 });
 * assert.equal(late.kind, "not-executed");
 * const moved = { blockchainIndex: 3n, poolIndex: 5n };
 * const advanced = judgeUnknownOutcome({ ...facts, current: moved, now: 600_000 });
 * assert.equal(advanced.kind, "unknown");
 * ```
 *
 * @param facts The intent's stored index and age, the index now, the window.
 * @returns The verdict.
 */
export function judgeUnknownOutcome(facts: OutcomeFacts): OutcomeVerdict {
  const { stored, current } = facts;
  if (stored === undefined) {
    return {
      kind: "unknown",
      code: "no-index",
      problem: "outcome unknown: the intent has no stored signature index (written by an older " +
        "vbkpool), so nothing can prove it was not sent",
    };
  }
  if ("error" in current) {
    return {
      kind: "unknown",
      code: "no-node",
      problem: `outcome unknown: cannot read the pool address's signature index (${current.error})`,
    };
  }
  const then = stored.poolIndex;
  if (current.blockchainIndex > then || current.poolIndex > then) {
    return {
      kind: "unknown",
      code: "advanced",
      problem: `outcome unknown: the pool address signed a transaction since the intent ` +
        `(signature index then ${formatSignatureIndex(stored)}, now ` +
        `${formatSignatureIndex(current)}) but none has the intent's outputs`,
    };
  }
  if (current.poolIndex < then) {
    return {
      kind: "unknown",
      code: "went-back",
      problem: `outcome unknown: the pool address's signature index went back (then ` +
        `${formatSignatureIndex(stored)}, now ${formatSignatureIndex(current)}): the node ` +
        "forgot transactions (restarted, mempool lost, reorganised?) and one it forgot may " +
        "still be mined",
    };
  }
  const until = facts.createdAt + facts.windowMs;
  if (facts.now < until) {
    return {
      kind: "waiting",
      until,
      problem: "outcome unknown: no transaction with the intent's outputs yet, and the pool " +
        `address's signature index has not moved (${formatSignatureIndex(stored)}); if that ` +
        `holds until ${new Date(until).toISOString()}, it was not executed and is paid again`,
    };
  }
  return {
    kind: "not-executed",
    reason: `not executed: ${Math.floor((facts.now - facts.createdAt) / 1000)} s after the ` +
      `intent, the pool address's signature index has not moved past the one read before it ` +
      `(${formatSignatureIndex(stored)}; now ${formatSignatureIndex(current)}) and no ` +
      "transaction has its outputs",
  };
}
