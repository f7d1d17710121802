/**
 * End to end, several instances on one PostgreSQL: the devnet (in this process, with its NodeCore
 * HTTP API), three `vbkpool server` processes (`[stratum] instance_id` 0, 1 and 2) on one fresh
 * database, scripted Stratum miners spread over them with three addresses, instance 1 killed
 * with SIGKILL mid-run and restarted (the killed holder is gone: it takes its id back at once); then
 * `vbkpool payouts --once` and `vbkpool audit --nodecore`. Checked: every acknowledged share is
 * stored once (by its header hash, under the instance that acknowledged it), the instances'
 * extranonce ranges never overlap, every block the pool found on any instance is stored and
 * credited once, each miner is paid once exactly what it was credited, the audit passes, and
 * instance 0's API shows the miners of instances 1 and 2 (pool-wide figures). A second test:
 * two servers configured with one instance id on one database, the second refused.
 */
import assert from "node:assert/strict";
import { type Devnet, DEVNET_BLOCK_REWARD, startDevnet } from "../../devnet/mod.ts";
import { bytesToHex } from "../../hash/hex.ts";
import { openStore } from "../../store/mod.ts";
import { spawnVbkpool, type VbkpoolProcess, waitUntil } from "../_process.ts";
import { hashHeader, headerFromNotify, hex16, hex8 } from "../server/_pool.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";
import { freshPostgresDatabase, POSTGRES_URL, warnIfNoPostgres } from "../store/_backends.ts";
import { POOL, runAudit, runPayouts } from "./_payouts_stack.ts";

const ADDRESSES = [
  "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX",
  "V7TMHDQC8myywuGbQs5ADTrk14fajz",
  "VCea32PtTGh7qDEXp9KFh1xGx9USvh",
];
const N = 3; // confirmations
const R = DEVNET_BLOCK_REWARD;

warnIfNoPostgres();

/** `vbkpool server` as instance `id` of the shared store. */
function spawnInstance(id: number, storeUrl: string, devnet: Devnet, cwd: string): VbkpoolProcess {
  return spawnVbkpool(["server"], {
    cwd,
    env: {
      VBKPOOL_STRATUM_LISTEN: "127.0.0.1:0 diff=1 min=1 vardiff=off",
      VBKPOOL_STRATUM_INSTANCE_ID: String(id),
      VBKPOOL_STRATUM_INSTANCE_LEASE_SECONDS: "2",
      VBKPOOL_STRATUM_STATS_INTERVAL_SECONDS: "0",
      VBKPOOL_NODECORE_ENDPOINTS: `127.0.0.1:${devnet.addr.port}`,
      VBKPOOL_NODECORE_ADDRESS: POOL,
      VBKPOOL_NODECORE_BACKOFF_MIN_MS: "50",
      VBKPOOL_NODECORE_BACKOFF_MAX_MS: "500",
      VBKPOOL_STORE_URL: storeUrl,
      VBKPOOL_API_LISTEN: "127.0.0.1:0",
      VBKPOOL_API_RATE_LIMIT_PER_SECOND: "0",
      // One payout service tracks and credits blocks (the reference architecture).
      VBKPOOL_PAYOUTS_TRACK_BLOCKS: "false",
      VBKPOOL_LOG_LEVEL: "info",
    },
  });
}

/** What one scripted miner connection saw. */
interface Session {
  instance: number;
  worker: string;
  extranonce: bigint;
  /** Header hashes (hex) of the shares answered `true`. */
  acked: string[];
  rejected: number;
  /** Submits whose answer never came (the instance died). */
  unanswered: number;
  /** The first refusal. */
  firstError?: string;
}

/**
 * A scripted miner: submits shares at difficulty 1 (every header is one; about one in the
 * network difficulty is a block) one at a time, each after the previous answer, on the newest
 * job, until stopped or the connection closes.
 */
