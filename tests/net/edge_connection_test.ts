/**
 * PROXY protocol ports from the attacker's side and the proxy's: real sockets from two
 * loopback addresses (127.0.0.2 is the trusted proxy, 127.0.0.1 is not). v1 and v2 headers
 * name the peer that caps, bans and the connection see; LOCAL/UNKNOWN keep the socket's
 * address; untrusted senders, garbage, a header that never completes and an oversize v2
 * length are closed; TLS after a PROXY header; the HTTP server's handler sees the address too.
 */
import assert from "node:assert/strict";
import { AddressList, HttpServer, LineServer } from "../../net/mod.ts";
import type { LineConnection, LineServerOptions } from "../../net/mod.ts";
import { encodeProxyV1, encodeProxyV2, type ProxyHeader } from "../../protocol/mod.ts";
import { waitUntil } from "../_process.ts";
import { RawHttpClient } from "./_http_client.ts";
import { makeCertificate } from "./_tls_fixture.ts";

const PROXY = "127.0.0.2";
const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function relayed(ip: string, version: 1 | 2, port = 40000): string {
  const header: ProxyHeader = {
    version,
    command: "proxy",
    family: ip.includes(":") ? "tcp6" : "tcp4",
    source: { ip, port },
    destination: { ip: ip.includes(":") ? "2001:db8::1" : "198.51.100.1", port: 3333 },
  };
  return latin1(version === 1 ? encodeProxyV1(header) : encodeProxyV2(header));
}

/** A line server that answers each line with the peer address it sees. */
function whoAmI(options: Partial<LineServerOptions> = {}) {
  const refused: { ip: string; reason: string }[] = [];
  const server = LineServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    descriptors: null,
    proxyProtocol: true,
    trustedProxies: AddressList.parse([PROXY]),
    handshakeTimeoutMs: 10_000,
    onConnection: (conn: LineConnection) => ({
      onLine: (line) => conn.send(`${conn.remoteIp}:${conn.remotePort} ${line}`),
    }),
    onRefused: (ip, reason) => refused.push({ ip, reason }),
    ...options,
  });
  return { server, refused };
}

async function answer(client: RawHttpClient, count = 1): Promise<string[]> {
  await waitUntil(
    () => client.text.split("\n").length > count,
    () => `${count} answers (got ${JSON.stringify(client.text)})`,
    30_000,
  );
  return client.text.split("\n").slice(0, count);
}

Deno.test("PROXY v1 and v2 from a trusted proxy: the connection sees the client's address", async () => {
  const { server } = whoAmI();
  try {
    const port = server.addr.port;
    const v1 = await RawHttpClient.connect(port, { localAddress: PROXY });
    // The header and the first line in one write: the line is not lost.
    v1.send(relayed("192.0.2.7", 1, 51000) + "hello\n");
    assert.deepEqual(await answer(v1), ["192.0.2.7:51000 hello"]);
    const v2 = await RawHttpClient.connect(port, { localAddress: PROXY });
    v2.send(relayed("2001:db8::7", 2, 51001));
    v2.send("world\n");
    assert.deepEqual(await answer(v2), ["2001:db8::7:51001 world"]);
    // LOCAL (v2) and UNKNOWN (v1): the proxy's own connection, its socket address applies.
    const local = await RawHttpClient.connect(port, { localAddress: PROXY });
    local.send(latin1(encodeProxyV2({ version: 2, command: "local" })) + "check\n");
    assert.match((await answer(local))[0]!, /^127\.0\.0\.2:\d+ check$/);
    const unknown = await RawHttpClient.connect(port, { localAddress: PROXY });
    unknown.send("PROXY UNKNOWN\r\ncheck\n");
    assert.match((await answer(unknown))[0]!, /^127\.0\.0\.2:\d+ check$/);
    for (const c of [v1, v2, local, unknown]) await c.close();
  } finally {
    await server.close();
  }
});

Deno.test("PROXY port from the attacker's side: untrusted, garbage, slow and oversize headers", async () => {
  const { server, refused } = whoAmI({ handshakeTimeoutMs: 300 });
  try {
    const port = server.addr.port;
    // An untrusted sender is closed before anything is read, even with a valid header.
    const spoof = await RawHttpClient.connect(port, { localAddress: "127.0.0.1" });
    spoof.send(relayed("192.0.2.99", 1) + "hello\n");
    await spoof.ended();
    assert.equal(spoof.text, "");
    assert.deepEqual(refused.at(-1), { ip: "127.0.0.1", reason: "not a trusted proxy" });
    // The trusted proxy without a header (a miner's first line): closed.
    const bare = await RawHttpClient.connect(port, { localAddress: PROXY });
    bare.send('{"id":1,"method":"mining.subscribe","params":[]}\n');
    await bare.ended();
    assert.equal(bare.text, "");
    await waitUntil(() => refused.length === 2, "the second refusal");
    assert.match(refused[1]!.reason, /bad PROXY header: not a PROXY protocol header/);
    // Malformed v1 (leading zero in an address).
    const malformed = await RawHttpClient.connect(port, { localAddress: PROXY });
    malformed.send("PROXY TCP4 192.0.2.07 198.51.100.1 1 2\r\n");
    await malformed.ended();
    await waitUntil(() => refused.length === 3, "the third refusal");
    assert.match(refused[2]!.reason, /addresses are not IPv4/);
    // A v2 header announcing 65535 bytes is refused on its first 16 bytes.
    const huge = new Uint8Array(encodeProxyV2({ version: 2, command: "local" }));
    huge[14] = 0xff;
    huge[15] = 0xff;
    const oversize = await RawHttpClient.connect(port, { localAddress: PROXY });
    oversize.send(latin1(huge));
    await oversize.ended();
    await waitUntil(() => refused.length === 4, "the fourth refusal");
    assert.match(refused[3]!.reason, /65551 bytes, longer than 4096/);
    // Half a header, then silence: closed at the deadline.
    const slow = await RawHttpClient.connect(port, { localAddress: PROXY });
    slow.send("PROXY TCP4 192.0.2.");
    await slow.ended();
    await waitUntil(() => refused.length === 5, "the fifth refusal");
    assert.match(refused[4]!.reason, /PROXY header not complete within 300 ms/);
    // Nothing got through, and the port still serves the proxy.
    assert.equal(server.connections.size, 0);
    const ok = await RawHttpClient.connect(port, { localAddress: PROXY });
    ok.send(relayed("192.0.2.8", 2, 4000) + "still\n");
    assert.deepEqual(await answer(ok), ["192.0.2.8:4000 still"]);
    for (const c of [spoof, bare, malformed, oversize, slow, ok]) await c.close();
  } finally {
    await server.close();
  }
});

