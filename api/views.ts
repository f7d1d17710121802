/**
 * The JSON shapes of the HTTP API (documented in `docs/api.md`) and the converters from the
 * store's records. Exact quantities (difficulties, work, atomic-unit amounts, ids) are decimal
 * strings, since JSON numbers cannot hold them exactly; rates and ratios are numbers; times are
 * milliseconds since the Unix epoch; hashes are lower-case hex.
 *
 * Nothing here carries free text from exceptions, NodeCore or the configuration (error messages,
 * endpoint addresses): where such text exists, the view shows a fixed code of `PUBLIC_CODES`
 * (`public_codes.ts`) instead, and the text goes to the log where it happens.
 *
 * @module
 */
import { bytesToHex } from "../hash/hex.ts";
import type { BlockResultEvent } from "../server/events.ts";
import type { UpstreamStatus } from "../server/upstream.ts";
import type { Block, BlockStatus, Payment, PaymentStatus, StoreStats } from "../store/mod.ts";
import type { BlockResultCode, HealthReason, PaymentErrorCode } from "./public_codes.ts";

/** The NodeCore connection (no endpoint address, no error text). */
export interface UpstreamView {
  /** `idle`, `connecting`, `ready` (jobs flowing), `backoff` or `stopped`. */
  state: UpstreamStatus["state"];
  /** Whether jobs are flowing (`state` is `ready`). */
  connected: boolean;
  /** When the state began (ms): the connection time while `ready`. */
  since: number;
  /** Connections lost or failed since start. */
  reconnects: number;
}

/** The store's commit stage (no error text). */
export interface StoreHealthView {
  /** `sqlite` or `postgres`. */
  backend: StoreStats["backend"];
  /** False while the database is failing (writes are refused until it is back). */
  healthy: boolean;
  /** Writes waiting for a commit. */
  queueDepth: number;
}

/** The chain as the current job sees it. */
export interface NetworkView {
  /** Height of the chain tip (the job mines `height + 1`), null before the first job. */
  height: number | null;
  /** Network difficulty of the current job (decimal string). */
  difficulty: string | null;
}

/** A found block. */
export interface BlockView {
  /** Block height. */
  height: number;
  /** Block hash (48 hex chars). */
  hash: string;
  /** Payout address of the miner who found it. */
  finder: string;
  /** Worker name of the finder ("" when none). */
  worker: string;
  /** `submitted` (outcome not known yet), `pending`, `confirmed`, `orphaned` or `rejected`. */
  status: BlockStatus;
  /** Found on a SOLO port: credited to its finder alone. */
  solo: boolean;
  /** A fixed reason code about its state ("" when none), e.g. `submit_unknown`. */
  note: string;
  /** Confirmations last seen by the payout service. */
  confirmations: number;
  /** Σ share difficulty of its round ÷ its network difficulty (1 = expected work). */
  effort: number;
  /** Reward in atomic units (decimal string), once known. */
  reward: string | null;
  /** Network difficulty (decimal string). */
  networkDifficulty: string;
  /** When it was found (ms). */
  time: number;
}

/** A payment. */
export interface PaymentView {
  /** Payment id (decimal string). */
  id: string;
  /** `pending`, `sent`, `confirmed` or `failed`. */
  status: PaymentStatus;
  /** Σ amounts (atomic units, decimal string). */
  total: string;
  /** Number of recipients. */
  recipients: number;
  /** This address's amount, when the payment was asked for one address. */
  amount?: string;
  /** Every recipient, in pool-wide listings. */
  items?: { address: string; amount: string }[];
  /** NodeCore transaction ids. */
  txIds: string[];
  /** Confirmations last seen. */
  confirmations: number;
  /** `payment_failed`, `payment_problem` (an open problem), or null. */
  error: PaymentErrorCode | null;
  /** When the intent was written (ms). */
  createdAt: number;
  /** Last change (ms). */
  updatedAt: number;
}

/** `GET /api/pool`. */
export interface PoolView {
  /** When this was computed (ms). */
  time: number;
  /** Hashes per second: Σ accepted share difficulty over the window ÷ its seconds. */
  hashrate: number;
  /** Seconds the rates are averaged over. */
  hashrateWindowSeconds: number;
  /** Accepted shares per second over the window. */
  sharesPerSecond: number;
  /** Accepted shares in the window. */
  sharesAccepted: number;
  /** Rejected submits in the window. */
  sharesRejected: number;
  /**
   * Distinct addresses authorized on open connections; pool-wide: distinct addresses with a
   * share in the window on any instance.
   */
  miners: number;
  /** Distinct workers authorized on open connections; pool-wide: with a share in the window. */
  workers: number;
  /**
   * Whether hash rate, accepted shares, miners and workers are every instance's (from the
   * shared store's per-minute rollups) rather than this process's. Rejected submits,
   * connections and subscribed are always this process's.
   */
  poolWide: boolean;
  /** Open Stratum connections. */
  connections: number;
  /** Connections that subscribed. */
  subscribed: number;
  /** The chain. */
  network: NetworkView;
  /** The NodeCore connection. */
  upstream: UpstreamView;
  /** The newest found block. */
  lastBlock: BlockView | null;
  /** Σ share difficulty since the last block (every instance; minute resolution). */
  roundWork: string;
  /** `roundWork` ÷ the network difficulty, null before the first job. */
  roundEffort: number | null;
}

