/**
 * Test data: one sample of every UCP message, and the real NodeCore MINING_JOB capture
 * (nodecore-ucp-vblake.md §2.7) completed past the point where the issue cut it.
 *
 * @module
 */

import type { UcpCommand, UcpMessage } from "../../protocol/ucp_types.ts";

export function filled(length: number, byte: number): Uint8Array {
  return new Uint8Array(length).fill(byte);
}

export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export const JOB: UcpMessage = {
  command: "MINING_JOB",
  requestId: 1423328386,
  jobId: 377,
  blockIndex: 18220,
  blockVersion: 1,
  previousBlockHash: hexBytes("000000000D8360A691F508CD17838F7390449DA69966EFD9"),
  secondPreviousBlockHash: hexBytes("000000000CD05D080E22F0A04164189C38205C96BF713B92"),
  thirdPreviousBlockHash: hexBytes("0000000004252A43469C34D87F0058019C7F5338BE571DDD"),
  poolAddress: "V2C86eV6xi1uPykYPNnP8nWwu9GJxf",
  merkleRoot: hexBytes("87F4B394E79F8FB47E7D743232FC1F6AE3BAAD026CC9F1CA"),
  timestamp: 1531939597,
  difficulty: 84702804,
  miningTarget: hexBytes("000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
  ledgerHash: filled(24, 0xab),
  coinbaseTxid: filled(32, 0xcd),
  popDatastoreHash: filled(32, 0xef),
  minerComment: 'pool "comment" \\ é',
  popTransactionMerkleRoot: filled(32, 0x11),
  normalTransactionMerkleRoot: filled(32, 0x22),
  intermediateMetapackageHash: filled(32, 0x33),
  extraNonceStart: 8935141660704064064n,
  extraNonceEnd: 8935141660705064064n,
};

/** The capture's first fields verbatim (lower-case target), then plausible values. */
export const CAPTURED_JOB_LINE = '{"command":"MINING_JOB",' +
  '"request_id":{"type":"REQUEST_ID","data":1423328386},"job_id":{"type":"JOB_ID","data":377},' +
  '"block_index":{"type":"BLOCK_INDEX","data":18220},' +
  '"block_version":{"type":"BLOCK_VERSION","data":1},' +
  '"previous_block_hash":{"type":"BLOCK_HASH","data":"000000000D8360A691F508CD17838F7390449DA69966EFD9"},' +
  '"second_previous_block_hash":{"type":"BLOCK_HASH","data":"000000000CD05D080E22F0A04164189C38205C96BF713B92"},' +
  '"third_previous_block_hash":{"type":"BLOCK_HASH","data":"0000000004252A43469C34D87F0058019C7F5338BE571DDD"},' +
  '"pool_address":{"type":"ADDRESS","data":"V2C86eV6xi1uPykYPNnP8nWwu9GJxf"},' +
  '"merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":"87F4B394E79F8FB47E7D743232FC1F6AE3BAAD026CC9F1CA"},' +
  '"timestamp":{"type":"TIMESTAMP","data":1531939597},"difficulty":{"type":"DIFFICULTY","data":84702804},' +
  '"mining_target":{"type":"TARGET","data":"000000ffffffffffffffffffffffffffffffffffffffffff"},' +
  '"ledger_hash":{"type":"LEDGER_HASH","data":"ABABABABABABABABABABABABABABABABABABABABABABABAB"},' +
  '"coinbase_txid":{"type":"TRANSACTION_ID","data":"' + "CD".repeat(32) + '"},' +
  '"pop_datastore_hash":{"type":"POP_DATASTORE_HASH","data":"' + "EF".repeat(32) + '"},' +
  '"miner_comment":{"type":"MINER_COMMENT","data":"pool \\"comment\\" \\\\ é"},' +
  '"pop_transaction_merkle_root":{"type":"INTERMEDIATE_LEVEL_MERKLE_ROOT","data":"' +
  "11".repeat(32) + '"},' +
  '"normal_transaction_merkle_root":{"type":"INTERMEDIATE_LEVEL_MERKLE_ROOT","data":"' +
  "22".repeat(32) + '"},' +
  '"intermediate_metapackage_hash":{"type":"INTERMEDIATE_METAPACKAGE_HASH","data":"' +
  "33".repeat(32) + '"},' +
  '"extra_nonce_start":{"type":"EXTRA_NONCE","data":8935141660704064064},' +
  '"extra_nonce_end":{"type":"EXTRA_NONCE","data":8935141660705064064}}';

/** One message per command. */
export const SAMPLES: Record<UcpCommand, UcpMessage> = {
  MINING_AUTH: {
    command: "MINING_AUTH",
    requestId: 1,
    username: "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d",
    password: "",
  },
  MINING_SUBSCRIBE: { command: "MINING_SUBSCRIBE", requestId: 2, updateFrequencyMs: 500 },
  MINING_SUBMIT: {
    command: "MINING_SUBMIT",
    requestId: 2147483647,
    jobId: 377,
    nTime: 0xfffffffe,
    nonce: 0x80000000,
    extraNonce: -9223372036854775808n,
  },
  MINING_UNSUBSCRIBE: { command: "MINING_UNSUBSCRIBE", requestId: 5 },
  MINING_RESET_ACK: { command: "MINING_RESET_ACK", requestId: 6 },
  MINING_MEMPOOL_UPDATE_ACK: { command: "MINING_MEMPOOL_UPDATE_ACK", requestId: 0 },
  CAPABILITIES: { command: "CAPABILITIES", requestId: 0, capabilities: "10011111111" },
  MINING_AUTH_SUCCESS: { command: "MINING_AUTH_SUCCESS", requestId: 1 },
  MINING_AUTH_FAILURE: { command: "MINING_AUTH_FAILURE", requestId: 1, reason: "bad address" },
  MINING_SUBSCRIBE_SUCCESS: { command: "MINING_SUBSCRIBE_SUCCESS", requestId: 2 },
  MINING_SUBSCRIBE_FAILURE: { command: "MINING_SUBSCRIBE_FAILURE", requestId: 2, reason: "" },
  MINING_UNSUBSCRIBE_SUCCESS: { command: "MINING_UNSUBSCRIBE_SUCCESS", requestId: 5 },
  MINING_UNSUBSCRIBE_FAILURE: {
    command: "MINING_UNSUBSCRIBE_FAILURE",
    requestId: 5,
    reason: "not subscribed\n",
  },
  MINING_JOB: JOB,
  MINING_MEMPOOL_UPDATE: {
    command: "MINING_MEMPOOL_UPDATE",
    requestId: 9,
    jobId: 378,
    popTransactionMerkleRoot: filled(32, 0x44),
    normalTransactionMerkleRoot: filled(32, 0x55),
    coinbaseTxid: filled(32, 0x66),
    intermediateMetapackageHash: filled(32, 0x77),
    newMerkleRoot: filled(24, 0x88),
  },
  MINING_RESET: { command: "MINING_RESET", requestId: 10 },
  MINING_SUBMIT_SUCCESS: { command: "MINING_SUBMIT_SUCCESS", requestId: 3 },
  MINING_SUBMIT_FAILURE: {
    command: "MINING_SUBMIT_FAILURE",
    requestId: 3,
    reason: "share was submitted with bad timestamp of 1555991317",
  },
  ERROR_UNKNOWN_COMMAND: { command: "ERROR_UNKNOWN_COMMAND", requestId: 11 },
};