Deno.test("PROXY port: bans and per-IP caps apply to the relayed address, not the proxy's", async () => {
  const { server, refused } = whoAmI({
    isBanned: (ip) => ip === "192.0.2.66",
    maxConnectionsPerIp: 1,
    exemptLoopback: false,
  });
  try {
    const port = server.addr.port;
    const banned = await RawHttpClient.connect(port, { localAddress: PROXY });
    banned.send(relayed("192.0.2.66", 1) + "x\n");
    await banned.ended();
    assert.deepEqual(refused.at(-1), { ip: "192.0.2.66", reason: "banned" });
    const first = await RawHttpClient.connect(port, { localAddress: PROXY });
    first.send(relayed("192.0.2.1", 2) + "a\n");
    assert.deepEqual(await answer(first), ["192.0.2.1:40000 a"]);
    const second = await RawHttpClient.connect(port, { localAddress: PROXY });
    second.send(relayed("192.0.2.1", 2, 40001) + "b\n");
    await second.ended();
    assert.deepEqual(refused.at(-1), {
      ip: "192.0.2.1",
      reason: "too many connections from this IP",
    });
    // Another client behind the same proxy is not held back by the first one's cap.
    const other = await RawHttpClient.connect(port, { localAddress: PROXY });
    other.send(relayed("192.0.2.2", 1) + "c\n");
    assert.deepEqual(await answer(other), ["192.0.2.2:40000 c"]);
    for (const c of [banned, first, second, other]) await c.close();
  } finally {
    await server.close();
  }
});

Deno.test("PROXY header then TLS on one port: the TLS session sees the client's address", async () => {
  const dir = await Deno.makeTempDir();
  const cert = await makeCertificate(dir, "one");
  const { server } = whoAmI({ tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
  try {
    const relay = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    // From 127.0.0.1: only a trusted proxy may connect, so this one is closed...
    assert.equal(await relay.read(new Uint8Array(1)).catch(() => null), null);
    relay.close();
    // ... and from the trusted address the header comes first, then the TLS handshake.
    const { trusted } = await trustedTlsClient(server.addr.port, cert.cert);
    await trusted.write(new TextEncoder().encode("hi\n"));
    const buf = new Uint8Array(100);
    const n = await trusted.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n!)), "203.0.113.5:1234 hi\n");
    trusted.close();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A TLS client over a socket from 127.0.0.2 that sent a PROXY header first. */
async function trustedTlsClient(port: number, ca: string) {
  const tls = await import("node:tls");
  const net = await import("node:net");
  const socket = net.connect({ host: "127.0.0.1", port, localAddress: PROXY });
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(encodeProxyV1({
    version: 1,
    command: "proxy",
    family: "tcp4",
    source: { ip: "203.0.113.5", port: 1234 },
    destination: { ip: "198.51.100.1", port: 3333 },
  }));
  const secure = tls.connect({ socket, ca: [ca], servername: "localhost" });
  await new Promise((resolve, reject) => {
    secure.once("secureConnect", resolve);
    secure.once("error", reject);
  });
  const chunks: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  secure.on("data", (d: Uint8Array) => {
    chunks.push(new Uint8Array(d));
    wake?.();
  });
  return {
    trusted: {
      write: (b: Uint8Array) => new Promise<void>((r) => secure.write(b, () => r())),
      read: async (b: Uint8Array) => {
        while (chunks.length === 0) await new Promise<void>((r) => wake = r);
        const c = chunks.shift()!;
        b.set(c);
        return c.length;
      },
      close: () => secure.destroy(),
    },
  };
}

Deno.test("HttpServer with proxyProtocol: the handler sees the relayed address", async () => {
  const refused: string[] = [];
  const server = HttpServer.listen({
    port: 0,
    descriptors: null,
    proxyProtocol: true,
    trustedProxies: AddressList.parse([PROXY]),
    handler: (_request, info) => Response.json({ ip: info.remoteAddr.hostname }),
    onRefused: (_ip, reason) => refused.push(reason),
  });
  try {
    const port = server.addr.port;
    const client = await RawHttpClient.connect(port, { localAddress: PROXY });
    client.send(
      relayed("192.0.2.44", 1) + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const [response] = await client.responses(1);
    assert.deepEqual(JSON.parse(response!.body), { ip: "192.0.2.44" });
    const direct = await RawHttpClient.connect(port, { localAddress: "127.0.0.1" });
    direct.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await direct.ended();
    assert.equal(direct.text, "");
    assert.deepEqual(refused, ["proxy"]);
    assert.equal(server.stats.refused.proxy, 1);
    await client.close();
    await direct.close();
  } finally {
    await server.close();
  }
});
