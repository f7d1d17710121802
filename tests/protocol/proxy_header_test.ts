/**
 * The PROXY protocol parser against HAProxy's proxy-protocol.txt: v1 TCP4/TCP6/UNKNOWN lines,
 * the 107-byte limit, CRLF rules and canonical numbers; v2 PROXY and LOCAL commands, families,
 * TLVs skipped, length limits; incomplete input at every split point.
 */
import assert from "node:assert/strict";
import {
  encodeProxyV1,
  encodeProxyV2,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
} from "../../protocol/proxy_header.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function header(bytes: Uint8Array) {
  const parsed = parseProxyHeader(bytes);
  assert.equal(parsed.kind, "header", JSON.stringify(parsed));
  return parsed as Extract<typeof parsed, { kind: "header" }>;
}

function errorOf(bytes: Uint8Array, options = {}): string {
  const parsed = parseProxyHeader(bytes, options);
  assert.equal(parsed.kind, "error", JSON.stringify(parsed));
  return (parsed as { message: string }).message;
}

Deno.test("parseProxyHeader() v1 TCP4: addresses, ports, header length", () => {
  const line = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
  assert.equal(line.length, 56); // the spec's TCP/IPv4 maximum
  const { header: h, length } = header(enc(line + '{"id":1}\n'));
  assert.equal(length, 56);
  assert.deepEqual(h, {
    version: 1,
    command: "proxy",
    family: "tcp4",
    source: { ip: "255.255.255.255", port: 65535 },
    destination: { ip: "255.255.255.255", port: 65535 },
  });
  const spec = header(enc("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n"));
  assert.equal(spec.length, 47);
  assert.deepEqual(spec.header.command === "proxy" && spec.header.source, {
    ip: "192.168.0.1",
    port: 56324,
  });
  const zero = header(enc("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n"));
  assert.equal(zero.header.command === "proxy" && zero.header.source.port, 0);
});

Deno.test("parseProxyHeader() v1 TCP6: 104-byte maximum, canonical text", () => {
  const f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const line = `PROXY TCP6 ${f} ${f} 65535 65535\r\n`;
  assert.equal(line.length, 104);
  const { header: h } = header(enc(line));
  assert.equal(h.command === "proxy" && h.family, "tcp6");
  const short = header(enc("PROXY TCP6 2001:DB8:0:0:0:0:0:7 ::1 51000 3333\r\n"));
  assert.deepEqual(short.header.command === "proxy" && short.header.source, {
    ip: "2001:db8::7",
    port: 51000,
  });
});

Deno.test("parseProxyHeader() v1 UNKNOWN: short and worst-case forms, rest ignored", () => {
  assert.deepEqual(header(enc("PROXY UNKNOWN\r\n")), {
    kind: "header",
    header: { version: 1, command: "unknown" },
    length: 15,
  });
  const f = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const worst = `PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`;
  assert.equal(worst.length, 107);
  assert.equal(header(enc(worst)).length, 107);
  assert.equal(header(enc("PROXY UNKNOWN whatever is here\r\nrest")).length, 32);
});

Deno.test("parseProxyHeader() v1 refuses what does not match exactly", () => {
  const cases: [string, RegExp][] = [
    ["PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n", /LF without CR/],
    ["PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\rX", /CR without LF/],
    ["PROXY TCP5 192.168.0.1 192.168.0.11 56324 443\r\n", /not TCP4, TCP6 or UNKNOWN/],
    ["PROXY TCP4 192.168.0.01 192.168.0.11 56324 443\r\n", /not IPv4/], // leading zero
    ["PROXY TCP4 192.168.0.1 192.168.0.256 56324 443\r\n", /not IPv4/],
    ["PROXY TCP4 ::1 192.168.0.11 56324 443\r\n", /not IPv4/],
    ["PROXY TCP6 192.168.0.1 ::1 56324 443\r\n", /not IPv6/],
    ["PROXY TCP6 1::2::3 ::1 56324 443\r\n", /not IPv6/],
    ["PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n", /port/], // leading zero
    ["PROXY TCP4 192.168.0.1 192.168.0.11 65536 443\r\n", /port/],
    ["PROXY TCP4 192.168.0.1 192.168.0.11 -1 443\r\n", /port/],
    ["PROXY TCP4 192.168.0.1  192.168.0.11 56324 443\r\n", /fields/], // two spaces
    ["PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n", /fields/],
    ["PROXY TCP4 192.168.0.1 192.168.0.11 56324 443 \r\n", /fields/],
    ["PROXY\tTCP4\r\n", /not a PROXY/],
    ["proxy TCP4 1.2.3.4 1.2.3.4 1 1\r\n", /not a PROXY/],
    ['{"id":1,"method":"mining.subscribe"}\n', /not a PROXY/],
    ["GET / HTTP/1.1\r\n", /not a PROXY/],
    ["PROXY TCP4 1.2.3.4 1.2.3.4 1 1\u00e9\r\n", /US-ASCII/],
  ];
  for (const [line, why] of cases) assert.match(errorOf(enc(line)), why, line);
});

Deno.test("parseProxyHeader() v1 without CRLF in 107 bytes is an error, before that incomplete", () => {
  const long = "PROXY UNKNOWN " + "a".repeat(200);
  assert.match(errorOf(enc(long)), /no CRLF within 107 bytes/);
  assert.match(errorOf(enc(long.slice(0, 107))), /no CRLF within 107 bytes/);
  // CR as the 107th byte: its LF would be the 108th.
  assert.match(errorOf(enc(long.slice(0, 106) + "\r")), /no CRLF within 107 bytes/);
  assert.equal(parseProxyHeader(enc(long.slice(0, 106))).kind, "incomplete");
});

