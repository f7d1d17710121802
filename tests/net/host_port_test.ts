import assert from "node:assert/strict";
import { formatHostPort } from "../../net/host_port.ts";
import { parseHostPort } from "../../net/line_client.ts";

Deno.test("formatHostPort() brackets IPv6 hosts, and parseHostPort() reads every form back", () => {
  const cases: [string, number, string][] = [
    ["127.0.0.1", 3333, "127.0.0.1:3333"],
    ["pool.example", 8501, "pool.example:8501"],
    ["::1", 3333, "[::1]:3333"],
    ["[::1]", 3333, "[::1]:3333"],
    ["fe80::1:2", 1, "[fe80::1:2]:1"],
  ];
  for (const [host, port, text] of cases) {
    assert.equal(formatHostPort(host, port), text);
    assert.deepEqual(parseHostPort(text), { hostname: host.replace(/^\[(.*)\]$/, "$1"), port });
  }
});
