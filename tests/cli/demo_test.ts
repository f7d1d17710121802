/**
 * `vbkpool demo` finds, confirms and pays blocks in one process; `vbkpool audit --nodecore` run
 * beside it finds the books in order. On SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import { spawnVbkpool, withTempDir } from "../_process.ts";
import { COMMANDS, runCli } from "../../cli/mod.ts";
import { runAudit } from "../e2e/_payouts_stack.ts";
import { STACK_BACKENDS } from "../payouts/_stack.ts";
import { freshPostgresDatabase } from "../store/_backends.ts";

const API_RE = /payouts in-process: pool (V\w+), NodeCore API (http:\/\/[^\s",]+),/;

for (const backend of STACK_BACKENDS) {
  Deno.test({
    name: `vbkpool demo (${backend.name}) mines blocks through the pool, confirms them and pays ` +
      "the miner, and the audit agrees",
    ignore: backend.ignore,
    fn: () => demo(backend.name),
  });
}

async function demo(backend: "sqlite" | "postgres"): Promise<void> {
  await withTempDir("vbkpool-demo-", async (dir) => {
    const pg = backend === "postgres" ? await freshPostgresDatabase() : undefined;
    const store = { VBKPOOL_STORE_URL: pg?.url ?? `${dir}/vbkpool.sqlite` };
    const demo = spawnVbkpool(["demo", "--log-level", "info"], {
      cwd: dir,
      env: {
        ...store,
        VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0",
        VBKPOOL_API_LISTEN: "127.0.0.1:0",
        // A low floor and one-second blocks so confirmations come quickly on a slow machine.
        VBKPOOL_DEVNET_MIN_DIFFICULTY: "200000",
        VBKPOOL_DEVNET_BLOCK_TIME: "1",
        VBKPOOL_PAYOUTS_INTERVAL_SECONDS: "1",
      },
    });
    try {
      await demo.waitForLog(/demo: pool on 127\.0\.0\.1:\d+ /);
      const [, pool, api] = await demo.waitForLog(API_RE);
      await demo.waitForLog(/block [0-9a-f]{48} accepted by/);
      await demo.waitForLog(/Block \d+ [0-9a-f]{48} confirmed/);
      await demo.waitForLog(/Payment \d+: [\d.]+ VBK to 1 miner\(s\) in transaction [0-9a-f]{64}/);
      // The audit beside the running demo (its payout service still runs: one snapshot).
      const audit = await runAudit({ ...store, VBKPOOL_PAYOUTS_POOL_ADDRESS: pool! }, [
        "--nodecore",
        api!,
      ], dir);
      assert.equal(audit.code, 0, audit.out + audit.err);
      assert.match(audit.out, /^PASS {2}chain {9}/m);
      assert.equal(await demo.stop("SIGINT"), 0, demo.err);
      assert.match(demo.out, /Shares: [1-9]\d* accepted, 0 rejected/);
      assert.match(demo.err, /vbkpool·server: stopped/);
    } finally {
      await demo.kill();
      await pg?.drop();
    }
  });
}

Deno.test("vbkpool demo takes the server's and the miner's options (--api-listen, --duration, --json)", async () => {
  await withTempDir("vbkpool-demo-options-", async (dir) => {
    const demo = spawnVbkpool([
      "demo",
      "--api-listen",
      "127.0.0.1:0",
      "--listen",
      "127.0.0.1:0",
      "--threads",
      "1",
      "--duration",
      "8",
      "--json",
    ], {
      cwd: dir,
      env: { VBKPOOL_STORE_URL: `${dir}/vbkpool.sqlite`, VBKPOOL_DEVNET_MIN_DIFFICULTY: "200000" },
    });
    try {
      const { api } = await demo.serverAddresses();
      assert.match(api ?? "", /^http:\/\/127\.0\.0\.1:\d+$/, demo.err);
      const pool = await fetch(`${api}/api/pool`);
      assert.equal(pool.status, 200);
      await pool.body?.cancel();
      await demo.waitForLog(/demo: pool on 127\.0\.0\.1:\d+ with in-process payouts, 1 miner /);
      // --duration ends the miner, and the demo with it; --json adds the summary as JSON.
      assert.equal((await demo.exited).code, 0, demo.err);
      assert.match(demo.out, /Shares: \d+ accepted/);
      const summary = JSON.parse(demo.out.trimEnd().split("\n").at(-1)!);
      assert.equal(typeof summary.accepted, "number", demo.out);
      assert.match(demo.err, /vbkpool·server: stopped/);
    } finally {
      await demo.kill();
    }
  });
});

Deno.test("vbkpool demo refuses the miner's --pool (the miner mines on the demo's pool)", async () => {
  const err: string[] = [];
  const code = await runCli(["demo", "--pool", "stratum+tcp://127.0.0.1:1"], COMMANDS, {
    output: { out: () => {}, err: (e) => err.push(e) },
    env: {},
    stopSignal: AbortSignal.abort(),
  });
  assert.equal(code, 2);
  assert.match(err.join("\n"), /Unknown option --pool: vbkpool demo does not read mine\.pools/);
});
