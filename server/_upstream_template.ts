/**
 * The upstream → pool data shapes (re-exported by `upstream.ts`, which is where to import
 * them from); kept apart so the link and the client share them without an import cycle.
 *
 * @module
 */

/** A NodeCore job as the pool consumes it (`kind` says whether only the roots changed). */
export interface Template {
  /** NodeCore's job_id, echoed in MINING_SUBMIT. */
  upstreamJobId: number;
  /** A new block template, or a mempool update (same height, previous hashes and bits). */
  kind: "job" | "mempool_update";
  /** Block height. */
  height: number;
  /** Header version. */
  version: number;
  /** Full 24-byte hash of the previous block (the header keeps the last 12). */
  previousBlockHash: Uint8Array;
  /** Full 24-byte previous keystone hash (UCP second_previous_block_hash; header: last 9). */
  previousKeystoneHash: Uint8Array;
  /** Full 24-byte second keystone hash (UCP third_previous_block_hash; header: last 9). */
  secondKeystoneHash: Uint8Array;
  /** 32-byte PoP transaction merkle root. */
  popRoot: Uint8Array;
  /** 32-byte normal transaction merkle root. */
  normalRoot: Uint8Array;
  /** 32-byte intermediate metapackage hash. */
  metapackageHash: Uint8Array;
  /** Template time (the minimum nTime). */
  timestamp: number;
  /** Compact difficulty bits. */
  bits: number;
  /** Coinbase address NodeCore mines to. */
  poolAddress: string;
  /** Start of the extranonce range NodeCore gave this connection. */
  extraNonceStart: bigint;
  /** End of that range. */
  extraNonceEnd: bigint;
  /** "host:port" of the NodeCore it came from. */
  endpoint: string;
  /** When it arrived (ms). */
  receivedAt: number;
}

/** A block candidate for NodeCore. */
export interface BlockSubmission {
  /** The template's `upstreamJobId`. */
  upstreamJobId: number;
  /** Header timestamp. */
  nTime: number;
  /** Header nonce (uint32). */
  nonce: number;
  /** The extranonce the merkle root was computed with (signed 64-bit). */
  extraNonce: bigint;
  /**
   * The template's `endpoint` (optional extension): when given and the active NodeCore is a
   * different one, the submit fails at once instead of being sent with a foreign job id.
   */
  endpoint?: string;
}

/** NodeCore's answer to a block candidate. */
export interface BlockSubmitResult {
  /** MINING_SUBMIT_SUCCESS. */
  accepted: boolean;
  /**
   * `accepted`; `refused` (NodeCore answered that it does not take it); `not_sent` (it never
   * left the pool: no connection, the job's NodeCore is gone); `unknown` (sent, but no answer:
   * a timeout or a lost connection; NodeCore may have taken it). @default accepted when
   * `accepted`, else unknown
   */
  outcome?: "accepted" | "refused" | "not_sent" | "unknown";
  /** Why not (NodeCore's reason, a timeout or a lost connection). */
  reason?: string;
  /** The NodeCore that answered. */
  endpoint?: string;
}