Deno.test("parseProxyHeader() is incomplete at every split point of a valid header", () => {
  const v1 = enc("PROXY TCP4 192.0.2.7 10.0.0.1 51000 3333\r\n");
  const v2 = encodeProxyV2({
    version: 2,
    command: "proxy",
    family: "tcp6",
    source: { ip: "2001:db8::7", port: 51000 },
    destination: { ip: "2001:db8::1", port: 3333 },
  }, { tlvs: [{ type: 0x04, value: new Uint8Array(10) }] });
  for (const bytes of [v1, v2]) {
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(parseProxyHeader(bytes.subarray(0, n)).kind, "incomplete", `at ${n}`);
    }
    assert.equal(header(bytes).length, bytes.length);
  }
});

function v2(verCmd: number, famProto: number, body: number[]): Uint8Array {
  const out = new Uint8Array(16 + body.length);
  out.set(PROXY_V2_SIGNATURE);
  out[12] = verCmd;
  out[13] = famProto;
  out[14] = body.length >> 8;
  out[15] = body.length & 0xff;
  out.set(body, 16);
  return out;
}

Deno.test("parseProxyHeader() v2 PROXY over TCP/IPv4 and IPv6, TLVs skipped", () => {
  const ipv4 = v2(0x21, 0x11, [192, 0, 2, 7, 10, 0, 0, 1, 0xc7, 0x38, 0x0d, 0x05]);
  assert.deepEqual(header(ipv4), {
    kind: "header",
    header: {
      version: 2,
      command: "proxy",
      family: "tcp4",
      source: { ip: "192.0.2.7", port: 51000 },
      destination: { ip: "10.0.0.1", port: 3333 },
    },
    length: 28,
  });
  // TLVs (NOOP, AUTHORITY, a custom one) after the addresses: skipped, counted in the length.
  const tlvs = [0x04, 0, 2, 0, 0, 0x02, 0, 4, 0x70, 0x6f, 0x6f, 0x6c, 0xe0, 0, 0];
  const withTlvs = v2(0x21, 0x11, [192, 0, 2, 7, 10, 0, 0, 1, 0, 1, 0, 2, ...tlvs]);
  const parsed = header(new Uint8Array([...withTlvs, 0x7b]));
  assert.equal(parsed.length, 16 + 12 + tlvs.length);
  const src6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 7];
  const ipv6 = v2(0x21, 0x21, [...src6, ...new Array(15).fill(0), 1, 0, 80, 1, 0xbb]);
  const h6 = header(ipv6);
  assert.equal(h6.length, 16 + 36);
  assert.deepEqual(h6.header.command === "proxy" && [h6.header.source, h6.header.destination], [
    { ip: "2001:db8::7", port: 80 },
    { ip: "::1", port: 443 },
  ]);
});

Deno.test("parseProxyHeader() v2 LOCAL, UNSPEC, UDP and UNIX use the socket's addresses", () => {
  // LOCAL: the block is skipped whatever it holds; the receiver must not assume length 0.
  assert.deepEqual(header(v2(0x20, 0x00, [])).header, { version: 2, command: "local" });
  assert.equal(header(v2(0x20, 0x11, new Array(12).fill(9))).length, 28);
  assert.deepEqual(header(v2(0x21, 0x00, [])).header, { version: 2, command: "unknown" });
  assert.equal(header(v2(0x21, 0x12, new Array(12).fill(0))).header.command, "unknown");
  assert.equal(header(v2(0x21, 0x31, new Array(216).fill(0))).header.command, "unknown");
});

Deno.test("parseProxyHeader() v2 refuses bad versions, commands, families and lengths", () => {
  assert.match(errorOf(v2(0x11, 0x11, new Array(12).fill(0))), /version/);
  assert.match(errorOf(v2(0x22, 0x11, new Array(12).fill(0))), /command/);
  assert.match(errorOf(v2(0x2f, 0x11, new Array(12).fill(0))), /command/);
  assert.match(errorOf(v2(0x21, 0x41, new Array(12).fill(0))), /family/);
  assert.match(errorOf(v2(0x21, 0x13, new Array(12).fill(0))), /transport/);
  assert.match(errorOf(v2(0x21, 0x11, new Array(11).fill(0))), /shorter than its family/);
  assert.match(errorOf(v2(0x21, 0x21, new Array(35).fill(0))), /shorter than its family/);
  // A length that runs past the limit is refused before its bytes arrive.
  const huge = v2(0x21, 0x11, []);
  huge[14] = 0xff;
  huge[15] = 0xff;
  assert.match(errorOf(huge), /65551 bytes, longer than 4096/);
  assert.match(errorOf(v2(0x21, 0x11, new Array(100).fill(0)), { maxV2Bytes: 64 }), /longer/);
  // The signature with one byte off is not a header at all.
  const bad = v2(0x21, 0x11, new Array(12).fill(0));
  bad[4] = 1;
  assert.match(errorOf(bad), /not a PROXY/);
});

Deno.test("encodeProxyV1() and encodeProxyV2() round-trip through the parser", () => {
  const h = {
    version: 1 as const,
    command: "proxy" as const,
    family: "tcp4" as const,
    source: { ip: "203.0.113.9", port: 40000 },
    destination: { ip: "198.51.100.1", port: 3333 },
  };
  assert.deepEqual(header(encodeProxyV1(h)).header, h);
  assert.deepEqual(header(encodeProxyV2(h)).header, { ...h, version: 2 });
  assert.deepEqual(header(encodeProxyV2({ version: 2, command: "local" })).header, {
    version: 2,
    command: "local",
  });
  assert.equal(
    new TextDecoder().decode(encodeProxyV1({ version: 1, command: "unknown" })),
    "PROXY UNKNOWN\r\n",
  );
  assert.throws(() => encodeProxyV2({ ...h, family: "tcp6" }), RangeError);
});
