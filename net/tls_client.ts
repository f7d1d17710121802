/**
 * Outgoing TLS connections (the miner's `stratum+ssl://` pools), verified one of two ways:
 * against the system's roots plus any certificates given (`caCerts`, e.g. a pool's
 * self-signed certificate), or by pinning the SHA-256 fingerprint of the pool's certificate
 * (then the fingerprint is the whole trust: the chain and the host name are not checked).
 * Built on `node:tls` because `Deno.connectTls` shows neither the peer's certificate nor a way
 * to skip the chain check for a pinned one; the socket is adapted to the part of `Deno.Conn`
 * that {@linkcode LineConnection} uses.
 *
 * @module
 */
import tls from "node:tls";
import { NodeTlsConn } from "./_node_tls_conn.ts";

/** How to verify the server. */
export interface TlsClientOptions {
  /** Extra trusted certificates (PEM), beside the system's roots. @default [] */
  caCerts?: string[];
  /** Pinned SHA-256 fingerprint of the server certificate (64 hex digits, any case). */
  sha256?: string;
}

/** Options for {@linkcode connectTlsConn}. */
export interface ConnectTlsConnOptions extends TlsClientOptions {
  /** Host name or address. */
  hostname: string;
  /** Port. */
  port: number;
}

/**
 * The SHA-256 fingerprint in the form compared: lower-case hex, no separators.
 *
 * @example Usage
 * ```ts
 * import { normalizeFingerprint } from "./tls_client.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(normalizeFingerprint("AB:cd:" + "00:".repeat(29) + "EF"), "abcd" + "00".repeat(29) + "ef");
 * assert.equal(normalizeFingerprint("abc"), undefined);
 * ```
 *
 * @param text Hex, with or without `:` separators.
 * @returns 64 lower-case hex digits, or `undefined` when the text is not a SHA-256 fingerprint.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replaceAll(":", "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/**
 * Connect and complete the TLS handshake.
 *
 * @param options Address and verification.
 * @returns The connection (read, write, close, addresses).
 * @throws {Error} When the connection or handshake fails, the certificate is not trusted, or
 * its fingerprint is not the pinned one.
 */
export function connectTlsConn(options: ConnectTlsConnOptions): Promise<Deno.Conn> {
  const pin = options.sha256 === undefined ? undefined : normalizeFingerprint(options.sha256);
  if (options.sha256 !== undefined && pin === undefined) {
    return Promise.reject(new Error("Cannot pin certificate: sha256 is not 64 hex digits"));
  }
  const isIp = /^[\d.]+$/.test(options.hostname) || options.hostname.includes(":");
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: options.hostname,
      port: options.port,
      ...(isIp ? {} : { servername: options.hostname }),
      ...(options.caCerts?.length ? { ca: options.caCerts } : {}),
      // A pinned fingerprint replaces the chain and name checks.
      rejectUnauthorized: pin === undefined,
    });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      socket.off("error", fail);
      if (pin !== undefined) {
        const seen = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? "");
        if (seen !== pin) {
          socket.destroy();
          reject(
            new Error(
              `TLS certificate fingerprint mismatch: the pool presented sha256 ${
                seen ?? "(none)"
              }, pinned ${pin}`,
            ),
          );
          return;
        }
      }
      // Node's TLSSocket, adapted to the part of Deno.Conn a LineConnection uses.
      const remote = {
        transport: "tcp" as const,
        hostname: socket.remoteAddress ?? options.hostname,
        port: socket.remotePort ?? options.port,
      };
      const local = {
        transport: "tcp" as const,
        hostname: socket.localAddress ?? "",
        port: socket.localPort ?? 0,
      };
      resolve(new NodeTlsConn(socket, remote, local) as unknown as Deno.Conn);
    });
  });
}
