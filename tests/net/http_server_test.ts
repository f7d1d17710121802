/**
 * The API's HTTP server from the attacker's side, over real loopback TCP: slowloris, connection
 * caps (per IP, with a second loopback source address, and global), keep-alive idle timeout,
 * oversized and malformed heads, unknown methods, slow readers. Every test also checks that a
 * well-behaved client is still answered.
 */
import assert from "node:assert/strict";
import { HttpServer, type HttpServerOptions } from "../../net/http_server.ts";
import { waitUntil } from "../_process.ts";
import { RawHttpClient } from "./_http_client.ts";

function serve(options: Partial<HttpServerOptions> = {}): HttpServer {
  return HttpServer.listen({
    port: 0,
    handler: (request) => Response.json({ path: new URL(request.url).pathname }),
    ...options,
  });
}

async function get(server: HttpServer, path = "/ok"): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${server.addr.port}${path}`);
  return { status: response.status, body: await response.json() };
}

/** A request from a raw client with its own source address, answered on a fresh connection. */
async function getFrom(server: HttpServer, localAddress: string): Promise<number> {
  const client = await RawHttpClient.connect(server.addr.port, { localAddress });
  client.send("GET /ok HTTP/1.1\r\nHost: pool\r\nConnection: close\r\n\r\n");
  const [response] = await client.responses(1);
  await client.close();
  return response!.status;
}

Deno.test("HttpServer closes slowloris connections after the header timeout (408) and answers others meanwhile", async () => {
  const headerTimeoutMs = 800;
  const server = serve({ headerTimeoutMs });
  const slow: RawHttpClient[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const client = await RawHttpClient.connect(server.addr.port);
      client.send("GET /api/pool HTTP/1.1\r\nHost: pool\r\nX-Slow: ");
      slow.push(client);
    }
    await waitUntil(() => server.stats.connections >= 40, "40 slow connections held");
    // A normal client is answered while the 40 are held.
    assert.deepEqual(await get(server), { status: 200, body: { path: "/ok" } });
    for (const client of slow) {
      const ended = await client.ended();
      assert.ok(
        ended - client.openedAt >= headerTimeoutMs,
        `closed after ${ended - client.openedAt} ms`,
      );
      assert.match(client.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.match(client.text, /\r\nconnection: close\r\n/);
    }
    assert.ok((server.stats.timeouts.head ?? 0) >= 40);
    // And once they are gone.
    assert.equal((await get(server)).status, 200);
  } finally {
    await Promise.all(slow.map((c) => c.close()));
    await server.close();
  }
});

Deno.test("HttpServer closes a silent connection after the header timeout without an answer", async () => {
  const server = serve({ headerTimeoutMs: 300 });
  const client = await RawHttpClient.connect(server.addr.port);
  try {
    const ended = await client.ended();
    assert.ok(ended - client.openedAt >= 300);
    assert.equal(client.text, "");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("HttpServer caps connections per IP (a second loopback address is still served)", async () => {
  const server = serve({ maxConnectionsPerIp: 4, exemptLoopback: false });
  const held: RawHttpClient[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      held.push(await RawHttpClient.connect(server.addr.port, { localAddress: "127.0.0.2" }));
    }
    await waitUntil(() => server.stats.connections === 4, "4 connections from 127.0.0.2");
    const fifth = await RawHttpClient.connect(server.addr.port, { localAddress: "127.0.0.2" });
    held.push(fifth);
    await fifth.ended();
    assert.equal(fifth.text, "", "refused at accept, no answer");
    assert.equal(server.stats.refused.per_ip, 1);
    // Another client IP is served meanwhile.
    assert.equal(await getFrom(server, "127.0.0.3"), 200);
    // Once one of the four leaves, 127.0.0.2 is served again.
    await held[0]!.close();
    await waitUntil(() => server.stats.connections === 3, "the closed connection forgotten");
    assert.equal(await getFrom(server, "127.0.0.2"), 200);
  } finally {
    await Promise.all(held.map((c) => c.close()));
    await server.close();
  }
});

Deno.test("HttpServer exempts loopback from the per-IP cap only when told to", async () => {
  const server = serve({ maxConnectionsPerIp: 1, exemptLoopback: true });
  const held = await RawHttpClient.connect(server.addr.port);
  try {
    await waitUntil(() => server.stats.connections === 1, "one connection");
    assert.equal(await getFrom(server, "127.0.0.1"), 200);
    assert.equal(server.stats.refused.per_ip, 0);
  } finally {
    await held.close();
    await server.close();
  }
});

Deno.test("HttpServer caps connections in all and serves again when one leaves", async () => {
  const server = serve({ maxConnections: 6 });
  const held: RawHttpClient[] = [];
  try {
    for (let i = 0; i < 6; i++) held.push(await RawHttpClient.connect(server.addr.port));
    await waitUntil(() => server.stats.connections === 6, "6 connections");
    const extra = await RawHttpClient.connect(server.addr.port, { localAddress: "127.0.0.4" });
    held.push(extra);
    await extra.ended();
    assert.equal(extra.text, "");
    assert.equal(server.stats.refused.server_full, 1);
    await held[0]!.close();
    await waitUntil(() => server.stats.connections === 5, "a free place");
    assert.equal(await getFrom(server, "127.0.0.4"), 200);
  } finally {
    await Promise.all(held.map((c) => c.close()));
    await server.close();
  }
});

Deno.test("HttpServer keeps a connection alive between requests, then closes it when idle", async () => {
  const idleTimeoutMs = 600;
  const server = serve({ idleTimeoutMs });
  const client = await RawHttpClient.connect(server.addr.port);
  try {
    client.send("GET /one HTTP/1.1\r\nHost: pool\r\n\r\n");
    await client.responses(1);
    client.send("GET /two HTTP/1.1\r\nHost: pool\r\n\r\n");
    const responses = await client.responses(2);
    const answeredAt = Date.now();
    assert.deepEqual(responses.map((r) => [r.status, r.body]), [
      [200, '{"path":"/one"}'],
      [200, '{"path":"/two"}'],
    ]);
    assert.equal(server.stats.accepted, 1, "both on one connection");
    const ended = await client.ended();
    assert.ok(ended - answeredAt >= idleTimeoutMs - 50, `idle for ${ended - answeredAt} ms`);
    assert.equal((await client.responses(2)).length, 2, "no answer to an idle connection");
    assert.equal(server.stats.timeouts.idle, 1);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("HttpServer answers pipelined requests in order and closes after the request cap", async () => {
  const server = serve({ maxRequestsPerConnection: 2 });
  const client = await RawHttpClient.connect(server.addr.port);
  try {
    client.send(
      "GET /a HTTP/1.1\r\nHost: pool\r\n\r\nGET /b HTTP/1.1\r\nHost: pool\r\n\r\nGET /c HTTP/1.1\r\n",
    );
    const responses = await client.responses(2);
    assert.deepEqual(responses.map((r) => r.body), ['{"path":"/a"}', '{"path":"/b"}']);
    assert.equal(responses[1]!.headers.connection, "close");
    await client.ended();
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("HttpServer refuses bad request heads with the right status and closes", async (t) => {
  const server = serve({ maxHeadBytes: 1024, maxHeaders: 8 });
  const cases: [string, string, number][] = [
    ["an oversized request line", `GET /${"a".repeat(2000)} HTTP/1.1\r\n`, 414],
    ["oversized headers", `GET / HTTP/1.1\r\nHost: p\r\nX: ${"b".repeat(2000)}\r\n\r\n`, 431],
    [
      "too many headers",
      `GET / HTTP/1.1\r\nHost: p\r\n${"X-A: 1\r\n".repeat(9)}\r\n`,
      431,
    ],
    ["a malformed request line", "GARBAGE\r\n\r\n", 400],
    ["a request line with two spaces", "GET  / HTTP/1.1\r\nHost: p\r\n\r\n", 400],
    ["a missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["binary junk", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400],
    ["an unknown method", "FOO / HTTP/1.1\r\nHost: p\r\n\r\n", 405],
    ["POST", "POST /api HTTP/1.1\r\nHost: p\r\nContent-Length: 2\r\n\r\nhi", 405],
    ["DELETE", "DELETE /api HTTP/1.1\r\nHost: p\r\n\r\n", 405],
    ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: p\r\n\r\n", 505],
    ["a chunked body", "GET / HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n", 501],
    ["a GET with a body", "GET / HTTP/1.1\r\nHost: p\r\nContent-Length: 5\r\n\r\nhello", 413],
  ];
  try {
    for (const [name, bytes, status] of cases) {
      await t.step(`${name}: ${status}`, async () => {
        const client = await RawHttpClient.connect(server.addr.port);
        try {
          client.send(bytes);
          const [response] = await client.responses(1);
          assert.equal(response!.status, status);
          assert.equal(response!.headers.connection, "close");
          assert.match(response!.body, /^\{"error":"Cannot [^"]*","status":\d{3}\}$/);
          if (status === 405) assert.equal(response!.headers.allow, "GET, HEAD, OPTIONS");
          await client.ended();
        } finally {
          await client.close();
        }
      });
    }
    // A well-behaved client is still served.
    assert.equal((await get(server)).status, 200);
    assert.equal(server.stats.rejected["405"], 3);
  } finally {
    await server.close();
  }
});

Deno.test("HttpServer takes small bodies when allowed, answers 100-continue, refuses larger ones", async () => {
  const server = serve({
    methods: ["GET", "POST"],
    maxBodyBytes: 16,
    handler: async (request) => new Response(`got ${await request.text()}`),
  });
  const client = await RawHttpClient.connect(server.addr.port);
  const big = await RawHttpClient.connect(server.addr.port);
  try {
    client.send("POST / HTTP/1.1\r\nHost: p\r\nContent-Length: 5\r\n\r\nhello");
    assert.equal((await client.responses(1))[0]!.body, "got hello");
    client.send("POST / HTTP/1.1\r\nHost: p\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert.equal((await client.responses(2))[1]!.status, 100);
    client.send("abc");
    assert.equal((await client.responses(3))[2]!.body, "got abc");
    big.send(`POST / HTTP/1.1\r\nHost: p\r\nContent-Length: 17\r\n\r\n${"x".repeat(17)}`);
    assert.equal((await big.responses(1))[0]!.status, 413);
    await big.ended();
  } finally {
    await client.close();
    await big.close();
    await server.close();
  }
});

Deno.test("HttpServer drops a client that stops reading a stream after the write timeout", async () => {
  let cancelled = false;
  const chunk = new Uint8Array(65536).fill(0x61);
  const server = serve({
    writeTimeoutMs: 500,
    handler: (request) => {
      if (new URL(request.url).pathname !== "/stream") return new Response("ok");
      return new Response(
        new ReadableStream<Uint8Array>({
          pull: (controller) => controller.enqueue(chunk),
          cancel: () => {
            cancelled = true;
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    },
  });
  // A client that asks for the stream and never reads it.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    await conn.write(new TextEncoder().encode("GET /stream HTTP/1.1\r\nHost: p\r\n\r\n"));
    await waitUntil(() => cancelled, "the stream to be cancelled", 60_000);
    assert.ok((server.stats.timeouts.write ?? 0) >= 1);
    await waitUntil(() => server.stats.connections === 0, "the connection to close");
    assert.equal(await fetch(`http://127.0.0.1:${server.addr.port}/`).then((r) => r.text()), "ok");
  } finally {
    conn.close();
    await server.close();
  }
});

Deno.test("HttpServer.close() closes idle connections and finishes requests under way", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let entered = false;
  const server = serve({
    handler: async (request) => {
      if (new URL(request.url).pathname === "/slow") {
        entered = true;
        await gate;
      }
      return new Response("done");
    },
  });
  const idle = await RawHttpClient.connect(server.addr.port);
  const busy = await RawHttpClient.connect(server.addr.port);
  try {
    idle.send("GET /fast HTTP/1.1\r\nHost: p\r\n\r\n");
    await idle.responses(1);
    busy.send("GET /slow HTTP/1.1\r\nHost: p\r\n\r\n");
    await waitUntil(() => entered, "the slow request under way");
    const closing = server.close();
    await idle.ended();
    release();
    await closing;
    const [response] = await busy.responses(1);
    assert.equal(response!.body, "done");
    assert.equal(response!.headers.connection, "close");
  } finally {
    await idle.close();
    await busy.close();
    await server.close();
  }
});
