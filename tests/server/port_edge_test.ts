/**
 * The edge words of Stratum and UCP `listen` entries (`tls cert= key=`, `proxy_protocol`), and a
 * UCP port served over TLS to a real TLS client.
 */
import assert from "node:assert/strict";
import { DEFAULT_UCP_DIFFICULTY, parseUcpPortSpec } from "../../server/ucp_port.ts";
import { makeCertificate } from "../net/_tls_fixture.ts";
import { startPool } from "./_pool.ts";

Deno.test("parseUcpPortSpec() takes tls cert= key= and proxy_protocol", () => {
  assert.deepEqual(
    parseUcpPortSpec("0.0.0.0:8501 diff=16 tls cert=a.crt key=a.key proxy_protocol", 1n),
    {
      hostname: "0.0.0.0",
      port: 8501,
      difficulty: 16n,
      tls: { certFile: "a.crt", keyFile: "a.key" },
      proxyProtocol: true,
    },
  );
  assert.deepEqual(parseUcpPortSpec("127.0.0.1:8501", DEFAULT_UCP_DIFFICULTY), {
    hostname: "127.0.0.1",
    port: 8501,
    difficulty: DEFAULT_UCP_DIFFICULTY,
  });
  for (const bad of ["h:1 tls", "h:1 cert=a key=b", "h:1 tls key=b"]) {
    assert.throws(() => parseUcpPortSpec(bad, 1n), /tls|cert=/, bad);
  }
});

Deno.test("UCP port over TLS: a TLS client gets the port's first message; reload keeps it", async () => {
  const dir = await Deno.makeTempDir();
  const one = await makeCertificate(dir, "one");
  const { pool } = startPool({
    ucp: {
      ports: [{
        hostname: "127.0.0.1",
        port: 0,
        difficulty: 16n,
        tls: { certFile: one.certFile, keyFile: one.keyFile },
      }],
    },
  });
  try {
    const ucp = pool.ucpServers[0]!;
    assert.equal(ucp.certificate?.sha256, one.sha256);
    const client = await Deno.connectTls({
      hostname: "localhost",
      port: ucp.addr.port,
      caCerts: [one.cert],
    });
    await client.write(new TextEncoder().encode('{"command":"nonsense"}\n'));
    const buf = new Uint8Array(4096);
    const n = await client.read(buf);
    assert.ok(n !== null && n > 0, "an answer over TLS");
    assert.equal((await ucp.reloadTls()).changed, false);
    client.close();
  } finally {
    await pool.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
