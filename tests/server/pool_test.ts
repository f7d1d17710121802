import assert from "node:assert/strict";
import { encodeBits } from "../../hash/difficulty.ts";
import type { PoolEvent } from "../../server/events.ts";
import { Pool } from "../../server/pool.ts";
import type { MemoryShareRecorder } from "../../server/share_recorder.ts";
import { ADDRESSES, freshTemplate, hex16, hex8, mine, startPool, testPort } from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { waitUntil } from "../_wait.ts";

const ADDRESS = ADDRESSES[0]!;

Deno.test("Pool broadcasts each job once to every subscribed miner on every port", async () => {
  const { pool, port } = startPool({ ports: [testPort(), testPort({ difficulty: 65536n })] });
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  const a = await TestClient.connect(port(0));
  const b = await TestClient.connect(port(1));
  const idle = await TestClient.connect(port(1)); // not subscribed: gets nothing
  try {
    await subscribeAndAuthorize(a, ADDRESS);
    const readyB = await subscribeAndAuthorize(b, ADDRESSES[1]!);
    assert.equal(readyB.difficulty, 65536n);
    const job = pool.addTemplate(freshTemplate(1))!;
    const [na, nb] = await Promise.all([
      a.notification("mining.notify"),
      b.notification("mining.notify"),
    ]);
    assert.equal(na.raw, job.notifyLine);
    assert.equal(nb.raw, job.notifyLine);
    const broadcast = events.find((e) => e.type === "job_broadcast");
    assert.ok(broadcast?.type === "job_broadcast");
    assert.equal(broadcast.sessions, 2);
    assert.equal(broadcast.cleanJobs, true);
    assert.equal(idle.lines.length, 0);
    assert.equal(pool.sessionCount, 3);
  } finally {
    await Promise.all([a.close(), b.close(), idle.close()]);
    await pool.stop();
  }
});

Deno.test("Pool ignores an unusable template and keeps the current job", async () => {
  const { pool } = startPool();
  try {
    const job = pool.addTemplate(freshTemplate(1))!;
    assert.equal(pool.addTemplate(freshTemplate(2, { bits: 0 })), undefined);
    assert.equal(pool.jobs.current, job);
  } finally {
    await pool.stop();
  }
});