/** One worker of a miner. */
export interface WorkerView {
  /** Worker name as authorized ("address" or "address.name"). */
  worker: string;
  /** The part after the address ("" when none). */
  name: string;
  /** Whether it is authorized on an open connection. */
  online: boolean;
  /** Open connections it is authorized on. */
  connections: number;
  /** Current share difficulty (decimal string), null when offline. */
  difficulty: string | null;
  /** Hashes per second over the window. */
  hashrate: number;
  /** Accepted shares in the window. */
  sharesAccepted: number;
  /** Rejected submits in the window. */
  sharesRejected: number;
  /** Accepted shares in the last 24 hours (every instance). */
  shares24h: number;
  /** Time of the last accepted share (ms), if known. */
  lastShareAt: number | null;
}

/** `GET /api/miners/{address}`. */
export interface MinerView {
  /** The address. */
  address: string;
  /** When this was computed (ms). */
  time: number;
  /** Whether any worker is online. */
  online: boolean;
  /** Hashes per second over the window (this instance). */
  hashrate: number;
  /** Seconds the rates are averaged over. */
  hashrateWindowSeconds: number;
  /** Accepted shares per second over the window. */
  sharesPerSecond: number;
  /** Share counts. */
  shares: {
    /** Over the window (this instance). */
    window: { accepted: number; rejected: number; seconds: number };
    /** The last hour (every instance). */
    lastHour: { accepted: number; difficulty: string };
    /** The last 24 hours (every instance). */
    last24Hours: { accepted: number; difficulty: string };
  };
  /** Workers online, active in the window or with shares in the last 24 hours. */
  workers: WorkerView[];
  /** Owed atomic units (decimal string). */
  balance: string;
  /** The newest payments to this address. */
  payments: PaymentView[];
}

/** One point of a hash-rate chart. */
export interface HashratePoint {
  /** Start of the minute (ms). */
  time: number;
  /** Hashes per second in that minute (the current minute: so far). */
  hashrate: number;
  /** Accepted shares in that minute. */
  shares: number;
}

/** `GET /api/health`. */
export interface HealthView {
  /** `ok` (HTTP 200) or `unavailable` (HTTP 503). */
  status: "ok" | "unavailable";
  /** Why not ok, as codes of `PUBLIC_CODES` (empty when ok). */
  reasons: HealthReason[];
  /** The NodeCore connection. */
  upstream: UpstreamView;
  /** The store's commit stage. */
  store: StoreHealthView;
}

/** The `block` server-sent event: NodeCore's verdict on a block submission. */
export interface BlockEventView {
  /** Block hash (48 hex chars). */
  hash: string;
  /** Block height. */
  height: number;
  /** Whether NodeCore accepted it. */
  accepted: boolean;
  /** `accepted` or `rejected` (NodeCore's reason is in the pool's log only). */
  code: BlockResultCode;
  /** When the verdict came (ms). */
  time: number;
}

/**
 * The API view of the upstream status.
 *
 * @example Usage
 * ```ts
 * import { upstreamView } from "./views.ts";
 * import assert from "node:assert/strict";
 *
 * const view = upstreamView({
 *   state: "backoff", endpoint: "127.0.0.1:8501", since: 5, reconnects: 1, lastError: "refused",
 * });
 * assert.deepEqual(view, { state: "backoff", connected: false, since: 5, reconnects: 1 });
 * ```
 *
 * @param status The upstream's status.
 * @returns The view, without the endpoint and the last error.
 */
export function upstreamView(status: UpstreamStatus): UpstreamView {
  return {
    state: status.state,
    connected: status.state === "ready",
    since: status.since,
    reconnects: status.reconnects,
  };
}

/**
 * The API view of the store's commit stage.
 *
 * @example Usage
 * ```ts
 * import { storeHealthView } from "./views.ts";
 * import assert from "node:assert/strict";
 *
 * const view = storeHealthView({
 *   backend: "sqlite", healthy: false, queueDepth: 2, batches: 1, committed: 1, failed: 1,
 *   lastCommitMs: 3, lastError: "disk I/O error",
 * });
 * assert.deepEqual(view, { backend: "sqlite", healthy: false, queueDepth: 2 });
 * ```
 *
 * @param stats The store's counters.
 * @returns The view, without the last error.
 */
