/**
 * The report of `vbkpool audit` ({@linkcode auditStore} in `audit.ts`): one entry per check,
 * each with what it examined, the violations it found (a bounded list, all of them counted) and
 * notes on what it could not verify. Plain JSON: amounts, ids and hashes are strings.
 *
 * @module
 */

/** The checks, in the order they run. */
export type AuditCheckName =
  | "block_credits"
  | "balances"
  | "payments"
  | "pplns_windows"
  | "share_keys"
  | "chain";

/** The check names in report order. */
export const AUDIT_CHECKS: readonly AuditCheckName[] = [
  "block_credits",
  "balances",
  "payments",
  "pplns_windows",
  "share_keys",
  "chain",
];

/** One broken invariant, with the rows it concerns. */
export interface AuditViolation {
  /** A fixed code, e.g. `credit_twice` (listed in `audit.ts`). */
  code: string;
  /** What is wrong, in one sentence. */
  message: string;
  /** The block's hash (upper-case hex). */
  block?: string;
  /** The block's height. */
  height?: number;
  /** The address concerned. */
  address?: string;
  /** The payment's id. */
  payment?: string;
  /** The transaction id. */
  txId?: string;
  /** The balance change's id. */
  change?: string;
  /** The share hash (upper-case hex). */
  share?: string;
  /** The amount found (atomic units). */
  amount?: string;
  /** The amount expected (atomic units). */
  expected?: string;
}

/** The outcome of one check. */
export interface AuditCheck {
  /** Which check. */
  name: AuditCheckName;
  /** What it verifies, in one line. */
  title: string;
  /** True when no violation was found and the check ran to its end (a skipped check is ok). */
  ok: boolean;
  /** Why it did not run (e.g. no NodeCore given). */
  skipped?: string;
  /** Why it could not finish (e.g. NodeCore unreachable); the check then fails. */
  error?: string;
  /** Counts of what it examined, e.g. `{ blocks: 12, creditRows: 40 }`. */
  examined: Record<string, number>;
  /** Violations found (all of them, including those not listed). */
  violationCount: number;
  /** The first violations found (at most `maxViolations`). */
  violations: AuditViolation[];
  /** What it could not verify, and why (e.g. "window not verifiable: shares pruned"). */
  notes: string[];
}

/** What `vbkpool audit` found. */
export interface AuditReport {
  /** True when every check is ok. */
  ok: boolean;
  /** The store's backend. */
  backend: "sqlite" | "postgres";
  /** True when every read came from one snapshot (the store was opened read-only). */
  snapshot: boolean;
  /** Blocks, payments and shares before this time (ms) were examined only in totals. */
  since?: number;
  /** Most blocks recomputed, and blocks and payments looked up on NodeCore (0: no limit). */
  limit: number;
  /** When the audit started (ms). */
  startedAt: number;
  /** How long it took (ms). */
  durationMs: number;
  /** The checks, in {@linkcode AUDIT_CHECKS} order. */
  checks: AuditCheck[];
}
