/**
 * A client for NodeCore's HTTP JSON-RPC API (`POST http://HOST:10600/api`, JSON-RPC 2.0,
 * lower-case method names, camelCase params, 64-bit values as strings, optional
 * `X-VBK-RPC-PASSWORD` header): the calls the payout service needs. Amounts are atomic units
 * as `bigint`; nothing passes through a floating-point number.
 *
 * @module
 */
import { NodeCoreRpcError } from "./nodecore_rpc_error.ts";
import type {
  AddressBalance,
  AddressSignatureIndex,
  ChainBlock,
  NodeInfo,
  SendCoinsRequest,
  StateInfo,
  Transaction,
  TransactionInfo,
} from "./nodecore_types.ts";
import { type Json, ReplyReader } from "./_rpc_json.ts";

/** Options for {@linkcode NodeCoreRpc}. */
export interface NodeCoreRpcOptions {
  /** Endpoint URL. @default "http://127.0.0.1:10600/api" */
  url?: string;
  /** Value of the `X-VBK-RPC-PASSWORD` header; none when empty or absent. */
  password?: string;
  /** Time allowed for one call, in ms. @default 10000 */
  timeoutMs?: number;
  /** Largest reply accepted, in bytes. @default 16777216 */
  maxReplyBytes?: number;
}

/** Options for {@linkcode NodeCoreRpc.getTransactions}. */
export interface GetTransactionsOptions {
  /** How many blocks back NodeCore searches. @default 5000 */
  searchLength?: number;
}

const STATES = {
  blockchain: ["LOADING", "NORMAL", "UNKNOWN_2", "PAUSED", "STALE", "LOADED"],
  operating: ["STARTED", "INITIALIZING", "RUNNING", "TERMINATING"],
  network: ["DISCONNECTED", "CONNECTED"],
  wallet: ["DEFAULT", "LOCKED", "UNLOCKED"],
} as const;

/** Turn request amounts into JSON: 64-bit values are sent as decimal strings. */
function jsonParams(params: Json): string {
  return JSON.stringify(params, (_k, v) => typeof v === "bigint" ? v.toString() : v);
}

/**
 * NodeCore's HTTP JSON-RPC API.
 *
 * @example Usage
 * ```ts
 * import { NodeCoreRpc } from "./nodecore_rpc.ts";
 * import assert from "node:assert/strict";
 *
 * const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
 *   const { id } = await req.json();
 *   return Response.json({ jsonrpc: "2.0", id, result: { success: true,
 *     confirmed: [{ address: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX", unlockedAmount: "9007199254740993" }] } });
 * });
 * const rpc = new NodeCoreRpc({ url: `http://127.0.0.1:${server.addr.port}/api` });
 * const [balance] = await rpc.getBalance(["V5Ujv72h4jEBcKnALGc4fKqs6CDAPX"]);
 * assert.equal(balance?.unlockedAmount, 9007199254740993n);
 * await server.shutdown();
 * ```
 */
export class NodeCoreRpc {
  /** The endpoint. */
  readonly url: string;
  #password: string;
  #timeoutMs: number;
  #maxReplyBytes: number;
  #nextId = 1;

