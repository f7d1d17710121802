/**
 * Types and constants of VeriBlock's Stratum dialect (the vBlake-era `stratum-veriblock`
 * server): 8-byte extranonce, 10-param notify, decimal-string difficulty.
 *
 * @module
 */

/** A JSON-RPC id as echoed on the wire: a string, a (safe) number, or null. */
export type StratumId = string | number | null;

/** The subscription key every connection gets in the original server (MD5 of a constant). */
export const STRATUM_SUBSCRIPTION_KEY = "ae6812eb4cd7735a302a8a9dd95cf71f";

/** Extranonce size in bytes (the whole extranonce; there is no extranonce2). */
export const STRATUM_EXTRANONCE_SIZE = 8;

/** A client request (or notification when `id` is null). */
export interface StratumRequest {
  /** The id to echo in the response; null for a notification. */
  id: StratumId;
  /** Method name, e.g. "mining.submit". */
  method: string;
  /** Positional parameters ([] when absent). */
  params: unknown[];
}

/** A `mining.notify` job, fields as they go into the 64-byte header. */
export interface NotifyJob {
  /** Job id string, echoed in `mining.submit`. */
  jobId: string;
  /** Block height (uint32; 8 hex on the wire). */
  height: number;
  /** Header version (uint16; 4 hex). */
  version: number;
  /** Last 12 bytes of the previous block hash. */
  previousHash: Uint8Array;
  /** Last 9 bytes of the previous keystone hash. */
  previousKeystone: Uint8Array;
  /** Last 9 bytes of the second previous keystone hash. */
  secondKeystone: Uint8Array;
  /** 32-byte PoP transaction merkle root (m0). */
  popRoot: Uint8Array;
  /** 32-byte normal transaction merkle root (m1). */
  normalRoot: Uint8Array;
  /** 32-byte intermediate metapackage hash (m2). */
  metapackageHash: Uint8Array;
  /** Job timestamp (uint32): the minimum acceptable ntime. */
  timestamp: number;
  /** Compact network difficulty (uint32). */
  bits: number;
  /** Whether older jobs must be dropped (true on a new previous block). */
  cleanJobs: boolean;
}

/** The parsed parameters of `mining.submit`. */
export interface SubmitParams {
  /** Worker name as sent. */
  worker: string;
  /** Job id as sent. */
  jobId: string;
  /** The extranonce as an unsigned 64-bit value (0..2^64-1); ownership is the caller's check. */
  extranonce: bigint;
  /** Header timestamp (uint32). */
  ntime: number;
  /** Header nonce (uint32). */
  nonce: number;
}

/** The parsed parameters of `mining.authorize`. */
export interface AuthorizeParams {
  /** Worker name as sent (validated by the session layer). */
  worker: string;
  /** Password; "" when absent or null. */
  password: string;
}
