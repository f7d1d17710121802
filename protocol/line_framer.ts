/**
 * Bounded newline framing for byte streams: bytes in, complete text lines out.
 *
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;
const DECODER = new TextDecoder();
const ENCODER = new TextEncoder();

/** Options for {@linkcode LineFramer}. */
export interface LineFramerOptions {
  /**
   * Longest accepted line in bytes, not counting the terminating "\n" and an optional "\r"
   * before it. Original Stratum server: 16384.
   */
  maxLineBytes: number;
}

/**
 * Thrown by {@linkcode LineFramer.push} when a line, or the unterminated rest of the stream, is
 * longer than `maxLineBytes`. The caller should close the connection.
 *
 * @example Usage
 * ```ts
 * import { LineFramer, LineTooLongError } from "./line_framer.ts";
 * import assert from "node:assert/strict";
 *
 * const framer = new LineFramer({ maxLineBytes: 4 });
 * assert.throws(() => framer.push(new TextEncoder().encode("ok\n12345")), LineTooLongError);
 * ```
 */
export class LineTooLongError extends RangeError {
  /** Complete lines that came before the offending one in the same chunk, in order. */
  readonly lines: string[];

  /**
   * Make the error.
   *
   * @param maxLineBytes The limit that was exceeded.
   * @param lines Complete lines decoded before the long one.
   */
  constructor(maxLineBytes: number, lines: string[] = []) {
    super(`Cannot frame line: longer than ${maxLineBytes} bytes`);
    this.name = "LineTooLongError";
    this.lines = lines;
  }
}

/**
 * Splits a byte stream into UTF-8 lines terminated by "\n".
 *
 * A trailing "\r" is stripped and empty lines are skipped. Partial data is kept across calls,
 * so lines (and multi-byte characters) may be split anywhere. Each byte is scanned for "\n"
 * once, and a split line is joined once, when its end arrives. Invalid UTF-8 decodes to U+FFFD.
 * After a {@linkcode LineTooLongError} the buffered data is dropped.
 *
 * @example Usage
 * ```ts
 * import { LineFramer } from "./line_framer.ts";
 * import assert from "node:assert/strict";
 *
 * const framer = new LineFramer({ maxLineBytes: 16384 });
 * const bytes = new TextEncoder().encode('{"id":1}\r\n\n{"id"');
 * assert.deepEqual(framer.push(bytes), ['{"id":1}']);
 * assert.deepEqual(framer.push(new TextEncoder().encode(":2}\n")), ['{"id":2}']);
 * ```
 */
export class LineFramer {
  #max: number;
  #parts: Uint8Array[] = [];
  #buffered = 0;

  /**
   * Make a framer.
   *
   * @param options The line length limit.
   * @throws {RangeError} When `maxLineBytes` is not a positive integer.
   */
  constructor(options: LineFramerOptions) {
    const max = options?.maxLineBytes;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`Cannot create line framer: maxLineBytes must be a positive integer`);
    }
    this.#max = max;
  }

  /** Number of bytes held from an unterminated line. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Add bytes and return the lines they complete.
   *
   * @param chunk Bytes read from the stream.
   * @returns Complete lines in order, without terminators; empty lines are skipped.
   * @throws {LineTooLongError} When a line or the unterminated rest exceeds the limit.
   */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    const max = this.#max;
    let start = 0;
    let nl = chunk.indexOf(LF);
    while (nl !== -1) {
      let line: Uint8Array;
      if (this.#buffered === 0) {
        line = chunk.subarray(start, nl);
      } else {
        line = this.#join(chunk.subarray(start, nl));
      }
      let end = line.length;
      if (end > 0 && line[end - 1] === CR) end--;
      if (end > max) {
        this.#reset();
        throw new LineTooLongError(max, lines);
      }
      if (end > 0) lines.push(DECODER.decode(line.subarray(0, end)));
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      const total = this.#buffered + rest;
      // One extra byte is allowed: it may be the "\r" of a line of exactly `max` bytes.
      if (total > max + 1 || (total === max + 1 && chunk[chunk.length - 1] !== CR)) {
        this.#reset();
        throw new LineTooLongError(max, lines);
      }
      // Copy: the caller may reuse its read buffer.
      this.#parts.push(chunk.slice(start));
      this.#buffered = total;
    }
    return lines;
  }

  #join(tail: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#buffered + tail.length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    out.set(tail, offset);
    this.#reset();
    return out;
  }

  #reset(): void {
    this.#parts = [];
    this.#buffered = 0;
  }
}

/**
 * Encode one line of text as UTF-8 with a terminating "\n".
 *
 * @example Usage
 * ```ts
 * import { encodeLine } from "./line_framer.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeLine("ok"), new Uint8Array([0x6f, 0x6b, 0x0a]));
 * ```
 *
 * @param text The line, without a terminator.
 * @returns The UTF-8 bytes of `text + "\n"`.
 */
export function encodeLine(text: string): Uint8Array {
  return ENCODER.encode(text + "\n");
}
