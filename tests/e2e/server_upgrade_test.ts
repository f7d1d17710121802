/**
 * Zero-downtime upgrade under load, with real processes: a `vbkpool devnet`, pool A on a
 * Stratum port with `reuse_port`, miners submitting continuously; pool B starts on the same
 * port and store, A gets SIGUSR2, hands its miners over (`client.reconnect` spread over the
 * window) and exits. Every acknowledged share is stored once, no miner is refused, and the
 * figures (miners before/after, acknowledged vs stored, longest submit latency during the
 * hand-over) are printed. A ban made on A while both run holds on B afterwards (via the store).
 */
import assert from "node:assert/strict";
import { freshPostgresDatabase, POSTGRES_URL, queryRow } from "../store/_backends.ts";
import { spawnVbkpool, waitUntil, withTempDir } from "../_process.ts";
import { LoadMiner, totalCounts } from "./_stratum_load.ts";

/** Miners and hand-over window; larger runs for measurements: VBKPOOL_TEST_UPGRADE_MINERS=200. */
const MINERS = Number(Deno.env.get("VBKPOOL_TEST_UPGRADE_MINERS") ?? 20);
const WINDOW_SECONDS = Number(Deno.env.get("VBKPOOL_TEST_UPGRADE_WINDOW") ?? 2);
const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Count the stored shares, and the distinct share hashes. */
function storedShares(url: string): Promise<Record<string, number>> {
  return queryRow(url, "SELECT COUNT(*) AS n, COUNT(DISTINCT hash) AS d FROM shares");
}

async function upgradeUnderLoad(backend: "sqlite" | "postgres"): Promise<void> {
  const pg = backend === "postgres" ? await freshPostgresDatabase() : undefined;
  try {
    await withTempDir("vbkpool-upgrade-", async (dir) => {
      const storeUrl = pg?.url ?? `${dir}/pool.sqlite`;
      const devnet = spawnVbkpool([
        "devnet",
        "--listen",
        "127.0.0.1:0",
        "--min-difficulty",
        "20000",
        "--mempool-interval",
        "0",
      ], { cwd: dir });
      const procs = [devnet];
      const miners: LoadMiner[] = [];
      try {
        const { ucp } = await devnet.devnetAddresses(false);
        const port = freePort();
        const adminPort = freePort();
        const token = "upgrade-token-0123456789abcdef";
        await Deno.writeTextFile(
          `${dir}/vbkpool.toml`,
          [
            "[stratum]",
            `listen = ["127.0.0.1:${port} min=1"]`,
            "requests_per_second = 100000",
            "request_burst = 100000",
            "[nodecore]",
            `endpoints = ["127.0.0.1:${ucp}"]`,
            `address = "${POOL_ADDRESS}"`,
            "[api]",
            "enabled = false",
            "[admin]",
            "enabled = true",
            `listen = "127.0.0.1:${adminPort}"`,
            `token = "${token}"`,
            "[store]",
            `url = "${storeUrl}"`,
            'sqlite_synchronous = "normal"',
            "[process]",
            "reuse_port = true",
            `handover_window_seconds = ${WINDOW_SECONDS}`,
          ].join("\n"),
        );
        const a = spawnVbkpool(["server"], { cwd: dir });
        procs.push(a);
        await a.serverAddresses();
        await a.waitForLog(/upstream ready/);
        const answers: { sentAt: number; latency: number }[] = [];
        for (let i = 0; i < MINERS; i++) {
          miners.push(
            new LoadMiner({
              port,
              worker: `w${i}`,
              onAnswer: (sentAt, latency) => answers.push({ sentAt, latency }),
            }),
          );
        }
        await Promise.all(miners.map((m) => m.start()));
        for (const m of miners) m.submit();
        await waitUntil(() => totalCounts(miners).accepted >= 2000, "shares on pool A");

        const b = spawnVbkpool(["server"], { cwd: dir });
        procs.push(b);
        await b.serverAddresses();
        await b.waitForLog(/upstream ready/);
        // The admin port stays with A until it exits; B waits for it.
        await b.waitForLog(/admin listener: 127\.0\.0\.1:\d+ is held by another process/);
        // A ban the operator makes on A while both run reaches B through the store.
        const banned = "198.51.100.23";
        const admin = (method: string, path: string, body?: unknown) =>
          fetch(`http://127.0.0.1:${adminPort}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}` },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
        const ban = await admin("POST", "/admin/bans", { ip: banned, seconds: 3600 });
        assert.equal(ban.status, 201, await ban.text());
        const before = miners.filter((m) => m.ready).length;
        const acceptedBefore = totalCounts(miners).accepted;
        const handoverAt = Date.now();
        a.signal("SIGUSR2");
        assert.equal((await a.exited).code, 0, a.err);
        const exitedAt = Date.now();
        await waitUntil(() => miners.every((m) => m.ready), "every miner on pool B");
        const atExit = totalCounts(miners).accepted;
        await waitUntil(() => totalCounts(miners).accepted >= atExit + 2000, "shares on pool B");
        const after = miners.filter((m) => m.ready).length;
        await b.waitForLog(/admin listener on http:/);
        const list = spawnVbkpool(["admin", "connections"], { cwd: dir });
        assert.equal((await list.exited).code, 0, list.err);
        assert.equal(JSON.parse(list.out).connections.length, MINERS, "B holds every miner");
        await waitUntil(async () => {
          const bans = (await (await admin("GET", "/admin/bans")).json()).bans as { ip: string }[];
          return bans.some((b) => b.ip === banned);
        }, "A's ban in force on B");
        await Promise.all(miners.map((m) => m.stop()));
        assert.equal(await b.stop("SIGINT"), 0, b.err);
        await devnet.stop("SIGINT");

        const row = await storedShares(storeUrl);
        const total = totalCounts(miners);
        const during = answers.filter((x) => x.sentAt >= handoverAt && x.sentAt <= exitedAt);
        const worst = Math.max(0, ...during.map((x) => x.latency));
        const fromA = /extranonce counters of instance \d+ from (\d+)/;
        const startA = BigInt(fromA.exec(a.err)![1]!);
        const startB = BigInt(fromA.exec(b.err)![1]!);
        console.log(
          `upgrade (${backend}): miners ${before} before, ${after} after; ${total.accepted} shares ` +
            `acknowledged, ${row.n} stored (${row.d} distinct); ${
              total.accepted - acceptedBefore
            } acknowledged from the SIGUSR2 on; hand-over ${exitedAt - handoverAt} ms; ` +
            `${total.reconnectRequests} client.reconnect, ${total.reconnects} reconnects, ` +
            `${total.refused} refused; longest submit latency during the hand-over ${worst} ms ` +
            `(whole run ${total.maxLatencyMs} ms); longest time without a connection ` +
            `${total.maxOfflineMs} ms; ${total.unanswered} submits unread when A stopped ` +
            `reading (never acknowledged, never stored); errors ${JSON.stringify(total.errors)}`,
        );
        assert.equal(before, MINERS);
        assert.equal(after, MINERS);
        assert.equal(total.refused, 0);
        assert.equal(total.reconnectRequests, MINERS);
        // Blocks found by the load itself make a few in-flight submits stale; nothing else.
        const other = Object.keys(total.errors).filter((e) => !/^Job '\d+' not found$/.test(e));
        assert.deepEqual(other, []);
        assert.equal(row.n, total.accepted, "every acknowledged share is stored, none more");
        assert.equal(row.d, row.n, "no share is stored twice");
        assert.ok(startB > startA, "pool B reserved extranonces after pool A's");
        assert.match(a.err, new RegExp(`handing over: no new connections; ${MINERS} miners`));
      } finally {
        await Promise.all(miners.map((m) => m.stop()));
        for (const p of procs) await p.kill();
      }
    });
  } finally {
    await pg?.drop();
  }
}

