/**
 * NodeCore UCP (Universal Client Protocol) message types and constants.
 *
 * Field names are the camelCase forms of NodeCore's wire keys (`request_id` → `requestId`).
 * Integers are JS numbers except the 64-bit extranonces, which are `bigint`. NONCE and
 * TIMESTAMP values are unsigned 32-bit numbers here (the wire carries them signed).
 *
 * @module
 */

/**
 * CAPABILITIES bitflag observed from real NodeCore: mining commands (bits 0–5), GET_STATUS,
 * GET_ADDRESS_BALANCE_AND_INDEX and SEND_TRANSACTION.
 */
export const UCP_CAPABILITIES = "10011111111";

/** Every UCP command this codec reads and writes, client → server first. */
export const UCP_COMMANDS = [
  "MINING_AUTH",
  "MINING_SUBSCRIBE",
  "MINING_SUBMIT",
  "MINING_UNSUBSCRIBE",
  "MINING_RESET_ACK",
  "MINING_MEMPOOL_UPDATE_ACK",
  "CAPABILITIES",
  "MINING_AUTH_SUCCESS",
  "MINING_AUTH_FAILURE",
  "MINING_SUBSCRIBE_SUCCESS",
  "MINING_SUBSCRIBE_FAILURE",
  "MINING_UNSUBSCRIBE_SUCCESS",
  "MINING_UNSUBSCRIBE_FAILURE",
  "MINING_JOB",
  "MINING_MEMPOOL_UPDATE",
  "MINING_RESET",
  "MINING_SUBMIT_SUCCESS",
  "MINING_SUBMIT_FAILURE",
  "ERROR_UNKNOWN_COMMAND",
] as const;

/** A UCP command name, as written in the `"command"` key. */
export type UcpCommand = typeof UCP_COMMANDS[number];

/** Client → server: log in. `username` is a VBK address for a regular pool. */
export interface UcpMiningAuth {
  /** Command name. */
  command: "MINING_AUTH";
  /** Request id, 0..2^31-1. */
  requestId: number;
  /** Worker name (a VBK address for a regular pool); validated by the session layer. */
  username: string;
  /** Password, usually "". */
  password: string;
}

/** Client → server: start receiving jobs. */
export interface UcpMiningSubscribe {
  /** Command name. */
  command: "MINING_SUBSCRIBE";
  /** Request id, 0..2^31-1. */
  requestId: number;
  /** Requested update frequency in ms (500 or 5000 in practice), 0..2^31-1. */
  updateFrequencyMs: number;
}

/** Client → server: submit work for a job. */
export interface UcpMiningSubmit {
  /** Command name. */
  command: "MINING_SUBMIT";
  /** Request id, 0..2^31-1. */
  requestId: number;
  /** The job's `jobId`, 0..2^31-1. */
  jobId: number;
  /** Header timestamp (unsigned 32-bit). */
  nTime: number;
  /** Header nonce (unsigned 32-bit). */
  nonce: number;
  /** Extranonce used for the merkle root (signed 64-bit). */
  extraNonce: bigint;
}

/** Client → server: stop receiving jobs. */
export interface UcpMiningUnsubscribe {
  /** Command name. */
  command: "MINING_UNSUBSCRIBE";
  /** Request id, 0..2^31-1. */
  requestId: number;
}

/** Client → server: acknowledge a MINING_RESET. */
export interface UcpMiningResetAck {
  /** Command name. */
  command: "MINING_RESET_ACK";
  /** Request id, 0..2^31-1. */
  requestId: number;
}

/** Client → server: acknowledge a MINING_MEMPOOL_UPDATE. */
export interface UcpMiningMempoolUpdateAck {
  /** Command name. */
  command: "MINING_MEMPOOL_UPDATE_ACK";
  /** Request id, 0..2^31-1. */
  requestId: number;
}

/** Server → client, unsolicited on connect: supported client commands. */
export interface UcpCapabilities {
  /** Command name. */
  command: "CAPABILITIES";
  /** Request id, 0..2^31-1. */
  requestId: number;
  /** '0'/'1' string; position 0 is the right-most character. See {@linkcode UCP_CAPABILITIES}. */
  capabilities: string;
}

/**
 * Server → client: a message that carries only the request id (the SUCCESS replies,
 * MINING_RESET, ERROR_UNKNOWN_COMMAND).
 */
export interface UcpIdOnly<C extends string> {
  /** Command name. */
  command: C;
  /** Request id (of the request being answered, for replies), 0..2^31-1. */
  requestId: number;
}

/** Server → client: a failure reply with free-text reason (never parse it). */
export interface UcpFailure<C extends string> {
  /** Command name. */
  command: C;
  /** The request id being answered, 0..2^31-1. */
  requestId: number;
  /** Free text. */
  reason: string;
}

