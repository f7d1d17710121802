/**
 * A pool with other pool processes beside it (workers, as `PoolPeers`), over real TCP from
 * distinct loopback addresses: its bans and unbans are told to them, theirs are taken here (the
 * IP's connections closed, new ones refused, lifted again), and their connections from an IP
 * count against the per-IP cap here while its own counts are told to them.
 */
import assert from "node:assert/strict";
import type { BanInfo } from "../../server/bans.ts";
import type { PoolPeers } from "../../server/pool_peers.ts";
import { waitUntil } from "../_wait.ts";
import { startPool, testPort } from "./_pool.ts";
import { TestClient } from "./_stratum_client.ts";

class FakePeers implements PoolPeers {
  readonly elsewhere = new Map<string, number>();
  readonly here = new Map<string, number>();
  readonly bans: BanInfo[] = [];
  readonly unbans: string[] = [];
  ports = new Set<string>();

  connectionsElsewhere(port: string, ip: string): number {
    this.ports.add(port);
    return this.elsewhere.get(ip) ?? 0;
  }
  connectionsHere(port: string, ip: string, count: number): void {
    this.ports.add(port);
    this.here.set(ip, count);
  }
  watchElsewhere(): void {}
  banned(ban: BanInfo): void {
    this.bans.push(ban);
  }
  unbanned(ip: string): void {
    this.unbans.push(ip);
  }
}

/** Connect from `ip` and subscribe: the client when admitted, undefined when refused. */
async function attempt(port: number, ip: string): Promise<TestClient | undefined> {
  const client = await TestClient.connectFrom(port, ip);
  try {
    await client.call("mining.subscribe", []);
    return client;
  } catch {
    await client.close();
    return undefined; // closed before an answer: refused
  }
}

Deno.test("Pool counts other workers' connections against the per-IP cap and reports its own", async () => {
  const peers = new FakePeers();
  const { pool, port } = startPool({
    ports: [testPort()],
    connections: { maxConnectionsPerIp: 3, exemptLoopback: false },
    peers,
  });
  const open: TestClient[] = [];
  try {
    peers.elsewhere.set("127.0.0.2", 2);
    const first = await attempt(port(), "127.0.0.2");
    assert.ok(first, "2 elsewhere + 1 here is within the cap of 3");
    open.push(first);
    assert.equal(peers.here.get("127.0.0.2"), 1);
    assert.deepEqual([...peers.ports], [`127.0.0.1:${port()}`]);
    assert.equal(await attempt(port(), "127.0.0.2"), undefined, "the 4th is refused");
    // Another IP is not touched.
    const other = await attempt(port(), "127.0.0.3");
    assert.ok(other);
    open.push(other);
    // The other workers' miners left: room again.
    peers.elsewhere.set("127.0.0.2", 0);
    const second = await attempt(port(), "127.0.0.2");
    assert.ok(second);
    open.push(second);
    assert.equal(peers.here.get("127.0.0.2"), 2);
    await first.close();
    await waitUntil(() => peers.here.get("127.0.0.2") === 1, "the close reported");
  } finally {
    for (const c of open) await c.close();
    await pool.stop();
  }
});

Deno.test("Pool tells other workers of its bans and unbans and takes theirs", async () => {
  const peers = new FakePeers();
  const { pool, port } = startPool({
    ports: [testPort()],
    connections: { exemptLoopback: false },
    bans: { offences: 1, exemptLoopback: false },
    peers,
  });
  const open: TestClient[] = [];
  try {
    // An offence here bans the IP here and is told to the others.
    const bad = await TestClient.connectFrom(port(), "127.0.0.4");
    for (let i = 0; i < 3; i++) bad.sendRaw("garbage");
    await bad.closed;
    await waitUntil(() => peers.bans.length === 1, "the ban told");
    assert.equal(peers.bans[0]!.ip, "127.0.0.4");
    assert.equal(peers.bans[0]!.reason, "protocol_errors");
    // The operator's unban is told too, also of an IP not banned here (another may have it).
    assert.equal(pool.unban("127.0.0.4"), true);
    assert.equal(pool.unban("127.0.0.9"), false);
    assert.deepEqual(peers.unbans, ["127.0.0.4", "127.0.0.9"]);

    // Another worker's ban: this IP's connections here close and new ones are refused.
    const victim = await attempt(port(), "127.0.0.5");
    assert.ok(victim);
    const now = Date.now();
    const ban = { ip: "127.0.0.5", since: now, until: now + 60_000, reason: "flood", offences: 3 };
    assert.equal(pool.adoptBan(ban), true);
    assert.equal(pool.adoptBan(ban), false, "the same ban again changes nothing");
    await victim.closed;
    assert.equal(await attempt(port(), "127.0.0.5"), undefined);
    assert.deepEqual(pool.listBans().map((b) => [b.ip, b.reason, b.refused]), [
      ["127.0.0.5", "flood", 1],
    ]);
    assert.equal(peers.bans.length, 1, "a ban taken from the others is not told back");
    // Lifted by another worker: admitted again, nothing told back.
    assert.equal(pool.liftBan("127.0.0.5"), true);
    const back = await attempt(port(), "127.0.0.5");
    assert.ok(back);
    open.push(back);
    assert.deepEqual(peers.unbans, ["127.0.0.4", "127.0.0.9"]);
  } finally {
    for (const c of open) await c.close();
    await pool.stop();
  }
});
