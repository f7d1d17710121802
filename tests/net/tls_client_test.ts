/**
 * The miner's TLS client against a real TLS line server: trusted by a CA file, by a pinned
 * fingerprint (a self-signed certificate with no CA given), and refused with a wrong pin, an
 * untrusted certificate, or a server that does not speak TLS.
 */
import assert from "node:assert/strict";
import { connectLines, LineServer } from "../../net/mod.ts";
import type { LineConnection } from "../../net/mod.ts";
import { makeCertificate } from "./_tls_fixture.ts";

async function roundTrip(port: number, tls: Parameters<typeof connectLines>[0]["tls"]) {
  const conn = await connectLines({ hostname: "127.0.0.1", port, tls, connectTimeoutMs: 5000 });
  const line = await new Promise<string>((resolve) => {
    conn.start({ onLine: resolve });
    conn.send("ping");
  });
  conn.close("done");
  await conn.done;
  return line;
}

Deno.test("connectLines() over TLS: CA file, pinned fingerprint, wrong pin, untrusted, plain", async () => {
  const dir = await Deno.makeTempDir();
  const cert = await makeCertificate(dir, "pool");
  const other = await makeCertificate(dir, "other");
  const server = LineServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    descriptors: null,
    tls: { certFile: cert.certFile, keyFile: cert.keyFile },
    onConnection: (conn: LineConnection) => ({ onLine: (l) => conn.send(`pong ${l}`) }),
  });
  const plain = LineServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    descriptors: null,
    onConnection: (conn: LineConnection) => ({ onLine: (l) => conn.send(`pong ${l}`) }),
  });
  try {
    const port = server.addr.port;
    assert.equal(await roundTrip(port, { caCerts: [cert.cert] }), "pong ping");
    assert.equal(await roundTrip(port, { sha256: cert.sha256 }), "pong ping");
    assert.equal(await roundTrip(port, { sha256: cert.sha256.toUpperCase() }), "pong ping");
    await assert.rejects(
      () => roundTrip(port, { sha256: other.sha256 }),
      new RegExp(
        `fingerprint mismatch: the pool presented sha256 ${cert.sha256}, pinned ${other.sha256}`,
      ),
    );
    await assert.rejects(() => roundTrip(port, {}), /self-signed|certificate/i);
    await assert.rejects(() => roundTrip(port, { caCerts: [other.cert] }), /certificate/i);
    await assert.rejects(() => roundTrip(plain.addr.port, { sha256: cert.sha256 }));
    await assert.rejects(() => roundTrip(port, { sha256: "abc" }), /64 hex digits/);
  } finally {
    await server.close();
    await plain.close();
    await Deno.remove(dir, { recursive: true });
  }
});
