/**
 * End to end: NodeCore (the real devnet, behind a fixed address) stops and starts under a real
 * `vbkpool server` (pool A) while a real `vbkpool mine` mines on it with a second pool (B, a
 * `vbkpool server` on its embedded devnet) as its fallback, and a scripted Stratum miner
 * watches what the pool tells it.
 *
 * - A short outage: new connections get "No work available" within seconds, while miners that
 *   had work keep their sessions and get the next job when NodeCore is back.
 * - A long outage: after the grace period miners are sent `client.reconnect` and closed; the
 *   `vbkpool mine` process fails over to pool B within seconds of it, and comes back to A once
 *   A has work again.
 */
import assert from "node:assert/strict";
import { type Devnet, startDevnet } from "../../devnet/mod.ts";
import { ADDRESS } from "../miner/_stack.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";
import { TcpProxy } from "../store/_tcp_proxy.ts";
import { spawnVbkpool, type VbkpoolProcess, waitUntil } from "../_process.ts";

const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
const WAIT_S = 2;
const GRACE_S = 10;
const NO_WORK = "No work available: the pool has no job from its node";
/** No HTTP API port (its default may be taken). */
const ENV = { VBKPOOL_API_ENABLED: "false" };

function serverConfig(dir: string, extra: string[]): string {
  return [
    "[stratum]",
    `listen = ["127.0.0.1:0 diff=1000000 vardiff=off"]`,
    `no_work_wait_seconds = ${WAIT_S}`,
    `no_work_grace_seconds = ${GRACE_S}`,
    "[store]",
    `url = ${JSON.stringify(`${dir}/pool.sqlite`)}`,
    ...extra,
    "",
  ].join("\n");
}

/** The miner's "Mining on" lines so far, as pool URLs. */
function miningOn(miner: VbkpoolProcess): string[] {
  return [...miner.err.matchAll(/Mining on "?(stratum\+tcp:\/\/[^\s"]+)"?/g)].map((m) => m[1]!);
}

/** Accepted shares the miner logged (debug) after a log offset. */
function acceptedSince(miner: VbkpoolProcess, offset: number): number {
  return miner.err.slice(offset).split("Share accepted").length - 1;
}

/** Subscribe a new scripted miner at `port`; its subscribe reply (the error, if refused). */
async function trySubscribe(port: number, clients: TestClient[]): Promise<unknown> {
  const client = await TestClient.connect(port);
  clients.push(client);
  const reply = await client.call("mining.subscribe", ["probe/1.0"]);
  return reply.json.error;
}

