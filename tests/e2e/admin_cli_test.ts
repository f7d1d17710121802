/**
 * `vbkpool admin` against a running `vbkpool server` (real processes): every command, the
 * token cases (wrong, none, file missing, rotated by a reload), and the admin port from an
 * attacker's side (no token, bad bodies, oversized requests, unknown routes, connection
 * flood); nothing admin-only on the public API port, `/metrics` restricted there.
 */
import assert from "node:assert/strict";
import { spawnVbkpool, waitUntil, withTempDir } from "../_process.ts";
import { LOAD_ADDRESS } from "./_stratum_load.ts";
import { RawClient } from "./_raw_client.ts";

const TOKEN = "admin-token-0123456789abcdef";

Deno.test({
  name: "vbkpool admin drives a running server; the admin port resists attackers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await withTempDir("vbkpool-admin-", async (dir) => {
      const cliDir = `${dir}/cli`;
      await Deno.mkdir(cliDir);
      await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
      const configText = [
        "[stratum]",
        'listen = ["127.0.0.1:0 min=1"]',
        "exempt_loopback = false",
        "[api]",
        'listen = "127.0.0.1:0"',
        'metrics_allow = ["10.9.9.9"]',
        "[admin]",
        "enabled = true",
        'listen = "127.0.0.1:0"',
        `token_file = "${dir}/token"`,
        "[store]",
        `url = "${dir}/pool.sqlite"`,
      ].join("\n");
      await Deno.writeTextFile(`${dir}/vbkpool.toml`, configText);
      const server = spawnVbkpool(["server"], { cwd: dir });
      const clients: RawClient[] = [];
      try {
        const { stratum, api } = await server.serverAddresses();
        let apiNow = api!;
        const port = stratum[0]!;
        const adminUrl = (await server.waitForLog(/admin listener on (http:\/\/[\d.:]+) /))[1]!;
        const adminAddr = adminUrl.slice("http://".length);
        await server.waitForLog(/upstream ready/);

        const admin = async (args: string[], env: Record<string, string> = {}) => {
          const p = spawnVbkpool(["admin", ...args, "--admin.listen", adminAddr], {
            cwd: cliDir,
            env: { VBKPOOL_ADMIN_TOKEN: TOKEN, ...env },
          });
          const status = await p.exited;
          return { code: status.code, out: p.out, err: p.err };
        };
        const call = (path: string, init: RequestInit = {}, token = TOKEN) =>
          fetch(`${adminUrl}${path}`, {
            ...init,
            headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
          });

        const miner = await RawClient.connect(port);
        clients.push(miner);
        await miner.send(
          '{"id":1,"method":"mining.subscribe","params":["raw/1.0"]}\n' +
            `{"id":2,"method":"mining.authorize","params":["${LOAD_ADDRESS}.rig","x"]}\n`,
        );
        await miner.waitLine(/"id":2,"result":true/);

        await t.step("connections, difficulty, drop", async () => {
          const list = await admin(["connections"]);
          assert.equal(list.code, 0, list.err);
          const conns = JSON.parse(list.out).connections as { id: number; workers: string[] }[];
          const mine = conns.find((c) => c.workers.includes(`${LOAD_ADDRESS}.rig`));
          assert.ok(mine !== undefined, list.out);
          const seen = miner.lines.length;
          const diff = await admin(["difficulty", `${LOAD_ADDRESS}.rig`, "8192"]);
          assert.equal(diff.code, 0, diff.err);
          assert.equal(JSON.parse(diff.out).connections, 1);
          await miner.waitLine(/"mining\.set_difficulty","params":\["8192"\]/, seen);
          const none = await admin(["difficulty", "VNOBODYxxxxxxxxxxxxxxxxxxxxxx.x", "8"]);
          assert.equal(none.code, 1);
          assert.match(none.err, /no connection of/);
          const drop = await admin(["drop", String(mine.id)]);
          assert.equal(drop.code, 0, drop.err);
          await miner.waitClosed();
          assert.equal((await admin(["drop", String(mine.id)])).code, 1);
          assert.equal((await admin(["drop", "abc"])).code, 1);
        });

        await t.step("ban, bans, unban", async () => {
          const ban = await admin(["ban", "127.0.0.1", "--seconds", "120"]);
          assert.equal(ban.code, 0, ban.err);
          const refused = await RawClient.connect(port);
          clients.push(refused);
          await refused.waitClosed();
          const bans = JSON.parse((await admin(["bans"])).out).bans as { ip: string }[];
          assert.deepEqual(bans.map((b) => b.ip), ["127.0.0.1"]);
          assert.equal((await admin(["unban", "127.0.0.1"])).code, 0);
          assert.equal((await admin(["unban", "127.0.0.1"])).code, 1);
          const welcome = await RawClient.connect(port);
          clients.push(welcome);
          await welcome.send('{"id":1,"method":"mining.subscribe","params":[]}\n');
          await welcome.waitLine(/"id":1,"result":\[/);
          // An IPv4-mapped or uncanonical IPv6 address is the address the pool keys peers by.
          assert.equal((await admin(["ban", "::FFFF:10.9.8.7"])).code, 0);
          assert.equal((await admin(["ban", "2001:DB8:0:0::7"])).code, 0);
          const keyed = JSON.parse((await admin(["bans"])).out).bans as { ip: string }[];
          assert.deepEqual(keyed.map((b) => b.ip).sort(), ["10.9.8.7", "2001:db8::7"]);
          assert.equal((await admin(["unban", "10.9.8.7"])).code, 0);
          assert.equal((await admin(["unban", "2001:db8::7"])).code, 0);
          const bad = await admin(["ban", "999.1.1.1"]);
          assert.equal(bad.code, 1);
          assert.match(bad.err, /IPv4 or IPv6/);
          // Text no peer can have (a zone id, malformed IPv6) is refused, not banned in vain.
          for (const text of ["fe80::1%eth0", ":::", "1:2:3", "::1:2:3:4:5:6:7:8"]) {
            const refused = await call("/admin/bans", {
              method: "POST",
              body: JSON.stringify({ ip: text }),
            });
            assert.equal(refused.status, 400, text);
            await refused.body?.cancel();
          }
          assert.equal((await admin(["ban"])).code, 2);
        });

        await t.step("upstream, store, payments, settle, metrics", async () => {
          const up = await admin(["upstream"]);
          assert.equal(JSON.parse(up.out).state, "ready", up.out);
          const store = await admin(["store"]);
          assert.equal(JSON.parse(store.out).healthy, true, store.out);
          const pay = await admin(["payments"]);
          assert.equal(pay.code, 0, pay.err);
          assert.deepEqual(JSON.parse(pay.out).unknown, []);
          const settle = await admin(["settle", "1", "--not-sent"]);
          assert.equal(settle.code, 1);
          assert.match(settle.err, /there is no payment 1/);
          assert.equal((await admin(["settle", "1"])).code, 2);
          const metrics = await admin(["metrics"]);
          assert.equal(metrics.code, 0, metrics.err);
          assert.match(metrics.out, /^vbkpool_/m);
        });

        await t.step("reload: applied, refused, token rotated", async () => {
          // [api] changes restart the API: /metrics opens to loopback.
          await Deno.writeTextFile(
            `${dir}/vbkpool.toml`,
            configText.replace('metrics_allow = ["10.9.9.9"]', 'metrics_allow = ["127.0.0.1"]'),
          );
          const ok = await admin(["reload"]);
          assert.equal(ok.code, 0, ok.err);
          const report = JSON.parse(ok.out);
          assert.equal(report.ok, true);
          assert.deepEqual(report.applied, [{
            key: "api.metrics_allow",
            from: '["10.9.9.9"]',
            to: '["127.0.0.1"]',
          }]);
          const apiLines =
            () => [...server.err.matchAll(/vbkpool·api: HTTP API on (http:\/\/[\d.:]+)\/api/g)];
          await waitUntil(() => apiLines().length === 2, "the API restarted");
          const apis = apiLines();
          const metrics = await fetch(`${apis[1]![1]}/metrics`);
          assert.equal(metrics.status, 200);
          await metrics.body?.cancel();
          await Deno.writeTextFile(`${dir}/vbkpool.toml`, "[stratum]\nnot_a_key = 1\n");
          const refused = await admin(["reload"]);
          assert.equal(refused.code, 1);
          assert.match(refused.err, /Unknown configuration key stratum\.not_a_key/);
          await Deno.writeTextFile(`${dir}/vbkpool.toml`, configText);
          const next = "rotated-token-abcdef0123456789";
          await Deno.writeTextFile(`${dir}/token`, `${next}\n`);
          assert.equal((await admin(["reload"])).code, 0);
          assert.equal((await call("/admin/store")).status, 401);
          const r = await call("/admin/store", {}, next);
          assert.equal(r.status, 200);
          await r.body?.cancel();
          await Deno.writeTextFile(`${dir}/token`, `${TOKEN}\n`);
          assert.equal((await admin(["reload"], { VBKPOOL_ADMIN_TOKEN: next })).code, 0);
          // The second reload put metrics_allow back: a third API start.
          await waitUntil(() => apiLines().length === 3, "the API restarted again");
          apiNow = apiLines().at(-1)![1]!;
        });

        await t.step("token: wrong, none, file missing", async () => {
          const wrong = await admin(["bans"], { VBKPOOL_ADMIN_TOKEN: "wrong-token-0123456789" });
          assert.equal(wrong.code, 1);
          assert.match(wrong.err, /valid bearer token is required \(HTTP 401\)/);
          const p = spawnVbkpool(["admin", "bans", "--admin.listen", adminAddr], {
            cwd: cliDir,
            clearEnv: true,
            env: { PATH: Deno.env.get("PATH") ?? "" },
          });
          assert.equal((await p.exited).code, 2);
          assert.match(p.err, /needs admin\.token .* or admin\.token_file/);
          const missing = spawnVbkpool([
            "admin",
            "bans",
            "--admin.listen",
            adminAddr,
            "--admin.token_file",
            `${dir}/missing`,
          ], { cwd: cliDir, clearEnv: true, env: { PATH: Deno.env.get("PATH") ?? "" } });
          assert.equal((await missing.exited).code, 2);
          assert.match(missing.err, /Cannot read admin\.token_file/);
          const short = await admin(["bans"], { VBKPOOL_ADMIN_TOKEN: "short" });
          assert.equal(short.code, 2);
        });

        await t.step("attacker: the admin port", async () => {
          const status = async (r: Promise<Response>) => {
            const response = await r;
            await response.body?.cancel();
            return response.status;
          };
          assert.equal(await status(fetch(`${adminUrl}/admin/bans`)), 401);
          assert.equal(
            await status(
              fetch(`${adminUrl}/admin/bans`, { headers: { authorization: "Basic x" } }),
            ),
            401,
          );
          assert.equal(await status(call("/admin/bans", { method: "PUT" })), 405);
          assert.equal(await status(call("/admin/nothing")), 404);
          assert.equal(await status(call("/admin/bans/1.2.3.4/extra", { method: "DELETE" })), 404);
          assert.equal(await status(call("/admin/bans/%zz", { method: "DELETE" })), 400);
          const post = (path: string, body: string) =>
            status(
              call(path, { method: "POST", body, headers: { "content-type": "application/json" } }),
            );
          assert.equal(await post("/admin/bans", "{not json"), 400);
          assert.equal(await post("/admin/bans", "[1,2]"), 400);
          assert.equal(await post("/admin/bans", '{"ip":"10.0.0.1","evil":1}'), 400);
          assert.equal(await post("/admin/bans", '{"ip":42}'), 400);
          assert.equal(await post("/admin/bans", '{"ip":"10.0.0.1","seconds":-5}'), 400);
          assert.equal(await post("/admin/difficulty", '{"worker":"x","difficulty":"1e9"}'), 400);
          assert.equal(await post("/admin/difficulty", '{"worker":"x","difficulty":0}'), 400);
          assert.equal(
            await post("/admin/difficulty", `{"worker":"x","difficulty":"${"9".repeat(90)}"}`),
            400,
          );
          assert.equal(await post("/admin/payments/1/settle", '{"sent":"zz"}'), 400);
          assert.equal(
            await post("/admin/payments/1/settle", '{"sent":"00","not_sent":true}'),
            400,
          );
          assert.equal(await post("/admin/bans", JSON.stringify({ ip: "x".repeat(5000) })), 413);
          assert.equal(
            await status(call("/admin/bans", { headers: { "x-big": "y".repeat(10_000) } })),
            431,
          );
          // Nothing admin-only on the public port; /metrics only for the listed address there.
          assert.equal(await status(fetch(`${apiNow}/admin/bans`)), 404);
          assert.equal(await status(fetch(`${apiNow}/metrics`)), 403);
          assert.equal(await status(call("/metrics")), 200);
          // A connection flood: the admin port holds 16 at once and closes the rest at accept.
          const flood: RawClient[] = [];
          for (let i = 0; i < 24; i++) {
            flood.push(await RawClient.connect(Number(adminAddr.split(":")[1])));
          }
          clients.push(...flood);
          await waitUntil(() => flood.filter((c) => c.closed).length >= 8, "the flood capped");
          for (const c of flood) await c.close();
          // Still serving its operator.
          await waitUntil(async () => (await status(call("/admin/store"))) === 200, "admin back");
        });

        await t.step("handover with no miners: the server exits cleanly", async () => {
          const r = await admin(["handover"]);
          assert.equal(r.code, 0, r.err);
          assert.equal(JSON.parse(r.out).windowSeconds, 10);
          assert.equal((await server.exited).code, 0, server.err);
          assert.match(server.err, /handing over: no new connections/);
          const gone = await admin(["bans"]);
          assert.equal(gone.code, 1);
          assert.match(gone.err, /cannot reach the admin listener/);
        });
      } finally {
        for (const c of clients) await c.close();
        await server.kill();
      }
    });
  },
});
