import assert from "node:assert/strict";
import { Miner, type MinerEvent, type MinerOptions } from "../../miner/miner.ts";
import { FakePool, type FakePoolOptions, waitFor } from "./_fake_pool.ts";
import { createBestKernel } from "../../hash/mod.ts";
import { TcpProxy } from "../store/_tcp_proxy.ts";
import { waitUntil } from "../_process.ts";

const FAST: Partial<MinerOptions> = {
  threads: 1,
  backoffMinMs: 50,
  backoffMaxMs: 400,
  failbackMs: 200,
  handshakeTimeoutMs: 3000,
  connectTimeoutMs: 3000,
};

function newMiner(pools: string[], over: Partial<MinerOptions> = {}) {
  const events: MinerEvent[] = [];
  const miner = new Miner({
    pools,
    user: "VAddress.rig",
    ...FAST,
    ...over,
    onEvent: (e) => events.push(e),
  });
  return { miner, events };
}

async function pools(...options: FakePoolOptions[]): Promise<FakePool[]> {
  return await Promise.resolve(options.map((o) => new FakePool(o)));
}

Deno.test("Miner rejects an empty user or pool list", () => {
  assert.throws(() => new Miner({ pools: ["a:1"], user: " " }), TypeError);
  assert.throws(() => new Miner({ pools: [], user: "u" }), RangeError);
});

Deno.test("Miner mines on two threads and gets its shares accepted", async () => {
  const [pool] = await pools({ difficulty: "262144" });
  const { miner, events } = newMiner([pool!.url], { threads: 2 });
  try {
    await miner.start();
    await waitFor(() => miner.stats().accepted >= 4, 60000, "accepted shares");
    const stats = miner.stats();
    assert.equal(stats.pool, pool!.url);
    assert.equal(stats.poolIndex, 0);
    assert.equal(stats.difficulty, 262144n);
    assert.equal(stats.job?.id, "1");
    const best = createBestKernel().name;
    assert.deepEqual(stats.kernels, [best, best]);
    assert.ok(stats.hashes > 0);
    assert.equal(stats.rejected, 0);
    // Both threads' extranonces appear (base + 0 and base + 1).
    await waitFor(
      () => new Set(pool!.submits.map((s) => s.params[2])).size === 2,
      60000,
      "shares from both threads",
    );
    assert.ok(events.some((e) => e.type === "connected"));
    assert.ok(events.some((e) => e.type === "share" && e.outcome.status === "accepted"));
  } finally {
    const summary = await miner.stop();
    await pool!.close();
    assert.ok(summary.accepted >= 4);
    assert.equal(summary.pool, undefined);
  }
  for (const s of pool!.submits) assert.equal(s.verdict, "accepted");
});

Deno.test("Miner announces blocks: shares below the network target", async () => {
  const [pool] = await pools({ difficulty: "1000000000000", networkDifficulty: 2n ** 19n });
  const { miner, events } = newMiner([pool!.url]);
  try {
    await miner.start();
    await waitFor(() => miner.stats().blocks >= 1, 60000, "a block");
    await waitFor(() => pool!.submits.some((s) => s.block), 60_000, "the block at the pool");
  } finally {
    await miner.stop();
    await pool!.close();
  }
  const block = events.find((e) => e.type === "block");
  assert.ok(block && block.type === "block" && block.height === pool!.job.height);
});

Deno.test("Miner moves every thread to a new job and records the switch latency", async () => {
  const [pool] = await pools({ difficulty: "262144" });
  const { miner } = newMiner([pool!.url], { threads: 2 });
  try {
    await miner.start();
    await waitFor(() => miner.stats().job?.id === "1", 60_000, "the first job");
    // The first switch completes once every thread runs job 1 (slow under load: the threads
    // start then); a job that comes before that replaces the switch, which is then not recorded.
    await waitFor(() => miner.stats().jobSwitchMs.length >= 1, 60_000, "the first switch");
    for (let i = 0; i < 5; i++) {
      const job = pool!.newJob(i % 2 === 0);
      await waitFor(() => miner.stats().job?.id === job.jobId, 60_000, "the new job");
      await waitFor(() => miner.stats().jobSwitchMs.length >= i + 2, 60_000, "switch recorded");
    }
    await waitFor(() => miner.stats().accepted >= 1, 60000, "an accepted share");
    const latencies = miner.stats().jobSwitchMs;
    assert.ok(latencies.every((ms) => ms >= 0 && ms < 5000), latencies.join(","));
    const last = pool!.job.jobId;
    await waitFor(
      () => pool!.submits.some((s) => s.params[1] === last),
      60000,
      "a share on the latest job",
    );
  } finally {
    await miner.stop();
    await pool!.close();
  }
});

