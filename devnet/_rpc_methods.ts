/**
 * The devnet's NodeCore Admin API methods: each takes the JSON `params` object and returns the
 * reply message in NodeCore's JSON form (64-bit values as decimal strings, hashes upper-case
 * hex, enums by name, `success` and `results`).
 *
 * @module
 */

import { isValidAddress } from "../hash/address.ts";
import { decodeHeader } from "../hash/header.ts";
import { bytesToHex } from "../hash/hex.ts";
import type { DevnetBlock, DevnetChain } from "./chain.ts";
import type { DevnetLedger } from "./ledger.ts";
import type { LedgerOutput, LedgerTransaction } from "./ledger_types.ts";
import { DEVNET_RIVAL_ADDRESS } from "./ledger.ts";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Bad params: answered with JSON-RPC error -32602. */
export class RpcParamsError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "RpcParamsError";
  }
}

/** What the methods read. */
export interface RpcContext {
  /** The chain. */
  chain: DevnetChain;
  /** The ledger. */
  ledger: DevnetLedger;
}

type Method = (ctx: RpcContext, params: Json) => Json;

function failure(code: string, message: string, details: string): Json {
  return { success: false, results: [{ error: true, code, message, details }] };
}

function int64(value: unknown, what: string): bigint {
  if (typeof value === "string" && /^-?\d{1,19}$/.test(value)) return BigInt(value);
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  throw new RpcParamsError(`${what} must be an integer (number or decimal string)`);
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RpcParamsError(`${what} must be an array`);
  return value;
}

function hex(bytes: Uint8Array): string {
  return bytesToHex(bytes, { upper: true });
}

function transactionJson(tx: LedgerTransaction): Json {
  return {
    type: "STANDARD",
    sourceAddress: tx.sourceAddress,
    sourceAmount: (tx.outputs.reduce((s, o) => s + o.amount, 0n) + tx.fee).toString(),
    outputs: tx.outputs.map((o) => ({ address: o.address, amount: o.amount.toString() })),
    transactionFee: tx.fee.toString(),
    data: "",
    timestamp: tx.timestamp,
    size: tx.size,
    txId: tx.txId,
  };
}

function blockSummary(ctx: RpcContext, block: DevnetBlock): Json {
  const coinbase = ctx.ledger.coinbase(block);
  const fields = decodeHeader(block.header);
  return {
    number: block.height,
    timestamp: block.timestamp,
    hash: block.hashHex,
    previousHash: block.parentHash ?? "00".repeat(24),
    decodedDifficulty: block.difficulty.toString(),
    winningNonce: fields.nonce.toString(),
    numRegularTransactions: ctx.ledger.blockTransactions(block).length,
    numPopTransactions: 0,
    totalFees: (coinbase?.fees ?? 0n).toString(),
    powCoinbaseReward: coinbase === undefined ? "0" : (coinbase.reward + coinbase.fees).toString(),
    popCoinbaseReward: "0",
    size: 64,
    version: fields.version,
    merkleRoot: hex(fields.merkleRoot),
  };
}