Deno.test({
  name: "an upgrade under load (SIGUSR2 to the old process) loses and doubles no share (SQLite)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => upgradeUnderLoad("sqlite"),
});

Deno.test({
  name: "an upgrade under load loses and doubles no share (PostgreSQL)",
  ignore: POSTGRES_URL === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => upgradeUnderLoad("postgres"),
});

Deno.test({
  name: "SIGTERM during a hand-over stops at once and still stores every acknowledged share",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir("vbkpool-handover-stop-", async (dir) => {
      await Deno.writeTextFile(
        `${dir}/vbkpool.toml`,
        [
          "[stratum]",
          'listen = ["127.0.0.1:0 min=1"]',
          "requests_per_second = 100000",
          "request_burst = 100000",
          "[api]",
          "enabled = false",
          "[store]",
          `url = "${dir}/pool.sqlite"`,
          "[process]",
          "handover_window_seconds = 600",
        ].join("\n"),
      );
      const server = spawnVbkpool(["server"], { cwd: dir });
      const miners: LoadMiner[] = [];
      try {
        const port = (await server.serverAddresses()).stratum[0]!;
        await server.waitForLog(/upstream ready/);
        for (let i = 0; i < 10; i++) miners.push(new LoadMiner({ port, worker: `w${i}` }));
        await Promise.all(miners.map((m) => m.start()));
        for (const m of miners) m.submit();
        await waitUntil(() => totalCounts(miners).accepted >= 500, "shares");
        server.signal("SIGUSR2");
        // The first miner is asked to reconnect at once; the other nine would wait minutes.
        await waitUntil(() => totalCounts(miners).reconnectRequests >= 1, "the hand-over");
        server.signal("SIGTERM");
        // Bounded: the window is 600 s, a stop that waited for it would hang here.
        await waitUntil(() => server.status !== undefined, "the exit after SIGTERM", 30_000);
        assert.equal((await server.exited).code, 0, server.err);
        await Promise.all(miners.map((m) => m.stop()));
        const row = await storedShares(`${dir}/pool.sqlite`);
        const total = totalCounts(miners);
        assert.ok(total.reconnectRequests < 10, "stopped before the window ended");
        assert.equal(row.n, total.accepted, "every acknowledged share is stored");
        assert.equal(row.d, row.n);
      } finally {
        await Promise.all(miners.map((m) => m.stop()));
        await server.kill();
      }
    });
  },
});
