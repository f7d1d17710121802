/**
 * Encoding outgoing lines without a new buffer per line. In V8 every `new Uint8Array` (and so
 * every `TextEncoder.encode`) allocates an ArrayBuffer, which costs ~0.7 µs however small it is,
 * while a view on an existing buffer costs ~0.04 µs; a pool sends one or two lines per share.
 * So short lines are encoded (`encodeInto`) one after another into a shared 64 KiB slab and
 * handed out as views. A slab region is never written again once handed out (a full slab is
 * replaced, not reused), so a view stays valid for as long as it is queued; the slab is freed
 * when the last view on it is gone.
 *
 * @module
 */

const ENCODER = new TextEncoder();
const SLAB_BYTES = 64 * 1024;
/** Lines whose UTF-8 may be longer than this get their own buffer. */
const MAX_SHARED_LINE = 2048;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/**
 * A line as UTF-8 with its "\n".
 *
 * @param line Text without the newline.
 * @returns Bytes that are never changed afterwards (for short lines, a view on a shared slab).
 */
export function lineBytes(line: string): Uint8Array {
  // A UTF-16 code unit takes at most 3 bytes of UTF-8.
  const worst = 3 * line.length + 1;
  if (worst > MAX_SHARED_LINE) return ENCODER.encode(line + "\n");
  if (used + worst > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const start = used;
  const { written } = ENCODER.encodeInto(line, slab.subarray(start));
  slab[start + written] = 0x0a;
  used = start + written + 1;
  return slab.subarray(start, used);
}
