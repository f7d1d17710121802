/**
 * A pool with other pool processes beside it (workers, as `PoolPeers`), over real TCP from
 * distinct loopback addresses: its bans and unbans are told to them, theirs are taken here (the
 * IP's connections closed, new ones refused, lifted again), their connections from an IP count
 * against the per-IP cap here while its own counts are told to them, and offences go both ways:
 * its own are told (unless they banned), theirs count here as its own and may ban, never told
 * back.
 */
import assert from "node:assert/strict";
import type { BanInfo } from "../../server/bans.ts";
import type { PeerOffence, PoolPeers } from "../../server/pool_peers.ts";
import { waitUntil } from "../_wait.ts";
import { startPool, testPort } from "./_pool.ts";
import { TestClient } from "./_stratum_client.ts";

class FakePeers implements PoolPeers {
  readonly elsewhere = new Map<string, number>();
  total = 0;
  readonly here = new Map<string, number>();
  readonly bans: BanInfo[] = [];
  readonly unbans: string[] = [];
  readonly offences: PeerOffence[] = [];
  ports = new Set<string>();

  connectionsElsewhere(port: string, ip: string): number {
    this.ports.add(port);
    return this.elsewhere.get(ip) ?? 0;
  }
  totalElsewhere(port: string): number {
    this.ports.add(port);
    return this.total;
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
  offended(offence: PeerOffence): void {
    this.offences.push(offence);
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

Deno.test("Pool counts other workers' connections against the port's max_connections", async () => {
  const peers = new FakePeers();
  const { pool, port } = startPool({
    ports: [testPort()],
    connections: { maxConnections: 4, exemptLoopback: false },
    peers,
  });
  const open: TestClient[] = [];
  try {
    peers.total = 2;
    for (const ip of ["127.0.0.2", "127.0.0.3"]) {
      const client = await attempt(port(), ip);
      assert.ok(client, "2 elsewhere + 2 here is the cap of 4");
      open.push(client);
    }
    assert.equal(await attempt(port(), "127.0.0.4"), undefined, "the 5th in all is refused");
    // The other workers' miners left: room again, up to the cap here alone.
    peers.total = 0;
    for (const ip of ["127.0.0.4", "127.0.0.5"]) {
      const client = await attempt(port(), ip);
      assert.ok(client);
      open.push(client);
    }
    assert.equal(await attempt(port(), "127.0.0.6"), undefined, "4 here is the cap");
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

/** Connect from `ip` and send garbage until the pool closes the connection (an offence). */
async function offend(port: number, ip: string): Promise<void> {
  const bad = await TestClient.connectFrom(port, ip);
  for (let i = 0; i < 3; i++) bad.sendRaw("garbage");
  await bad.closed;
}

Deno.test("Pool tells other workers of its offences and counts theirs as its own, never echoing", async () => {
  const peers = new FakePeers();
  const { pool, port } = startPool({
    ports: [testPort()],
    connections: { exemptLoopback: false },
    bans: { offences: 3, exemptLoopback: false },
    peers,
  });
  const open: TestClient[] = [];
  try {
    // An offence here that does not ban: told to the others, with its kind and time.
    const before = Date.now();
    await offend(port(), "127.0.0.6");
    await waitUntil(() => peers.offences.length === 1, "the offence told");
    const [told] = peers.offences;
    assert.equal(told!.ip, "127.0.0.6");
    assert.equal(told!.kind, "protocol_errors");
    assert.ok(told!.at >= before && told!.at <= Date.now(), `${told!.at}`);
    assert.equal(peers.bans.length, 0);

    // A miner from that IP is connected here; two offences of other workers come in.
    const victim = await attempt(port(), "127.0.0.6");
    assert.ok(victim, "2 offences short of a ban: admitted");
    open.push(victim);
    const now = Date.now();
    assert.equal(pool.adoptOffence({ ip: "127.0.0.6", kind: "flood", at: now }), false);
    assert.deepEqual(pool.listBans(), [], "1 here + 1 elsewhere is not 3");
    // The third in all bans the IP here, as for its own: connections closed, new ones refused,
    // the ban told to the others (no offence told: relayed ones never go back).
    assert.equal(pool.adoptOffence({ ip: "127.0.0.6", kind: "auth_failures", at: now }), true);
    await victim.closed;
    assert.equal(await attempt(port(), "127.0.0.6"), undefined);
    assert.deepEqual(pool.listBans().map((b) => [b.ip, b.reason, b.offences]), [
      ["127.0.0.6", "auth_failures", 3],
    ]);
    assert.deepEqual(peers.bans.map((b) => [b.ip, b.reason, b.offences]), [
      ["127.0.0.6", "auth_failures", 3],
    ]);
    assert.equal(peers.offences.length, 1, "relayed offences are not told back");
    // Once banned, more offences of the others change nothing.
    assert.equal(pool.adoptOffence({ ip: "127.0.0.6", kind: "flood", at: Date.now() }), false);
    assert.equal(peers.bans.length, 1);

    // Two offences elsewhere, then the third here: it bans here, and only the ban is told.
    const t = Date.now();
    pool.adoptOffence({ ip: "127.0.0.7", kind: "flood", at: t });
    pool.adoptOffence({ ip: "127.0.0.7", kind: "flood", at: t });
    await offend(port(), "127.0.0.7");
    await waitUntil(() => peers.bans.length === 2, "the ban told");
    assert.deepEqual([peers.bans[1]!.ip, peers.bans[1]!.offences], ["127.0.0.7", 3]);
    assert.equal(peers.offences.length, 1, "the banning offence is told as a ban, not an offence");

    // An offence older than the window counts for nothing.
    const old = Date.now() - 601_000;
    for (let i = 0; i < 3; i++) {
      assert.equal(pool.adoptOffence({ ip: "127.0.0.8", kind: "flood", at: old }), false);
    }
    assert.equal(pool.listBans().length, 2);
  } finally {
    for (const c of open) await c.close();
    await pool.stop();
  }
});

Deno.test("Pool tells nothing of offences by exempt loopback peers and counts none of theirs", async () => {
  const peers = new FakePeers();
  const { pool, port } = startPool({ ports: [testPort()], bans: { offences: 1 }, peers });
  try {
    await offend(port(), "127.0.0.9");
    // The pool closed it for its offence, and would have told it in the same step: it did not.
    for (let i = 0; i < 3; i++) {
      assert.equal(pool.adoptOffence({ ip: "127.0.0.9", kind: "flood", at: Date.now() }), false);
    }
    assert.deepEqual(peers.offences, []);
    assert.deepEqual(peers.bans, []);
    assert.deepEqual(pool.listBans(), []);
  } finally {
    await pool.stop();
  }
});