Deno.test("NodeCore stops and starts: new miners are told at once, miners with work ride out a short outage, vbkpool mine fails over and back", async () => {
  const root = await Deno.makeTempDir({ prefix: "vbkpool-nowork-" });
  const chainFile = `${root}/chain.jsonl`;
  const devnetOptions = { port: 0, minDifficulty: 4_000_000n, mempoolIntervalMs: 0, chainFile };
  let devnet: Devnet | undefined = await startDevnet(devnetOptions);
  const gate = new TcpProxy({ hostname: "127.0.0.1", port: devnet.addr.port });
  const clients: TestClient[] = [];
  const procs: VbkpoolProcess[] = [];
  const timings: Record<string, number> = {};
  try {
    await Deno.mkdir(`${root}/a`);
    await Deno.mkdir(`${root}/b`);
    await Deno.writeTextFile(
      `${root}/a/vbkpool.toml`,
      serverConfig(`${root}/a`, [
        "[nodecore]",
        `endpoints = ["127.0.0.1:${gate.port}"]`,
        `address = "${POOL_ADDRESS}"`,
        "backoff_min_ms = 100",
        "backoff_max_ms = 500",
      ]),
    );
    await Deno.writeTextFile(
      `${root}/b/vbkpool.toml`,
      serverConfig(`${root}/b`, ["[devnet]", "min_difficulty = 4000000", "mempool_interval = 0"]),
    );
    const poolA = spawnVbkpool(["server"], { cwd: `${root}/a`, env: ENV });
    const poolB = spawnVbkpool(["server"], { cwd: `${root}/b`, env: ENV });
    procs.push(poolA, poolB);
    const portA = (await poolA.serverAddresses()).stratum[0]!;
    const portB = (await poolB.serverAddresses()).stratum[0]!;
    const urlA = `stratum+tcp://127.0.0.1:${portA}`;
    const urlB = `stratum+tcp://127.0.0.1:${portB}`;
    const miner = spawnVbkpool([
      "mine",
      "--pool",
      urlA,
      "--pool",
      urlB,
      "--user",
      `${ADDRESS}.nowork`,
      "--threads",
      "1",
      "--quiet",
    ], {
      cwd: root,
      env: {
        ...ENV,
        VBKPOOL_LOG_LEVEL: "debug",
        VBKPOOL_MINE_FAILBACK_INTERVAL: "1",
        VBKPOOL_MINE_BACKOFF_MIN: "0.2",
        VBKPOOL_MINE_BACKOFF_MAX: "1",
      },
    });
    procs.push(miner);
    await miner.until(() => acceptedSince(miner, 0) >= 1 || undefined, "a share at pool A");
    assert.deepEqual(miningOn(miner), [urlA]);
    // A scripted miner with work on pool A.
    const watcher = await TestClient.connect(portA);
    clients.push(watcher);
    await subscribeAndAuthorize(watcher, `${ADDRESS}.watcher`);
    await watcher.notification("mining.notify");

    // 1. A short outage: NodeCore stops.
    const shortAt = Date.now();
    gate.cut();
    await devnet.stop();
    devnet = undefined;
    // A new miner gets the error once the pool has been without work for the wait.
    await waitUntil(
      async () => {
        const error = await trySubscribe(portA, clients) as unknown[] | null;
        return error?.[1] === NO_WORK;
      },
      "a new miner refused with No work available",
      30_000,
    );
    timings.refusedAfterMs = Date.now() - shortAt;
    // NodeCore is back before the grace period ends.
    devnet = await startDevnet(devnetOptions);
    gate.retarget({ hostname: "127.0.0.1", port: devnet.addr.port });
    gate.restore();
    const clean = await watcher.notification("mining.notify", GRACE_S * 1000);
    timings.shortOutageMs = Date.now() - shortAt;
    assert.equal(clean.json.params[9], true); // a clean job: the old ones are gone
    assert.equal(watcher.closedReason, undefined);
    assert.deepEqual(miningOn(miner), [urlA], "vbkpool mine stayed on pool A");
    assert.ok(!/Left pool/.test(miner.err), miner.err.slice(-2000));
    const resumed = miner.err.length;
    await miner.until(() => acceptedSince(miner, resumed) >= 1 || undefined, "shares after it");

    // 2. A long outage: past the grace period the pool sends everyone away.
    const longAt = Date.now();
    gate.cut();
    await devnet.stop();
    devnet = undefined;
    const reconnect = await watcher.notification("client.reconnect", (GRACE_S + 30) * 1000);
    timings.reconnectAfterMs = Date.now() - longAt;
    assert.equal(reconnect.raw, '{"id":null,"method":"client.reconnect","params":[]}');
    assert.ok(timings.reconnectAfterMs >= GRACE_S * 1000, "asked to reconnect within the grace");
    await watcher.closed;
    // vbkpool mine reconnects to A, is refused, and mines on B.
    await miner.until(
      () => miningOn(miner).at(-1) === urlB || undefined,
      "fail-over to pool B",
      (GRACE_S + 30) * 1000,
    );
    timings.failoverAfterMs = Date.now() - longAt;
    assert.match(miner.err, /subscribe refused: No work available/);
    const onB = miner.err.length;
    await miner.until(() => acceptedSince(miner, onB) >= 1 || undefined, "a share at pool B");

    // 3. NodeCore is back: the miner returns to pool A, and new miners are welcome there.
    const backAt = Date.now();
    devnet = await startDevnet(devnetOptions);
    gate.retarget({ hostname: "127.0.0.1", port: devnet.addr.port });
    gate.restore();
    await miner.until(() => miningOn(miner).at(-1) === urlA || undefined, "fail-back to pool A");
    timings.failbackAfterMs = Date.now() - backAt;
    const onA = miner.err.length;
    await miner.until(() => acceptedSince(miner, onA) >= 1 || undefined, "a share back at A");
    const fresh = await TestClient.connect(portA);
    clients.push(fresh);
    await subscribeAndAuthorize(fresh, `${ADDRESS}.fresh`);
    await fresh.notification("mining.notify");
    assert.deepEqual(miningOn(miner), [urlA, urlB, urlA]);
    console.log(
      `no-work timings (wait ${WAIT_S} s, grace ${GRACE_S} s): ${JSON.stringify(timings)}`,
    );

    for (const c of clients) await c.close();
    assert.equal(await miner.stop("SIGINT"), 0, miner.err);
    assert.equal(await poolA.stop("SIGINT"), 0, poolA.err);
    assert.equal(await poolB.stop("SIGINT"), 0, poolB.err);
    // Pool A logged each stage of each outage once.
    assert.equal(poolA.err.match(/new miners are refused/g)?.length, 2, poolA.err);
    assert.equal(poolA.err.match(/miners asked to reconnect and closed/g)?.length, 1, poolA.err);
  } finally {
    for (const c of clients) await c.close();
    for (const p of procs) await p.kill();
    await devnet?.stop();
    await gate.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
