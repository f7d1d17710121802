/**
 * The write operations a store batches into transactions, and the checks every input passes
 * before it is queued (so a bad value is refused alone and never fails a whole batch).
 *
 * @module
 */
import type {
  BanListQuery,
  BlockQuery,
  BlockSource,
  BlockStatus,
  BlockUpdate,
  NewBlock,
  RollupQuery,
  Share,
  ShareQuery,
  StoredBan,
} from "./store_types.ts";
import { BLOCK_STATUSES } from "./store_types.ts";
import type { PayoutWriteOp } from "./_payouts_op_types.ts";

/** A write, executed in order inside one batch transaction. */
export type WriteOp =
  | { kind: "share"; share: Share }
  | { kind: "block"; block: NewBlock }
  | { kind: "updateBlock"; hash: Uint8Array; update: BlockUpdate; time: number }
  | { kind: "difficulty"; address: string; worker: string; difficulty: bigint; time: number }
  | { kind: "reserve"; instance: number; count: bigint; limit: bigint; rangeSize?: bigint }
  | { kind: "lease"; instance: number; owner: string; ttlMs: number; now: number }
  | { kind: "unlease"; instance: number; owner: string }
  | { kind: "ban"; ban: StoredBan }
  | { kind: "pruneShares"; before: number; limit: number }
  | { kind: "pruneRollups"; before: number; limit: number }
  | { kind: "pruneBans"; before: number; limit: number }
  | { kind: "payout"; op: PayoutWriteOp };

/** Result of one operation: a value, or an error that concerns only that operation. */
export type OpOutcome = { ok: true; value: unknown } | {
  ok: false;
  error: { name: string; message: string };
};

/** How long an ended or lifted ban is kept after both its end and its decision (ms): a day. */
export const BAN_KEEP_MS = 86_400_000;

/** Largest value a signed 64-bit column holds. */
export const INT64_MAX = (1n << 63n) - 1n;
/** Length of a vBlake hash. */
export const HASH_BYTES = 24;
/** Longest address, worker or job id accepted. */
export const MAX_NAME = 200;

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return value === null ? "null" : typeof value === "object" ? "an object" : String(value);
}

/** Throws unless `value` is an integer from `min` to `max`. */
export function checkInt(
  value: unknown,
  what: string,
  action: string,
  min = 0,
  max = 2 ** 31 - 1,
): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`Cannot ${action}: ${what} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Cannot ${action}: ${what} must be from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a time in milliseconds (a non-negative safe integer). */
export function checkTime(value: unknown, what: string, action: string): number {
  return checkInt(value, what, action, 0, Number.MAX_SAFE_INTEGER);
}

/** Throws unless `value` is a bigint from `min` to `max`. */
export function checkBig(
  value: unknown,
  what: string,
  action: string,
  min = 1n,
  max = INT64_MAX,
): bigint {
  if (typeof value !== "bigint") {
    throw new TypeError(`Cannot ${action}: ${what} must be a bigint, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Cannot ${action}: ${what} must be from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a string of at most {@linkcode MAX_NAME} characters. */
