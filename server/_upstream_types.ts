/**
 * TEMPORARY: the upstream → pool interfaces from the architecture notes, until
 * `server/upstream.ts` (written by another helper) lands; then every import switches to it and
 * this file is deleted.
 *
 * @module
 */

/** A NodeCore job as the pool consumes it. */
export interface Template {
  upstreamJobId: number;
  kind: "job" | "mempool_update";
  height: number;
  version: number;
  previousBlockHash: Uint8Array;
  previousKeystoneHash: Uint8Array;
  secondKeystoneHash: Uint8Array;
  popRoot: Uint8Array;
  normalRoot: Uint8Array;
  metapackageHash: Uint8Array;
  timestamp: number;
  bits: number;
  poolAddress: string;
  extraNonceStart: bigint;
  extraNonceEnd: bigint;
  endpoint: string;
  receivedAt: number;
}

/** A block candidate for NodeCore. */
export interface BlockSubmission {
  upstreamJobId: number;
  nTime: number;
  nonce: number;
  extraNonce: bigint;
}

/** NodeCore's answer to a block submission. */
export interface BlockSubmitResult {
  accepted: boolean;
  reason?: string;
  endpoint?: string;
}