Deno.test("Miner mines when notify comes before (or without) set_difficulty", async () => {
  const [pool] = await pools({ greeting: "notify-only", difficulty: "262144" });
  const { miner } = newMiner([pool!.url], { defaultDifficulty: 262144n });
  try {
    await miner.start();
    await waitFor(() => miner.stats().accepted >= 1, 60000, "an accepted share");
    assert.equal(miner.stats().difficulty, 262144n);
  } finally {
    await miner.stop();
    await pool!.close();
  }
});

Deno.test("Miner survives bad server input and keeps mining", async () => {
  const [pool] = await pools({ difficulty: "262144" });
  const { miner } = newMiner([pool!.url]);
  try {
    await miner.start();
    await waitFor(() => miner.stats().job !== undefined, 60_000, "a job");
    pool!.broadcast("{malformed");
    pool!.broadcast('{"id":null,"method":"mining.set_difficulty","params":["0"]}');
    pool!.broadcast('{"id":null,"method":"mining.set_difficulty","params":["1e99"]}');
    pool!.broadcast('{"id":null,"method":"mining.notify","params":[1,2,3]}');
    const bad = JSON.stringify({
      id: null,
      method: "mining.notify",
      params: [
        "77",
        "ffffffff",
        "0002",
        "00".repeat(12),
        "00".repeat(9),
        "00".repeat(9),
        [
          "00".repeat(32),
          "00".repeat(32),
          "00".repeat(32),
        ],
        "00000000",
        "00000000",
        true,
      ],
    }); // height 2^32-1: a well-formed notify whose header cannot be built
    pool!.broadcast(bad);
    await waitFor(() => miner.stats().accepted >= 2, 60000, "accepted shares");
    assert.equal(miner.stats().difficulty, 262144n);
    assert.equal(miner.stats().pool, pool!.url);
  } finally {
    await miner.stop();
    await pool!.close();
  }
});

Deno.test("Miner reconnects after a pool restart and keeps mining", async () => {
  let pool = new FakePool({ difficulty: "262144" });
  // The pool's address across the restart: a proxy that keeps its port bound.
  const gate = new TcpProxy({ hostname: "127.0.0.1", port: pool.port });
  const url = `stratum+tcp://127.0.0.1:${gate.port}`;
  const { miner, events } = newMiner([url]);
  try {
    await miner.start();
    await waitFor(() => miner.stats().accepted >= 1, 60000, "an accepted share");
    gate.cut();
    await pool.close();
    await waitFor(() => miner.stats().pool === undefined, 60_000, "the disconnect");
    pool = new FakePool({ difficulty: "262144", extranonceBase: 0x100n });
    gate.retarget({ hostname: "127.0.0.1", port: pool.port });
    gate.restore();
    await waitFor(() => pool.accepted >= 1, 60000, "a share at the restarted pool");
    assert.equal(miner.stats().pool, url);
    assert.ok(miner.stats().connections >= 2);
    assert.ok(pool.submits.every((s) => String(s.params[2]).startsWith("00000000000001")));
  } finally {
    await miner.stop();
    await pool.close();
    await gate.close();
  }
  assert.ok(events.some((e) => e.type === "disconnected"));
});

Deno.test("Miner fails over to the next pool and back to the preferred one", async () => {
  // The preferred pool's address: a proxy that closes every connection until the pool is up
  // (it keeps its port bound meanwhile, so no other socket can take it).
  const gate = new TcpProxy({ hostname: "127.0.0.1", port: 1 });
  gate.cut();
  const backup = new FakePool({ difficulty: "262144" });
  const { miner, events } = newMiner([`stratum+tcp://127.0.0.1:${gate.port}`, backup.url]);
  let preferred: FakePool | undefined;
  try {
    await miner.start();
    await waitFor(() => miner.stats().poolIndex === 1, 60_000, "fail-over to the backup");
    await waitFor(() => backup.accepted >= 1, 60000, "a share at the backup");
    preferred = new FakePool({ difficulty: "262144" });
    gate.retarget({ hostname: "127.0.0.1", port: preferred.port });
    gate.restore();
    await waitFor(() => miner.stats().poolIndex === 0, 60_000, "fail-back to the preferred pool");
    await waitFor(() => preferred!.accepted >= 1, 60000, "a share at the preferred pool");
    await waitFor(() => backup.clientCount === 0, 60_000, "the backup connection closed");
  } finally {
    await miner.stop();
    await backup.close();
    await preferred?.close();
    await gate.close();
  }
  assert.ok(events.some((e) => e.type === "connect_failed"));
  const connected = events.flatMap((e) => e.type === "connected" ? [e.index] : []);
  assert.deepEqual(connected.slice(0, 2), [1, 0]);
});

