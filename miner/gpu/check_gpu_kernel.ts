/**
 * The GPU kernel's start-up self-test against the TypeScript reference, through the scan
 * path the miner uses (the debug entry point is not involved).
 *
 * @module
 */

import {
  createReferenceKernel,
  hashToBigInt,
  hexToBytes,
  MAX_TARGET,
  vblake,
} from "../../hash/mod.ts";
import type { GpuKernel } from "./gpu_kernel.ts";

/** Fixed headers: spec §5.2 #5 (mainnet 5000), all zero bytes, all 0xFF bytes. */
const HEADERS: readonly string[] = [
  "00001388000294E7DC3E3BE21A96ECCF0FBDF5F62A3331DC995C36B0935637860679DDD5DB0F135312B2C27867C9A83EF1B99B985C9B949307023AD672BAFD77",
  "00".repeat(64),
  "FF".repeat(64),
];

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Check a GPU kernel against the TypeScript reference: on each fixed header, a one-nonce
 * scan at target = hash + 1 must find the header's nonce and one at target = hash must not
 * (together they pin the full 192-bit hash, through the pre-check and the full compare); and
 * 4096-nonce scans at difficulty 64 must find exactly the reference's nonces.
 *
 * @example Usage
 * ```ts ignore
 * import { checkGpuKernel, createGpuKernel } from "./mod.ts";
 *
 * const kernel = await createGpuKernel();
 * await checkGpuKernel(kernel); // throws on any mismatch
 * ```
 *
 * @param kernel The kernel to test.
 * @throws {Error} Describing the first mismatch (or the device failure).
 */
export async function checkGpuKernel(kernel: GpuKernel): Promise<void> {
  const reference = createReferenceKernel();
  for (const hex of HEADERS) {
    const header = hexToBytes(hex);
    const nonce = new DataView(header.buffer).getUint32(60);
    const hash = hashToBigInt(vblake(header));
    const at = { startNonce: nonce, count: 1 };
    const hit = await kernel.scan(header, { ...at, target: hash + 1n });
    const miss = await kernel.scan(header, { ...at, target: hash });
    if (!same(hit.nonces, [nonce]) || miss.nonces.length !== 0) {
      throw new Error(
        `Cannot trust kernel ${kernel.name}: its hash of header ${hex.slice(0, 16)}… differs ` +
          "from the reference",
      );
    }
  }
  for (const [hex, startNonce] of [[HEADERS[0]!, 0xFFFFF000], [HEADERS[2]!, 12345]] as const) {
    const header = hexToBytes(hex);
    const options = { startNonce, count: 4096, target: MAX_TARGET / 64n };
    const want = reference.scan(header, options).nonces;
    const got = (await kernel.scan(header, options)).nonces;
    if (!same(got, want)) {
      throw new Error(
        `Cannot trust kernel ${kernel.name}: scan found [${got}], expected [${want}]`,
      );
    }
  }
}
