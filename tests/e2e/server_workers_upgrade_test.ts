/**
 * Zero-downtime upgrade of a `[process] workers = 2` pool, with real processes: a `vbkpool
 * devnet` (with its NodeCore HTTP API), supervisor A (two workers, `reuse_port`, payouts
 * in-process on worker 0) with miners submitting continuously; supervisor B starts beside it on
 * the same ports and store; A is told to hand over (SIGUSR2 on SQLite, `vbkpool admin handover`
 * to A's first worker on PostgreSQL), hands every worker's miners over and exits 0. Checked: no
 * miner is refused or asked twice, every one ends on B, every acknowledged share is stored once,
 * B's workers took A's instance ids and B's first worker the admin port, and, when the load found
 * blocks, `vbkpool audit --nodecore` finds the books in order (A's and B's payout services ran
 * side by side for a while). The figures (miners before/after, acknowledged vs stored, longest
 * submit latency during the hand-over) are printed.
 */
import assert from "node:assert/strict";
import { freshPostgresDatabase, POSTGRES_URL, queryRow } from "../store/_backends.ts";
import { spawnVbkpool, type VbkpoolProcess, waitUntil, withTempDir } from "../_process.ts";
import { LoadMiner, totalCounts } from "./_stratum_load.ts";
import { runAudit } from "./_payouts_stack.ts";
import { alive, count, freePort, POOL_ADDRESS, TOKEN, workerPids } from "./_workers_stack.ts";

/** Miners and hand-over window; larger runs for measurements: VBKPOOL_TEST_UPGRADE_MINERS=200. */
const MINERS = Number(Deno.env.get("VBKPOOL_TEST_UPGRADE_MINERS") ?? 24);
const WINDOW_SECONDS = Number(Deno.env.get("VBKPOOL_TEST_UPGRADE_WINDOW") ?? 2);