export function checkName(value: unknown, what: string, action: string, allowEmpty = true): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot ${action}: ${what} must be a string, got ${describe(value)}`);
  }
  if ((!allowEmpty && value.length === 0) || value.length > MAX_NAME) {
    throw new RangeError(
      `Cannot ${action}: ${what} must have ${
        allowEmpty ? 0 : 1
      } to ${MAX_NAME} characters, got ${value.length}`,
    );
  }
  return value;
}

/** Throws unless `value` is a 24-byte hash. */
export function checkHash(value: unknown, what: string, action: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action}: ${what} must be a Uint8Array, got ${describe(value)}`);
  }
  if (value.length !== HASH_BYTES) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be ${HASH_BYTES} bytes, got ${value.length}`,
    );
  }
  return value;
}

function checkObject(value: unknown, what: string, action: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot ${action}: ${what} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

const HASH_SLAB_BYTES = 64 * 1024;
let hashSlab = new Uint8Array(HASH_SLAB_BYTES);
let hashSlabUsed = 0;

/**
 * A copy of a 24-byte hash as a view on a shared slab. A share's hash is copied once per share,
 * and in V8 a new Uint8Array (a new ArrayBuffer) costs ~0.7 µs however small, a view ~0.04 µs.
 * A region of the slab is never written again once handed out (a full slab is replaced), and the
 * slab is freed when no view on it is left.
 */
function copyHash(hash: Uint8Array): Uint8Array {
  if (hashSlabUsed + HASH_BYTES > HASH_SLAB_BYTES) {
    hashSlab = new Uint8Array(HASH_SLAB_BYTES);
    hashSlabUsed = 0;
  }
  const copy = hashSlab.subarray(hashSlabUsed, hashSlabUsed + HASH_BYTES);
  copy.set(hash);
  hashSlabUsed += HASH_BYTES;
  return copy;
}

/** Validates a share and returns a plain copy (so later mutation by the caller cannot race). */
export function checkShare(value: unknown): Share {
  const action = "record share";
  const s = checkObject(value, "share", action);
  return {
    instance: checkInt(s.instance, "instance", action),
    address: checkName(s.address, "address", action, false),
    worker: checkName(s.worker, "worker", action),
    jobId: checkName(s.jobId, "jobId", action),
    difficulty: checkBig(s.difficulty, "difficulty", action),
    networkDifficulty: checkBig(s.networkDifficulty, "networkDifficulty", action),
    height: checkInt(s.height, "height", action),
    time: checkTime(s.time, "time", action),
    hash: copyHash(checkHash(s.hash, "hash", action)),
    solo: checkFlag(s.solo, "solo", action),
  };
}

/** Throws unless `value` is a boolean or undefined (false). */
function checkFlag(value: unknown, what: string, action: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`Cannot ${action}: ${what} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

const NOTE_RE = /^[a-z0-9_]{0,64}$/;

/** Throws unless `value` is a reason code: "" or up to 64 of `a-z`, `0-9` and `_`. */
export function checkNote(value: unknown, what: string, action: string): string {
  if (typeof value !== "string" || !NOTE_RE.test(value)) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be a reason code (a-z, 0-9, _), got ${describe(value)}`,
    );
  }
  return value;
}

function checkStatus(value: unknown, what: string, action: string): BlockStatus {
  if (!BLOCK_STATUSES.includes(value as never)) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be one of ${BLOCK_STATUSES.join(", ")}, got ${
        describe(value)
      }`,
    );
  }
  return value as BlockStatus;
}

function checkStatuses(value: unknown, what: string, action: string): BlockStatus[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new RangeError(`Cannot ${action}: ${what} must not be empty`);
  return list.map((v) => checkStatus(v, what, action));
}

function newStatus(value: unknown, action: string): "submitted" | "pending" {
  if (value !== "submitted" && value !== "pending") {
    throw new RangeError(`Cannot ${action}: a new block is submitted or pending`);
  }
  return value;
}

/** Validates a found block and returns a plain copy. */
export function checkNewBlock(value: unknown): NewBlock {
  const action = "record block";
  const b = checkObject(value, "block", action);
  const block: NewBlock = {
    instance: checkInt(b.instance, "instance", action),
    height: checkInt(b.height, "height", action),
    hash: checkHash(b.hash, "hash", action).slice(),
    address: checkName(b.address, "address", action, false),
    worker: checkName(b.worker, "worker", action),
    networkDifficulty: checkBig(b.networkDifficulty, "networkDifficulty", action),
    time: checkTime(b.time, "time", action),
    status: b.status === undefined ? "pending" : newStatus(b.status, action),
    solo: checkFlag(b.solo, "solo", action),
    source: b.source === undefined ? "share" : b.source as BlockSource,
    note: b.note === undefined ? "" : checkNote(b.note, "note", action),
  };
  if (block.source !== "share" && block.source !== "chain") {
    throw new RangeError(`Cannot ${action}: source must be share or chain`);
  }
  if (b.reward !== undefined) block.reward = checkBig(b.reward, "reward", action, 0n);
  return block;
}

/** Validates a block update. */
export function checkBlockUpdate(value: unknown): BlockUpdate {
  const action = "update block";
  const u = checkObject(value, "update", action);
  const update: BlockUpdate = {};
  if (u.status !== undefined) update.status = checkStatus(u.status, "status", action);
  if (u.ifStatus !== undefined) update.ifStatus = checkStatuses(u.ifStatus, "ifStatus", action);
  if (u.note !== undefined) update.note = checkNote(u.note, "note", action);
  if (u.reward !== undefined) update.reward = checkBig(u.reward, "reward", action, 0n);
  if (u.confirmations !== undefined) {
    update.confirmations = checkInt(u.confirmations, "confirmations", action);
  }
  return update;
}

