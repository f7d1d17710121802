/**
 * Test helper: a fresh self-signed certificate (EC P-256, CA:FALSE so that rustls accepts it as
 * a trusted end entity, names `localhost` and `127.0.0.1`) made with openssl in a directory.
 *
 * @module
 */

/** A generated certificate and its key. */
export interface TestCertificate {
  /** PEM certificate file. */
  certFile: string;
  /** PEM key file. */
  keyFile: string;
  /** PEM certificate text. */
  cert: string;
  /** SHA-256 fingerprint, lower-case hex without separators. */
  sha256: string;
}

/**
 * Make a certificate with openssl.
 *
 * @param dir Where to write `NAME.crt` and `NAME.key`.
 * @param name File stem, also the certificate's organisation (to tell certificates apart).
 * @returns The files, the PEM text and the fingerprint.
 */
export async function makeCertificate(dir: string, name: string): Promise<TestCertificate> {
  const certFile = `${dir}/${name}.crt`;
  const keyFile = `${dir}/${name}.key`;
  const run = async (args: string[]) => {
    const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return new TextDecoder().decode(out.stdout);
  };
  await run([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    `/CN=localhost/O=${name}`,
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
  ]);
  const fp = await run(["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"]);
  const sha256 = fp.trim().replace(/^.*=/, "").replaceAll(":", "").toLowerCase();
  return { certFile, keyFile, cert: await Deno.readTextFile(certFile), sha256 };
}