  /**
   * @param options Endpoint, password, timeout.
   * @throws {TypeError} When the URL is not http(s).
   */
  constructor(options: NodeCoreRpcOptions = {}) {
    const url = options.url ?? "http://127.0.0.1:10600/api";
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`Cannot create NodeCore client: ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`Cannot create NodeCore client: ${url} is not an http(s) URL`);
    }
    this.url = url;
    this.#password = options.password ?? "";
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxReplyBytes = options.maxReplyBytes ?? 16 << 20;
  }

  /**
   * Call a method and return its `result` after checking `success`.
   *
   * @param method Lower-case method name, e.g. `getinfo`.
   * @param params The request message as a JSON object (bigints are sent as strings).
   * @returns The reply message.
   * @throws {NodeCoreRpcError} On any failure; `kind` says which.
   */
  async call(method: string, params: Json = {}): Promise<Json> {
    const id = this.#nextId++;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#password !== "") headers["x-vbk-rpc-password"] = this.#password;
    const body = `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${
      jsonParams(params)
    },"id":${id}}`;
    const fail = (kind: NodeCoreRpcError["kind"], why: string, extra = {}): never => {
      throw new NodeCoreRpcError(`Cannot call ${method} at ${this.url}: ${why}`, {
        kind,
        method,
        ...extra,
      });
    };
    let response: Response;
    let text: string;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      response = await fetch(this.url, { method: "POST", headers, body, signal });
      text = await readLimited(response, this.#maxReplyBytes);
    } catch (err) {
      if (err instanceof NodeCoreRpcError) throw err;
      if (signal.aborted) fail("timeout", `no answer within ${this.#timeoutMs} ms`);
      if (err instanceof RangeError) fail("malformed", err.message);
      fail("unreachable", err instanceof Error ? err.message : String(err), { cause: err });
    }
    if (response!.status === 401) fail("auth", "HTTP 401 (the RPC password is missing or wrong)");
    if (!response!.ok) {
      fail("http", `HTTP ${response!.status} ${text!.slice(0, 200)}`.trim(), {
        status: response!.status,
      });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text!);
    } catch {
      fail("malformed", `the reply is not JSON: ${JSON.stringify(text!.slice(0, 80))}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      fail("malformed", "the reply is not a JSON object");
    }
    const reply = doc as Json;
    if (reply.id !== id && reply.id !== String(id)) {
      fail("malformed", `the reply id ${JSON.stringify(reply.id)} is not ${id}`);
    }
    if (reply.error !== undefined && reply.error !== null) {
      const e = (typeof reply.error === "object" ? reply.error : { message: reply.error }) as Json;
      const code = typeof e.code === "number" || typeof e.code === "string" ? e.code : undefined;
      fail("rpc", `error ${code ?? ""} ${String(e.message ?? "")}`.replace(/ +/g, " ").trim(), {
        code,
      });
    }
    if (typeof reply.result !== "object" || reply.result === null || Array.isArray(reply.result)) {
      fail("malformed", "the reply has no result object");
    }
    const result = reply.result as Json;
    const problems = Array.isArray(result.results)
      ? (result.results as Json[]).filter((r) => typeof r === "object" && r !== null && r.error)
      : [];
    if (result.success === false || (result.success === undefined && problems.length > 0)) {
      const first = problems[0] ?? (Array.isArray(result.results) ? result.results[0] : undefined);
      const f = (first ?? {}) as Json;
      const code = typeof f.code === "string" || typeof f.code === "number" ? f.code : undefined;
      const details = problems.map((p) => String(p.details ?? "")).filter((d) => d).join("; ");
      const txIds = Array.isArray(result.txIds)
        ? result.txIds.filter((t): t is string => typeof t === "string").map((t) => t.toUpperCase())
        : [];
      const what = [code === undefined ? "" : `[${code}]`, String(f.message ?? "rejected"), details]
        .filter((s) => s !== "").join(" ");
      fail("rejected", what, { code, details, txIds });
    }
    return result;
  }

  /**
   * `getinfo`: the tip, the default address, the fee per byte.
   *
   * @returns The node's info.
   */
  async getInfo(): Promise<NodeInfo> {
    const r = new ReplyReader("getinfo");
    const o = await this.call("getinfo");
    return {
      numberOfBlocks: r.int32(o.numberOfBlocks, "numberOfBlocks"),
      lastBlock: r.blockSummary(o.lastBlock, "lastBlock"),
      defaultAddress: o.defaultAddress === undefined
        ? undefined
        : r.balance(o.defaultAddress, "defaultAddress"),
      transactionFee: r.int64(o.transactionFee, "transactionFee"),
      decodedDifficulty: r.int64(o.decodedDifficulty, "decodedDifficulty"),
    };
  }

  /**
   * `getstateinfo`: sync state, heights, wallet state.
   *
   * @returns The state, with VeriBlock's synced rule applied.
   */
  async getStateInfo(): Promise<StateInfo> {
    const r = new ReplyReader("getstateinfo");
    const o = await this.call("getstateinfo");
    const state = (key: string, names: readonly string[]) =>
      r.enumName(r.obj(o[key], key).state, `${key}.state`, names);
    const networkHeight = r.int32(o.networkHeight, "networkHeight");
    const localBlockchainHeight = r.int32(o.localBlockchainHeight, "localBlockchainHeight");
    return {
      blockchainState: state("blockchainState", STATES.blockchain),
      operatingState: state("operatingState", STATES.operating),
      networkState: state("networkState", STATES.network),
      walletState: r.enumName(o.walletState, "walletState", STATES.wallet),
      connectedPeerCount: r.int32(o.connectedPeerCount, "connectedPeerCount"),
      networkHeight,
      localBlockchainHeight,
      programVersion: r.str(o.programVersion, "programVersion"),
      synced: networkHeight > 0 && Math.abs(networkHeight - localBlockchainHeight) < 4,
    };
  }

  /**
   * `getblocks` by index: the main-chain block at a height.
   *
   * @param height Block height.
   * @returns The block, or undefined above the tip (an empty or unsuccessful reply).
   */
  async getBlockAt(height: number): Promise<ChainBlock | undefined> {
    if (!Number.isSafeInteger(height) || height < 0 || height > 2 ** 31 - 1) {
      throw new RangeError(`Cannot get block: height must be an integer >= 0, got ${height}`);
    }
    const r = new ReplyReader("getblocks");
    let o: Json;
    try {
      o = await this.call("getblocks", { searchLength: 1, filters: [{ index: height }] });
    } catch (err) {
      // NodeCore answers a height above the tip with success=false (VeriBlock's PoP miner polls).
      if (err instanceof NodeCoreRpcError && err.kind === "rejected") return undefined;
      throw err;
    }
    const blocks = r.arr(o.blocks, "blocks");
    if (blocks.length === 0) return undefined;
    const block = r.block(blocks[0], "blocks[0]");
    if (block.number !== height) r.fail("blocks[0].number", block.number);
    return block;
  }

  /**
   * `getbalance` of addresses.
   *
   * @param addresses VBK addresses.
   * @returns One confirmed balance per address NodeCore reports.
   */
  async getBalance(addresses: readonly string[]): Promise<AddressBalance[]> {
    const r = new ReplyReader("getbalance");
    const o = await this.call("getbalance", { addresses: [...addresses] });
    return r.arr(o.confirmed, "confirmed").map((x, i) => r.balance(x, `confirmed[${i}]`));
  }

  /**
   * `getsignatureindex` of addresses: the index of the last transaction each signed, in the main
   * chain and counting the mempool (spec §1.8, "Variants"). Every transaction an address signs
   * takes the next index, so the pool address's index tells whether anything was sent from it.
   *
   * @param addresses VBK addresses.
   * @returns One entry per address NodeCore reports (64-bit values read exactly).
   */
  async getSignatureIndex(addresses: readonly string[]): Promise<AddressSignatureIndex[]> {
    const r = new ReplyReader("getsignatureindex");
    const o = await this.call("getsignatureindex", { addresses: [...addresses] });
    return r.arr(o.indexes, "indexes").map((x, i) => r.signatureIndex(x, `indexes[${i}]`));
  }

  /**
   * `sendcoins`: one transaction with several outputs from `sourceAddress`.
   *
   * @param request Source, outputs, fee mode.
   * @returns The transaction ids (upper-case hex).
   * @throws {NodeCoreRpcError} `rejected` when NodeCore refuses (e.g. insufficient funds).
   */
  async sendCoins(request: SendCoinsRequest): Promise<string[]> {
    if (request.amounts.length === 0) {
      throw new RangeError("Cannot send coins: no outputs");
    }
    for (const a of request.amounts) {
      if (typeof a.amount !== "bigint" || a.amount <= 0n) {
        throw new RangeError(`Cannot send coins: amount for ${a.address} must be a bigint > 0`);
      }
    }
    const params: Json = {
      amounts: request.amounts.map((a) => ({ address: a.address, amount: a.amount })),
      takeFeeFromOutputs: request.takeFeeFromOutputs ?? false,
    };
    if (request.sourceAddress !== undefined) params.sourceAddress = request.sourceAddress;
    const r = new ReplyReader("sendcoins");
    const o = await this.call("sendcoins", params);
    const ids = r.arr(o.txIds, "txIds").map((x, i) => r.hex(x, `txIds[${i}]`));
    if (ids.length === 0) r.fail("txIds", "empty");
    return ids;
  }

  /**
   * `gettransactions` by id. Ids NodeCore does not know are simply absent from the answer.
   *
   * @param ids Transaction ids (hex).
   * @param options Search depth.
   * @returns What NodeCore knows about them.
   */
  async getTransactions(
    ids: readonly string[],
    options: GetTransactionsOptions = {},
  ): Promise<TransactionInfo[]> {
    const r = new ReplyReader("gettransactions");
    const o = await this.call("gettransactions", {
      searchLength: options.searchLength ?? 5000,
      ids: [...ids],
    });
    return r.arr(o.transactions, "transactions").map((x, i) =>
      r.transactionInfo(x, `transactions[${i}]`)
    );
  }

  /**
   * `getpendingtransactions`: the node's mempool.
   *
   * @returns Pending transactions.
   */
  async getPendingTransactions(): Promise<Transaction[]> {
    const r = new ReplyReader("getpendingtransactions");
    const o = await this.call("getpendingtransactions");
    return r.arr(o.transactions, "transactions").map((x, i) =>
      r.transaction(x, `transactions[${i}]`)
    );
  }
}

async function readLimited(response: Response, limit: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new RangeError(`the reply is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}