Deno.test("Pool submits a block candidate upstream and credits the share", async () => {
  const { pool, port, blocks } = startPool({
    ports: [
      testPort({
        difficulty: 1n << 40n,
        minDifficulty: 1n,
        maxDifficulty: 1n << 40n,
        vardiff: false,
      }),
    ],
  });
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  const client = await TestClient.connect(port());
  try {
    const { extranonce } = await subscribeAndAuthorize(client, `${ADDRESS}.rig`);
    pool.addTemplate(freshTemplate(3, { bits: encodeBits(256n), upstreamJobId: 777 }));
    const notify = await client.notification("mining.notify");
    const ntime = Math.floor(Date.now() / 1000);
    const [nonce] = mine(notify.json.params, extranonce, { ntime, difficulty: 256n });
    const reply = await client.call(
      "mining.submit",
      [`${ADDRESS}.rig`, notify.json.params[0], hex16(extranonce), hex8(ntime), hex8(nonce!)],
    );
    // A block, though far above the miner's share difficulty: accepted and submitted.
    assert.equal(reply.json.result, true);
    assert.deepEqual(blocks.list, [{
      upstreamJobId: 777,
      nTime: ntime,
      nonce,
      extraNonce: extranonce,
      endpoint: "test",
    }]);
    await waitUntil(() => events.some((e) => e.type === "block_result"), "the block result");
    const found = events.find((e) => e.type === "block_found");
    assert.ok(found?.type === "block_found");
    assert.equal(found.share.block, true);
    assert.equal(found.share.difficulty, 256n);
    assert.equal(found.share.workerName, "rig");
    const result = events.find((e) => e.type === "block_result");
    assert.ok(
      result?.type === "block_result" && result.accepted && result.hash === found.share.hash,
    );
    const totals = (pool.recorder as MemoryShareRecorder).totals(`${ADDRESS}.rig`);
    assert.deepEqual(totals && [totals.shares, totals.blocks, totals.work], [1, 1, 256n]);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("Pool reports a rejected or failing block submission", async () => {
  const ports = [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })];
  const upstream = { submitBlock: () => Promise.reject(new Error("socket gone")) };
  const { pool, port } = startPool({ ports, upstream });
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  const client = await TestClient.connect(port());
  try {
    const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
    pool.addTemplate(freshTemplate(4, { bits: encodeBits(1n) }));
    const notify = await client.notification("mining.notify");
    const ntime = Math.floor(Date.now() / 1000);
    const reply = await client.call(
      "mining.submit",
      [ADDRESS, notify.json.params[0], hex16(extranonce), hex8(ntime), hex8(5)],
    );
    assert.equal(reply.json.result, true);
    await waitUntil(() => events.some((e) => e.type === "block_result"), "the block result");
    const result = events.find((e) => e.type === "block_result");
    assert.ok(result?.type === "block_result" && !result.accepted);
    assert.match(result.reason!, /socket gone/);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("Pool.reset() makes every job stale", async () => {
  const ports = [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })];
  const { pool, port } = startPool({ ports });
  const client = await TestClient.connect(port());
  try {
    const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
    pool.addTemplate(freshTemplate(5));
    const notify = await client.notification("mining.notify");
    pool.reset();
    const ntime = hex8(Math.floor(Date.now() / 1000));
    const reply = await client.call(
      "mining.submit",
      [ADDRESS, notify.json.params[0], hex16(extranonce), ntime, hex8(1)],
    );
    assert.equal(reply.json.error[0], 21);
    pool.addTemplate(freshTemplate(5));
    assert.equal((await client.notification("mining.notify")).json.params[9], true);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("Pool.stop() answers in-flight shares before closing connections", async () => {
  const ports = [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })];
  // A slow store (part of the scenario): each record takes 200 ms, so stop() finds it in flight.
  const recorder = { record: () => new Promise<void>((r) => setTimeout(r, 200)) };
  const { pool, port } = startPool({ ports, recorder });
  const client = await TestClient.connect(port());
  try {
    const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
    pool.addTemplate(freshTemplate(6));
    const notify = await client.notification("mining.notify");
    const ntime = hex8(Math.floor(Date.now() / 1000));
    client.send("mining.submit", [
      ADDRESS,
      notify.json.params[0],
      hex16(extranonce),
      ntime,
      hex8(1),
    ], "s");
    await waitUntil(() => pool.inflight > 0, "the share in flight");
    await pool.stop();
    const reply = await client.waitFor((l) => l.json?.id === "s");
    assert.equal(reply.json.result, true);
    await client.closed;
    // A stopped pool no longer accepts connections.
    await assert.rejects(() => TestClient.connect(port()));
  } finally {
    await client.close();
  }
});

Deno.test("Pool.start() fails cleanly when a port is taken", async () => {
  const { pool, port } = startPool();
  try {
    assert.throws(() =>
      Pool.start({
        ports: [testPort(), testPort({ port: port() })],
        upstream: { submitBlock: () => Promise.resolve({ accepted: false }) },
        vardiffTickMs: 0,
      })
    );
  } finally {
    await pool.stop();
  }
});

Deno.test("Pool's vardiff timer lowers a silent miner", async () => {
  const ports = [
    testPort({
      difficulty: 1n << 30n,
      minDifficulty: 1n,
      targetShareSeconds: 0.01,
      retargetSeconds: 0,
    }),
  ];
  const { pool, port } = startPool({ ports, vardiffTickMs: 20 });
  const client = await TestClient.connect(port());
  try {
    await subscribeAndAuthorize(client, ADDRESS);
    pool.addTemplate(freshTemplate(7));
    await client.notification("mining.notify");
    const lowered = await client.notification("mining.set_difficulty");
    assert.ok(BigInt(lowered.json.params[0]) < 1n << 30n);
    assert.equal((await client.notification("mining.notify")).json.params[9], false);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("Pool: the vardiff timer lowers nobody while reads are paused (the store is behind)", async () => {
  const ports = [
    testPort({ difficulty: 1n << 30n, minDifficulty: 1n, targetShareSeconds: 1 }),
  ];
  const { pool, port } = startPool({ ports, vardiffTickMs: 0 });
  const client = await TestClient.connect(port());
  try {
    await subscribeAndAuthorize(client, ADDRESS);
    pool.addTemplate(freshTemplate(7));
    await client.notification("mining.notify");
    const session = [...pool.servers[0]!.sessions.values()][0]!;
    const later = Date.now() + 3_600_000; // an hour without a share read
    pool.backlog.gate.shut();
    pool.servers[0]!.tick(later);
    assert.equal(session.difficulty, 1n << 30n, "lowered while its shares were unread");
    pool.backlog.gate.reopen();
    pool.servers[0]!.tick(later); // the same silence with reads going on: lowered
    assert.ok(session.difficulty < 1n << 30n);
    assert.ok(
      BigInt((await client.notification("mining.set_difficulty")).json.params[0]) < 1n << 30n,
    );
  } finally {
    await client.close();
    await pool.stop();
  }
});
