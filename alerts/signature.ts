/**
 * The signature of a generic JSON webhook: `X-Vbkpool-Signature: v1=HEX`, where HEX is the
 * HMAC-SHA256, keyed by `[alerts] secret`, of `TIMESTAMP.BODY` (the decimal Unix time in the
 * `X-Vbkpool-Timestamp` header, a dot, and the raw request body). A receiver recomputes it over
 * the raw body, compares in constant time, and refuses a timestamp older than a few minutes, so
 * a captured request cannot be replayed later. Each retry is signed afresh with its own time.
 *
 * @module
 */

const encoder = new TextEncoder();

/** The headers of a signed delivery. */
export const SIGNATURE_HEADER = "x-vbkpool-signature";
/** The timestamp header (Unix seconds). */
export const TIMESTAMP_HEADER = "x-vbkpool-timestamp";

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The signature header value of a body sent at `timestamp`.
 *
 * @example Usage
 * ```ts
 * import { signWebhook, verifyWebhook } from "./signature.ts";
 * import assert from "node:assert/strict";
 *
 * const body = '{"type":"block_found"}';
 * const signature = await signWebhook("s3cret", { timestamp: 1700000000, body });
 * assert.match(signature, /^v1=[0-9a-f]{64}$/);
 * assert.equal(
 *   await verifyWebhook("s3cret", { timestamp: "1700000000", signature, body, now: 1700000010 }),
 *   true,
 * );
 * ```
 *
 * @param secret The shared secret (`[alerts] secret`).
 * @param message The Unix time in seconds and the exact body.
 * @returns `v1=` and 64 lower-case hex digits.
 */
export async function signWebhook(
  secret: string,
  message: { timestamp: number; body: string },
): Promise<string> {
  return `v1=${await hmacHex(secret, `${message.timestamp}.${message.body}`)}`;
}

/** What a receiver checks. */
export interface SignedDelivery {
  /** The `X-Vbkpool-Timestamp` header as received. */
  timestamp: string | null;
  /** The `X-Vbkpool-Signature` header as received. */
  signature: string | null;
  /** The raw body. */
  body: string;
  /** Now, Unix seconds. @default the clock */
  now?: number;
  /** Largest accepted age (and clock skew), seconds. @default 300 */
  toleranceSeconds?: number;
}

/**
 * Whether a delivery is genuine and fresh (what a receiver does; the tests do it too).
 *
 * @param secret The shared secret.
 * @param delivery Headers, body, clock.
 * @returns True when the signature matches and the timestamp is within the tolerance.
 */
export async function verifyWebhook(secret: string, delivery: SignedDelivery): Promise<boolean> {
  const { timestamp, signature, body } = delivery;
  if (timestamp === null || signature === null || !/^\d{1,12}$/.test(timestamp)) return false;
  const now = delivery.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (delivery.toleranceSeconds ?? 300)) return false;
  const expected = `v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
  if (expected.length !== signature.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  }
  return diff === 0;
}
