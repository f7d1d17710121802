/**
 * `[process] workers = 2` from an attacker's side, with real processes and real TCP: offences
 * are counted for the whole pool, not by the worker a connection happens to land on. With
 * `ban_offences = 3`, an attacker (a loopback address, 127.0.0.x bound with `node:net`, with
 * `exempt_loopback = false`) opens offending connections one at a time (three garbage lines
 * each: closed for protocol errors) and steers them over both workers (a connection that lands
 * on the wrong worker is closed cleanly and tried again; the extranonce's top bits name the
 * worker). Checked for two orders (worker 0, 1, 0 and worker 1, 0, 1, where no worker sees
 * three of them itself): after two offending connections the IP is still admitted by both
 * workers, and the third bans it on both, with 3 offences on the ban.
 */
import assert from "node:assert/strict";
import { spawnVbkpool, type VbkpoolProcess, waitUntil, withTempDir } from "../_process.ts";
import {
  type Admitted,
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

/** Enough attempts that, were one worker not refusing, some would reach it (1 − 2⁻²⁴). */
const ATTEMPTS = 24;

function escaped(ip: string): string {
  return ip.replaceAll(".", "\\.");
}

/**
 * An admitted connection from `ip` on `instance`'s worker (the others are closed cleanly, no
 * offence); fails if `ip` is refused on the way.
 */
async function landOn(port: number, ip: string, instance: number): Promise<Admitted> {
  return await waitUntil(async () => {
    const got = await attempt(port, ip);
    assert.ok(got, `${ip} refused before its third offending connection`);
    if (got.instance === instance) return got;
    await got.client.close();
  }, `a connection from ${ip} on instance ${instance}`);
}

Deno.test({
  name: "vbkpool server with two workers: ban_offences = 3 bans an IP after 3 offending " +
    "connections in all, whichever workers they landed on",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await withTempDir("vbkpool-workers-offences-", async (dir) => {
      const devnet = spawnDevnet(dir);
      const procs: VbkpoolProcess[] = [devnet];
      try {
        const { ucp } = await devnet.devnetAddresses(false);
        const port = freePort();
        const admin = freePort();
        await writeAttackConfig(dir, { stratum: port, api: freePort(), admin, ucp }, [
          "ban_offences = 3",
          "ban_offence_window_seconds = 600",
        ]);
        const server = spawnVbkpool(["server"], { cwd: dir });
        procs.push(server);
        await waitUntil(() => count(server.err, /upstream ready/) >= 2, "both workers ready");
        const adminBans = async (): Promise<{ ip: string; reason: string; offences: number }[]> => {
          const r = await fetch(`http://127.0.0.1:${admin}/admin/bans`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          return (await r.json()).bans;
        };

        const orders: [string, number[]][] = [
          ["127.0.0.41", [WORKER0, WORKER1, WORKER0]],
          ["127.0.0.42", [WORKER1, WORKER0, WORKER1]],
        ];
        for (const [ip, order] of orders) {
          const name = order.map((i) => i === WORKER0 ? 0 : 1).join(", ");
          await t.step(`${ip}: offending connections on workers ${name}`, async () => {
            for (const [n, instance] of order.entries()) {
              if (n === 2) {
                // Two offending connections in all: both workers still admit the IP.
                const seen = new Set<number>();
                await waitUntil(async () => {
                  const [got] = await attempts(port, ip, 1);
                  assert.ok(got !== undefined, `${ip} refused after 2 offending connections`);
                  seen.add(got);
                  return seen.has(WORKER0) && seen.has(WORKER1);
                }, `${ip} admitted by both workers after 2 offending connections`);
                assert.equal((await adminBans()).some((b) => b.ip === ip), false, "not listed");
              }
              const offender = await landOn(port, ip, instance);
              for (let i = 0; i < 3; i++) offender.client.sendRaw("garbage");
              await offender.client.closed;
            }
            // The third banned the IP: worker 0 (the admin listener) lists it whichever worker
            // made it, with the 3 offending connections of both workers behind it.
            const ban = await waitUntil(
              async () => (await adminBans()).find((b) => b.ip === ip),
              `${ip} banned after its third offending connection`,
              { timeoutMs: 30_000 },
            );
            assert.equal(ban.reason, "protocol_errors");
            assert.equal(ban.offences, 3);
            assert.match(
              server.err,
              new RegExp(`banned ${escaped(ip)} for 600 s: 3 of its connections were closed`),
            );
            const results = await attempts(port, ip, ATTEMPTS);
            assert.deepEqual(results, new Array(ATTEMPTS).fill(undefined), "every one refused");
            // Each worker logs its first refusal of a ban: both refused some.
            await waitUntil(
              () =>
                count(
                  server.err,
                  new RegExp(`refusing connections from banned ${escaped(ip)} `),
                ) === 2,
              "both workers refusing",
            );
          });
        }

        await t.step("another IP is not touched", async () => {
          const results = await attempts(port, "127.0.0.43", 4);
          assert.ok(results.every((r) => r !== undefined), `${results}`);
        });
      } finally {
        for (const p of procs.reverse()) await p.kill();
      }
    });
  },
});
