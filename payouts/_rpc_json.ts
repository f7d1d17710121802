/**
 * Readers for NodeCore's JSON replies: 64-bit integers from strings or numbers (exactly),
 * 32-bit integers, hex, addresses, enums by name, and the nested records the client returns.
 * A value of the wrong type throws a `malformed` {@linkcode NodeCoreRpcError}; a missing key
 * reads as its proto3 default.
 *
 * @module
 */
import { NodeCoreRpcError } from "./nodecore_rpc_error.ts";
import type {
  AddressBalance,
  AddressSignatureIndex,
  BlockSummary,
  ChainBlock,
  Output,
  Transaction,
  TransactionInfo,
} from "./nodecore_types.ts";

/** A JSON object from a reply. */
export type Json = Record<string, unknown>;

/** Reads fields of one reply, naming the method in errors. */
export class ReplyReader {
  /** The method whose reply is read. */
  readonly method: string;

  /** @param method The method. */
  constructor(method: string) {
    this.method = method;
  }

  /** Throw a `malformed` error about `what`. */
  fail(what: string, value: unknown): never {
    const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : String(value);
    throw new NodeCoreRpcError(
      `Cannot call ${this.method}: malformed reply: ${what} is ${shown}`,
      { kind: "malformed", method: this.method },
    );
  }