function blockJson(ctx: RpcContext, block: DevnetBlock): Json {
  const coinbase = ctx.ledger.coinbase(block);
  const fields = decodeHeader(block.header);
  const parent = block.parentHash === undefined
    ? undefined
    : ctx.chain.blockByHash(block.parentHash);
  const template = parent === undefined ? undefined : ctx.chain.childTemplate(parent);
  const txs = ctx.ledger.blockTransactions(block);
  const pow = coinbase === undefined ? 0n : coinbase.reward + coinbase.fees;
  return {
    number: block.height,
    timestamp: block.timestamp,
    hash: block.hashHex,
    previousHash: block.parentHash ?? "00".repeat(24),
    secondPreviousHash: template === undefined
      ? "00".repeat(24)
      : hex(template.previousKeystoneHash),
    thirdPreviousHash: template === undefined ? "00".repeat(24) : hex(template.secondKeystoneHash),
    encodedDifficulty: block.bits,
    winningNonce: fields.nonce.toString(),
    regularTransactions: txs.map((tx) => ({
      signed: {
        signature: "",
        publicKey: "",
        signatureIndex: "0",
        transaction: transactionJson(tx),
      },
    })),
    popTransactions: [],
    totalFees: (coinbase?.fees ?? 0n).toString(),
    powCoinbaseReward: pow.toString(),
    popCoinbaseReward: "0",
    bitcoinBlockHeaders: [],
    blockContentMetapackage: {
      coinbaseTransaction: {
        powCoinbaseAmount: pow.toString(),
        popCoinbaseAmount: "0",
        powFeeShare: (coinbase?.fees ?? 0n).toString(),
        popFeeShare: "0",
        powOutputs: coinbase === undefined || pow === 0n
          ? []
          : [{ address: coinbase.address, amount: pow.toString() }],
        popOutputs: [],
        blockHeight: block.height,
        txId: hex(block.hash) + "0".repeat(16),
      },
      minerComment: block.source === "pool" ? "vbkpool devnet" : block.source,
      hash: block.hashHex,
    },
    size: 64 + txs.reduce((s, t) => s + t.size, 0),
    version: fields.version,
    merkleRoot: hex(fields.merkleRoot),
  };
}

function richestAddress(ctx: RpcContext): string {
  let best: [string, bigint] | undefined;
  for (const a of ctx.ledger.addresses()) {
    const c = ctx.ledger.balance(a).confirmed;
    if (a !== DEVNET_RIVAL_ADDRESS && (best === undefined || c > best[1])) best = [a, c];
  }
  return best?.[0] ?? DEVNET_RIVAL_ADDRESS;
}

function balanceJson(ctx: RpcContext, address: string): Json {
  const b = ctx.ledger.balance(address);
  return {
    address,
    unlockedAmount: b.confirmed.toString(),
    lockedAmount: "0",
    totalAmount: b.confirmed.toString(),
  };
}

