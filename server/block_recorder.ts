/**
 * Keeps the pool's block candidates in the store, so that no block NodeCore accepted can be
 * lost: each candidate is written as `submitted` BEFORE it is sent (the pool waits for that
 * write, within a bound), then NodeCore's answer is written: `pending` when it accepted, a
 * reason code (`submit_rejected`, `submit_unknown`, `submit_failed`) when it did not or did not
 * answer. A candidate whose outcome is unknown stays `submitted` until the payout service's
 * reconciliation reads the chain, which alone decides (a timeout, a dropped link or a crash
 * after NodeCore accepted still ends in a credited block). Failed writes are retried in the
 * background; a candidate whose write never lands is still found later by the chain scan (the
 * block pays the pool address).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { hexToBytes } from "../hash/hex.ts";
import type { NewBlock, Store } from "../store/mod.ts";
import type { AcceptedShare } from "./share_recorder.ts";
import type { BlockSubmitResult } from "./upstream.ts";

const log = getLogger(["vbkpool", "server", "blocks"]);

/** Where the pool keeps its block candidates and NodeCore's answers (see `Pool`). */
export interface BlockLedger {
  /**
   * Keep a candidate durably before it is submitted.
   *
   * @param share The block-solving share.
   * @returns Resolves once the first write settled: true when it landed (a failed write is
   *   retried in the background). Never rejects.
   */
  candidate(share: AcceptedShare): Promise<boolean>;
  /**
   * Record NodeCore's answer to a candidate's submission.
   *
   * @param share The block-solving share.
   * @param result The answer.
   */
  outcome(share: AcceptedShare, result: BlockSubmitResult): void;
}

/** Options for {@linkcode BlockRecorder}. */
export interface BlockRecorderOptions {
  /** This pool instance's id. */
  instance: number;
  /** Delays between retries of a failed write (ms). @default [1000, 5000, 15000, 60000, 300000] */
  retryMs?: readonly number[];
}

/** The reason code for an answer that is not an acceptance. */
function outcomeNote(result: BlockSubmitResult): string {
  switch (result.outcome) {
    case "refused":
      return "submit_rejected";
    case "not_sent":
      return "submit_failed";
    default:
      return "submit_unknown";
  }
}

interface Entry {
  share: AcceptedShare;
  block: NewBlock;
  written: boolean;
  result?: BlockSubmitResult;
}

