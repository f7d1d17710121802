/**
 * A write batch in the compact form the SQLite writer takes: the shares of the batch in columns
 * (typed arrays and one array of strings) instead of one object per share, and the other
 * operations as they are. Posting it to the writer thread moves a few buffers (transferred, not
 * copied) instead of structured-cloning ~100 objects with bigints and byte arrays per commit, which
 * the profile of `bench:pool` showed at ~3 µs per share on the event loop's thread. The writer
 * answers with the number of shares it stored and the outcomes of the other operations.
 *
 * @module
 */
import { HASH_BYTES, type OpOutcome, type WriteOp } from "./_ops.ts";
import type { Share } from "./store_types.ts";

/** A write operation other than a share. */
export type OtherOp = Exclude<WriteOp, { kind: "share" }>;

/** The shares of one batch, one entry per share in each column. */
export interface ShareColumns {
  /** Number of shares. */
  count: number;
  /** Three per share: address, worker and job id (cloned as they are: deduplicating them
   * through a map cost more than the copies it saved). */
  strings: string[];
  /** Four per share: instance, height, time (all safe integers, exact in a double) and solo
   * (1 or 0). */
  numbers: Float64Array<ArrayBuffer>;
  /** Two per share: difficulty and network difficulty (checked to fit a signed 64-bit column). */
  difficulties: BigInt64Array<ArrayBuffer>;
  /** {@linkcode HASH_BYTES} per share: the hashes, back to back. */
  hashes: Uint8Array<ArrayBuffer>;
}

/** A batch in order: a number n stands for the next n shares of `shares`. */
export interface PackedBatch {
  /** Operations and share runs, in the order they are executed. */
  steps: (number | OtherOp)[];
  /** Every share of the batch, in order. */
  shares: ShareColumns;
}

/** What the writer answers for a {@linkcode PackedBatch}. */
export interface PackedOutcomes {
  /** Shares stored (all of the batch's, or the transaction failed and nothing was). */
  shares: number;
  /** The outcome of each other operation, in order. */
  others: OpOutcome[];
}

/** Entries of {@linkcode ShareColumns.numbers} per share. */
export const NUMBERS = 4;

/** The outcome of a stored share; shared by every share (never mutated). */
const STORED: OpOutcome = Object.freeze({ ok: true, value: undefined }) as OpOutcome;

/**
 * Put a batch into columns.
 *
 * @param ops Checked write operations, in order.
 * @returns The packed batch (its buffers are its own, so they can be transferred).
 */
export function packBatch(ops: readonly WriteOp[]): PackedBatch {
  let count = 0;
  for (const op of ops) if (op.kind === "share") count++;
  const shares: ShareColumns = {
    count,
    strings: new Array(3 * count),
    numbers: new Float64Array(NUMBERS * count),
    difficulties: new BigInt64Array(2 * count),
    hashes: new Uint8Array(HASH_BYTES * count),
  };
  const steps: (number | OtherOp)[] = [];
  let run = 0;
  let i = 0;
  for (const op of ops) {
    if (op.kind !== "share") {
      if (run > 0) steps.push(run);
      run = 0;
      steps.push(op);
      continue;
    }
    const s = op.share;
    shares.strings[3 * i] = s.address;
    shares.strings[3 * i + 1] = s.worker;
    shares.strings[3 * i + 2] = s.jobId;
    shares.numbers[NUMBERS * i] = s.instance;
    shares.numbers[NUMBERS * i + 1] = s.height;
    shares.numbers[NUMBERS * i + 2] = s.time;
    shares.numbers[NUMBERS * i + 3] = s.solo === true ? 1 : 0;
    shares.difficulties[2 * i] = s.difficulty;
    shares.difficulties[2 * i + 1] = s.networkDifficulty;
    shares.hashes.set(s.hash, HASH_BYTES * i);
    run++;
    i++;
  }
  if (run > 0) steps.push(run);
  return { steps, shares };
}

/**
 * The buffers a packed batch can hand over to another thread (they are unusable here after).
 *
 * @param batch The batch.
 * @returns Its column buffers.
 */
export function batchTransfer(batch: PackedBatch): ArrayBuffer[] {
  const s = batch.shares;
  return [s.numbers.buffer, s.difficulties.buffer, s.hashes.buffer];
}

/**
 * Read one share of the columns into `into` (a scratch record reused for every share, so reading
 * a batch allocates only the two bigints and the hash view of each share).
 *
 * @param columns The shares.
 * @param index Which share.
 * @param into The record to fill.
 * @returns `into`.
 */
export function readShare(columns: ShareColumns, index: number, into: Share): Share {
  const { numbers, difficulties, strings } = columns;
  into.address = strings[3 * index]!;
  into.worker = strings[3 * index + 1]!;
  into.jobId = strings[3 * index + 2]!;
  into.instance = numbers[NUMBERS * index]!;
  into.height = numbers[NUMBERS * index + 1]!;
  into.time = numbers[NUMBERS * index + 2]!;
  into.solo = numbers[NUMBERS * index + 3] === 1;
  into.difficulty = difficulties[2 * index]!;
  into.networkDifficulty = difficulties[2 * index + 1]!;
  into.hash = columns.hashes.subarray(HASH_BYTES * index, HASH_BYTES * (index + 1));
  return into;
}

/**
 * A scratch record for {@linkcode readShare}.
 *
 * @returns An empty share.
 */
export function scratchShare(): Share {
  return {
    instance: 0,
    address: "",
    worker: "",
    jobId: "",
    difficulty: 0n,
    networkDifficulty: 0n,
    height: 0,
    time: 0,
    hash: new Uint8Array(0),
    solo: false,
  };
}

/**
 * One outcome per operation of the original batch, from the writer's packed answer.
 *
 * @param ops The operations as packed, in order.
 * @param outcomes The writer's answer.
 * @returns One outcome per operation (shares share one frozen outcome object).
 * @throws {RangeError} When the answer does not match the batch.
 */
export function unpackOutcomes(ops: readonly WriteOp[], outcomes: PackedOutcomes): OpOutcome[] {
  const out: OpOutcome[] = new Array(ops.length);
  let share = 0;
  let other = 0;
  for (let i = 0; i < ops.length; i++) {
    if (ops[i]!.kind === "share") {
      out[i] = STORED;
      share++;
    } else {
      const o = outcomes.others[other++];
      if (o === undefined) break;
      out[i] = o;
    }
  }
  if (share !== outcomes.shares || other !== outcomes.others.length) {
    throw new RangeError(
      `Cannot read commit outcomes: ${outcomes.shares} shares and ` +
        `${outcomes.others.length} other outcomes for ${share} and ${other} operations`,
    );
  }
  return out;
}
