/**
 * The pool addresses `vbkpool mine` accepts, and nothing else:
 *
 * - `stratum+tcp://HOST:PORT` or `HOST:PORT`: plain TCP;
 * - `stratum+ssl://HOST:PORT` (or `stratum+tls://`): TLS, the certificate checked against the
 *   system's roots; after a `#`, `sha256=HEX` pins the certificate's SHA-256 fingerprint
 *   instead (`openssl x509 -noout -fingerprint -sha256`; colons optional), and `ca=FILE` adds a
 *   trusted certificate (a pool's self-signed one); both may be given, joined by `&`.
 *
 * Other schemes (`http://`, `stratum2+tcp://`, …) are refused: they used to connect in plain
 * text as if they were `stratum+tcp://`.
 *
 * @module
 */
import { normalizeFingerprint } from "../net/tls_client.ts";

/** A parsed pool address. */
export interface PoolUrl {
  /** Speak TLS. */
  tls: boolean;
  /** Host name or address (IPv6 without brackets). */
  hostname: string;
  /** Port. */
  port: number;
  /** Pinned certificate fingerprint (64 lower-case hex digits). */
  sha256?: string;
  /** A PEM file of extra trusted certificates. */
  caFile?: string;
}

const SCHEMES: Record<string, boolean> = {
  "stratum+tcp": false,
  "stratum+ssl": true,
  "stratum+tls": true,
};

/**
 * Parse a pool address.
 *
 * @example Usage
 * ```ts
 * import { parsePoolUrl } from "./pool_url.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parsePoolUrl("stratum+tcp://127.0.0.1:3333"), {
 *   tls: false, hostname: "127.0.0.1", port: 3333,
 * });
 * const pinned = parsePoolUrl("stratum+ssl://pool.example:3334#sha256=" + "ab".repeat(32));
 * assert.equal(pinned.tls, true);
 * assert.equal(pinned.sha256, "ab".repeat(32));
 * assert.throws(() => parsePoolUrl("http://pool.example:3333"), /http:\/\/ is not spoken/);
 * ```
 *
 * @param text The address as configured.
 * @returns The parsed address.
 * @throws {SyntaxError} For an unknown scheme, a malformed address or fragment.
 */
export function parsePoolUrl(text: string): PoolUrl {
  const trimmed = text.trim();
  const hash = trimmed.indexOf("#");
  const main = hash < 0 ? trimmed : trimmed.slice(0, hash);
  const fragment = hash < 0 ? undefined : trimmed.slice(hash + 1);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(main);
  let tls = false;
  if (scheme !== null) {
    const name = scheme[1]!.toLowerCase();
    if (!(name in SCHEMES)) {
      fail(
        text,
        `${name}:// is not spoken here; use stratum+tcp://HOST:PORT or stratum+ssl://HOST:PORT (TLS)`,
      );
    }
    tls = SCHEMES[name]!;
  }
  const rest = (scheme === null ? main : main.slice(scheme[0].length)).replace(/\/$/, "");
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(rest) ?? /^([^:\s/[\]]+):(\d{1,5})$/.exec(rest);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) fail(text, "expected HOST:PORT");
  const out: PoolUrl = { tls, hostname: m[1]!, port };
  if (fragment !== undefined) {
    if (!tls) fail(text, "sha256= and ca= apply to stratum+ssl:// only");
    for (const part of fragment.split("&")) {
      const eq = part.indexOf("=");
      const key = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? "" : part.slice(eq + 1);
      if (key === "sha256") {
        const pin = normalizeFingerprint(value);
        if (pin === undefined) {
          fail(text, "sha256= needs the 64 hex digits of a SHA-256 fingerprint");
        }
        out.sha256 = pin;
      } else if (key === "ca" && value !== "") out.caFile = value;
      else fail(text, `unknown option ${JSON.stringify(part)} after # (sha256=HEX, ca=FILE)`);
    }
  }
  return out;
}

function fail(text: string, why: string): never {
  throw new SyntaxError(`Cannot use pool ${JSON.stringify(text)}: ${why}`);
}
