/**
 * The payout service: block confirmation, orphan tracking and reconciliation with the chain
 * (the unlocker: candidates whose submit outcome is unknown, blocks the store lost, credits only
 * for what the coinbase paid the pool), exact PPLNS and SOLO accounting with pool fees, and
 * crash-safe threshold payments (the payer), under a global payer lock; the audit of the books
 * (`auditStore`, for `vbkpool audit`); plus the client for NodeCore's HTTP JSON-RPC API it runs
 * through (NodeCore's or the devnet's). Import rule: payouts → store, net, protocol, hash.
 *
 * @example Usage
 * ```ts
 * import { formatVbk, parseVbk, PplnsWindow } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const window = new PplnsWindow(2);
 * window.add({ address: "V1", difficulty: 3n, networkDifficulty: 2n });
 * window.add({ address: "V2", difficulty: 1n, networkDifficulty: 2n });
 * const { credits } = window.split(parseVbk("50"));
 * assert.deepEqual(credits.map((c) => formatVbk(c.amount)), ["37.5", "12.5"]);
 * ```
 *
 * @module
 */
export * from "./amount.ts";
export * from "./audit.ts";
export * from "./chain_scan.ts";
export * from "./coinbase.ts";
export * from "./credit_basis.ts";
export * from "./nodecore_rpc.ts";
export * from "./nodecore_rpc_error.ts";
export * from "./nodecore_types.ts";
export * from "./outcome_rule.ts";
export * from "./pplns.ts";
export * from "./reconcile.ts";
export * from "./unlocker.ts";
export * from "./block_tracker.ts";
export * from "./payer.ts";
export * from "./payout_service.ts";
export * from "./settle.ts";
