/**
 * Bans that fit shared IPs, from the attacker's side, over real TCP: miners behind different
 * IPs are loopback addresses (127.0.0.2, 127.0.0.3) bound with `node:net`.
 */
import assert from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { PoolMetrics } from "../../api/pool_metrics.ts";
import { setupLogging } from "../../cli/log.ts";
import type { PoolEvent } from "../../server/events.ts";
import { waitUntil } from "../_process.ts";
import { ADDRESSES, freshTemplate, hex16, hex8, startPool, testPort } from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";

const SHARED_IP = "127.0.0.2";
const OTHER_IP = "127.0.0.3";

/** A subscribed, authorized miner from `ip` with the current job. */
async function miner(port: number, ip: string, worker: string) {
  const client = await TestClient.connectFrom(port, ip);
  const { extranonce } = await subscribeAndAuthorize(client, worker);
  const notify = await client.notification("mining.notify");
  return { client, extranonce, job: notify.json.params[0] as string };
}

/** Submit a share; at difficulty 1 any nonce is valid unless the extranonce is foreign. */
function submit(
  m: { client: TestClient; extranonce: bigint; job: string },
  worker: string,
  nonce: number,
  foreign = false,
) {
  const extranonce = foreign ? m.extranonce + 5_000_000n : m.extranonce;
  const ntime = hex8(Math.floor(Date.now() / 1000));
  return m.client.call("mining.submit", [worker, m.job, hex16(extranonce), ntime, hex8(nonce)]);
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text);
  return m === null ? NaN : Number(m[1]);
}

Deno.test("one bad connection is closed while its IP mines on; several ban the IP; unban lifts it", async () => {
  const logs: string[] = [];
  setupLogging({ level: "debug", write: (line) => logs.push(line) });
  const { pool, port } = startPool({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
    bans: {
      checkThreshold: 4,
      invalidPercent: 50,
      offences: 2,
      offenceWindowSeconds: 600,
      banSeconds: 600,
      exemptLoopback: false,
    },
  });
  const metrics = new PoolMetrics({ pool });
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  const clients: TestClient[] = [];
  const worker = (name: string) => `${ADDRESSES[0]}.${name}`;
  try {
    pool.addTemplate(freshTemplate(1));
    const good = await miner(port(), SHARED_IP, worker("good"));
    const other = await miner(port(), OTHER_IP, worker("other"));
    clients.push(good.client, other.client);

    // 1. A bad connection from the shared IP: four foreign-extranonce shares close it alone.
    const bad1 = await miner(port(), SHARED_IP, worker("bad1"));
    clients.push(bad1.client);
    for (let i = 0; i < 4; i++) {
      const reply = await submit(bad1, worker("bad1"), i, true);
      assert.equal(reply.json.error?.[0], -2); // extranonce not owned, answered before the close
    }
    await bad1.client.closed;
    await waitUntil(() => events.some((e) => e.type === "offence"), "the first offence");
    assert.equal(pool.listBans().length, 0);
    // The good miner behind the same IP keeps mining: answers and jobs.
    assert.equal((await submit(good, worker("good"), 1)).json.result, true);
    pool.addTemplate(freshTemplate(2));
    good.job = (await good.client.notification("mining.notify")).json.params[0];
    other.job = (await other.client.notification("mining.notify")).json.params[0];
    assert.equal((await submit(good, worker("good"), 2)).json.result, true);

    // 2. A second bad connection from that IP: the IP is banned, its connections closed.
    const bad2 = await miner(port(), SHARED_IP, worker("bad2"));
    clients.push(bad2.client);
    for (let i = 0; i < 4; i++) await submit(bad2, worker("bad2"), i, true);
    await bad2.client.closed;
    await good.client.closed;
    const bans = pool.listBans();
    assert.deepEqual(bans.map((b) => [b.ip, b.reason, b.offences]), [
      [SHARED_IP, "invalid_shares", 2],
    ]);
    // New connections from it are refused (closed before any byte), each one counted.
    for (let i = 0; i < 3; i++) {
      const refused = await TestClient.connectFrom(port(), SHARED_IP);
      clients.push(refused);
      await refused.closed;
      assert.equal(refused.lines.length, 0);
    }
    assert.equal(pool.listBans()[0]!.refused, 3);
    // Miners behind another IP are untouched.
    assert.equal((await submit(other, worker("other"), 3)).json.result, true);
    let text = metrics.render();
    assert.equal(metric(text, "vbkpool_bans_active"), 1);
    assert.equal(metric(text, "vbkpool_bans_total"), 1);
    assert.equal(metric(text, 'vbkpool_offences_total{kind="invalid_shares"}'), 2);

    // 3. The operator lifts the ban: the IP mines again.
    assert.equal(pool.unban(SHARED_IP), true);
    assert.equal(pool.unban(SHARED_IP), false);
    text = metrics.render();
    assert.equal(metric(text, "vbkpool_bans_active"), 0);
    const back = await miner(port(), SHARED_IP, worker("good"));
    clients.push(back.client);
    assert.equal((await submit(back, worker("good"), 4)).json.result, true);

    // One line per ban, one per refusal episode, one for its end with the count.
    const lines = (re: RegExp) => logs.filter((l) => re.test(l));
    assert.equal(lines(/banned "?127\.0\.0\.2"? for 600 s: 2 of its connections/).length, 1);
    assert.equal(lines(/refusing connections from banned "?127\.0\.0\.2/).length, 1);
    assert.equal(lines(/ban of "?127\.0\.0\.2"? lifted .* 3 connections were refused/).length, 1);
  } finally {
    for (const c of clients) await c.close();
    metrics.close();
    await pool.stop();
    resetSync();
  }
});

Deno.test("a dual-stack port keys IPv4 miners by their IPv4 address: the operator's ban of it holds", async () => {
  // Bound like `[::]:3333` but on loopback only: IPv4 peers arrive as ::ffff:a.b.c.d.
  const { pool, port } = startPool({
    ports: [testPort({ hostname: "::ffff:127.0.0.1", difficulty: 1n, minDifficulty: 1n })],
    bans: { exemptLoopback: false },
  });
  const clients: TestClient[] = [];
  try {
    pool.addTemplate(freshTemplate(1));
    const m = await miner(port(), SHARED_IP, `${ADDRESSES[0]}.rig`);
    clients.push(m.client);
    assert.deepEqual(pool.connections().map((c) => c.ip), [SHARED_IP]);
    // What an operator types (and what `vbkpool admin ban` sends) matches the miner.
    assert.ok(pool.ban(SHARED_IP, { seconds: 60 }));
    await m.client.closed;
    const again = await TestClient.connectFrom(port(), SHARED_IP);
    clients.push(again);
    await again.closed;
    assert.equal(pool.listBans()[0]!.refused, 1);
  } finally {
    for (const c of clients) await c.close();
    await pool.stop();
  }
});