/**
 * A {@linkcode BlockLedger} on the store.
 *
 * @example Usage
 * ```ts
 * import { BlockRecorder } from "./block_recorder.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const recorder = new BlockRecorder(store, { instance: 31 });
 * const hash = "00".repeat(4) + "ab".repeat(20);
 * const share = {
 *   at: 5, connectionId: 1, ip: "127.0.0.1", port: 3333, worker: "V1.rig", address: "V1",
 *   workerName: "rig", jobId: "1", upstreamJobId: 7, height: 10, extranonce: 1n, ntime: 0,
 *   nonce: 0, hash, difficulty: 64n, achievedDifficulty: 2000n, networkDifficulty: 1000n,
 *   block: true, solo: false,
 * };
 * assert.equal(await recorder.candidate(share), true);
 * assert.equal((await store.listBlocks())[0]?.status, "submitted");
 * recorder.outcome(share, { accepted: true, outcome: "accepted" });
 * await recorder.settled();
 * assert.equal((await store.listBlocks())[0]?.status, "pending");
 * await recorder.close();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class BlockRecorder implements BlockLedger {
  #store: Store;
  #instance: number;
  #retryMs: readonly number[];
  #entries = new Map<string, Entry>();
  #writes = new Set<Promise<unknown>>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  /**
   * @param store Where blocks go.
   * @param options Instance id and retry policy.
   */
  constructor(store: Store, options: BlockRecorderOptions) {
    this.#store = store;
    this.#instance = options.instance;
    this.#retryMs = options.retryMs ?? [1000, 5000, 15_000, 60_000, 300_000];
  }

  /**
   * Write a candidate as `submitted`.
   *
   * @param share The block-solving share.
   * @returns Whether the first write landed.
   */
  candidate(share: AcceptedShare): Promise<boolean> {
    if (this.#entries.has(share.hash)) return Promise.resolve(true);
    const entry: Entry = { share, block: this.#block(share), written: false };
    this.#entries.set(share.hash, entry);
    return this.#writeCandidate(entry, 0);
  }

  /**
   * Write NodeCore's answer (once the candidate is written).
   *
   * @param share The block-solving share.
   * @param result The answer.
   */
  outcome(share: AcceptedShare, result: BlockSubmitResult): void {
    const entry = this.#entries.get(share.hash);
    if (entry === undefined) return;
    entry.result = result;
    if (entry.written) this.#writeOutcome(entry, 0);
  }

  #block(share: AcceptedShare): NewBlock {
    return {
      instance: this.#instance,
      height: share.height,
      hash: hexToBytes(share.hash),
      address: share.address,
      worker: share.workerName,
      networkDifficulty: share.networkDifficulty,
      time: share.at,
      status: "submitted",
      solo: share.solo,
    };
  }

  #writeCandidate(entry: Entry, attempt: number): Promise<boolean> {
    const height = entry.block.height;
    return this.#track(this.#store.recordBlock(entry.block)).then(() => {
      entry.written = true;
      log.info("block candidate {height} {hash} stored", { height, hash: entry.share.hash });
      if (entry.result !== undefined) this.#writeOutcome(entry, 0);
      else if (this.#closed) this.#entries.delete(entry.share.hash);
      return true;
    }, (err) => {
      this.#retry(err, { attempt, height, what: "block candidate" }, (next) => {
        void this.#writeCandidate(entry, next);
      });
      return false;
    });
  }

  #writeOutcome(entry: Entry, attempt: number): void {
    const result = entry.result!;
    const accepted = result.accepted;
    const update = accepted
      ? { status: "pending" as const, note: "", ifStatus: ["submitted" as const] }
      : { note: outcomeNote(result), ifStatus: ["submitted" as const] };
    const height = entry.block.height;
    void this.#track(this.#store.updateBlock(entry.block.hash, update)).then((block) => {
      this.#entries.delete(entry.share.hash);
      log.info("block {height} {hash}: {outcome} (now {status})", {
        height,
        hash: entry.share.hash,
        outcome: accepted ? "accepted by NodeCore" : update.note,
        status: block?.status ?? "unknown",
      });
    }, (err) => {
      this.#retry(err, { attempt, height, what: "block outcome" }, (next) => {
        this.#writeOutcome(entry, next);
      });
    });
  }

  #retry(
    err: unknown,
    at: { attempt: number; height: number; what: string },
    again: (attempt: number) => void,
  ): void {
    const delay = this.#retryMs[at.attempt];
    const why = err instanceof Error ? err.message : String(err);
    if (delay === undefined || this.#closed) {
      log.fatal(
        "{what} {height} cannot be stored: {error}; the payout service's chain scan will " +
          "still find the block if the chain has it",
        { what: at.what, height: at.height, error: why },
      );
      return;
    }
    log.error("cannot store {what} {height}, retrying in {delay} ms: {error}", {
      what: at.what,
      height: at.height,
      delay,
      error: why,
    });
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      again(at.attempt + 1);
    }, delay);
    this.#timers.add(timer);
  }

  #track<T>(write: Promise<T>): Promise<T> {
    this.#writes.add(write);
    const done = () => this.#writes.delete(write);
    write.then(done, done);
    return write;
  }

  /** Resolves when no write is in flight (retries waiting on a timer do not count). */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
  }

  /** Wait for writes in flight, and drop pending retries (logged). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.settled();
    for (const timer of this.#timers) clearTimeout(timer);
    if (this.#timers.size > 0) {
      log.fatal(
        "{n} block write(s) could not be stored before shutdown; the payout service's chain " +
          "scan finds blocks the chain has",
        { n: this.#timers.size },
      );
    }
    this.#timers.clear();
  }
}
