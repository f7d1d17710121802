/**
 * Group commit: the store's bounded commit stage. Operations queue up; a batch closes when its
 * first operation has waited `delayMs` or when `maxBatch` operations are queued, and is committed
 * as one transaction while the next batch fills. Every caller's promise settles only after its
 * batch committed (or failed), so nothing is acknowledged before it is durable.
 *
 * When a commit fails or times out, the batch and everything queued behind it are rejected with
 * {@linkcode StoreUnavailableError}, new operations are refused at once (so miners get a fast
 * error, not a hang), and the database is probed every `probeMs` until it answers again. A
 * backend with a `watch` check is also watched every `probeMs` while healthy, so that a
 * database lost while nothing is written (its file removed) fails the stage just the same.
 *
 * @module
 */
import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** What {@linkcode GroupCommit} needs from a database. */
export interface GroupCommitBackend<Op, R> {
  /** Commit `ops` in one transaction; resolve with one result per operation, in order. */
  commit(ops: Op[]): Promise<R[]>;
  /** Resolve when the database accepts writes again; reject while it does not. */
  probe(): Promise<void>;
  /** Drop connections after a failed or timed-out commit or probe (optional). */
  reset?(): Promise<void>;
  /**
   * Throw when the database can no longer take writes, without touching it (optional; called
   * every `probeMs` while healthy; a throw fails the stage as a failed commit does).
   */
  watch?(): void;
}

/** Settings of {@linkcode GroupCommit}. */
export interface GroupCommitOptions {
  /** Longest wait of a batch's first operation before the batch closes (ms). @default 5 */
  delayMs?: number;
  /** Operations per transaction at most; a full batch closes at once. @default 1000 */
  maxBatch?: number;
  /** Operations queued at most (beyond that, new ones are refused). @default 100000 */
  maxQueue?: number;
  /** A commit slower than this is treated as failed (ms). @default 10000 */
  timeoutMs?: number;
  /** Interval between probes while the database is failing (ms). @default 1000 */
  probeMs?: number;
  /** The database, as shown in error messages (no secrets). @default "database" */
  where?: string;
  /** Told when the stage turns unhealthy (with the error) or healthy again. */
  onHealth?: (healthy: boolean, error?: unknown) => void;
  /**
   * Told when a probe fails with another message than the last failure's (the first failure is
   * told through `onHealth`), so each distinct cause can be logged once.
   */
  onProbeError?: (message: string, error?: unknown) => void;
  /** Told after each successful commit: its duration (ms) and its operations. */
  onCommit?: (durationMs: number, operations: number) => void;
}

/** Counters of a {@linkcode GroupCommit}. */
export interface GroupCommitStats {
  /** False while the database is failing. */
  healthy: boolean;
  /** Operations queued or in flight. */
  queueDepth: number;
  /** Transactions committed. */
  batches: number;
  /** Operations committed. */
  committed: number;
  /** Operations refused or failed. */
  failed: number;
  /** Duration of the last successful commit (ms). */
  lastCommitMs: number;
  /** Message of the last failure. */
  lastError: string | undefined;
  /** Probes made while the database was failing. */
  probes: number;
}

interface Waiter<Op, R> {
  op: Op;
  resolve: (value: R) => void;
  reject: (reason: unknown) => void;
}

const TIMED_OUT = Symbol("timed out");

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Batches operations into transactions and settles each caller after its commit.
 *
 * @example Usage
 * ```ts
 * import { GroupCommit } from "./group_commit.ts";
 * import assert from "node:assert/strict";
 *
 * const batches: number[][] = [];
 * const stage = new GroupCommit<number, number>({
 *   commit: (ops) => {
 *     batches.push(ops);
 *     return Promise.resolve(ops.map((n) => n * 2));
 *   },
 *   probe: () => Promise.resolve(),
 * }, { delayMs: 1 });
 * const results = await Promise.all([stage.submit(1), stage.submit(2), stage.submit(3)]);
 * assert.deepEqual(results, [2, 4, 6]);
 * assert.deepEqual(batches, [[1, 2, 3]]);
 * await stage.close();
 * ```
 *
 * @typeParam Op One operation.
 * @typeParam R Its result.
 */
