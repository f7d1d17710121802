/**
 * TLS ports of the line server with real TLS clients: lines both ways, garbage and silent
 * handshakes closed within the deadline (their descriptor and per-IP slot given back), and a
 * certificate reload that keeps the connected client while new clients get the new
 * certificate; a bad new pair is refused and the old one kept.
 */
import assert from "node:assert/strict";
import { countOpenDescriptors, DescriptorBudget, LineServer } from "../../net/mod.ts";
import type { LineConnection } from "../../net/mod.ts";
import { waitUntil } from "../_process.ts";
import { makeCertificate, type TestCertificate } from "./_tls_fixture.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** An echo server on a TLS port; `refused` collects the refusal reasons. */
function echoServer(
  cert: TestCertificate,
  extra: Partial<Parameters<typeof LineServer.listen>[0]> = {},
) {
  const refused: string[] = [];
  const peers: string[] = [];
  const server = LineServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    tls: { certFile: cert.certFile, keyFile: cert.keyFile },
    descriptors: null,
    onConnection: (conn: LineConnection) => {
      peers.push(conn.remoteIp);
      return { onLine: (line) => conn.send(`echo ${line}`) };
    },
    onRefused: (_ip, reason) => refused.push(reason),
    ...extra,
  });
  return { server, refused, peers };
}

