import assert from "node:assert/strict";
import { DEFAULT_PORT_DIFFICULTY, parsePortSpec } from "../../server/stratum_port.ts";

Deno.test("parsePortSpec() reads addresses and words", async (t) => {
  const cases: [string, Record<string, unknown>][] = [
    ["127.0.0.1:3333", { hostname: "127.0.0.1", port: 3333, difficulty: 1048576n }],
    ["stratum+tcp://0.0.0.0:3334", { hostname: "0.0.0.0", port: 3334 }],
    ["[::1]:3335 diff=4096", { hostname: "::1", port: 3335, difficulty: 65536n }],
    ["127.0.0.1:0 diff=4096 min=1", { port: 0, difficulty: 4096n, minDifficulty: 1n }],
    ["h:1 max=100 min=10", { difficulty: 100n, maxDifficulty: 100n, minDifficulty: 10n }],
    ["h:1 vardiff=off target=5 retarget=0 variance=45", {
      vardiff: false,
      targetShareSeconds: 5,
      retargetSeconds: 0,
      variancePercent: 45,
    }],
    ["  h:1   diff=70000  ", { difficulty: 70000n }],
    ["h:1 tls cert=/etc/p.crt key=/etc/p.key", {
      tls: { certFile: "/etc/p.crt", keyFile: "/etc/p.key" },
      proxyProtocol: undefined,
    }],
    ["h:1 proxy_protocol", { tls: undefined, proxyProtocol: true }],
    ["h:1 key=k tls proxy_protocol cert=c", {
      tls: { certFile: "c", keyFile: "k" },
      proxyProtocol: true,
    }],
  ];
  for (const [text, want] of cases) {
    await t.step(text, () => {
      const got = parsePortSpec(text, DEFAULT_PORT_DIFFICULTY) as unknown as Record<
        string,
        unknown
      >;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, k);
    });
  }
});

Deno.test("parsePortSpec() rejects malformed text", async (t) => {
  const cases = [
    "",
    "3333",
    "host:99999",
    "h:1 diff=0",
    "h:1 diff=-5",
    "h:1 diff=1.5",
    "h:1 diff",
    "h:1 min=10 max=5",
    "h:1 vardiff=maybe",
    "h:1 target=0",
    "h:1 variance=100",
    "h:1 colour=blue",
    "h:1 tls",
    "h:1 tls cert=/etc/p.crt",
    "h:1 tls key=/etc/p.key",
    "h:1 cert=c key=k",
    "h:1 tls cert= key=k",
  ];
  for (const text of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parsePortSpec(text, DEFAULT_PORT_DIFFICULTY), SyntaxError);
    });
  }
});