export class GroupCommit<Op, R> {
  #backend: GroupCommitBackend<Op, R>;
  #delayMs: number;
  #maxBatch: number;
  #maxQueue: number;
  #timeoutMs: number;
  #probeMs: number;
  #probeTimeoutMs: number;
  #where: string;
  #onHealth: ((healthy: boolean, error?: unknown) => void) | undefined;
  #onProbeError: ((message: string, error?: unknown) => void) | undefined;
  #onCommit: ((durationMs: number, operations: number) => void) | undefined;
  #queue: Waiter<Op, R>[] = [];
  #firstQueuedAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> | undefined;
  #inFlightCount = 0;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #watchTimer: ReturnType<typeof setTimeout> | undefined;
  #probing: Promise<void> | undefined;
  #healthy = true;
  #closed = false;
  #batches = 0;
  #committed = 0;
  #failed = 0;
  #lastCommitMs = 0;
  #lastError: string | undefined;
  #probes = 0;
  #idle: (() => void)[] = [];

  /**
   * @param backend The database's commit and probe.
   * @param options Batch size, delay, bounds and timeouts.
   */
  constructor(backend: GroupCommitBackend<Op, R>, options: GroupCommitOptions = {}) {
    this.#backend = backend;
    this.#delayMs = options.delayMs ?? 5;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxQueue = options.maxQueue ?? 100_000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#probeMs = options.probeMs ?? 1000;
    this.#probeTimeoutMs = Math.min(this.#timeoutMs, Math.max(1000, this.#probeMs * 5));
    this.#where = options.where ?? "database";
    this.#onHealth = options.onHealth;
    this.#onProbeError = options.onProbeError;
    this.#onCommit = options.onCommit;
    this.#scheduleWatch();
  }

  /** False while the database is failing (new operations are refused). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /**
   * The counters (queue depth, batches, failures…).
   *
   * @returns A snapshot.
   */
  stats(): GroupCommitStats {
    return {
      healthy: this.#healthy,
      queueDepth: this.#queue.length + this.#inFlightCount,
      batches: this.#batches,
      committed: this.#committed,
      failed: this.#failed,
      lastCommitMs: this.#lastCommitMs,
      lastError: this.#lastError,
      probes: this.#probes,
    };
  }