/** Throws unless `value` is a boolean (`undefined` is refused too). */
function checkBoolean(value: unknown, what: string, action: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`Cannot ${action}: ${what} must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/** Validates a ban (or the lift of one) and returns a plain copy. */
export function checkBan(value: unknown): StoredBan {
  const action = "record ban";
  const b = checkObject(value, "ban", action);
  return {
    ip: checkName(b.ip, "ip", action, false),
    since: checkTime(b.since, "since", action),
    until: checkTime(b.until, "until", action),
    reason: checkName(b.reason, "reason", action, false),
    offences: checkInt(b.offences, "offences", action),
    lifted: checkBoolean(b.lifted, "lifted", action),
    updatedAt: checkTime(b.updatedAt, "updatedAt", action),
    instance: checkInt(b.instance, "instance", action),
  };
}

/** Validates ban list options. */
export function checkBanListQuery(value: unknown): BanListQuery {
  const action = "list bans";
  const q = checkObject(value, "query", action);
  const query: BanListQuery = { now: checkTime(q.now, "now", action) };
  if (q.writtenSince !== undefined) {
    query.writtenSince = checkTime(q.writtenSince, "writtenSince", action);
  }
  return query;
}

/** Validates rollup query options. */
export function checkRollupQuery(
  value: unknown,
): Required<Pick<RollupQuery, "since" | "until">> & RollupQuery {
  const action = "query rollups";
  const q = checkObject(value, "query", action);
  const since = checkTime(q.since, "since", action);
  const until = q.until === undefined || q.until === Infinity
    ? Number.MAX_SAFE_INTEGER
    : checkTime(q.until, "until", action);
  const out: RollupQuery & { since: number; until: number } = { since, until };
  if (q.address !== undefined) out.address = checkName(q.address, "address", action, false);
  if (q.worker !== undefined) {
    if (q.address === undefined) {
      throw new TypeError(`Cannot ${action}: worker needs an address`);
    }
    out.worker = checkName(q.worker, "worker", action);
  }
  return out;
}

/** Validates share query options, filling defaults. */
export function checkShareQuery(value: unknown = {}): ShareQuery & { limit: number } {
  const action = "list shares";
  const q = checkObject(value, "query", action);
  const out: ShareQuery & { limit: number } = {
    limit: q.limit === undefined ? 1000 : checkInt(q.limit, "limit", action, 1, 1_000_000),
  };
  if (q.before !== undefined) out.before = checkTime(q.before, "before", action);
  if (q.since !== undefined) out.since = checkTime(q.since, "since", action);
  if (q.address !== undefined) out.address = checkName(q.address, "address", action, false);
  return out;
}

/** Block query options after {@linkcode checkBlockQuery}: statuses as a list. */
export type CheckedBlockQuery = Omit<BlockQuery, "status"> & {
  limit: number;
  status?: BlockStatus[];
};

/** Validates block query options, filling defaults. */
export function checkBlockQuery(value: unknown = {}): CheckedBlockQuery {
  const action = "list blocks";
  const q = checkObject(value, "query", action);
  const out: CheckedBlockQuery = {
    limit: q.limit === undefined ? 100 : checkInt(q.limit, "limit", action, 1, 1_000_000),
  };
  if (q.status !== undefined) out.status = checkStatuses(q.status, "status", action);
  if (q.height !== undefined) out.height = checkInt(q.height, "height", action);
  return out;
}

/** Start of the minute holding `time`. */
export function minuteOf(time: number): number {
  return time - (time % 60_000);
}

/**
 * Where a counter of `oldSize`-value ranges continues in `newSize`-value ranges: the first range
 * that starts at or after every value handed out before (ranges of one instance are laid out from
 * 0 in counter order).
 *
 * @example Usage
 * ```ts
 * import { convertCounter } from "./_ops.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(convertCounter(10n, 1_000_000n, 1_000n), 10_000n);
 * assert.equal(convertCounter(10_005n, 1_000n, 1_000_000n), 11n);
 * ```
 *
 * @param next The stored counter (ranges of `oldSize` used so far).
 * @param oldSize Values per range before.
 * @param newSize Values per range now.
 * @returns The first counter of `newSize` ranges past every value used.
 */
export function convertCounter(next: bigint, oldSize: bigint, newSize: bigint): bigint {
  return (next * oldSize + newSize - 1n) / newSize;
}
