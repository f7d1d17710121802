/**
 * Extranonce allocation. Each Stratum connection owns the range `[base, base + R)` of 8-byte
 * extranonce values, with `base = (instanceId << 58) + counter × R` (the original server's
 * layout: instance id 31 and R = 1,000,000 give the first subscriber `7c000000000f4240`). The
 * instance id (0..31, bits 58–62) keeps pool instances apart; bit 63 stays 0, so every value is
 * a positive signed int64 as NodeCore expects. Counters are never reused within a process; the
 * `reserve` hook lets a store persist a high-water mark so a restart never reuses them either.
 *
 * @module
 */

/** A connection's extranonce range, `start` inclusive, `end` exclusive. */
export interface ExtranonceRange {
  /** First value (the one sent in the subscribe result). */
  start: bigint;
  /** One past the last value. */
  end: bigint;
}

/** Options for {@linkcode ExtranonceAllocator}. */
export interface ExtranonceAllocatorOptions {
  /** Pool instance id, 0..31: the top bits of every extranonce. @default 31 */
  instanceId?: number;
  /** Values per connection (R). @default 1_000_000n */
  rangeSize?: bigint;
  /** First counter to hand out (e.g. a persisted high-water mark). @default 1n */
  firstCounter?: bigint;
  /**
   * Called before a counter at or past the reserved end is handed out, with that counter;
   * returns the new reserved end (exclusive, greater than the argument). A store persists the
   * returned mark so that after a restart `firstCounter` starts there. Without it, counters are
   * unlimited (up to the instance's space).
   */
  reserve?: (from: bigint) => bigint;
}

const INSTANCE_BITS = 58n;

/**
 * Hands out non-overlapping extranonce ranges.
 *
 * @example Usage
 * ```ts
 * import { ExtranonceAllocator, ownsExtranonce } from "./extranonce.ts";
 * import assert from "node:assert/strict";
 *
 * const allocator = new ExtranonceAllocator({ instanceId: 31 });
 * const first = allocator.allocate();
 * assert.equal(first.start.toString(16), "7c000000000f4240");
 * assert.equal(allocator.allocate().start.toString(16), "7c000000001e8480");
 * assert.ok(ownsExtranonce(first, first.start + 10n));
 * assert.ok(!ownsExtranonce(first, first.end));
 * ```
 */
export class ExtranonceAllocator {
  #prefix: bigint;
  #size: bigint;
  #next: bigint;
  #maxCounter: bigint;
  #reserved: bigint;
  #reserve: ((from: bigint) => bigint) | undefined;

  /**
   * Make an allocator.
   *
   * @param options Instance id, range size, first counter and the reservation hook.
   * @throws {TypeError} When an option has the wrong type.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(options: ExtranonceAllocatorOptions = {}) {
    const instanceId = options.instanceId ?? 31;
    if (!Number.isInteger(instanceId) || instanceId < 0 || instanceId > 31) {
      throw new RangeError(
        `Cannot create extranonce allocator: instanceId must be an integer in 0..31, got ${instanceId}`,
      );
    }
    const size = options.rangeSize ?? 1_000_000n;
    const first = options.firstCounter ?? 1n;
    if (typeof size !== "bigint" || typeof first !== "bigint") {
      throw new TypeError(
        "Cannot create extranonce allocator: rangeSize and firstCounter must be bigints",
      );
    }
    const space = 1n << INSTANCE_BITS;
    if (size < 1n || size > space) {
      throw new RangeError(
        `Cannot create extranonce allocator: rangeSize must be in 1..2^58, got ${size}`,
      );
    }
    this.#maxCounter = space / size - 1n;
    if (first < 0n || first > this.#maxCounter) {
      throw new RangeError(
        `Cannot create extranonce allocator: firstCounter must be in 0..${this.#maxCounter}, got ${first}`,
      );
    }
    this.#prefix = BigInt(instanceId) << INSTANCE_BITS;
    this.#size = size;
    this.#next = first;
    this.#reserve = options.reserve;
    this.#reserved = options.reserve === undefined ? this.#maxCounter + 1n : first;
  }

  /** The counter the next allocation will use. */
  get nextCounter(): bigint {
    return this.#next;
  }

  /** Values per connection. */
  get rangeSize(): bigint {
    return this.#size;
  }

  /**
   * Allocate the next range.
   *
   * @returns A range no other call of this allocator returns.
   * @throws {RangeError} When the instance's space is exhausted or the reservation hook fails
   *   to advance.
   */
  allocate(): ExtranonceRange {
    const counter = this.#next;
    if (counter > this.#maxCounter) {
      throw new RangeError("Cannot allocate extranonce: the instance's range is exhausted");
    }
    if (counter >= this.#reserved) {
      const end = this.#reserve!(counter);
      if (typeof end !== "bigint" || end <= counter) {
        throw new RangeError("Cannot allocate extranonce: the reservation did not advance");
      }
      this.#reserved = end;
    }
    this.#next = counter + 1n;
    const start = this.#prefix + counter * this.#size;
    return { start, end: start + this.#size };
  }
}

/**
 * Whether a submitted extranonce lies in a connection's range.
 *
 * @example Usage
 * ```ts
 * import { ownsExtranonce } from "./extranonce.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(ownsExtranonce({ start: 10n, end: 20n }, 19n));
 * assert.ok(!ownsExtranonce({ start: 10n, end: 20n }, 20n));
 * ```
 *
 * @param range The connection's range.
 * @param value The submitted extranonce.
 * @returns Whether `range.start <= value < range.end`.
 */
export function ownsExtranonce(range: ExtranonceRange, value: bigint): boolean {
  return value >= range.start && value < range.end;
}
