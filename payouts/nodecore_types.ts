/**
 * The NodeCore Admin API replies the payout service reads, as typed records: 64-bit values are
 * `bigint`s (NodeCore sends them as JSON strings), hashes and transaction ids are upper-case hex,
 * addresses are VBK address text. Missing keys read as 0, "" or [] (proto3 JSON omits defaults).
 *
 * @module
 */

/** `RpcBlockSummary` (getinfo `lastBlock`). */
export interface BlockSummary {
  /** Height. */
  number: number;
  /** Unix seconds. */
  timestamp: number;
  /** Block hash, 48 upper-case hex chars. */
  hash: string;
  /** Parent hash. */
  previousHash: string;
  /** Decoded difficulty. */
  decodedDifficulty: bigint;
  /** PoW coinbase reward (atomic units, fees included). */
  powCoinbaseReward: bigint;
}

/** `RpcAddressBalance`. */
export interface AddressBalance {
  /** The address. */
  address: string;
  /** Spendable atomic units. */
  unlockedAmount: bigint;
  /** Locked atomic units. */
  lockedAmount: bigint;
  /** Total atomic units. */
  totalAmount: bigint;
}

/** `RpcGetInfoReply`. */
export interface NodeInfo {
  /** Tip height + 1. */
  numberOfBlocks: number;
  /** The tip. */
  lastBlock: BlockSummary;
  /** The wallet's default address, when reported. */
  defaultAddress: AddressBalance | undefined;
  /** Fee in atomic units per byte. */
  transactionFee: bigint;
  /** Decoded difficulty of the next block. */
  decodedDifficulty: bigint;
}

/** `RpcGetStateInfoReply`, the fields the payout service needs. */
export interface StateInfo {
  /** `LOADING`, `NORMAL`, `PAUSED`, `STALE`, `LOADED`. */
  blockchainState: string;
  /** `STARTED`, `INITIALIZING`, `RUNNING`, `TERMINATING`. */
  operatingState: string;
  /** `DISCONNECTED`, `CONNECTED`. */
  networkState: string;
  /** `DEFAULT`, `LOCKED`, `UNLOCKED`. */
  walletState: string;
  /** Peers. */
  connectedPeerCount: number;
  /** Height of the network as the node sees it. */
  networkHeight: number;
  /** Height of the node's own chain. */
  localBlockchainHeight: number;
  /** Program version text. */
  programVersion: string;
  /**
   * VeriBlock's own rule (NodeCoreGateway): synced when `networkHeight > 0` and the two heights
   * differ by less than 4.
   */
  synced: boolean;
}

/** `RpcOutput`. */
export interface Output {
  /** Recipient address. */
  address: string;
  /** Atomic units. */
  amount: bigint;
}

/** `RpcTransaction`, the fields the payout service needs. */
export interface Transaction {
  /** Transaction id, 64 upper-case hex chars. */
  txId: string;
  /** `STANDARD`, `PROOF_OF_PROOF`, `MULTISIG`. */
  type: string;
  /** Paying address. */
  sourceAddress: string;
  /** Atomic units taken from the source (outputs + fee). */
  sourceAmount: bigint;
  /** Outputs. */
  outputs: Output[];
  /** Fee in atomic units. */
  transactionFee: bigint;
  /** Unix seconds. */
  timestamp: number;
  /** Bytes. */
  size: number;
}

/** `RpcBlock` from getblocks, the fields the payout service needs. */
export interface ChainBlock {
  /** Height. */
  number: number;
  /** Unix seconds. */
  timestamp: number;
  /** Block hash, 48 upper-case hex chars. */
  hash: string;
  /** Parent hash. */
  previousHash: string;
  /** The header's difficulty in compact form (`encodedDifficulty`; 0 when absent). */
  encodedDifficulty: number;
  /** PoW coinbase reward (atomic units, fees included). */
  powCoinbaseReward: bigint;
  /** Fees of the block's transactions. */
  totalFees: bigint;
  /** `blockContentMetapackage.coinbaseTransaction.powOutputs`. */
  coinbaseOutputs: Output[];
  /** Regular transactions (the `signed`/`unsigned`/`signedMultisig` wrapper removed). */
  transactions: Transaction[];
}

/** `RpcTransactionInfo` from gettransactions. */
export interface TransactionInfo {
  /** Confirmations (0 while in the mempool). */
  confirmations: number;
  /** Height of the block holding it (0 while in the mempool). */
  blockNumber: number;
  /** Hash of that block ("" while in the mempool). */
  blockHash: string;
  /** The transaction. */
  transaction: Transaction;
}

/** `RpcAddressSignatureIndexes` from getsignatureindex. */
export interface AddressSignatureIndex {
  /** The address. */
  address: string;
  /** Index of the last transaction it signed in the main chain (-1: none). */
  blockchainIndex: bigint;
  /** Index of the last transaction it signed, mempool included (-1: none). */
  poolIndex: bigint;
}

/** What `sendcoins` pays. */
export interface SendCoinsRequest {
  /** Paying address (set it: without it NodeCore gathers inputs across the wallet). */
  sourceAddress?: string;
  /** Recipients and atomic amounts (one transaction, several outputs). */
  amounts: readonly Output[];
  /** Take the fee from the outputs instead of on top. @default false */
  takeFeeFromOutputs?: boolean;
}