const METHODS: Record<string, Method> = {
  getinfo(ctx) {
    const tip = ctx.chain.tip;
    return {
      success: true,
      results: [],
      numberOfBlocks: ctx.chain.height + 1,
      lastBlock: blockSummary(ctx, tip),
      defaultAddress: balanceJson(ctx, richestAddress(ctx)),
      transactionFee: ctx.ledger.feePerByte.toString(),
      estimatedHashrate: "0",
      decodedDifficulty: ctx.chain.childTemplate().difficulty.toString(),
    };
  },

  getstateinfo(ctx) {
    return {
      blockchainState: { state: "NORMAL" },
      operatingState: { state: "RUNNING" },
      networkState: { state: "CONNECTED" },
      connectedPeerCount: 0,
      currentSyncPeer: "",
      networkHeight: ctx.chain.height,
      localBlockchainHeight: ctx.chain.height,
      success: true,
      results: [],
      networkVersion: "devnet",
      dataDirectory: "",
      programVersion: "vbkpool devnet",
      nodecoreStarttime: "0",
      walletCacheSyncHeight: ctx.chain.height,
      walletState: "DEFAULT",
      normalMempoolSize: ctx.ledger.pending().length,
      popMempoolSize: 0,
    };
  },

  getlastblock(ctx) {
    const tip = ctx.chain.tip;
    return { success: true, results: [], header: { header: hex(tip.header), hash: tip.hashHex } };
  },

  getblocks(ctx, params) {
    const blocks: Json[] = [];
    for (const [i, raw] of list(params.filters, "filters").entries()) {
      if (typeof raw !== "object" || raw === null) {
        throw new RpcParamsError(`filters[${i}] must be an object`);
      }
      const f = raw as Json;
      let block: DevnetBlock | undefined;
      if (f.index !== undefined) {
        block = ctx.chain.blockAt(Number(int64(f.index, `filters[${i}].index`)));
      } else if (typeof f.hash === "string") {
        block = ctx.chain.blockByHash(f.hash);
      } else {
        throw new RpcParamsError(`filters[${i}] needs index or hash`);
      }
      if (block !== undefined) blocks.push(blockJson(ctx, block));
    }
    return { success: true, results: [], blocks };
  },

  getbalance(ctx, params) {
    const requested = list(params.addresses, "addresses");
    const addresses = requested.length === 0 ? ctx.ledger.addresses() : requested.map((a, i) => {
      if (typeof a !== "string") throw new RpcParamsError(`addresses[${i}] must be a string`);
      return a;
    });
    let totalConfirmed = 0n;
    let totalUnconfirmed = 0n;
    const confirmed: Json[] = [];
    const unconfirmed: Json[] = [];
    for (const address of addresses) {
      const b = ctx.ledger.balance(address);
      totalConfirmed += b.confirmed;
      totalUnconfirmed += b.pending;
      confirmed.push(balanceJson(ctx, address));
      unconfirmed.push(b.pending === 0n ? { address } : { address, amount: b.pending.toString() });
    }
    return {
      success: true,
      results: [],
      confirmed,
      unconfirmed,
      totalConfirmed: totalConfirmed.toString(),
      totalUnconfirmed: totalUnconfirmed.toString(),
    };
  },

  sendcoins(ctx, params) {
    const outputs: LedgerOutput[] = list(params.amounts, "amounts").map((raw, i) => {
      if (typeof raw !== "object" || raw === null) {
        throw new RpcParamsError(`amounts[${i}] must be an object`);
      }
      const o = raw as Json;
      if (typeof o.address !== "string") {
        throw new RpcParamsError(`amounts[${i}].address must be a string`);
      }
      return { address: o.address, amount: int64(o.amount, `amounts[${i}].amount`) };
    });
    if (params.sourceAddress !== undefined && typeof params.sourceAddress !== "string") {
      throw new RpcParamsError("sourceAddress must be a string");
    }
    const sent = ctx.ledger.send({
      ...(params.sourceAddress === undefined ? {} : { sourceAddress: params.sourceAddress }),
      outputs,
      takeFeeFromOutputs: params.takeFeeFromOutputs === true,
    });
    if (!sent.ok) return failure("V008", "Send command error", sent.reason);
    return { success: true, results: [], txIds: [sent.tx.txId] };
  },

  gettransactions(ctx, params) {
    const transactions: Json[] = [];
    for (const [i, id] of list(params.ids, "ids").entries()) {
      if (typeof id !== "string") throw new RpcParamsError(`ids[${i}] must be a string`);
      const status = ctx.ledger.transaction(id);
      if (status === undefined) continue;
      transactions.push({
        confirmations: status.confirmations,
        transaction: transactionJson(status.tx),
        blockNumber: status.block?.height ?? 0,
        timestamp: status.block?.timestamp ?? status.tx.timestamp,
        ...(status.block === undefined ? {} : { blockHash: status.block.hashHex }),
      });
    }
    return { success: true, results: [], transactions };
  },

  getsignatureindex(ctx, params) {
    const indexes = list(params.addresses, "addresses").map((a, i) => {
      if (typeof a !== "string" || !isValidAddress(a)) {
        throw new RpcParamsError(`addresses[${i}] must be a VBK address`);
      }
      const { blockchainIndex, poolIndex } = ctx.ledger.signatureIndex(a);
      return {
        address: a,
        blockchainIndex: blockchainIndex.toString(),
        poolIndex: poolIndex.toString(),
      };
    });
    return { success: true, results: [], indexes };
  },

  getpendingtransactions(ctx) {
    return { success: true, results: [], transactions: ctx.ledger.pending().map(transactionJson) };
  },
};

/** The method names the devnet serves. */
export const RPC_METHODS: readonly string[] = Object.keys(METHODS);

/**
 * Run a method.
 *
 * @param ctx Chain and ledger.
 * @param method Method name (lower case).
 * @param params The params object.
 * @returns The reply message, or undefined for an unknown method.
 * @throws {RpcParamsError} When the params are malformed.
 */
export function callMethod(ctx: RpcContext, method: string, params: Json): Json | undefined {
  const fn = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  return fn?.(ctx, params);
}