/** Server → client: a new block template for this connection. */
export interface UcpMiningJob {
  /** Command name. */
  command: "MINING_JOB";
  /** Request id, 0..2^31-1 (random-looking in NodeCore's output). */
  requestId: number;
  /** Job id to use in MINING_SUBMIT, 0..2^31-1. */
  jobId: number;
  /** Block height, 0..2^31-1. */
  blockIndex: number;
  /** Header version (signed 32-bit; the header keeps 16 bits). */
  blockVersion: number;
  /** Full 24-byte hash of the previous block. */
  previousBlockHash: Uint8Array;
  /** Full 24-byte hash of the previous keystone. */
  secondPreviousBlockHash: Uint8Array;
  /** Full 24-byte hash of the second previous keystone. */
  thirdPreviousBlockHash: Uint8Array;
  /** The pool's coinbase address (non-empty; checksum checked by the session layer). */
  poolAddress: string;
  /** 24-byte top-level merkle root for `extraNonceStart`; the header uses its first 16 bytes. */
  merkleRoot: Uint8Array;
  /** Template timestamp (unsigned 32-bit): the minimum acceptable nTime. */
  timestamp: number;
  /** Compact difficulty ("bits"), 0..2^31-1. */
  difficulty: number;
  /** 24-byte big-endian share target. */
  miningTarget: Uint8Array;
  /** 24-byte ledger hash (informational). */
  ledgerHash: Uint8Array;
  /** 32-byte coinbase transaction id (informational). */
  coinbaseTxid: Uint8Array;
  /** 32-byte PoP datastore hash (informational). */
  popDatastoreHash: Uint8Array;
  /** Free-text miner comment. */
  minerComment: string;
  /** 32-byte PoP transaction merkle root (merkle input m0). */
  popTransactionMerkleRoot: Uint8Array;
  /** 32-byte normal transaction merkle root (merkle input m1). */
  normalTransactionMerkleRoot: Uint8Array;
  /** 32-byte intermediate metapackage hash (merkle input m2, hashed with the extranonce). */
  intermediateMetapackageHash: Uint8Array;
  /** First extranonce of this connection's range (signed 64-bit). */
  extraNonceStart: bigint;
  /** End of this connection's extranonce range (signed 64-bit). */
  extraNonceEnd: bigint;
}

/** Server → client: same block, new transaction set: new job id and merkle root. */
export interface UcpMiningMempoolUpdate {
  /** Command name. */
  command: "MINING_MEMPOOL_UPDATE";
  /** Request id, 0..2^31-1. */
  requestId: number;
  /** The new job id, 0..2^31-1. */
  jobId: number;
  /** 32-byte PoP transaction merkle root. */
  popTransactionMerkleRoot: Uint8Array;
  /** 32-byte normal transaction merkle root. */
  normalTransactionMerkleRoot: Uint8Array;
  /** 32-byte coinbase transaction id; optional (NodeCore's own parser does not require it). */
  coinbaseTxid?: Uint8Array;
  /** 32-byte intermediate metapackage hash. */
  intermediateMetapackageHash: Uint8Array;
  /** 24-byte top-level merkle root for this connection's `extraNonceStart`. */
  newMerkleRoot: Uint8Array;
}

/** Any UCP message this codec handles, discriminated by `command`. */
export type UcpMessage =
  | UcpMiningAuth
  | UcpMiningSubscribe
  | UcpMiningSubmit
  | UcpMiningUnsubscribe
  | UcpMiningResetAck
  | UcpMiningMempoolUpdateAck
  | UcpCapabilities
  | UcpIdOnly<"MINING_AUTH_SUCCESS">
  | UcpFailure<"MINING_AUTH_FAILURE">
  | UcpIdOnly<"MINING_SUBSCRIBE_SUCCESS">
  | UcpFailure<"MINING_SUBSCRIBE_FAILURE">
  | UcpIdOnly<"MINING_UNSUBSCRIBE_SUCCESS">
  | UcpFailure<"MINING_UNSUBSCRIBE_FAILURE">
  | UcpMiningJob
  | UcpMiningMempoolUpdate
  | UcpIdOnly<"MINING_RESET">
  | UcpIdOnly<"MINING_SUBMIT_SUCCESS">
  | UcpFailure<"MINING_SUBMIT_FAILURE">
  | UcpIdOnly<"ERROR_UNKNOWN_COMMAND">;

/** The message type for one command name. */
export type UcpMessageOf<C extends UcpCommand> = Extract<UcpMessage, { command: C }>;

/**
 * Why a line could not be decoded:
 * - `malformed`: not JSON, not an object, or no string `"command"` (e.g. a Stratum line);
 * - `unknown_command`: a well-formed envelope with a command this codec does not know
 *   (answer ERROR_UNKNOWN_COMMAND);
 * - `invalid`: a known command with a missing or bad argument.
 */
export type UcpDecodeErrorKind = "malformed" | "unknown_command" | "invalid";

/** Result of {@linkcode decodeUcp}. */
export type UcpDecodeResult =
  | { ok: true; message: UcpMessage }
  | {
    ok: false;
    /** What went wrong. */
    kind: UcpDecodeErrorKind;
    /** The upper-cased command, when the envelope had one. */
    command?: string;
    /** The request id, when present and valid. */
    requestId?: number;
    /** A message for logs (never send it to a peer verbatim). */
    error: string;
  };
