import assert from "node:assert/strict";
import { connectLines, LineServer, parseHostPort } from "../../net/mod.ts";
import type { LineConnection } from "../../net/mod.ts";
import { waitUntil } from "../_wait.ts";

/** A tiny client that collects lines and its close reason. */
async function client(port: number, maxLineBytes = 16384) {
  const conn = await connectLines({ hostname: "127.0.0.1", port, maxLineBytes });
  const lines: string[] = [];
  let closed: string | undefined;
  conn.start({
    onLine: (l) => void lines.push(l),
    onClose: (r) => closed = r,
  });
  const until = async (pred: () => boolean, ms = 60_000) => {
    await waitUntil(pred, "the condition", ms);
  };
  return { conn, lines, until, closed: () => closed };
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: number[] = [];
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) return new Uint8Array(chunks);
    chunks.push(...buf.subarray(0, n));
  }
}

function echoServer(extra: Partial<Parameters<typeof LineServer.listen>[0]> = {}) {
  const closes: string[] = [];
  const server = LineServer.listen({
    port: 0,
    maxLineBytes: 64,
    onConnection: (conn: LineConnection) => ({
      onLine: (line) => {
        if (line === "boom") throw new Error("handler bug");
        conn.send(`echo ${line}`);
      },
      onClose: (r) => closes.push(r),
    }),
    ...extra,
  });
  return { server, closes };
}

Deno.test("LineServer echoes lines, several per write and split across writes", async () => {
  const { server } = echoServer();
  const c = await client(server.addr.port);
  try {
    c.conn.send("a\nb");
    c.conn.send("c");
    await c.until(() => c.lines.length === 3);
    assert.deepEqual(c.lines, ["echo a", "echo b", "echo c"]);
  } finally {
    c.conn.close("done");
    await server.close();
  }
});

Deno.test("LineServer closes a connection that sends an overlong line, keeps the others", async () => {
  const { server, closes } = echoServer();
  const bad = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  const good = await client(server.addr.port);
  try {
    const payload = new TextEncoder().encode("first\n" + "x".repeat(200));
    // The server closes mid-write: the write may fail, which is fine.
    await bad.write(payload).catch(() => 0);
    const got = new TextDecoder().decode(await readAll(bad));
    assert.equal(got, "echo first\n", "lines before the long one are served");
    bad.close();
    good.conn.send("still here");
    await good.until(() => good.lines.length === 1);
    assert.ok(closes.includes("line too long"));
  } finally {
    good.conn.close("done");
    await server.close();
  }
});

Deno.test("LineServer closes a connection whose handler throws", async () => {
  const { server, closes } = echoServer();
  const c = await client(server.addr.port);
  try {
    c.conn.send("boom");
    await c.until(() => c.closed() !== undefined);
    assert.ok(closes.includes("internal error"));
  } finally {
    await server.close();
  }
});

Deno.test("LineServer enforces the per-IP cap unless loopback is exempt", async () => {
  const refused: string[] = [];
  const { server } = echoServer({ maxConnectionsPerIp: 1, onRefused: (_ip, r) => refused.push(r) });
  const a = await client(server.addr.port);
  const b = await client(server.addr.port);
  try {
    await b.until(() => b.closed() !== undefined);
    assert.deepEqual(refused, ["too many connections from this IP"]);
    a.conn.send("ok");
    await a.until(() => a.lines.length === 1);
  } finally {
    a.conn.close("done");
    await server.close();
  }
  const exempt = echoServer({ maxConnectionsPerIp: 1, exemptLoopback: true });
  const c1 = await client(exempt.server.addr.port);
  const c2 = await client(exempt.server.addr.port);
  try {
    c2.conn.send("ok");
    await c2.until(() => c2.lines.length === 1);
  } finally {
    c1.conn.close("done");
    c2.conn.close("done");
    await exempt.server.close();
  }
});

Deno.test("LineServer counts other processes' connections against the per-IP cap and trims a burst's excess", async () => {
  let elsewhere = 2;
  const counts: number[] = [];
  const refused: string[] = [];
  const { server, closes } = echoServer({
    maxConnectionsPerIp: 4,
    peerConnections: () => elsewhere,
    onIpCount: (_ip, n) => counts.push(n),
    onRefused: (_ip, r) => refused.push(r),
  });
  const clients: Awaited<ReturnType<typeof client>>[] = [];
  try {
    // 2 elsewhere: room for 2 here.
    for (let i = 0; i < 3; i++) clients.push(await client(server.addr.port));
    await waitUntil(() => refused.length === 1 && server.connections.size === 2, "one refused");
    assert.deepEqual(refused, ["too many connections from this IP"]);
    assert.deepEqual(counts, [1, 2]);
    // A burst admitted elsewhere meanwhile: 2 here + 5 there is 3 over the cap of 4; this
    // server's share is ceil(3 × 2 / 7) = 1, its newest connection.
    elsewhere = 5;
    assert.equal(server.trimExcess(["127.0.0.1", "10.0.0.9"]), 1);
    await waitUntil(() => clients[1]!.closed() !== undefined, "the newest closed");
    assert.equal(clients[0]!.closed(), undefined);
    assert.ok(closes.includes("too many connections from this IP"));
    await waitUntil(() => counts.at(-1) === 1, "the count reported");
    // Connections older than the window stay whatever the others hold.
    elsewhere = 50;
    assert.equal(server.trimExcess(["127.0.0.1"], Date.now() + 60_000), 0);
    // Within the cap: nothing to do.
    elsewhere = 3;
    assert.equal(server.trimExcess(["127.0.0.1"]), 0);
  } finally {
    for (const c of clients) c.conn.close("done");
    await server.close();
  }
});

Deno.test("LineServer refuses banned IPs and sweeps deadlines", async () => {
  const banned = echoServer({ isBanned: () => true });
  const b = await client(banned.server.addr.port);
  await b.until(() => b.closed() !== undefined);
  await banned.server.close();

  const { server, closes } = echoServer({ sweepMs: 20 });
  const c = await client(server.addr.port);
  try {
    await c.until(() => server.connections.size === 1);
    for (const conn of server.connections.values()) conn.setTimeout(30, "subscribe timeout");
    await c.until(() => c.closed() !== undefined);
    assert.ok(closes.includes("subscribe timeout"));
  } finally {
    await server.close();
  }
});

Deno.test("LineConnection disconnects a slow reader instead of growing its queue", async () => {
  let serverSide: LineConnection | undefined;
  const server = LineServer.listen({
    port: 0,
    maxSendQueueBytes: 64 * 1024,
    onConnection: (conn) => {
      serverSide = conn;
      return { onLine() {} };
    },
  });
  // A raw socket that never reads.
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    const side = await waitUntil(() => serverSide, "the server side", 60_000);
    const line = "y".repeat(1000);
    let ok = true;
    for (let i = 0; i < 100_000 && ok; i++) ok = side.send(line);
    assert.equal(ok, false);
    assert.equal(side.closeReason, "send queue full (slow reader)");
  } finally {
    raw.close();
    await server.close();
  }
});

Deno.test("parseHostPort() accepts host:port forms and rejects junk", () => {
  assert.deepEqual(parseHostPort("localhost:8501"), { hostname: "localhost", port: 8501 });
  assert.deepEqual(parseHostPort("[::1]:3333"), { hostname: "::1", port: 3333 });
  for (const bad of ["", "host", "host:0", "host:70000", "host:x", ":1"]) {
    assert.throws(() => parseHostPort(bad), SyntaxError, bad);
  }
});