async function readLine(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buf = new Uint8Array(256);
  while (!text.includes("\n")) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed after ${JSON.stringify(text)}`);
    text += dec.decode(buf.subarray(0, n));
  }
  return text.slice(0, text.indexOf("\n"));
}

async function closedByPeer(conn: Deno.Conn): Promise<boolean> {
  const buf = new Uint8Array(64);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) return true;
    }
  } catch {
    return true; // reset
  }
}

Deno.test("LineServer over TLS: a real TLS client exchanges lines", async () => {
  const dir = await Deno.makeTempDir();
  const cert = await makeCertificate(dir, "one");
  const { server, peers } = echoServer(cert);
  try {
    assert.equal(server.certificate?.sha256, cert.sha256);
    const client = await Deno.connectTls({
      hostname: "localhost",
      port: server.addr.port,
      caCerts: [cert.cert],
    });
    await client.write(enc.encode("hello\n"));
    assert.equal(await readLine(client), "echo hello");
    assert.deepEqual(peers, ["127.0.0.1"]);
    client.close();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LineServer over TLS: garbage and silent handshakes are closed, slots given back", async () => {
  const dir = await Deno.makeTempDir();
  const cert = await makeCertificate(dir, "one");
  const budget = new DescriptorBudget({ limit: 1000, reserve: 0 });
  const { server, refused } = echoServer(cert, {
    handshakeTimeoutMs: 300,
    descriptors: budget,
    maxConnectionsPerIp: 1,
    exemptLoopback: false,
  });
  try {
    // Plain text on a TLS port: the handshake fails at once.
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await plain.write(enc.encode('{"id":1,"method":"mining.subscribe","params":[]}\n'));
    assert.equal(await closedByPeer(plain), true);
    plain.close();
    await waitUntil(() => refused.some((r) => r.startsWith("TLS handshake failed")), "refusal");
    await waitUntil(() => budget.sockets === 0, "the descriptor back");
    // A peer that never starts its handshake holds its per-IP slot until the deadline.
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await waitUntil(() => budget.sockets === 1, "the silent socket accepted");
    const second = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    assert.equal(await closedByPeer(second), true);
    second.close();
    assert.ok(refused.includes("too many connections from this IP"), refused.join());
    assert.equal(await closedByPeer(silent), true);
    silent.close();
    await waitUntil(
      () => refused.some((r) => /not complete within 300 ms/.test(r)),
      () => `the deadline refusal (${refused.join("; ")})`,
    );
    await waitUntil(() => budget.sockets === 0, "every descriptor back");
    // The port still serves.
    const client = await Deno.connectTls({
      hostname: "localhost",
      port: server.addr.port,
      caCerts: [cert.cert],
    });
    await client.write(enc.encode("still\n"));
    assert.equal(await readLine(client), "echo still");
    client.close();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LineServer over TLS: silent peers past the deadline leave no descriptor open", async () => {
  const dir = await Deno.makeTempDir();
  const cert = await makeCertificate(dir, "one");
  const { server, refused } = echoServer(cert, { handshakeTimeoutMs: 200 });
  try {
    const before = countOpenDescriptors();
    if (before === undefined) return; // not Linux: nothing to count
    const silent = await Promise.all(
      Array.from(
        { length: 20 },
        () => Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
      ),
    );
    await waitUntil(() => refused.length === 20, () => `20 refusals (${refused.length})`);
    for (const conn of silent) assert.equal(await closedByPeer(conn), true);
    for (const conn of silent) conn.close();
    // Both ends were in this process: every one of the 40 descriptors is closed again.
    await waitUntil(
      () => countOpenDescriptors()! <= before + 2,
      () => `descriptors back to ${before} (${countOpenDescriptors()})`,
    );
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LineServer.reloadTls(): connected client stays, new clients get the new certificate", async () => {
  const dir = await Deno.makeTempDir();
  const one = await makeCertificate(dir, "one");
  const two = await makeCertificate(dir, "two");
  const live = { certFile: `${dir}/live.crt`, keyFile: `${dir}/live.key` };
  await Deno.copyFile(one.certFile, live.certFile);
  await Deno.copyFile(one.keyFile, live.keyFile);
  const { server } = echoServer({ ...one, ...live });
  const port = server.addr.port;
  try {
    const old = await Deno.connectTls({ hostname: "localhost", port, caCerts: [one.cert] });
    await old.write(enc.encode("before\n"));
    assert.equal(await readLine(old), "echo before");
    // Unchanged files: nothing re-bound.
    assert.equal((await server.reloadTls()).changed, false);
    await Deno.copyFile(two.certFile, live.certFile);
    await Deno.copyFile(two.keyFile, live.keyFile);
    const reload = await server.reloadTls();
    assert.equal(reload.changed, true);
    assert.equal(reload.material.sha256, two.sha256);
    assert.equal(server.addr.port, port);
    // The client connected before the reload is still served.
    await old.write(enc.encode("after\n"));
    assert.equal(await readLine(old), "echo after");
    // A new client that trusts only the new certificate connects; one that trusts only the old
    // one does not.
    const fresh = await Deno.connectTls({ hostname: "localhost", port, caCerts: [two.cert] });
    await fresh.write(enc.encode("new\n"));
    assert.equal(await readLine(fresh), "echo new");
    fresh.close();
    await assert.rejects(async () => {
      const stale = await Deno.connectTls({ hostname: "localhost", port, caCerts: [one.cert] });
      try {
        await stale.handshake();
      } finally {
        stale.close();
      }
    });
    // A bad new pair (the old key with the new certificate) is refused, the served one kept.
    await Deno.copyFile(one.keyFile, live.keyFile);
    await assert.rejects(() => server.reloadTls(), /is not the key of/);
    await Deno.writeTextFile(live.certFile, "not a certificate");
    await assert.rejects(() => server.reloadTls(), /Cannot use certificate/);
    assert.equal(server.certificate?.sha256, two.sha256);
    const still = await Deno.connectTls({ hostname: "localhost", port, caCerts: [two.cert] });
    await still.write(enc.encode("kept\n"));
    assert.equal(await readLine(still), "echo kept");
    still.close();
    old.close();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LineServer.listen() with a missing or mismatched certificate says which file", async () => {
  const dir = await Deno.makeTempDir();
  const one = await makeCertificate(dir, "one");
  const two = await makeCertificate(dir, "two");
  try {
    assert.throws(
      () => echoServer({ ...one, certFile: `${dir}/missing.crt` }),
      /Cannot read certificate .*missing\.crt/,
    );
    assert.throws(
      () => echoServer({ ...one, keyFile: two.keyFile }),
      /two\.key: it is not the key/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
