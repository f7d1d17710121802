import assert from "node:assert/strict";
import { parsePoolUrl } from "../../miner/pool_url.ts";

const PIN = "e7a397ed33c098494cb7843b542d76ed9280683ae67866d2a6cefb2df1f20507";

Deno.test("parsePoolUrl() takes stratum+tcp, bare HOST:PORT and stratum+ssl with options", () => {
  assert.deepEqual(parsePoolUrl("stratum+tcp://pool.example:3333/"), {
    tls: false,
    hostname: "pool.example",
    port: 3333,
  });
  assert.deepEqual(parsePoolUrl("127.0.0.1:3333"), {
    tls: false,
    hostname: "127.0.0.1",
    port: 3333,
  });
  assert.deepEqual(parsePoolUrl("STRATUM+SSL://[::1]:3334"), {
    tls: true,
    hostname: "::1",
    port: 3334,
  });
  assert.equal(parsePoolUrl("stratum+tls://pool.example:3334").tls, true);
  const colons = PIN.toUpperCase().match(/../g)!.join(":");
  assert.deepEqual(parsePoolUrl(`stratum+ssl://pool.example:3334#sha256=${colons}&ca=/etc/p.pem`), {
    tls: true,
    hostname: "pool.example",
    port: 3334,
    sha256: PIN,
    caFile: "/etc/p.pem",
  });
});

Deno.test("parsePoolUrl() refuses schemes it does not speak and malformed options", () => {
  const cases: [string, RegExp][] = [
    ["http://pool.example:3333", /http:\/\/ is not spoken here/],
    ["https://pool.example:3333", /https:\/\/ is not spoken here/],
    ["stratum2+tcp://pool.example:3333", /stratum2\+tcp:\/\/ is not spoken/],
    ["stratum://pool.example:3333", /stratum:\/\/ is not spoken/],
    ["stratum+tcp://pool.example", /expected HOST:PORT/],
    ["stratum+tcp://pool.example:0", /expected HOST:PORT/],
    ["stratum+tcp://pool.example:65536", /expected HOST:PORT/],
    ["stratum+tcp://pool.example:3333/path", /expected HOST:PORT/],
    ["stratum+tcp://pool.example:3333#sha256=" + PIN, /apply to stratum\+ssl:\/\/ only/],
    ["stratum+ssl://pool.example:3333#sha256=abc", /64 hex digits/],
    ["stratum+ssl://pool.example:3333#pin=" + PIN, /unknown option "pin=/],
    ["stratum+ssl://pool.example:3333#ca=", /unknown option "ca="/],
  ];
  for (const [url, why] of cases) assert.throws(() => parsePoolUrl(url), why, url);
});