export function storeHealthView(stats: StoreStats): StoreHealthView {
  return { backend: stats.backend, healthy: stats.healthy, queueDepth: stats.queueDepth };
}

/**
 * The `block` server-sent event for NodeCore's verdict on a block submission.
 *
 * @example Usage
 * ```ts
 * import { blockEventView } from "./views.ts";
 * import assert from "node:assert/strict";
 *
 * const view = blockEventView({
 *   type: "block_result", at: 5, hash: "ab".repeat(24), height: 9, accepted: false,
 *   outcome: "unknown", reason: "Error: connect ECONNREFUSED 10.0.0.1:8501",
 *   endpoint: "10.0.0.1:8501",
 * });
 * assert.deepEqual(view, {
 *   hash: "ab".repeat(24), height: 9, accepted: false, code: "unknown", time: 5,
 * });
 * ```
 *
 * @param event The pool's event.
 * @returns The view, without NodeCore's reason and the endpoint.
 */
export function blockEventView(event: BlockResultEvent): BlockEventView {
  return {
    hash: event.hash,
    height: event.height,
    accepted: event.accepted,
    code: event.accepted ? "accepted" : event.outcome === "refused" ? "rejected" : "unknown",
    time: event.at,
  };
}

/**
 * The API view of a stored block.
 *
 * @example Usage
 * ```ts
 * import { blockView } from "./views.ts";
 * import assert from "node:assert/strict";
 *
 * const view = blockView({
 *   id: 1n, instance: 0, height: 10, hash: new Uint8Array(24).fill(0xab), address: "V1",
 *   worker: "rig", networkDifficulty: 1000n, reward: undefined, status: "pending",
 *   confirmations: 0, effort: 0.5, time: 7, updatedAt: 7, solo: false, source: "share",
 *   note: "", creditBasis: undefined,
 * });
 * assert.equal(view.hash, "ab".repeat(24));
 * assert.equal(view.reward, null);
 * ```
 *
 * @param block The stored block.
 * @returns The view.
 */
export function blockView(block: Block): BlockView {
  return {
    height: block.height,
    hash: bytesToHex(block.hash),
    finder: block.address,
    worker: block.worker,
    status: block.status,
    solo: block.solo,
    note: block.note,
    confirmations: block.confirmations,
    effort: block.effort,
    reward: block.reward === undefined ? null : block.reward.toString(),
    networkDifficulty: block.networkDifficulty.toString(),
    time: block.time,
  };
}

/**
 * The API view of a payment.
 *
 * @example Usage
 * ```ts
 * import { paymentView } from "./views.ts";
 * import assert from "node:assert/strict";
 *
 * const payment = {
 *   id: 3n, status: "sent" as const, items: [{ address: "V1", amount: 5n }, { address: "V2", amount: 7n }],
 *   total: 12n, txIds: ["AB"], startHeight: 1, confirmations: 0, error: undefined, owner: "x",
 *   createdAt: 1, updatedAt: 2,
 * };
 * assert.equal(paymentView(payment, { address: "V2" }).amount, "7");
 * assert.equal(paymentView(payment).items?.length, 2);
 * const failed = { ...payment, status: "failed" as const, error: "sendcoins: insufficient funds" };
 * assert.equal(paymentView(failed).error, "payment_failed");
 * ```
 *
 * @param payment The stored payment.
 * @param options `address`: show that recipient's amount instead of every item.
 * @returns The view; the payment's error text becomes a code.
 */
export function paymentView(payment: Payment, options: { address?: string } = {}): PaymentView {
  const view: PaymentView = {
    id: payment.id.toString(),
    status: payment.status,
    total: payment.total.toString(),
    recipients: payment.items.length,
    txIds: [...payment.txIds],
    confirmations: payment.confirmations,
    error: paymentErrorCode(payment),
    createdAt: payment.createdAt,
    updatedAt: payment.updatedAt,
  };
  if (options.address !== undefined) {
    let amount = 0n;
    for (const item of payment.items) if (item.address === options.address) amount += item.amount;
    view.amount = amount.toString();
  } else {
    view.items = payment.items.map((i) => ({ address: i.address, amount: i.amount.toString() }));
  }
  return view;
}

function paymentErrorCode(payment: Payment): PaymentErrorCode | null {
  if (payment.status === "failed") return "payment_failed";
  return payment.error === undefined ? null : "payment_problem";
}
