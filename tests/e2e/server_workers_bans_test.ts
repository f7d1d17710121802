/**
 * `[process] workers = 2` from an attacker's side, with real processes and real TCP: bans and
 * per-IP caps hold for the whole pool, not for the worker a connection happens to land on (the
 * kernel spreads connections over the workers by their addresses and ports, so an attacker's
 * new connections reach both). Attackers are loopback addresses (127.0.0.x, bound with
 * `node:net`) with `exempt_loopback = false`. Checked: an IP banned by worker 1 for its offences
 * is refused by both workers (and listed by worker 0's admin listener); the per-IP cap counts
 * the connections of both workers, and so does the port's `max_connections`; `vbkpool admin
 * unban` lifts a ban on both; a worker killed with SIGKILL comes back refusing the banned IP;
 * garbage and an oversized line on the supervisor's link socket close that link only.
 */
import assert from "node:assert/strict";
import { spawnVbkpool, type VbkpoolProcess, waitUntil, withTempDir } from "../_process.ts";
import { TestClient } from "../server/_stratum_client.ts";
import {
  attempt,
  attempts,
  count,
  freePort,
  spawnDevnet,
  TOKEN,
  WORKER0,
  WORKER1,
  writeAttackConfig,
} from "./_workers_stack.ts";

const CAP = 6;
/** The port's max_connections, for the whole pool (above the per-IP steps' 2 × CAP). */
const MAX_CONNECTIONS = 16;
/** Enough attempts that, were one worker not refusing, some would reach it (1 − 2⁻²⁴). */
const ATTEMPTS = 24;
const ATTACKER = "127.0.0.21";
const BYSTANDER = "127.0.0.22";
const CAPPED = "127.0.0.23";

