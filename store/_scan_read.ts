/**
 * The shape of one page request of a whole-table walk (the driver's `scanRead` input), checked
 * by `_store_scan.ts`. Types only, so the driver interface and the walks import it without an
 * import cycle.
 *
 * @module
 */

/** A page request, checked. */
export type ScanRead =
  | { kind: "blocks" | "changes" | "payments"; after: bigint; limit: number }
  | { kind: "balances"; after: string | undefined; limit: number }
  | { kind: "duplicateShares"; since: number | undefined; limit: number };
