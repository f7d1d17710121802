/**
 * Private: the UCP argument table shared by the decoder and the encoder. For each command, its
 * arguments in NodeCore's serialization order (Gson field order of the command classes):
 * wire key, UCPType name, and camelCase field name.
 *
 * @module
 */

import type { UcpCommand } from "./ucp_types.ts";

/** How an argument's `data` is checked and converted. */
export type UcpValueKind =
  /** JSON integer 0..2^31-1 → number. */
  | "uint31"
  /** JSON integer -2^31..2^31-1 → number. */
  | "int32"
  /** JSON integer -2^31..2^32-1 → uint32 number; encoded as signed int32. */
  | "word32"
  /** JSON integer -2^63..2^63-1 → bigint, exact. */
  | "int64"
  /** Hex string of 24 bytes → Uint8Array. */
  | "hex24"
  /** Hex string of 32 bytes → Uint8Array. */
  | "hex32"
  /** Any string. */
  | "text"
  /** Non-empty string (address checksum is the session layer's job). */
  | "address"
  /** String of '0'/'1' only. */
  | "bitflag";

/** NodeCore's UCPType names and their value kinds. */
export const UCP_TYPES = {
  REQUEST_ID: "uint31",
  JOB_ID: "uint31",
  BLOCK_INDEX: "uint31",
  FREQUENCY_MS: "uint31",
  DIFFICULTY: "uint31",
  BLOCK_VERSION: "int32",
  TIMESTAMP: "word32",
  NONCE: "word32",
  EXTRA_NONCE: "int64",
  BLOCK_HASH: "hex24",
  TOP_LEVEL_MERKLE_ROOT: "hex24",
  LEDGER_HASH: "hex24",
  TARGET: "hex24",
  INTERMEDIATE_LEVEL_MERKLE_ROOT: "hex32",
  INTERMEDIATE_METAPACKAGE_HASH: "hex32",
  TRANSACTION_ID: "hex32",
  POP_DATASTORE_HASH: "hex32",
  USERNAME: "text",
  PASSWORD: "text",
  MESSAGE: "text",
  MINER_COMMENT: "text",
  ADDRESS: "address",
  BITFLAG: "bitflag",
} as const satisfies Record<string, UcpValueKind>;

/** A UCPType name. */
export type UcpTypeName = keyof typeof UCP_TYPES;

/** One argument of a command. */
export interface UcpField {
  /** Wire key, e.g. "request_id". */
  key: string;
  /** UCPType name written in `"type"`. */
  type: UcpTypeName;
  /** Value kind of that type. */
  kind: UcpValueKind;
  /** camelCase field name in the message object. */
  field: string;
  /** Whether the argument may be absent. */
  optional: boolean;
}

function f(key: string, type: UcpTypeName, field: string, optional = false): UcpField {
  return { key, type, kind: UCP_TYPES[type], field, optional };
}

const REQUEST_ID = f("request_id", "REQUEST_ID", "requestId");
const REASON = f("reason", "MESSAGE", "reason");