function startSession(port: number, instance: number, worker: string) {
  let stopping = false;
  const session: Session = {
    instance,
    worker,
    extranonce: -1n,
    acked: [],
    rejected: 0,
    unanswered: 0,
  };
  const run = async () => {
    const client = await TestClient.connect(port);
    try {
      const { extranonce } = await subscribeAndAuthorize(client, worker);
      session.extranonce = extranonce;
      let params = (await client.notification("mining.notify")).json.params as unknown[];
      for (let nonce = 1; !stopping; nonce++) {
        // The job's own time: never before its parent block's.
        const ntime = parseInt(params[7] as string, 16);
        const hash = hashHeader(headerFromNotify(params, extranonce, ntime, nonce));
        const id = client.send("mining.submit", [
          worker,
          params[0],
          hex16(extranonce),
          hex8(ntime),
          hex8(nonce),
        ]);
        let answer;
        for (;;) {
          // Take notifications as they come (newest job), then the answer.
          const line = await client.waitFor(
            (l) => l.json?.id === id || l.json?.method !== undefined,
            30_000,
          ).catch(() => undefined);
          if (line === undefined) break;
          if (line.json.method === "mining.notify") params = line.json.params;
          if (line.json.id === id && line.json.method === undefined) {
            answer = line;
            break;
          }
        }
        if (answer === undefined) {
          session.unanswered++;
          return;
        }
        if (answer.json.result === true) session.acked.push(bytesToHex(hash));
        else {
          session.rejected++;
          session.firstError ??= answer.raw;
        }
      }
    } finally {
      await client.close().catch(() => {});
    }
  };
  const done = run();
  return {
    session,
    done,
    async stop() {
      stopping = true;
      await done;
    },
  };
}

type Running = ReturnType<typeof startSession>;

async function getJson(url: string): Promise<Record<string, unknown>> {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return await r.json();
}

