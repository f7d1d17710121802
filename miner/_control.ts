/**
 * The shared control block between the miner and its workers: one generation counter (the
 * work every worker should be on) and one hash counter per thread, in a SharedArrayBuffer so
 * that a new job stops stale work within one scan slice without waiting for a message, and
 * hash counts are read without any messages at all.
 *
 * @module
 */

/** Views over a control buffer. */
export interface Control {
  /** The buffer (posted to every worker). */
  buffer: SharedArrayBuffer;
  /** `[0]`: the current work generation (Atomics). */
  generation: Int32Array;
  /** Hashes tried per thread, cumulative (Atomics). */
  hashes: BigInt64Array;
}

/**
 * Allocate a control block for `threads` threads.
 *
 * @param threads Thread count.
 * @returns The views.
 */
export function createControl(threads: number): Control {
  return openControl(new SharedArrayBuffer(8 + 8 * threads));
}

/**
 * Open views over an existing control buffer.
 *
 * @param buffer A buffer from {@linkcode createControl}.
 * @returns The views.
 */
export function openControl(buffer: SharedArrayBuffer): Control {
  return {
    buffer,
    generation: new Int32Array(buffer, 0, 1),
    hashes: new BigInt64Array(buffer, 8, (buffer.byteLength - 8) / 8),
  };
}
