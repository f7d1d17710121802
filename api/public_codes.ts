/**
 * The fixed codes the public API shows where the pool's own text would otherwise appear:
 * `/api/health` reasons, the `code` of the `block` server-sent event, and a payment's `error`.
 * Exception messages, NodeCore's answers and endpoint addresses never reach an API client; they
 * go to the pool's log, where they happen. The table is documented in `docs/api.md`.
 *
 * @example Usage
 * ```ts
 * import { PUBLIC_CODES } from "./public_codes.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Object.keys(PUBLIC_CODES).every((code) => /^[a-z]+(_[a-z]+)*$/.test(code)));
 * assert.match(PUBLIC_CODES.store_failing, /refuses writes/);
 * ```
 *
 * @module
 */

/** Every public code, with its meaning in one line. */
export const PUBLIC_CODES = {
  upstream_unavailable: "no NodeCore connection is ready (see upstream.state): no new jobs",
  store_failing: "the store refuses writes until it answers again: shares cannot be recorded",
  accepted: "NodeCore accepted the block",
  rejected: "NodeCore refused the block",
  unknown: "the submission got no answer (or could not be sent): the chain decides, and a block " +
    "the chain holds is still credited",
  payment_failed: "the payment was not made; its amounts are back in the balances",
  payment_problem: "the payment needs the operator's attention (details in the pool's log)",
} as const;

/** A code of {@linkcode PUBLIC_CODES}. */
export type PublicCode = keyof typeof PUBLIC_CODES;

/** Why `/api/health` is not ok. */
export type HealthReason = Extract<PublicCode, "upstream_unavailable" | "store_failing">;

/** NodeCore's verdict on a block submission, as the `block` event shows it. */
export type BlockResultCode = Extract<PublicCode, "accepted" | "rejected" | "unknown">;

/** What went wrong with a payment, as its `error` shows it. */
export type PaymentErrorCode = Extract<PublicCode, "payment_failed" | "payment_problem">;
