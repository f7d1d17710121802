/**
 * Base64 → bytes, for the WebAssembly modules embedded as text (`_vblake_wasm*.ts`,
 * `_sha256_wasm.ts`).
 *
 * @module
 */

/**
 * Decode standard base64.
 *
 * @example Usage
 * ```ts
 * import { decodeBase64 } from "./_base64.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeBase64("AGFzbQ=="), new Uint8Array([0, 0x61, 0x73, 0x6d]));
 * ```
 *
 * @param text Base64 text.
 * @returns The bytes.
 * @throws {DOMException} When the text is not base64.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