  /**
   * Queue one operation.
   *
   * @param op The operation.
   * @returns Its result, after its transaction committed.
   * @throws {StoreUnavailableError} (as a rejection) when the commit failed, or at once while the
   *   database is failing, the queue is full or the stage is closed.
   */
  submit(op: Op): Promise<R> {
    let refusal: string | undefined;
    if (this.#closed) refusal = "the store is closed";
    else if (!this.#healthy) refusal = `${this.#where} is failing (${this.#lastError})`;
    else if (this.#queue.length >= this.#maxQueue) {
      refusal = `the commit queue is full (${this.#maxQueue} operations)`;
    }
    if (refusal !== undefined) {
      this.#failed += 1;
      return Promise.reject(new StoreUnavailableError(`Cannot commit: ${refusal}`));
    }
    return new Promise<R>((resolve, reject) => {
      if (this.#queue.length === 0) this.#firstQueuedAt = performance.now();
      this.#queue.push({ op, resolve, reject });
      this.#schedule(false);
    });
  }

  /**
   * Commit everything queued now, without waiting for the batch delay.
   *
   * @returns When the queue is empty and nothing is in flight.
   */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight !== undefined) {
      this.#schedule(true);
      if (this.#inFlight !== undefined) await this.#inFlight;
      else if (this.#queue.length > 0) await new Promise<void>((r) => this.#idle.push(r));
    }
  }

  /**
   * Refuse new operations, commit the queued ones and stop probing.
   *
   * @returns When everything queued has settled.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    clearTimeout(this.#watchTimer);
    this.#watchTimer = undefined;
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    await this.#probing;
    for (const r of this.#idle.splice(0)) r();
  }

  #schedule(now: boolean): void {
    if (this.#inFlight !== undefined || this.#queue.length === 0) return;
    if (!this.#healthy) {
      this.#rejectQueued(new StoreUnavailableError(`Cannot commit: ${this.#where} is failing`));
      return;
    }
    if (now || this.#queue.length >= this.#maxBatch) {
      this.#dispatch();
      return;
    }
    if (this.#timer === undefined) {
      const wait = Math.max(0, this.#firstQueuedAt + this.#delayMs - performance.now());
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#dispatch();
      }, wait);
    }
  }

  #dispatch(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight !== undefined || this.#queue.length === 0 || !this.#healthy) return;
    const batch = this.#queue.splice(0, this.#maxBatch);
    this.#firstQueuedAt = performance.now();
    this.#inFlightCount = batch.length;
    this.#inFlight = this.#run(batch).finally(() => {
      this.#inFlight = undefined;
      this.#inFlightCount = 0;
      this.#schedule(this.#closed);
      if (this.#queue.length === 0) { for (const r of this.#idle.splice(0)) r(); }
    });
  }

  async #run(batch: Waiter<Op, R>[]): Promise<void> {
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.#timeoutMs);
    });
    let results: R[] | typeof TIMED_OUT;
    try {
      const commit = this.#backend.commit(batch.map((w) => w.op));
      // A late result after a timeout is dropped; a late failure must not go unhandled.
      commit.catch(() => {});
      results = await Promise.race([commit, timeout]);
    } catch (err) {
      this.#fail(batch, err);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (results === TIMED_OUT) {
      this.#fail(batch, new Error(`commit took longer than ${this.#timeoutMs} ms`));
      return;
    }
    if (results.length !== batch.length) {
      this.#fail(batch, new Error(`commit returned ${results.length} results for ${batch.length}`));
      return;
    }
    if (!this.#healthy) {
      // The watch found the database lost while this batch committed: it went to a lost file.
      const error = new StoreUnavailableError(
        `Cannot commit ${batch.length} operation(s) to ${this.#where}: ${this.#lastError}`,
      );
      this.#failed += batch.length;
      for (const w of batch) w.reject(error);
      return;
    }
    this.#lastCommitMs = performance.now() - started;
    this.#batches += 1;
    this.#committed += batch.length;
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
    this.#onCommit?.(this.#lastCommitMs, batch.length);
  }

  #rejectQueued(error: StoreUnavailableError): void {
    const queued = this.#queue.splice(0);
    this.#failed += queued.length;
    for (const w of queued) w.reject(error);
  }

  #fail(batch: Waiter<Op, R>[], err: unknown): void {
    this.#lastError = messageOf(err);
    const error = new StoreUnavailableError(
      `Cannot commit ${batch.length} operation(s) to ${this.#where}: ${this.#lastError}`,
      { cause: err },
    );
    this.#failed += batch.length;
    for (const w of batch) w.reject(error);
    this.#rejectQueued(error);
    // The connection may be broken in ways that make the next query hang: start afresh.
    this.#backend.reset?.().catch(() => {});
    this.#unhealthy(err);
  }

  #unhealthy(err: unknown): void {
    if (this.#healthy) {
      this.#healthy = false;
      this.#onHealth?.(false, err);
    }
    this.#scheduleProbe();
  }

  /** Run the backend's watch every `probeMs` while healthy (never keeping the process alive). */
  #scheduleWatch(): void {
    const watch = this.#backend.watch;
    if (watch === undefined || this.#closed) return;
    this.#watchTimer = setTimeout(() => {
      this.#watchTimer = undefined;
      if (this.#closed) return;
      if (this.#healthy) {
        try {
          watch.call(this.#backend);
        } catch (err) {
          this.#lastError = messageOf(err);
          this.#rejectQueued(
            new StoreUnavailableError(`Cannot commit: ${this.#where} is failing`, { cause: err }),
          );
          this.#unhealthy(err);
        }
      }
      this.#scheduleWatch();
    }, this.#probeMs);
    Deno.unrefTimer(this.#watchTimer);
  }

  #scheduleProbe(): void {
    if (this.#probeTimer !== undefined || this.#probing !== undefined) return;
    if (this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = undefined;
      this.#probing = this.#probe().finally(() => {
        this.#probing = undefined;
        if (!this.#healthy) this.#scheduleProbe();
      });
    }, this.#probeMs);
  }

  async #probe(): Promise<void> {
    this.#probes += 1;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const probe = this.#backend.probe();
      probe.catch(() => {});
      const outcome = await Promise.race([
        probe.then(() => "ok" as const),
        new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(() => resolve(TIMED_OUT), this.#probeTimeoutMs);
        }),
      ]);
      if (outcome === TIMED_OUT) {
        this.#probeFailed(`probe took longer than ${this.#probeTimeoutMs} ms`);
        this.#backend.reset?.().catch(() => {});
        return;
      }
      if (this.#closed) return;
      this.#healthy = true;
      this.#lastError = undefined;
      this.#onHealth?.(true);
    } catch (err) {
      this.#probeFailed(messageOf(err), err);
    } finally {
      clearTimeout(timer);
    }
  }

  #probeFailed(message: string, error?: unknown): void {
    const changed = message !== this.#lastError;
    this.#lastError = message;
    if (!changed || this.#closed) return;
    try {
      this.#onProbeError?.(message, error);
    } catch {
      // An observer's failure is its own problem.
    }
  }
}