  /** An object (missing → {}). */
  obj(value: unknown, what: string): Json {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) this.fail(what, typeof value);
    return value as Json;
  }

  /** An array (missing → []). */
  arr(value: unknown, what: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(what, typeof value);
    return value;
  }

  /** A 64-bit integer sent as a decimal string or a safe JSON number (missing → 0). */
  int64(value: unknown, what: string): bigint {
    if (value === undefined || value === null) return 0n;
    if (typeof value === "string" && /^-?\d{1,20}$/.test(value)) {
      const v = BigInt(value);
      if (v >= -(1n << 64n) && v < (1n << 64n)) return v;
    }
    if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
    this.fail(what, value);
  }

  /** A 32-bit integer sent as a JSON number (or a decimal string; missing → 0). */
  int32(value: unknown, what: string): number {
    if (value === undefined || value === null) return 0;
    const n = typeof value === "string" && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
    if (typeof n === "number" && Number.isInteger(n) && Math.abs(n) <= 2 ** 32) return n;
    this.fail(what, value);
  }

  /** A string (missing → ""). */
  str(value: unknown, what: string): string {
    if (value === undefined || value === null) return "";
    if (typeof value !== "string") this.fail(what, value);
    return value;
  }

  /** Hex text, returned upper case (missing → ""). */
  hex(value: unknown, what: string): string {
    const s = this.str(value, what);
    if (!/^[0-9a-fA-F]*$/.test(s) || s.length % 2 !== 0) this.fail(what, s);
    return s.toUpperCase();
  }

  /** A boolean (missing → false). */
  bool(value: unknown, what: string): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value !== "boolean") this.fail(what, value);
    return value;
  }

  /** An enum by name, or by number mapped through `names` (missing → names[0]). */
  enumName(value: unknown, what: string, names: readonly string[]): string {
    if (value === undefined || value === null) return names[0] ?? "";
    if (typeof value === "string") return value;
    if (typeof value === "number" && names[value] !== undefined) return names[value]!;
    this.fail(what, value);
  }

  /** `RpcOutput`. */
  output(value: unknown, what: string): Output {
    const o = this.obj(value, what);
    return {
      address: this.str(o.address, `${what}.address`),
      amount: this.int64(o.amount, `${what}.amount`),
    };
  }

  /** `RpcAddressBalance`. */
  balance(value: unknown, what: string): AddressBalance {
    const o = this.obj(value, what);
    return {
      address: this.str(o.address, `${what}.address`),
      unlockedAmount: this.int64(o.unlockedAmount, `${what}.unlockedAmount`),
      lockedAmount: this.int64(o.lockedAmount, `${what}.lockedAmount`),
      totalAmount: this.int64(o.totalAmount, `${what}.totalAmount`),
    };
  }

  /** `RpcAddressSignatureIndexes`. */
  signatureIndex(value: unknown, what: string): AddressSignatureIndex {
    const o = this.obj(value, what);
    return {
      address: this.str(o.address, `${what}.address`),
      blockchainIndex: this.int64(o.blockchainIndex, `${what}.blockchainIndex`),
      poolIndex: this.int64(o.poolIndex, `${what}.poolIndex`),
    };
  }

  /** `RpcBlockSummary`. */
  blockSummary(value: unknown, what: string): BlockSummary {
    const o = this.obj(value, what);
    return {
      number: this.int32(o.number, `${what}.number`),
      timestamp: this.int32(o.timestamp, `${what}.timestamp`),
      hash: this.hex(o.hash, `${what}.hash`),
      previousHash: this.hex(o.previousHash, `${what}.previousHash`),
      decodedDifficulty: this.int64(o.decodedDifficulty, `${what}.decodedDifficulty`),
      powCoinbaseReward: this.int64(o.powCoinbaseReward, `${what}.powCoinbaseReward`),
    };
  }

  /** `RpcTransaction`. */
  transaction(value: unknown, what: string): Transaction {
    const o = this.obj(value, what);
    return {
      txId: this.hex(o.txId, `${what}.txId`),
      type: this.enumName(o.type, `${what}.type`, [
        "ZERO_UNUSED",
        "STANDARD",
        "PROOF_OF_PROOF",
        "MULTISIG",
      ]),
      sourceAddress: this.str(o.sourceAddress, `${what}.sourceAddress`),
      sourceAmount: this.int64(o.sourceAmount, `${what}.sourceAmount`),
      outputs: this.arr(o.outputs, `${what}.outputs`).map((x, i) =>
        this.output(x, `${what}.outputs[${i}]`)
      ),
      transactionFee: this.int64(o.transactionFee, `${what}.transactionFee`),
      timestamp: this.int32(o.timestamp, `${what}.timestamp`),
      size: this.int32(o.size, `${what}.size`),
    };
  }

  /** `RpcTransactionUnion`: `{signed:{transaction}}`, `{unsigned:{…}}` or `{signedMultisig:{transaction}}`. */
  transactionUnion(value: unknown, what: string): Transaction {
    const o = this.obj(value, what);
    if (o.unsigned !== undefined) return this.transaction(o.unsigned, `${what}.unsigned`);
    const wrapped = o.signed ?? o.signedMultisig;
    if (wrapped === undefined) this.fail(what, "a union without signed/unsigned/signedMultisig");
    const w = this.obj(wrapped, `${what}.signed`);
    return this.transaction(w.transaction, `${what}.signed.transaction`);
  }

  /** `RpcBlock`. */
  block(value: unknown, what: string): ChainBlock {
    const o = this.obj(value, what);
    const metaWhat = `${what}.blockContentMetapackage`;
    const meta = this.obj(o.blockContentMetapackage, metaWhat);
    const coinbaseWhat = `${metaWhat}.coinbaseTransaction`;
    const coinbase = this.obj(meta.coinbaseTransaction, coinbaseWhat);
    return {
      number: this.int32(o.number, `${what}.number`),
      timestamp: this.int32(o.timestamp, `${what}.timestamp`),
      hash: this.hex(o.hash, `${what}.hash`),
      previousHash: this.hex(o.previousHash, `${what}.previousHash`),
      encodedDifficulty: this.int32(o.encodedDifficulty, `${what}.encodedDifficulty`),
      powCoinbaseReward: this.int64(o.powCoinbaseReward, `${what}.powCoinbaseReward`),
      totalFees: this.int64(o.totalFees, `${what}.totalFees`),
      // RpcBlock.block_content_metapackage.coinbase_transaction.pow_outputs (spec §1.4).
      coinbaseOutputs: this.arr(coinbase.powOutputs, `${coinbaseWhat}.powOutputs`).map((x, i) =>
        this.output(x, `${coinbaseWhat}.powOutputs[${i}]`)
      ),
      transactions: this.arr(o.regularTransactions, `${what}.regularTransactions`).map((x, i) =>
        this.transactionUnion(x, `${what}.regularTransactions[${i}]`)
      ),
    };
  }

  /** `RpcTransactionInfo`. */
  transactionInfo(value: unknown, what: string): TransactionInfo {
    const o = this.obj(value, what);
    return {
      confirmations: this.int32(o.confirmations, `${what}.confirmations`),
      blockNumber: this.int32(o.blockNumber, `${what}.blockNumber`),
      blockHash: this.hex(o.blockHash, `${what}.blockHash`),
      transaction: this.transaction(o.transaction, `${what}.transaction`),
    };
  }
}
