/**
 * End to end through real TCP relays that send PROXY headers (v1 and v2) from a trusted
 * address (127.0.0.2), as HAProxy or a cloud load balancer would: `vbkpool mine` mines through
 * them; a client that misbehaves behind the relay is banned by its relayed address (logged as
 * such) while the relay's other clients go on; the API's per-client rate limit counts relayed
 * addresses; untrusted senders are closed and logged.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { ADDRESS } from "../miner/_stack.ts";
import { spawnVbkpool, type VbkpoolProcess } from "../_process.ts";
import { ProxyRelay } from "./_proxy_relay.ts";

function accepted(miner: VbkpoolProcess): number {
  const all = [...miner.err.matchAll(/\bA (\d+) R (\d+)/g)];
  return all.length === 0 ? 0 : Number(all.at(-1)![1]);
}

/** Connect from `localAddress`, send `text`, and resolve with what came back once closed. */
function exchange(port: number, text: string, localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const socket = net.connect({ host: "127.0.0.1", port, localAddress }, () => socket.write(text));
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => got += d);
    socket.on("close", () => resolve(got));
    socket.on("error", () => {});
  });
}

Deno.test("PROXY protocol through real relays: mining, bans, API and logs see the client's address", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-proxy-" });
  await Deno.writeTextFile(
    `${dir}/vbkpool.toml`,
    [
      "[process]",
      `trusted_proxies = ["127.0.0.2"]`,
      "[stratum]",
      `listen = ["127.0.0.1:0 diff=200000 vardiff=off proxy_protocol"]`,
      "max_protocol_errors = 1",
      "ban_offences = 1",
      "[api]",
      `listen = "127.0.0.1:0"`,
      "proxy_protocol = true",
      "rate_limit_per_second = 0.01",
      "rate_limit_burst = 2",
      "[devnet]",
      "min_difficulty = 4000000",
      "mempool_interval = 0",
      "[store]",
      `url = ${JSON.stringify(`${dir}/pool.sqlite`)}`,
      "",
    ].join("\n"),
  );
  const server = spawnVbkpool(["server"], { cwd: dir });
  const relays: ProxyRelay[] = [];
  const miners: VbkpoolProcess[] = [];
  try {
    const addresses = await server.serverAddresses();
    const port = addresses.stratum[0]!;
    const apiPort = Number(new URL(addresses.api!).port);
    assert.match(server.err, /Stratum on 127\.0\.0\.1:\d+: .*; PROXY protocol/);
    const relay = async (target: number, version: 1 | 2, clientIp: string) => {
      const r = await ProxyRelay.start({ target, version, clientIp });
      relays.push(r);
      return r.port;
    };
    // Two miners behind the relays (v1 and v2 headers) mine.
    for (
      const [version, ip, worker] of [[1, "192.0.2.10", "v1"], [2, "2001:db8::10", "v2"]] as const
    ) {
      const miner = spawnVbkpool([
        "mine",
        "--pool",
        `stratum+tcp://127.0.0.1:${await relay(port, version, ip)}`,
        "--user",
        `${ADDRESS}.${worker}`,
        "--threads",
        "1",
        "--json",
        "--status-interval",
        "1",
      ], { cwd: dir, env: { VBKPOOL_API_ENABLED: "false" } });
      miners.push(miner);
    }
    for (const miner of miners) {
      await miner.until(() => accepted(miner) >= 1 || undefined, "an accepted share", 120_000);
    }
    // A client behind the relay sends garbage: answered, closed, its relayed address banned.
    const bad = await relay(port, 2, "2001:db8::66");
    assert.match(await exchange(bad, "garbage\n", "127.0.0.1"), /Malformed request/);
    await server.waitForLog(/banned 2001:db8::66 for \d+ s/);
    assert.equal(
      await exchange(bad, '{"id":1,"method":"mining.subscribe","params":[]}\n', "127.0.0.1"),
      "",
    );
    await server.waitForLog(/refusing connections from banned 2001:db8::66/);
    // The proxy itself is not banned: its other clients go on mining.
    const before = miners.map(accepted);
    for (const [i, miner] of miners.entries()) {
      await miner.until(
        () => accepted(miner) > before[i]! || undefined,
        "a share after the ban",
        120_000,
      );
    }
    // The API's rate limit (burst 2) counts each relayed client on its own.
    const apiA = await relay(apiPort, 2, "192.0.2.20");
    const apiB = await relay(apiPort, 1, "192.0.2.21");
    const status = async (p: number) => {
      const response = await fetch(`http://127.0.0.1:${p}/api/health`, {
        headers: { connection: "close" },
      });
      await response.body?.cancel();
      return response.status;
    };
    assert.deepEqual([await status(apiA), await status(apiA), await status(apiA)], [200, 200, 429]);
    assert.equal(await status(apiB), 200);
    // Untrusted senders: closed without an answer on both ports, and logged.
    const spoof = "PROXY TCP4 192.0.2.99 198.51.100.1 1 2\r\n" +
      '{"id":1,"method":"mining.subscribe","params":[]}\n';
    assert.equal(await exchange(port, spoof, "127.0.0.1"), "");
    await server.waitForLog(/closed 127\.0\.0\.1 before its first request: not a trusted proxy/);
    assert.equal(
      await exchange(apiPort, "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.1"),
      "",
    );
    // And the trusted proxy without a header is closed as well.
    assert.equal(await exchange(port, '{"id":1,"method":"mining.subscribe"}\n', "127.0.0.2"), "");
    await server.waitForLog(/closed 127\.0\.0\.2 before its first request: bad PROXY header/);
    assert.doesNotMatch(server.err, /192\.0\.2\.99/);
    for (const miner of miners) {
      assert.equal(await miner.stop(), 0, miner.err);
      const summary = JSON.parse(miner.out.trim().split("\n").at(-1)!);
      assert.equal(summary.rejected, 0, miner.out);
    }
    assert.equal(await server.stop(), 0, server.err);
  } finally {
    for (const m of miners) await m.kill();
    for (const r of relays) await r.close();
    await server.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
