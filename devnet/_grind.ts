/**
 * Proof-of-work search in small slices, so the event loop keeps serving connections while the
 * devnet grinds a genesis or a rival block.
 *
 * @module
 */

import type { VblakeKernel } from "../hash/kernel.ts";

/** Options for {@linkcode grindHeader}. */
export interface GrindOptions {
  /** The hasher. */
  kernel: VblakeKernel;
  /** The network target the hash must be below. */
  target: bigint;
  /** Nonces per slice between event-loop turns. @default 200000 */
  sliceNonces?: number;
  /** Checked between slices; returning true abandons the search. */
  shouldStop?: () => boolean;
}

/**
 * Find a nonce (rolling the timestamp when the 2^32 nonces run out) so the header meets the
 * target. The header is modified in place.
 *
 * @param header A 64-byte header; its nonce and possibly timestamp are overwritten.
 * @param options Kernel, target, slice size, stop check.
 * @returns The header, or `undefined` when stopped.
 */
export async function grindHeader(
  header: Uint8Array,
  options: GrindOptions,
): Promise<Uint8Array | undefined> {
  const slice = options.sliceNonces ?? 200_000;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  let start = Math.floor(Math.random() * 2 ** 31);
  for (;;) {
    if (options.shouldStop?.()) return undefined;
    const count = Math.min(slice, 2 ** 32 - start);
    const found = options.kernel.scan(header, {
      startNonce: start,
      count,
      target: options.target,
      maxResults: 1,
    });
    const nonce = found.nonces[0];
    if (nonce !== undefined) {
      view.setUint32(60, nonce);
      return header;
    }
    start += count;
    if (start >= 2 ** 32) {
      view.setUint32(52, view.getUint32(52) + 1);
      start = 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}
