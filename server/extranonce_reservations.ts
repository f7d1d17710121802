/**
 * Persistent extranonce reservations: the {@linkcode ExtranonceAllocator}'s `reserve` hook
 * backed by a {@linkcode Store}. Counters are reserved in blocks (one small transaction per
 * block, always one block ahead), so a restarted server never hands out a counter it used
 * before, and allocation never waits for the database.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import type { CounterRange, Store } from "../store/mod.ts";
import type { ExtranonceAllocatorOptions } from "./extranonce.ts";

const log = getLogger(["vbkpool", "server", "extranonce"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Options for {@linkcode ExtranonceReservations.open}. */
export interface ExtranonceReservationsOptions {
  /** Pool instance id, 0..31 (the allocator's `instanceId`). */
  instance: number;
  /** Values per connection (the allocator's `rangeSize`). @default 1_000_000n */
  rangeSize?: bigint;
  /** Counters reserved per transaction. @default 1024n */
  blockSize?: bigint;
}

/**
 * Reserves extranonce counters ahead of the allocator.
 *
 * @example Usage
 * ```ts
 * import { ExtranonceReservations } from "./extranonce_reservations.ts";
 * import { ExtranonceAllocator } from "./extranonce.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const first = await ExtranonceReservations.open(store, { instance: 31, blockSize: 4n });
 * const a = new ExtranonceAllocator(first.allocatorOptions());
 * assert.equal(a.allocate().start.toString(16), "7c000000000f4240");
 * await first.close();
 * // A restart continues after everything reserved before.
 * const again = await ExtranonceReservations.open(store, { instance: 31, blockSize: 4n });
 * const b = new ExtranonceAllocator(again.allocatorOptions());
 * assert.equal(b.allocate().start, 0x7c00000000000000n + 8n * 1_000_000n);
 * await again.close();
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ExtranonceReservations {
  /** The counter the allocator starts at. */
  readonly firstCounter: bigint;
  #store: Store;
  #instance: number;
  #rangeSize: bigint;
  #block: bigint;
  #limit: bigint;
  #ranges: CounterRange[];
  #prefetch: Promise<void> | undefined;
  #closed = false;

  private constructor(
    store: Store,
    options: Required<ExtranonceReservationsOptions>,
    first: CounterRange,
  ) {
    this.#store = store;
    this.#instance = options.instance;
    this.#rangeSize = options.rangeSize;
    this.#block = options.blockSize;
    this.#limit = (1n << 58n) / options.rangeSize;
    this.#ranges = [first];
    // Counter 0 is never used, as in the original server (the first range is R, not 0).
    this.firstCounter = first.start === 0n ? 1n : first.start;
  }

  /**
   * Reserve the first block (and start reserving the next).
   *
   * @param store Where the high-water mark is kept.
   * @param options Instance id, range size, block size.
   * @returns The reservations.
   * @throws {StoreUnavailableError} (as a rejection) when the store cannot commit.
   * @throws {RangeError} (as a rejection) when an option is out of range or the instance's
   *   counters are used up.
   */
  static async open(
    store: Store,
    options: ExtranonceReservationsOptions,
  ): Promise<ExtranonceReservations> {
    const rangeSize = options.rangeSize ?? 1_000_000n;
    const blockSize = options.blockSize ?? 1024n;
    if (!Number.isInteger(options.instance) || options.instance < 0 || options.instance > 31) {
      throw new RangeError(
        `Cannot reserve extranonces: instance must be an integer in 0..31, got ${options.instance}`,
      );
    }
    if (typeof rangeSize !== "bigint" || rangeSize < 1n || rangeSize > 1n << 58n) {
      throw new RangeError("Cannot reserve extranonces: rangeSize must be a bigint in 1..2^58");
    }
    if (typeof blockSize !== "bigint" || blockSize < 1n) {
      throw new RangeError("Cannot reserve extranonces: blockSize must be a bigint >= 1");
    }
    const limit = (1n << 58n) / rangeSize;
    const count = blockSize < limit ? blockSize : limit;
    const first = await store.reserveExtranonces(options.instance, { count, limit, rangeSize });
    const reservations = new ExtranonceReservations(
      store,
      { instance: options.instance, rangeSize, blockSize: count },
      first,
    );
    reservations.#fetchMore();
    return reservations;
  }

  /**
   * Options for an {@linkcode ExtranonceAllocator} that uses these reservations.
   *
   * @returns Instance id, range size, first counter and the `reserve` hook.
   */
  allocatorOptions(): ExtranonceAllocatorOptions {
    return {
      instanceId: this.#instance,
      rangeSize: this.#rangeSize,
      firstCounter: this.firstCounter,
      reserve: (from) => this.reserve(from),
    };
  }

  /**
   * The allocator's hook: the end of the reserved run holding `from`.
   *
   * @param from The counter about to be handed out.
   * @returns The reserved end (exclusive), greater than `from`.
   * @throws {RangeError} When `from` is not reserved yet (the database is slow or failing, or
   *   another process reserves counters of the same instance).
   */
  reserve(from: bigint): bigint {
    while (this.#ranges.length > 0 && this.#ranges[0]!.end <= from) this.#ranges.shift();
    const run = this.#ranges[0];
    if (run === undefined || run.start > from) {
      this.#fetchMore();
      if (run !== undefined) {
        episodes.error(
          "foreign",
          "extranonce counters {from}..{start} of instance {instance} were reserved by another process: do two servers share one instance id?",
          { from: String(from), start: String(run.start), instance: this.#instance },
        );
      }
      throw new RangeError(`Cannot allocate extranonce: counter ${from} is not reserved`);
    }
    this.#fetchMore();
    return run.end;
  }

  /** Reserve another block unless one is spare (beyond the run in use) or the space is used up. */
  #fetchMore(): void {
    if (this.#prefetch !== undefined || this.#closed || this.#ranges.length >= 2) return;
    const last = this.#ranges.at(-1);
    if (last !== undefined && last.end >= this.#limit) return;
    this.#prefetch = this.#store.reserveExtranonces(this.#instance, {
      count: this.#block,
      limit: this.#limit,
      rangeSize: this.#rangeSize,
    }).then((range) => {
      this.#ranges.push(range);
    }, (err) => {
      episodes.warn("reserve", "cannot reserve extranonces ahead: {error}", {
        error: err instanceof Error ? err.message : String(err),
      });
    }).finally(() => {
      this.#prefetch = undefined;
    });
  }

  /** Wait for a reservation in flight and stop reserving. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#prefetch;
  }
}