/** Arguments per command, in serialization order. */
export const UCP_SCHEMA: Readonly<Record<UcpCommand, readonly UcpField[]>> = {
  MINING_AUTH: [
    REQUEST_ID,
    f("username", "USERNAME", "username"),
    f("password", "PASSWORD", "password"),
  ],
  MINING_SUBSCRIBE: [REQUEST_ID, f("update_frequency_ms", "FREQUENCY_MS", "updateFrequencyMs")],
  MINING_SUBMIT: [
    REQUEST_ID,
    f("job_id", "JOB_ID", "jobId"),
    f("nTime", "TIMESTAMP", "nTime"),
    f("nonce", "NONCE", "nonce"),
    f("extra_nonce", "EXTRA_NONCE", "extraNonce"),
  ],
  MINING_UNSUBSCRIBE: [REQUEST_ID],
  MINING_RESET_ACK: [REQUEST_ID],
  MINING_MEMPOOL_UPDATE_ACK: [REQUEST_ID],
  CAPABILITIES: [REQUEST_ID, f("capabilities", "BITFLAG", "capabilities")],
  MINING_AUTH_SUCCESS: [REQUEST_ID],
  MINING_AUTH_FAILURE: [REQUEST_ID, REASON],
  MINING_SUBSCRIBE_SUCCESS: [REQUEST_ID],
  MINING_SUBSCRIBE_FAILURE: [REQUEST_ID, REASON],
  MINING_UNSUBSCRIBE_SUCCESS: [REQUEST_ID],
  MINING_UNSUBSCRIBE_FAILURE: [REQUEST_ID, REASON],
  MINING_JOB: [
    REQUEST_ID,
    f("job_id", "JOB_ID", "jobId"),
    f("block_index", "BLOCK_INDEX", "blockIndex"),
    f("block_version", "BLOCK_VERSION", "blockVersion"),
    f("previous_block_hash", "BLOCK_HASH", "previousBlockHash"),
    f("second_previous_block_hash", "BLOCK_HASH", "secondPreviousBlockHash"),
    f("third_previous_block_hash", "BLOCK_HASH", "thirdPreviousBlockHash"),
    f("pool_address", "ADDRESS", "poolAddress"),
    f("merkle_root", "TOP_LEVEL_MERKLE_ROOT", "merkleRoot"),
    f("timestamp", "TIMESTAMP", "timestamp"),
    f("difficulty", "DIFFICULTY", "difficulty"),
    f("mining_target", "TARGET", "miningTarget"),
    f("ledger_hash", "LEDGER_HASH", "ledgerHash"),
    f("coinbase_txid", "TRANSACTION_ID", "coinbaseTxid"),
    f("pop_datastore_hash", "POP_DATASTORE_HASH", "popDatastoreHash"),
    f("miner_comment", "MINER_COMMENT", "minerComment"),
    f("pop_transaction_merkle_root", "INTERMEDIATE_LEVEL_MERKLE_ROOT", "popTransactionMerkleRoot"),
    f(
      "normal_transaction_merkle_root",
      "INTERMEDIATE_LEVEL_MERKLE_ROOT",
      "normalTransactionMerkleRoot",
    ),
    f(
      "intermediate_metapackage_hash",
      "INTERMEDIATE_METAPACKAGE_HASH",
      "intermediateMetapackageHash",
    ),
    f("extra_nonce_start", "EXTRA_NONCE", "extraNonceStart"),
    f("extra_nonce_end", "EXTRA_NONCE", "extraNonceEnd"),
  ],
  MINING_MEMPOOL_UPDATE: [
    REQUEST_ID,
    f("job_id", "JOB_ID", "jobId"),
    f("pop_transaction_merkle_root", "INTERMEDIATE_LEVEL_MERKLE_ROOT", "popTransactionMerkleRoot"),
    f(
      "normal_transaction_merkle_root",
      "INTERMEDIATE_LEVEL_MERKLE_ROOT",
      "normalTransactionMerkleRoot",
    ),
    f("coinbase_txid", "TRANSACTION_ID", "coinbaseTxid", true),
    f(
      "intermediate_metapackage_hash",
      "INTERMEDIATE_METAPACKAGE_HASH",
      "intermediateMetapackageHash",
    ),
    f("new_merkle_root", "TOP_LEVEL_MERKLE_ROOT", "newMerkleRoot"),
  ],
  MINING_RESET: [REQUEST_ID],
  MINING_SUBMIT_SUCCESS: [REQUEST_ID],
  MINING_SUBMIT_FAILURE: [REQUEST_ID, REASON],
  ERROR_UNKNOWN_COMMAND: [REQUEST_ID],
};

/** Lookup by upper-case command name; `undefined` for unknown commands. */
export function ucpSchemaOf(command: string): readonly UcpField[] | undefined {
  return Object.hasOwn(UCP_SCHEMA, command) ? UCP_SCHEMA[command as UcpCommand] : undefined;
}