Deno.test("Miner abandons a dead pool that stops answering submits", async () => {
  const [dead, good] = await pools(
    { difficulty: "65536", answerSubmits: false },
    { difficulty: "262144" },
  );
  const { miner } = newMiner([dead!.url, good!.url], { submitTimeoutMs: 500, failbackMs: 60000 });
  try {
    await miner.start();
    await waitFor(() => miner.stats().poolIndex === 1, 60000, "fail-over away from the dead pool");
    await waitFor(() => good!.accepted >= 1, 60000, "a share at the good pool");
    assert.ok(dead!.submits.length >= 1);
    assert.ok(miner.stats().lost >= 1);
  } finally {
    await miner.stop();
    await dead!.close();
    await good!.close();
  }
});

Deno.test("Miner.stop() works while no pool is reachable", async () => {
  const port = 1; // tcpmux: nothing listens there, connections are refused
  const { miner, events } = newMiner([`127.0.0.1:${port}`]);
  await miner.start();
  // Stop while it is retrying: after its first refused connection.
  await waitFor(() => events.some((e) => e.type === "connect_failed"), 60_000, "a failed connect");
  const summary = await miner.stop();
  assert.equal(summary.accepted, 0);
  assert.equal(summary.connections, 0);
  assert.equal(summary.hashes, 0);
});

Deno.test("Miner fails over from a pool that never sends a job within first_job_timeout", async () => {
  const [silent, good] = await pools({ greeting: "none" }, { difficulty: "262144" });
  const { miner, events } = newMiner([silent!.url, good!.url], {
    firstJobTimeoutMs: 500,
    failbackMs: 60000,
  });
  try {
    await miner.start();
    await waitFor(
      () => miner.stats().poolIndex === 1,
      60000,
      "fail-over away from the silent pool",
    );
    await waitFor(() => good!.accepted >= 1, 60000, "a share at the good pool");
  } finally {
    await miner.stop();
    await silent!.close();
    await good!.close();
  }
  const left = events.find((e) => e.type === "disconnected");
  assert.ok(
    left?.type === "disconnected" && /no job within 500 ms of connecting/.test(left.reason),
  );
});

Deno.test("Miner measures share latency, rates over three windows and the last rejections", async () => {
  // Shares are sought at 262144 but judged at 2^40: nearly all are refused, with a reason.
  const [pool] = await pools({ difficulty: "262144", validateDifficulty: 2n ** 40n });
  const { miner } = newMiner([pool!.url]);
  try {
    await miner.start();
    await waitUntil(() => miner.stats().rejected >= 7, "seven rejected shares");
    await waitUntil(() => miner.stats().rates.s10 > 0, "a 10 s rate");
    const stats = miner.stats();
    assert.equal(stats.lastRejections.length, 5, "only the latest five are kept");
    for (const r of stats.lastRejections) {
      assert.equal(r.reason, "Share is above target");
      assert.ok(r.at >= stats.startedAt && r.at <= Date.now());
    }
    assert.ok(stats.latency.samples >= 7, `${stats.latency.samples} latency samples`);
    assert.ok(stats.latency.p50Ms > 0 && stats.latency.p50Ms <= stats.latency.maxMs);
    // Under a minute of uptime, every window covers the time so far.
    assert.ok(stats.rates.s60 > 0 && stats.rates.m15 > 0);
    assert.equal(stats.threadRates.length, 1);
    assert.ok(stats.threadRates[0]!.s10 > 0);
  } finally {
    await miner.stop();
    await pool!.close();
  }
});

Deno.test("Miner.pause() idles the threads and keeps the pool; resume() mines again", async () => {
  const [pool] = await pools({ difficulty: "262144" });
  const { miner } = newMiner([pool!.url]);
  try {
    await miner.start();
    await waitUntil(() => miner.stats().accepted >= 1, "a first accepted share");
    assert.equal(miner.pause(), true);
    assert.equal(miner.pause(), false, "already paused");
    assert.equal(miner.stats().paused, true);
    // The threads stop within a slice: the hash count stops growing.
    let last = -1;
    await waitUntil(() => {
      const now = miner.stats().hashes;
      const still = now === last;
      last = now;
      return still;
    }, "the hash count to stop growing");
    assert.equal(miner.stats().pool, pool!.url, "still connected");
    // A new job while paused is taken (the event proves it arrived) but not mined.
    const job = pool!.newJob(true);
    await waitUntil(() => miner.stats().job?.id === job.jobId, "the new job at the miner");
    assert.equal(miner.stats().hashes, last, "no hashing while paused");
    assert.equal(miner.resume(), true);
    assert.equal(miner.resume(), false, "already running");
    const accepted = pool!.accepted;
    await waitUntil(() => miner.stats().hashes > last, "hashing again");
    await waitUntil(() => pool!.accepted > accepted, "a share after resume");
    assert.equal(pool!.submits.at(-1)!.params[1], job.jobId, "mined on the new job");
    assert.equal(miner.stats().paused, false);
  } finally {
    await miner.stop();
    await pool!.close();
  }
});