Deno.test({
  name: "three vbkpool servers on one PostgreSQL, one killed and restarted mid-run: every " +
    "acknowledged share stored once, extranonces apart, blocks credited and miners paid once, " +
    "the audit passes, and every instance's API shows the whole pool",
  ignore: POSTGRES_URL === undefined,
  async fn() {
    const pg = await freshPostgresDatabase();
    const cwd = await Deno.makeTempDir({ prefix: "vbkpool-e2e-instances-" });
    const devnet = await startDevnet({
      port: 0,
      rpcPort: 0,
      minDifficulty: 500n,
      mempoolIntervalMs: 0,
    });
    const servers: VbkpoolProcess[] = [0, 1, 2].map((id) => spawnInstance(id, pg.url, devnet, cwd));
    const sessions: Running[] = [];
    try {
      const addrs = await Promise.all(servers.map((s) => s.serverAddresses()));
      const ports = addrs.map((a) => a.stratum[0]!);
      // Two miners per instance; each address mines on two instances.
      const start = (i: number, instance: number) =>
        sessions.push(startSession(ports[instance]!, instance, `${ADDRESSES[i % 3]}.rig${i}`));
      for (let i = 0; i < 6; i++) start(i, Math.floor(i / 2));
      const acked = () => sessions.reduce((n, s) => n + s.session.acked.length, 0);
      const progress = () =>
        sessions.map((s) =>
          `${s.session.worker.slice(-4)}@${s.session.instance}: ` +
          `${s.session.acked.length}/${s.session.rejected}/${s.session.unanswered} ` +
          (s.session.firstError ?? "")
        ).join(", ");
      const store = await openStore(pg.url, { thread: false });
      try {
        await waitUntil(
          async () => acked() >= 500 && (await store.listBlocks({ limit: 1 })).length >= 1,
          () => `500 shares and a block; ${progress()}; log:\n${servers[1]!.err.slice(-2000)}`,
          120_000,
        );

        // Instance 1 dies mid-run; its miners' connections end.
        servers[1]!.signal("SIGKILL");
        await Promise.all(sessions.slice(2, 4).map((s) => s.done));
        await waitUntil(() => servers[1]!.status !== undefined, "instance 1 killed", 30_000);
        // Restarted with its id on this host: the killed holder is gone, its lease taken at once.
        const restarted = spawnInstance(1, pg.url, devnet, cwd);
        servers.push(restarted);
        const again = await restarted.serverAddresses();
        assert.match(
          restarted.err,
          /instance id 1 was held by .*, a process of this host that is gone: taking it over/,
        );
        ports[1] = again.stratum[0]!;
        start(2, 1);
        start(3, 1);

        // Instance 0's API: the whole pool (C mines on instances 1 and 2 only).
        const api0 = addrs[0]!.api!;
        await waitUntil(
          async () => {
            const pool = await getJson(`${api0}/api/pool`);
            return pool.miners === 3 && pool.workers === 6;
          },
          "instance 0's API counts the miners of every instance",
          30_000,
        );
        const pool0 = await getJson(`${api0}/api/pool`);
        assert.equal(pool0.poolWide, true);
        assert.equal(
          pool0.connections,
          2,
          `connections stay this process's; ${progress()}\n${servers[0]!.err.slice(-3000)}`,
        );
        assert.ok((pool0.hashrate as number) > 0);
        const c = await getJson(`${api0}/api/miners/${ADDRESSES[2]}`);
        const cWorkers = (c.workers as { worker: string; online: boolean }[])
          .filter((w) => w.online).map((w) => w.worker).sort();
        assert.deepEqual(cWorkers, [`${ADDRESSES[2]}.rig2`, `${ADDRESSES[2]}.rig5`]);

        // Mine on until every instance has found a block.
        await waitUntil(
          async () => {
            const blocks = await store.listBlocks({ limit: 1000 });
            return new Set(blocks.map((b) => b.instance)).size === 3 && acked() >= 1000;
          },
          () => `a block from every instance; ${progress()}`,
          180_000,
        );
        await Promise.all(sessions.map((s) => s.stop()));
        for (const s of [servers[0]!, servers[2]!, restarted]) {
          assert.equal(await s.stop("SIGINT"), 0, s.err.slice(-2000));
        }

        // Every acknowledged share is stored once, under the instance that acknowledged it.
        const rows = await store.listShares({ limit: 1_000_000 });
        const stored = new Map<string, number>();
        for (const r of rows) {
          const h = bytesToHex(r.hash);
          assert.ok(!stored.has(h), `share ${h} stored twice`);
          stored.set(h, r.instance);
        }
        let ackedCount = 0;
        let unanswered = 0;
        for (const { session } of sessions) {
          unanswered += session.unanswered;
          for (const h of session.acked) {
            ackedCount++;
            assert.equal(stored.get(h), session.instance, `acknowledged share ${h}`);
          }
        }
        // Beyond those: only shares whose answer the kill cut off.
        assert.ok(rows.length - ackedCount <= unanswered, `${rows.length} rows, ${ackedCount}`);
        const rejected = sessions.reduce((n, s) => n + s.session.rejected, 0);
        console.log(
          `${ackedCount} shares acknowledged (${rejected} rejected, ${unanswered} unanswered ` +
            `at the kill), ${rows.length} stored`,
        );

        // Extranonce ranges: under each instance's prefix, never overlapping.
        const ranges = sessions.map((s) => s.session).sort((a, b) =>
          a.extranonce < b.extranonce ? -1 : 1
        );
        for (const [i, s] of ranges.entries()) {
          assert.equal(Number(s.extranonce >> 58n), s.instance, s.worker);
          const next = ranges[i + 1];
          if (next !== undefined) assert.ok(s.extranonce + 1_000_000n <= next.extranonce);
        }

        // Every block of the pool's that the devnet took is stored once.
        const hex = (h: Uint8Array) => bytesToHex(h, { upper: true });
        const poolBlocks = [...devnet.chain.mainChain(), ...devnet.chain.orphans()]
          .filter((b) => b.source === "pool");
        const blocks = await store.listBlocks({ limit: 1000 });
        const storedBlocks = new Set(blocks.map((b) => hex(b.hash)));
        assert.equal(storedBlocks.size, blocks.length);
        for (const b of poolBlocks) assert.ok(storedBlocks.has(hex(b.hash)), hex(b.hash));
        assert.deepEqual([...new Set(blocks.map((b) => b.instance))].sort(), [0, 1, 2]);

        // Bury them, then one payout service: credit, pay, confirm.
        for (let i = 0; i < N; i++) await devnet.rival.mineBlock();
        const walletUrl = `http://127.0.0.1:${devnet.rpcAddr!.port}/api`;
        const env = {
          VBKPOOL_STORE_URL: pg.url,
          VBKPOOL_WALLET_URL: walletUrl,
          VBKPOOL_PAYOUTS_POOL_ADDRESS: POOL,
          VBKPOOL_PAYOUTS_CONFIRMATIONS: String(N),
          VBKPOOL_PAYOUTS_PPLNS_WINDOW: "1000",
          VBKPOOL_PAYOUTS_FEES: `${POOL}=1`,
          VBKPOOL_PAYOUTS_MINIMUM_PAYMENT: "0.1",
          VBKPOOL_PAYOUTS_PAYMENT_CONFIRMATIONS: "2",
          VBKPOOL_LOG_LEVEL: "warning",
        };
        const first = await runPayouts(env);
        assert.equal(first.code, 0, first.err + first.out);
        assert.match(first.out, /[1-9]\d* payment\(s\) sent/);
        const unsettled = (await store.listBlocks({ limit: 1000 }))
          .filter((b) => b.status === "pending" || b.status === "submitted");
        assert.deepEqual(unsettled.map((b) => `${b.height} ${b.status} ${b.note}`), []);
        await devnet.rival.mineBlock();
        await devnet.rival.mineBlock();
        const second = await runPayouts(env);
        assert.equal(second.code, 0, second.err + second.out);
        assert.match(
          second.out,
          /0 payment\(s\) sent, [1-9]\d* confirmed/,
          second.out + second.err,
        );

        // Each confirmed block credited once (its credits add up to the reward), others never.
        const credited = new Map<string, bigint>();
        const settled = await store.listBlocks({ limit: 1000 });
        assert.ok(settled.filter((b) => b.status === "confirmed").length >= 3);
        for (const b of settled) {
          const changes = await store.payouts.listBalanceChanges({ blockHash: b.hash });
          const total = changes.reduce((x, ch) => x + ch.amount, 0n);
          assert.equal(total, b.status === "confirmed" ? R : 0n, `${b.height} ${b.status}`);
          assert.equal(b.status === "confirmed", devnet.chain.isMainChain(b.hash));
          for (const ch of changes) {
            if (ch.reason === "share") {
              credited.set(ch.address, (credited.get(ch.address) ?? 0n) + ch.amount);
            }
          }
        }
        // Each miner paid once, exactly what it was credited, on the devnet's ledger.
        assert.deepEqual([...credited.keys()].sort(), [...ADDRESSES].sort());
        const payments = await store.payouts.listPayments();
        assert.ok(
          payments.every((p) => p.status === "confirmed"),
          payments.map((p) => `${p.id} ${p.status} ${p.error}`).join("; ") + second.out +
            second.err,
        );
        for (const [address, amount] of credited) {
          const items = payments.flatMap((p) => p.items).filter((i) => i.address === address);
          assert.equal(items.length, 1, `${address} paid once`);
          assert.equal(items[0]!.amount, amount);
          assert.equal(devnet.ledger.balance(address).confirmed, amount, `${address} ledger`);
          assert.equal(await store.payouts.balance(address), 0n);
        }
        const audit = await runAudit(env, ["--nodecore", walletUrl]);
        assert.equal(audit.code, 0, audit.out + audit.err);
        assert.match(audit.out, /^Result: PASS \(\d+ checks\)$/m);
      } finally {
        await store.close();
      }
    } finally {
      await Promise.all(sessions.map((s) => s.stop().catch(() => {})));
      await Promise.all(servers.map((s) => s.kill()));
      await devnet.stop();
      await pg.drop();
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "two vbkpool servers with one instance id on one PostgreSQL: the second is refused " +
    "at start, naming the first",
  ignore: POSTGRES_URL === undefined,
  async fn() {
    const pg = await freshPostgresDatabase();
    const cwd = await Deno.makeTempDir({ prefix: "vbkpool-e2e-instances-" });
    const devnet = await startDevnet({ port: 0, mempoolIntervalMs: 0 });
    const first = spawnInstance(5, pg.url, devnet, cwd);
    let second: VbkpoolProcess | undefined;
    try {
      await first.serverAddresses();
      second = spawnInstance(5, pg.url, devnet, cwd);
      const refused = second;
      await waitUntil(() => refused.status !== undefined, "the second one exits", 60_000);
      assert.notEqual(refused.status!.code, 0);
      assert.match(
        second.err,
        /instance id 5 is in use on this store by .* pid \d+ .*give each server sharing a database its own \[stratum\] instance_id/,
      );
      assert.doesNotMatch(second.err, /Stratum on /, "it never listened");
      // The first one runs on, unharmed, and its lease survived the attempt.
      assert.equal(first.status, undefined);
      assert.doesNotMatch(first.err, /lost the lease/);
      // A third with another id starts beside it.
      const third = spawnInstance(6, pg.url, devnet, cwd);
      try {
        assert.ok((await third.serverAddresses()).stratum[0]! > 0);
      } finally {
        await third.kill();
      }
    } finally {
      await second?.kill();
      await first.kill();
      await devnet.stop();
      await pg.drop();
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
