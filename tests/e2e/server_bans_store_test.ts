/**
 * End to end, IP bans kept in the store (real `vbkpool server` processes): an operator's ban
 * survives a restart (taken before the first accept) and its lift does too; with two instances
 * on one PostgreSQL, a ban made on one refuses the IP on the other within `ban_sync_seconds`,
 * and its lift there admits it again.
 */
import assert from "node:assert/strict";
import { spawnVbkpool, type VbkpoolProcess, waitUntil, withTempDir } from "../_process.ts";
import { freshPostgresDatabase, POSTGRES_URL, warnIfNoPostgres } from "../store/_backends.ts";
import { RawClient } from "./_raw_client.ts";

const TOKEN = "admin-token-bans-0123456789abcdef";

warnIfNoPostgres();

/** A server on `storeUrl` with its admin port; the loopback miners can be banned. */
async function startServer(dir: string, storeUrl: string, instance: number) {
  const server = spawnVbkpool(["server"], {
    cwd: dir,
    env: {
      VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0 min=1",
      VBKPOOL_STRATUM_EXEMPT_LOOPBACK: "false",
      VBKPOOL_STRATUM_INSTANCE_ID: String(instance),
      VBKPOOL_STRATUM_BAN_SYNC_SECONDS: "0.5",
      VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
      VBKPOOL_API_ENABLED: "false",
      VBKPOOL_ADMIN_ENABLED: "true",
      VBKPOOL_ADMIN_LISTEN: "127.0.0.1:0",
      VBKPOOL_ADMIN_TOKEN_FILE: `${dir}/token`,
      VBKPOOL_STORE_URL: storeUrl,
      VBKPOOL_LOG_LEVEL: "info",
    },
  });
  const { stratum } = await server.serverAddresses();
  const admin = (await server.waitForLog(/admin listener on (http:\/\/[\d.:]+) /))[1]!;
  return { server, port: stratum[0]!, admin };
}

function adminCall(admin: string, method: string, path: string, body?: unknown) {
  return fetch(`${admin}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Whether the pool at `port` refuses a connection from 127.0.0.1 (closed before any answer). */
async function refused(port: number): Promise<boolean> {
  const client = await RawClient.connect(port);
  try {
    await client.send('{"id":1,"method":"mining.subscribe","params":["bans/1"]}\n');
    await waitUntil(() => client.closed || client.lines.length > 0, "an answer or a close");
    return client.lines.length === 0;
  } finally {
    await client.close();
  }
}

Deno.test({
  name: "an operator's ban survives a restart of the server, and so does its lift",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir("vbkpool-bans-restart-", async (dir) => {
      await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
      const url = `${dir}/pool.sqlite`;
      const running: VbkpoolProcess[] = [];
      try {
        const first = await startServer(dir, url, 3);
        running.push(first.server);
        const ban = await adminCall(first.admin, "POST", "/admin/bans", {
          ip: "127.0.0.1",
          seconds: 3600,
        });
        assert.equal(ban.status, 201, await ban.text());
        assert.ok(await refused(first.port));
        assert.equal(await first.server.stop("SIGTERM"), 0);

        const second = await startServer(dir, url, 3);
        running.push(second.server);
        await second.server.waitForLog(/1 IP bans in force taken from the store/);
        assert.ok(await refused(second.port));
        const list = await (await adminCall(second.admin, "GET", "/admin/bans")).json();
        assert.deepEqual(list.bans.map((b: { ip: string }) => b.ip), ["127.0.0.1"]);
        const lift = await adminCall(second.admin, "DELETE", "/admin/bans/127.0.0.1");
        assert.equal(lift.status, 200, await lift.text());
        assert.equal(await refused(second.port), false);
        assert.equal(await second.server.stop("SIGTERM"), 0);

        const third = await startServer(dir, url, 3);
        running.push(third.server);
        assert.equal(await refused(third.port), false);
        assert.doesNotMatch(third.server.err, /IP bans in force taken from the store/);
      } finally {
        for (const server of running) await server.kill();
      }
    });
  },
});

Deno.test({
  name: "two instances on one PostgreSQL: a ban made on one refuses the IP on the other",
  ignore: POSTGRES_URL === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir("vbkpool-bans-instances-", async (dir) => {
      await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
      const db = await freshPostgresDatabase();
      const running: VbkpoolProcess[] = [];
      try {
        const a = await startServer(dir, db.url, 1);
        running.push(a.server);
        const b = await startServer(dir, db.url, 2);
        running.push(b.server);
        // A miner from the IP on b is closed by a ban made on a.
        const miner = await RawClient.connect(b.port);
        await miner.send('{"id":1,"method":"mining.subscribe","params":["bans/1"]}\n');
        await miner.waitLine(/"id":1,"result":\[/);
        const ban = await adminCall(a.admin, "POST", "/admin/bans", {
          ip: "127.0.0.1",
          seconds: 3600,
        });
        assert.equal(ban.status, 201, await ban.text());
        await miner.waitClosed();
        await b.server.waitForLog(/from the store: 1 IP bans made and 0 lifted by other pool/);
        assert.ok(await refused(b.port));
        // Lifted on b: a admits it again.
        const lift = await adminCall(b.admin, "DELETE", "/admin/bans/127.0.0.1");
        assert.equal(lift.status, 200, await lift.text());
        await a.server.waitForLog(/from the store: 0 IP bans made and 1 lifted by other pool/);
        assert.equal(await refused(a.port), false);
      } finally {
        for (const server of running) await server.kill();
        await db.drop();
      }
    });
  },
});