/** Stop supervisors (SIGTERM, then SIGKILL), then any worker left, then the rest. */
async function cleanUp(supervisors: VbkpoolProcess[], others: VbkpoolProcess[]): Promise<void> {
  for (const p of supervisors) {
    p.signal("SIGTERM");
    const timer = setTimeout(() => p.signal("SIGKILL"), 20_000);
    await p.exited;
    clearTimeout(timer);
  }
  for (const pid of supervisors.flatMap((p) => [...workerPids(p.err).values()].flat())) {
    if (!alive(pid)) continue;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  for (const p of others) await p.kill();
}

async function writeConfig(
  dir: string,
  o: { port: number; api: number; admin: number; ucp: number; storeUrl: string; wallet: string },
): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/vbkpool.toml`,
    [
      "[stratum]",
      `listen = ["127.0.0.1:${o.port} min=1"]`,
      "requests_per_second = 100000",
      "request_burst = 100000",
      // A successor sees its predecessor renew within a second.
      "instance_lease_seconds = 3",
      "[nodecore]",
      `endpoints = ["127.0.0.1:${o.ucp}"]`,
      `address = "${POOL_ADDRESS}"`,
      "backoff_min_ms = 50",
      "[api]",
      `listen = "127.0.0.1:${o.api}"`,
      "rate_limit_per_second = 0",
      "[admin]",
      "enabled = true",
      `listen = "127.0.0.1:${o.admin}"`,
      `token = "${TOKEN}"`,
      "[payouts]",
      // Worker 0 of A and of B each run a payout service; the payer lock keeps one paying.
      "enabled = true",
      "interval_seconds = 1",
      "confirmations = 2",
      'minimum_payment = "0.1"',
      "payment_confirmations = 1",
      `fees = ["${POOL_ADDRESS}=1"]`,
      "[wallet]",
      `url = "${o.wallet}"`,
      "[store]",
      `url = "${o.storeUrl}"`,
      'sqlite_synchronous = "normal"',
      "[process]",
      "workers = 2",
      "reuse_port = true",
      `handover_window_seconds = ${WINDOW_SECONDS}`,
    ].join("\n"),
  );
}

async function upgradeWorkers(backend: "sqlite" | "postgres"): Promise<void> {
  const pg = backend === "postgres" ? await freshPostgresDatabase() : undefined;
  try {
    await withTempDir("vbkpool-workers-upgrade-", async (dir) => {
      const storeUrl = pg?.url ?? `${dir}/pool.sqlite`;
      const devnet = spawnVbkpool([
        "devnet",
        "--listen",
        "127.0.0.1:0",
        "--api-listen",
        "127.0.0.1:0",
        // Blocks every few thousand shares: credits and payments during the run.
        "--min-difficulty",
        "3000",
        "--mempool-interval",
        "0",
      ], { cwd: dir });
      const supervisors: VbkpoolProcess[] = [];
      const miners: LoadMiner[] = [];
      try {
        const { ucp, api: wallet } = await devnet.devnetAddresses(true);
        const port = freePort();
        const apiPort = freePort();
        await writeConfig(dir, {
          port,
          api: apiPort,
          admin: freePort(),
          ucp,
          storeUrl,
          wallet: wallet!,
        });
        const a = spawnVbkpool(["server"], { cwd: dir });
        supervisors.push(a);
        await a.until(() => count(a.err, /upstream ready/) >= 2 || undefined, "A's workers ready");
        await a.waitForLog(/admin listener on http:/);
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

        // B beside A: same ports, same store, same instance ids.
        const b = spawnVbkpool(["server"], { cwd: dir });
        supervisors.push(b);
        await b.waitForLog(/in use: starting beside a running pool on the same ports and store/);
        await b.until(() => count(b.err, /upstream ready/) >= 2 || undefined, "B's workers ready");
        for (const id of [31, 30]) {
          assert.match(
            b.err,
            new RegExp(`instance id ${id} is held by .* starting as its successor \\(hand-over\\)`),
          );
        }
        // The admin port stays with A's first worker until it exits.
        await b.waitForLog(/admin listener: 127\.0\.0\.1:\d+ is held by another process/);
        const before = miners.filter((m) => m.ready).length;
        const acceptedBefore = totalCounts(miners).accepted;
        const handoverAt = Date.now();
        if (backend === "sqlite") a.signal("SIGUSR2");
        else {
          // The admin listener is A's first worker's: it asks A's supervisor.
          const asked = spawnVbkpool(["admin", "handover"], { cwd: dir });
          assert.equal((await asked.exited).code, 0, asked.err);
          assert.equal(JSON.parse(asked.out).supervisor, a.child.pid, asked.out);
        }
        await a.until(() => a.status, "A's exit", 60_000);
        assert.equal((await a.exited).code, 0, a.err);
        const exitedAt = Date.now();
        await waitUntil(() => miners.every((m) => m.ready), "every miner on pool B");
        const atExit = totalCounts(miners).accepted;
        await waitUntil(() => totalCounts(miners).accepted >= atExit + 2000, "shares on pool B");
        const after = miners.filter((m) => m.ready).length;
        await b.waitForLog(/took the lease of instance id 31 from the process that handed over/);
        await b.waitForLog(/took the lease of instance id 30 from the process that handed over/);
        await b.waitForLog(/admin listener on http:/);
        // B's first worker has the API too, with every miner (pool-wide, from the store).
        await waitUntil(async () => {
          const r = await fetch(`http://127.0.0.1:${apiPort}/api/pool`).catch(() => undefined);
          if (r?.status !== 200) return false;
          const body = await r.json();
          return body.poolWide === true && body.workers === MINERS;
        }, "B's API shows every miner");
        await Promise.all(miners.map((m) => m.stop()));
        assert.equal(await b.stop("SIGINT"), 0, b.err);

        const shares = await queryRow(
          storeUrl,
          "SELECT COUNT(*) AS n, COUNT(DISTINCT hash) AS d FROM shares",
        );
        const blocks = await queryRow(storeUrl, "SELECT COUNT(*) AS n FROM blocks");
        const paid = await queryRow(storeUrl, "SELECT COUNT(*) AS n FROM payments");
        let audit = "no blocks: no audit";
        if (blocks.n! > 0) {
          const run = await runAudit({}, ["--nodecore", wallet!], dir);
          assert.equal(run.code, 0, run.out + run.err);
          assert.match(run.out, /^Result: PASS/m);
          audit = /^Result: .*$/m.exec(run.out)![0];
        }
        await devnet.stop("SIGINT");

        const total = totalCounts(miners);
        // Blocks found by the load itself make in-flight submits stale; nothing else fails.
        const stale = /^Job '\d+' not found$/;
        const staleCount = Object.entries(total.errors).filter(([e]) => stale.test(e))
          .reduce((sum, [, n]) => sum + n, 0);
        const other = Object.keys(total.errors).filter((e) => !stale.test(e));
        const during = answers.filter((x) => x.sentAt >= handoverAt && x.sentAt <= exitedAt);
        const worst = Math.max(0, ...during.map((x) => x.latency));
        const handedOver = [...a.err.matchAll(/handing over: no new connections; (\d+) miners/g)]
          .map((m) => Number(m[1]));
        console.log(
          `workers upgrade (${backend}): miners ${before} before (${handedOver.join(" + ")} on ` +
            `A's workers), ${after} after; ${total.accepted} shares acknowledged, ${shares.n} ` +
            `stored (${shares.d} distinct); ${
              total.accepted - acceptedBefore
            } acknowledged from the hand-over on; hand-over ${exitedAt - handoverAt} ms; ` +
            `${total.reconnectRequests} client.reconnect, ${total.reconnects} reconnects, ` +
            `${total.refused} refused; longest submit latency during the hand-over ${worst} ms ` +
            `(whole run ${total.maxLatencyMs} ms); longest time without a connection ` +
            `${total.maxOfflineMs} ms; ${total.unanswered} submits unread when A stopped ` +
            `reading (never acknowledged); ${blocks.n} blocks, ${paid.n} payments; audit: ` +
            `${audit}; ${staleCount} stale (a block came), other errors ${JSON.stringify(other)}`,
        );
        assert.equal(before, MINERS);
        assert.equal(after, MINERS);
        assert.equal(total.refused, 0);
        // Each miner asked once: none reconnected to a worker of A that still accepted.
        assert.equal(total.reconnectRequests, MINERS);
        assert.equal(handedOver.length, 2, "both of A's workers handed over");
        assert.equal(handedOver.reduce((x, y) => x + y, 0), MINERS);
        assert.match(a.err, /every worker stopped accepting: they ask their miners to reconnect/);
        assert.doesNotMatch(a.err, /not every worker said within/);
        assert.doesNotMatch(a.err, /starting it again/);
        assert.match(a.err, /SIGUSR2: handing over: every worker stops accepting/);
        assert.match(a.err, /stopped: every worker exited/);
        assert.deepEqual(other, []);
        assert.equal(shares.n, total.accepted, "every acknowledged share is stored, none more");
        assert.equal(shares.d, shares.n, "no share is stored twice");
        for (const pid of [a, b].flatMap((p) => [...workerPids(p.err).values()].flat())) {
          assert.equal(alive(pid), false, `worker pid ${pid} exited`);
        }
      } finally {
        await Promise.all(miners.map((m) => m.stop()));
        await cleanUp(supervisors, [devnet]);
      }
    });
  } finally {
    await pg?.drop();
  }
}

Deno.test({
  name: "workers upgrade under load: supervisor B starts beside A (reuse_port), SIGUSR2 to A " +
    "hands every worker's miners over, A exits 0, no share lost or doubled (SQLite)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => upgradeWorkers("sqlite"),
});

Deno.test({
  name: "workers upgrade under load by vbkpool admin handover (PostgreSQL)",
  ignore: POSTGRES_URL === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => upgradeWorkers("postgres"),
});
