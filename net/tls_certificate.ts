/**
 * A TLS port's certificate and key, read from PEM files and checked before use: both parse,
 * and the key belongs to the certificate. A pair that fails the check is refused with the
 * reason, so a reload with a bad new pair keeps the old one.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import tls from "node:tls";

/** Where a TLS port's certificate chain and private key are. */
export interface TlsFiles {
  /** PEM certificate chain (the server's certificate first). */
  certFile: string;
  /** PEM private key (RSA, EC or PKCS#8). */
  keyFile: string;
}

/** A checked certificate and key, ready for TLS sessions. */
export interface TlsMaterial {
  /** The TLS context new sessions are made with. */
  context: tls.SecureContext;
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** SHA-256 fingerprint of the server certificate, lower-case hex without separators. */
  sha256: string;
  /** When the certificate expires. */
  notAfter: Date;
  /** The certificate's subject, as text. */
  subject: string;
}

/**
 * Check a certificate and key given as PEM text.
 *
 * @param cert PEM certificate chain.
 * @param key PEM private key.
 * @param files Where they came from (named in errors).
 * @returns The material with the certificate's fingerprint and expiry.
 * @throws {Error} When either does not parse or the key is not the certificate's.
 */
export function checkTlsMaterial(cert: string, key: string, files: TlsFiles): TlsMaterial {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`Cannot use certificate ${files.certFile}: ${reason(err)}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`Cannot use private key ${files.keyFile}: ${reason(err)}`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new Error(
      `Cannot use private key ${files.keyFile}: it is not the key of ${files.certFile}`,
    );
  }
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`Cannot use ${files.certFile} and ${files.keyFile}: ${reason(err)}`);
  }
  return {
    context,
    cert,
    key,
    sha256: x509.fingerprint256.replaceAll(":", "").toLowerCase(),
    notAfter: new Date(x509.validTo),
    subject: x509.subject.replaceAll("\n", ", "),
  };
}

/**
 * Read and check a certificate and key (at start-up: synchronously).
 *
 * @example Usage
 * ```ts
 * import { readTlsFilesSync } from "./tls_certificate.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => readTlsFilesSync({ certFile: "/nonexistent.pem", keyFile: "/nonexistent.key" }),
 *   /Cannot read certificate \/nonexistent\.pem/,
 * );
 * ```
 *
 * @param files The PEM files.
 * @returns The checked material.
 * @throws {Error} When a file cannot be read or the pair does not check.
 */
export function readTlsFilesSync(files: TlsFiles): TlsMaterial {
  const cert = readSync(files.certFile, "certificate");
  const key = readSync(files.keyFile, "private key");
  return checkTlsMaterial(cert, key, files);
}

/**
 * Read and check a certificate and key (on reload).
 *
 * @param files The PEM files.
 * @returns The checked material.
 * @throws {Error} When a file cannot be read or the pair does not check.
 */
export async function readTlsFiles(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([
    read(files.certFile, "certificate"),
    read(files.keyFile, "private key"),
  ]);
  return checkTlsMaterial(cert, key, files);
}

function readSync(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    throw new Error(`Cannot read ${what} ${path}: ${reason(err)}`);
  }
}

async function read(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new Error(`Cannot read ${what} ${path}: ${reason(err)}`);
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