Deno.test({
  name: "vbkpool server with two workers: bans and the per-IP cap hold on both workers, unban " +
    "lifts everywhere, a restarted worker refuses banned IPs, a bad link line harms nothing",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await withTempDir("vbkpool-workers-bans-", async (dir) => {
      const devnet = spawnDevnet(dir);
      const procs: VbkpoolProcess[] = [devnet];
      const open: TestClient[] = [];
      try {
        const { ucp } = await devnet.devnetAddresses(false);
        const port = freePort();
        const admin = freePort();
        await writeAttackConfig(dir, { stratum: port, api: freePort(), admin, ucp }, [
          `max_connections_per_ip = ${CAP}`,
          `max_connections = ${MAX_CONNECTIONS}`,
          "ban_offences = 1",
        ]);
        const server = spawnVbkpool(["server"], { cwd: dir });
        procs.push(server);
        await waitUntil(() => count(server.err, /upstream ready/) >= 2, "both workers ready");
        const linkPath = /workers share offences, bans and per-IP connection counts through (\S+)/
          .exec(server.err)![1]!;
        const adminGet = async (path: string) => {
          const r = await fetch(`http://127.0.0.1:${admin}${path}`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          return await r.json();
        };
        const vbkpoolAdmin = async (...args: string[]) => {
          const p = spawnVbkpool(["admin", ...args], { cwd: dir });
          const status = await p.exited;
          assert.equal(status.code, 0, p.err);
        };

        await t.step("the attacker's connections land on both workers", async () => {
          const seen = new Set<number | undefined>();
          await waitUntil(async () => {
            for (const instance of await attempts(port, ATTACKER, 1)) seen.add(instance);
            return seen.has(WORKER0) && seen.has(WORKER1);
          }, "connections from the attacker on both workers");
        });

        await t.step("banned by worker 1 for its offences: refused by both workers", async () => {
          // A connection that worker 1 took; three garbage lines are its offence (one bans).
          const onWorker1 = await waitUntil(async () => {
            const got = await attempt(port, ATTACKER);
            if (got?.instance === WORKER1) return got;
            await got?.client.close();
          }, "a connection on worker 1");
          for (let i = 0; i < 3; i++) onWorker1.client.sendRaw("garbage");
          await onWorker1.client.closed;
          // Worker 0 (the API and admin listener) lists the ban worker 1 made.
          const ban = await waitUntil(async () => {
            const { bans } = await adminGet("/admin/bans");
            return bans.find((b: { ip: string }) => b.ip === ATTACKER);
          }, "worker 0 lists the ban");
          assert.equal(ban.reason, "protocol_errors");
          assert.match(server.err, /banned 127\.0\.0\.21 for 600 s: 1 of its connections/);
          assert.match(server.err, /banned 127\.0\.0\.21 for \d+ s by another worker/);
          const results = await attempts(port, ATTACKER, ATTEMPTS);
          assert.deepEqual(results, new Array(ATTEMPTS).fill(undefined), "every one refused");
          // Each worker logs its first refusal of a ban: both refused some.
          await waitUntil(
            () => count(server.err, /refusing connections from banned 127\.0\.0\.21 /) === 2,
            "both workers refusing",
          );
          // Somebody else is welcome.
          const bystander = await attempt(port, BYSTANDER);
          assert.ok(bystander, "another IP is admitted");
          await bystander.client.close();
        });

        await t.step("the per-IP cap counts both workers' connections", async () => {
          const live = () => open.filter((c) => c.closedReason === undefined).length;
          // A burst of CAP + 14 at once: each worker admits up to CAP before it hears of the
          // other's (2 × CAP without sharing, and it would stay so); once the counts have met,
          // each closes its share of the excess.
          const burst = await Promise.all(
            Array.from({ length: CAP + 14 }, () => attempt(port, CAPPED)),
          );
          for (const got of burst) if (got !== undefined) open.push(got.client);
          assert.ok(open.length <= 2 * CAP, `${open.length} admitted`);
          await waitUntil(() => live() <= CAP, () => `at most ${CAP} left, not ${live()}`);
          assert.ok(live() >= 1, "the excess went, not everything");
          // A fast attacker, one connection after another: the same.
          for (let i = 0; i < CAP + 10; i++) {
            const got = await attempt(port, CAPPED);
            if (got !== undefined) open.push(got.client);
          }
          await waitUntil(() => live() <= CAP, () => `at most ${CAP} left, not ${live()}`);
          // Those kept stay; with one closed, one more is admitted.
          const kept = open.filter((c) => c.closedReason === undefined);
          await kept[0]?.close();
          await waitUntil(async () => {
            const got = await attempt(port, CAPPED);
            if (got !== undefined) open.push(got.client);
            return got !== undefined;
          }, "room for one more after a close");
          assert.ok(live() <= CAP);
          for (const c of open.splice(0)) await c.close();
        });

        await t.step("max_connections counts both workers' connections", async () => {
          // One miner after another from its own address, until the port is full.
          const held: TestClient[] = [];
          const on = new Set<number>();
          for (let i = 0; held.length < MAX_CONNECTIONS && i < 4 * MAX_CONNECTIONS; i++) {
            const got = await attempt(port, `127.0.0.${40 + i}`);
            if (got !== undefined) {
              held.push(got.client);
              on.add(got.instance);
            }
          }
          open.push(...held);
          assert.equal(held.length, MAX_CONNECTIONS);
          assert.ok(on.has(WORKER0) && on.has(WORKER1), "the miners landed on both workers");
          // Full for the whole pool: refused on either worker, though each holds less than the
          // cap alone (once the last counts have travelled, within milliseconds).
          await waitUntil(
            async () => (await attempts(port, "127.0.0.120", 1))[0] === undefined,
            "the port full",
          );
          const results = await attempts(port, "127.0.0.121", ATTEMPTS);
          assert.deepEqual(results, new Array(ATTEMPTS).fill(undefined), "every one refused");
          // One leaves: room for one more.
          await held[0]!.close();
          const next = await waitUntil(() => attempt(port, "127.0.0.122"), "room after a close");
          open.push(next.client);
          for (const c of open.splice(0)) await c.close();
        });

        await t.step(
          "garbage and a huge line on the link socket close that link only",
          async () => {
            for (const payload of ["garbage\n", "x".repeat(2 << 20)]) {
              const conn = await Deno.connect({ transport: "unix", path: linkPath });
              const bytes = new TextEncoder().encode(payload);
              let off = 0;
              try {
                while (off < bytes.length) off += await conn.write(bytes.subarray(off));
              } catch {
                // Closed by the supervisor mid-write.
              }
              const buf = new Uint8Array(1024);
              try {
                while ((await conn.read(buf)) !== null) { /* until the supervisor closes it */ }
              } catch {
                // A reset is a close too.
              }
              conn.close();
            }
            await waitUntil(
              () => /worker link closed: bad message: not JSON/.test(server.err),
              "garbage refused",
            );
            await waitUntil(() => /worker link closed: line too long/.test(server.err), "too long");
            assert.equal(server.status, undefined, "the supervisor runs on");
            assert.doesNotMatch(server.err, /link to the supervisor lost/);
          },
        );

        await t.step("vbkpool admin unban lifts the ban on both workers", async () => {
          await vbkpoolAdmin("unban", ATTACKER);
          // Worker 1 heard of it: it admits the attacker again.
          await waitUntil(async () => (await attempts(port, ATTACKER, 1))[0] === WORKER1, "w1");
          assert.match(server.err, /ban of 127\.0\.0\.21 lifted by another worker/);
          const results = await attempts(port, ATTACKER, ATTEMPTS);
          assert.ok(results.every((r) => r !== undefined), `all admitted: ${results}`);
          assert.ok(results.includes(WORKER0) && results.includes(WORKER1), `${results}`);
          assert.deepEqual((await adminGet("/admin/bans")).bans, []);
        });

        await t.step("a worker killed and started again refuses the banned IP", async () => {
          await vbkpoolAdmin("ban", ATTACKER);
          const pids = [...server.err.matchAll(/worker 1 started \(pid (\d+)/g)];
          const victim = Number(pids.at(-1)![1]);
          const mark = server.err.length;
          const ready = count(server.err, /upstream ready/);
          Deno.kill(victim, "SIGKILL");
          await waitUntil(
            () => /worker 1 started \(pid \d+/.test(server.err.slice(mark)),
            "restart",
          );
          await waitUntil(() => count(server.err, /upstream ready/) > ready, "worker 1 ready");
          const results = await attempts(port, ATTACKER, ATTEMPTS);
          assert.deepEqual(results, new Array(ATTEMPTS).fill(undefined), "every one refused");
          // Worker 0 and the new worker 1 each logged their first refusal of this ban.
          await waitUntil(
            () =>
              count(server.err.slice(mark), /refusing connections from banned 127\.0\.0\.21 /) ===
                2,
            "both workers refusing",
          );
          assert.equal((await adminGet("/admin/bans")).bans.length, 1);
        });

        server.signal("SIGTERM");
        await waitUntil(() => server.status !== undefined, "the supervisor exits", 30_000);
        assert.equal((await server.exited).code, 0, server.err);
        await assert.rejects(Deno.stat(linkPath), Deno.errors.NotFound);
      } finally {
        for (const c of open) await c.close();
        for (const p of procs.reverse()) await p.kill();
      }
    });
  },
});
