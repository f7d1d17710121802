import assert from "node:assert/strict";
import {
  findHeadEnd,
  type HttpHeadResult,
  oversizedHeadStatus,
  parseRequestHead,
} from "../../protocol/http_request_head.ts";

function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function parse(text: string, maxHeaders?: number): HttpHeadResult {
  return parseRequestHead(latin1(text), maxHeaders === undefined ? {} : { maxHeaders });
}

Deno.test("findHeadEnd() finds CRLF CRLF and bare LF LF, from where it left off", () => {
  const head = latin1("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody");
  assert.equal(findHeadEnd(head), 27);
  assert.equal(findHeadEnd(head, 20), 27);
  assert.equal(findHeadEnd(latin1("GET / HTTP/1.0\n\n")), 16);
  assert.equal(findHeadEnd(latin1("GET / HTTP/1.1\r\nHost: a\r\n")), -1);
  assert.equal(findHeadEnd(latin1("")), -1);
});

Deno.test("oversizedHeadStatus() is 414 inside the request line, else 431", () => {
  assert.equal(oversizedHeadStatus(latin1("GET /xxxxxxxx")), 414);
  assert.equal(oversizedHeadStatus(latin1("GET / HTTP/1.1\r\nCookie: xxxx")), 431);
});

Deno.test("parseRequestHead() reads a browser's request", () => {
  const result = parse(
    "GET /api/miners/V1/hashrate?minutes=60 HTTP/1.1\r\nHost: pool.example:8080\r\n" +
      "User-Agent: Mozilla/5.0 (X11)\r\nAccept:  text/event-stream \r\nCookie: a=\xe9\r\n\r\n",
  );
  assert.ok(result.ok);
  assert.deepEqual(result.head, {
    method: "GET",
    path: "/api/miners/V1/hashrate?minutes=60",
    version: "1.1",
    headers: [
      ["host", "pool.example:8080"],
      ["user-agent", "Mozilla/5.0 (X11)"],
      ["accept", "text/event-stream"],
      ["cookie", "a=\xe9"],
    ],
    host: "pool.example:8080",
    contentLength: 0,
    keepAlive: true,
    expectContinue: false,
  });
});

Deno.test("parseRequestHead() keeps HTTP/1.0 open only with keep-alive, HTTP/1.1 unless close", async (t) => {
  const cases: [string, boolean][] = [
    ["GET / HTTP/1.0\r\n\r\n", false],
    ["GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true],
    ["GET / HTTP/1.1\r\nHost: a\r\n\r\n", true],
    ["GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n", false],
    ["GET / HTTP/1.9\r\nHost: a\r\n\r\n", true],
  ];
  for (const [text, keepAlive] of cases) {
    await t.step(JSON.stringify(text), () => {
      const result = parse(text);
      assert.ok(result.ok);
      assert.equal(result.head.keepAlive, keepAlive);
    });
  }
});

Deno.test("parseRequestHead() reads bodies' lengths, 100-continue and the target forms", () => {
  const post = parse(
    "POST /admin HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nContent-Length: 12\r\n" +
      "Expect: 100-Continue\r\n\r\n",
  );
  assert.ok(post.ok);
  assert.equal(post.head.contentLength, 12);
  assert.equal(post.head.expectContinue, true);
  const absolute = parse("GET http://pool:8080/api/pool?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  assert.ok(absolute.ok);
  assert.equal(absolute.head.path, "/api/pool?x=1");
  assert.equal(absolute.head.host, "pool:8080");
  const bare = parse("GET http://pool HTTP/1.1\r\nHost: pool\r\n\r\n");
  assert.ok(bare.ok);
  assert.equal(bare.head.path, "/");
  const star = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.ok(star.ok);
  assert.equal(star.head.path, "*");
  const ipv6 = parse("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
  assert.ok(ipv6.ok);
  assert.equal(ipv6.head.host, "[::1]:8080");
});

Deno.test("parseRequestHead() refuses malformed heads with the status to answer", async (t) => {
  const cases: [string, string, number, string][] = [
    ["empty", "\r\n", 400, "empty request"],
    ["one word", "GARBAGE\r\n\r\n", 400, "malformed request line"],
    ["two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request line"],
    ["a tab", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request line"],
    ["method not a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed method"],
    ["long method", `${"A".repeat(33)} / HTTP/1.1\r\nHost: a\r\n\r\n`, 400, "malformed method"],
    [
      "target with a control",
      "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",
      400,
      "malformed request target",
    ],
    ["non-ASCII target", "GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request target"],
    ["relative target", "GET api HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request target"],
    ["asterisk on GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "malformed request target"],
    ["lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, "malformed HTTP version"],
    ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "unsupported HTTP version"],
    ["HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505, "unsupported HTTP version"],
    ["space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "malformed header field"],
    ["no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400, "malformed header field"],
    ["empty name", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400, "malformed header field"],
    [
      "folded line",
      "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
      400,
      "obsolete line folding",
    ],
    [
      "control in value",
      "GET / HTTP/1.1\r\nHost: a\r\nX: b\x00c\r\n\r\n",
      400,
      "malformed header value",
    ],
    [
      "bare CR in value",
      "GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n",
      400,
      "malformed header value",
    ],
    ["no Host on 1.1", "GET / HTTP/1.1\r\n\r\n", 400, "missing or repeated Host"],
    ["two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "missing or repeated Host"],
    ["Host with a path", "GET / HTTP/1.1\r\nHost: evil/x\r\n\r\n", 400, "malformed Host"],
    ["Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "malformed Host"],
    [
      "signed length",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
      400,
      "malformed Content-Length",
    ],
    [
      "huge length",
      `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: ${"9".repeat(16)}\r\n\r\n`,
      400,
      "malformed Content-Length",
    ],
    [
      "conflicting lengths",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n",
      400,
      "conflicting Content-Length",
    ],
    [
      "chunked with a length",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      400,
      "Transfer-Encoding with Content-Length",
    ],
    [
      "chunked",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
      501,
      "Transfer-Encoding is not accepted on requests",
    ],
    ["odd Expect", "GET / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n", 417, "unsupported Expect"],
  ];
  for (const [name, text, status, reason] of cases) {
    await t.step(name, () => assert.deepEqual(parse(text), { ok: false, status, reason }));
  }
});

Deno.test("parseRequestHead() counts header fields against maxHeaders", () => {
  const head = (n: number) => `GET / HTTP/1.1\r\nHost: a\r\n${"X-A: 1\r\n".repeat(n - 1)}\r\n`;
  assert.ok(parse(head(4), 4).ok);
  assert.deepEqual(parse(head(5), 4), { ok: false, status: 431, reason: "too many header fields" });
  assert.ok(parse(head(64)).ok);
  assert.equal((parse(head(65)) as { status: number }).status, 431);
});
