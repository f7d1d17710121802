/**
 * `[process] workers = 2`: `vbkpool server` runs two pool processes on one port (SO_REUSEPORT)
 * under a supervisor, against a `vbkpool devnet` and one SQLite file. Checked: miners land on
 * both workers (shares stored under instance ids 31 and 30), every acknowledged share is stored
 * once, a worker killed with SIGKILL is started again and its miners come back, the first
 * worker's API counts every worker's miners, SIGTERM stops everything with exit 0; a supervisor
 * killed with SIGKILL leaves no worker (nor its link socket) behind; a second supervisor without
 * `reuse_port` is refused while the ports are in use; a port 0 or no NodeCore is refused at start.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { spawnVbkpool, type VbkpoolProcess, waitUntil, withTempDir } from "../_process.ts";
import { LoadMiner, totalCounts } from "./_stratum_load.ts";
import { alive, count, freePort, POOL_ADDRESS, spawnDevnet, workerPids } from "./_workers_stack.ts";

const MINERS = 16;

async function writeConfig(dir: string, port: number, apiPort: number, ucp: number) {
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
      "backoff_min_ms = 50",
      "[api]",
      `listen = "127.0.0.1:${apiPort}"`,
      "rate_limit_per_second = 0",
      "[store]",
      `url = "${dir}/pool.sqlite"`,
      'sqlite_synchronous = "normal"',
      "[process]",
      "workers = 2",
    ].join("\n"),
  );
}

Deno.test({
  name: "vbkpool server with two workers on one port: both serve miners, a killed worker comes " +
    "back, every acknowledged share is stored once, SIGTERM stops all",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir("vbkpool-workers-", async (dir) => {
      const devnet = spawnDevnet(dir);
      const procs: VbkpoolProcess[] = [devnet];
      const miners: LoadMiner[] = [];
      try {
        const { ucp } = await devnet.devnetAddresses(false);
        const port = freePort();
        const apiPort = freePort();
        await writeConfig(dir, port, apiPort, ucp);
        const server = spawnVbkpool(["server"], { cwd: dir });
        procs.push(server);
        await waitUntil(() => count(server.err, /upstream ready/) >= 2, "both workers ready");
        assert.match(
          server.err,
          /running 2 workers on the same ports \(instance ids 31 down to 30\)/,
        );
        for (let i = 0; i < MINERS; i++) miners.push(new LoadMiner({ port, worker: `w${i}` }));
        await Promise.all(miners.map((m) => m.start()));
        for (const m of miners) m.submit();
        await waitUntil(() => totalCounts(miners).accepted >= 2000, "shares");

        // The kernel spread the miners over both workers.
        const byInstance = () => {
          const db = new DatabaseSync(`${dir}/pool.sqlite`, { readOnly: true });
          try {
            return db.prepare("SELECT instance, COUNT(*) AS n FROM shares GROUP BY instance")
              .all() as { instance: number; n: number }[];
          } finally {
            db.close();
          }
        };
        await waitUntil(() => byInstance().length === 2, "shares stored by both workers");

        // The first worker's API counts the miners of both (pool-wide, from the store).
        await waitUntil(async () => {
          const r = await fetch(`http://127.0.0.1:${apiPort}/api/pool`).catch(() => undefined);
          if (r?.status !== 200) return false;
          const body = await r.json();
          return body.poolWide === true && body.workers === MINERS;
        }, "the API shows all 16 workers");

        // A worker killed: the supervisor starts it again; its miners reconnect to a worker.
        const victim = workerPids(server.err).get(1)![0]!;
        Deno.kill(victim, "SIGKILL");
        await waitUntil(
          () => (workerPids(server.err).get(1) ?? []).length === 2,
          "worker 1 started again",
        );
        assert.match(server.err, /worker 1 \(pid \d+, instance id 30\) exited with SIGKILL/);
        await waitUntil(() => count(server.err, /upstream ready/) >= 3, "worker 1 ready again");
        await waitUntil(() => miners.every((m) => m.ready), "every miner connected again");
        const before = totalCounts(miners).accepted;
        await waitUntil(() => totalCounts(miners).accepted >= before + 1000, "shares after");

        await Promise.all(miners.map((m) => m.stop()));
        server.signal("SIGTERM");
        await waitUntil(() => server.status !== undefined, "the supervisor exits", 30_000);
        assert.equal((await server.exited).code, 0, server.err);
        assert.match(server.err, /stopped: every worker exited/);
        for (const pids of workerPids(server.err).values()) {
          for (const pid of pids) assert.equal(alive(pid), false, `worker pid ${pid}`);
        }
        const db = new DatabaseSync(`${dir}/pool.sqlite`, { readOnly: true });
        const row = db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT hash) AS d FROM shares")
          .get() as { n: number; d: number };
        db.close();
        const total = totalCounts(miners);
        // Acknowledged means committed; the killed worker may also have committed shares it
        // never got to acknowledge.
        assert.ok(row.n >= total.accepted, `${row.n} stored, ${total.accepted} acknowledged`);
        assert.equal(row.d, row.n, "no share stored twice");
      } finally {
        await Promise.all(miners.map((m) => m.stop()));
        for (const p of procs.reverse()) await p.kill();
      }
    });
  },
});

Deno.test({
  name: "vbkpool server workers stop by themselves when their supervisor is killed; the " +
    "supervisor's flags do not reach them; bad worker settings are refused at start",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withTempDir("vbkpool-workers-orphan-", async (dir) => {
      const devnet = spawnVbkpool(["devnet", "--listen", "127.0.0.1:0"], { cwd: dir });
      try {
        const { ucp } = await devnet.devnetAddresses(false);
        await writeConfig(dir, freePort(), freePort(), ucp);
        // The count and the instance id as flags: workers must not take them (no worker may
        // supervise, and each needs its own id).
        const server = spawnVbkpool([
          "server",
          "--process.workers",
          "2",
          "--stratum.instance_id=31",
        ], { cwd: dir });
        try {
          await waitUntil(() => count(server.err, /upstream ready/) >= 2, "both workers ready");
          assert.match(server.err, /instance id 31, /);
          assert.match(server.err, /instance id 30, /);
          // A second supervisor on the same configuration, started by mistake: refused, rather
          // than sharing the ports (SO_REUSEPORT) and the instance ids of the running one.
          const twin = spawnVbkpool(["server"], { cwd: dir });
          assert.notEqual((await twin.exited).code, 0, twin.err);
          assert.match(twin.err, /stratum\.listen 127\.0\.0\.1:\d+ is in use by another process/);
          // ... saying how to start beside it on purpose (an upgrade by hand-over).
          assert.match(
            twin.err,
            /or set process\.reuse_port = true in both to upgrade by hand-over/,
          );
          assert.doesNotMatch(twin.err, /worker 0 started/);
          const pids = [...workerPids(server.err).values()].flat();
          assert.equal(pids.length, 2);
          const link = /workers share offences, bans and per-IP connection counts through (\S+)/
            .exec(server.err)![1]!;
          Deno.kill(server.child.pid, "SIGKILL");
          await waitUntil(() => pids.every((pid) => !alive(pid)), "the workers stop", 20_000);
          await server.exited;
          assert.match(server.err, /the supervisor of this worker is gone: stopping/);
          // The supervisor could not remove its link socket: the workers did.
          await assert.rejects(Deno.stat(link), Deno.errors.NotFound);
        } finally {
          await server.kill();
        }

        const refused = async (env: Record<string, string>, pattern: RegExp) => {
          const p = spawnVbkpool(["server"], { cwd: dir, env });
          const status = await p.exited;
          assert.notEqual(status.code, 0);
          assert.match(p.err, pattern);
        };
        await refused(
          { VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0" },
          /process\.workers = 2 needs fixed ports .*stratum\.listen has 127\.0\.0\.1:0/,
        );
        await refused(
          { VBKPOOL_NODECORE_ENDPOINTS: "" },
          /process\.workers = 2 needs a NodeCore in nodecore\.endpoints/,
        );
        await refused(
          { VBKPOOL_STRATUM_INSTANCE_ID: "0" },
          /instance ids 0 down to -1, below 0/,
        );
      } finally {
        await devnet.kill();
      }
    });
  },
});
