import assert from "node:assert/strict";
import {
  classifySubmitResponse,
  type ShareOutcome,
  StratumSession,
} from "../../miner/stratum_session.ts";
import { FakePool, type FakePoolOptions, waitFor } from "./_fake_pool.ts";

async function withPool(
  options: FakePoolOptions,
  fn: (pool: FakePool) => Promise<void>,
): Promise<void> {
  const pool = new FakePool(options);
  try {
    await fn(pool);
  } finally {
    await pool.close();
  }
}

function session(
  pool: FakePool,
  over: Partial<ConstructorParameters<typeof StratumSession>[0]> = {},
) {
  const events: string[] = [];
  const s = new StratumSession({
    url: pool.url,
    user: "VAddress.rig",
    onJob: (job) => events.push(`job ${job.jobId}`),
    onDifficulty: (d, rounded) => events.push(`diff ${d}${rounded ? " rounded" : ""}`),
    ...over,
  });
  return { s, events };
}

Deno.test("StratumSession subscribes, authorizes and receives difficulty and job", async () => {
  await withPool({}, async (pool) => {
    const { s, events } = session(pool);
    await s.open();
    assert.equal(s.state, "ready");
    assert.equal(s.extranonce, 0x7c000000000f4240n);
    await waitFor(() => events.length === 2, 60_000, "difficulty and job");
    assert.deepEqual(events, ["diff 1048576", "job 1"]);
    assert.equal(s.difficulty, 1048576n);
    assert.equal(s.job?.jobId, "1");
    const sent = pool.lines.map((l) => JSON.parse(l));
    assert.deepEqual(sent[0], { id: 1, method: "mining.subscribe", params: [] });
    assert.deepEqual(sent[1], { id: 2, method: "mining.authorize", params: ["VAddress.rig", ""] });
    s.close("done");
    assert.equal(await s.closed, "done");
  });
});

Deno.test("StratumSession is lenient with server message shapes", async (t) => {
  const cases: [string, FakePoolOptions, string[]][] = [
    ["a list-of-pairs subscribe result", { subscriptions: "list" }, ["diff 1048576", "job 1"]],
    ["string ids in responses", { ids: "string" }, ["diff 1048576", "job 1"]],
    ["notify before set_difficulty", { greeting: "notify-first" }, ["job 1", "diff 1048576"]],
    ["a fractional difficulty string", { difficulty: "524288.0" }, ["diff 524288", "job 1"]],
    ["a numeric difficulty", { difficulty: 65536 }, ["diff 65536", "job 1"]],
    ["a difficulty below 1", { difficulty: "0.5" }, ["diff 1 rounded", "job 1"]],
    ["a zero difficulty (ignored)", { difficulty: "0" }, ["job 1"]],
    ["an absurd difficulty (ignored)", { difficulty: "1e80" }, ["job 1"]],
    ["a negative difficulty (ignored)", { difficulty: -5 }, ["job 1"]],
    ["no difficulty at all", { greeting: "notify-only" }, ["job 1"]],
  ];
  for (const [name, options, want] of cases) {
    await t.step(name, async () => {
      await withPool(options, async (pool) => {
        const { s, events } = session(pool);
        await s.open({ requireJob: true });
        // The reply to a later request proves every line the pool sent before it was handled.
        const probe = await s.submit({ jobId: "none", extranonce: 1n, ntime: 1, nonce: 1 });
        assert.equal(probe.status, "stale");
        assert.deepEqual(events, want);
        assert.equal(s.state, "ready");
        s.close("done");
      });
    });
  }
});

Deno.test("StratumSession logs and survives bad server input", async () => {
  await withPool({}, async (pool) => {
    const { s, events } = session(pool);
    await s.open({ requireJob: true });
    const garbage = [
      "{not json",
      "[]",
      '"just a string"',
      '{"id":null,"method":"mining.notify","params":["x"]}',
      '{"id":null,"method":"mining.notify","params":"nope"}',
      '{"id":null,"method":"mining.set_difficulty","params":["abc"]}',
      '{"id":null,"method":"mining.set_difficulty","params":[]}',
      '{"id":{"a":1},"result":true}',
      '{"id":77,"result":true,"error":null}', // answers nothing we sent
      '{"id":null}',
      '{"id":null,"method":"client.show_message","params":["hello miners"]}',
      '{"id":null,"method":"mining.something_new","params":[1,2]}',
    ];
    for (const line of garbage) pool.broadcast(line);
    pool.broadcast('{"id":null,"method":"mining.set_difficulty","params":["4096"]}');
    pool.newJob();
    await waitFor(() => events.includes("job 2"), 60_000, "the next job");
    assert.equal(s.state, "ready");
    assert.equal(s.difficulty, 4096n);
    assert.equal(s.badLines, 9);
    s.close("done");
  });
});

Deno.test("StratumSession answers server requests it does not know", async () => {
  await withPool({}, async (pool) => {
    const { s } = session(pool, { agent: "vbkpool/test" });
    await s.open();
    pool.broadcast('{"id":"v1","method":"client.get_version","params":[]}');
    pool.broadcast('{"id":5,"method":"mining.configure","params":[]}');
    await waitFor(() => pool.lines.length >= 4, 60_000, "two answers");
    const answers = pool.lines.slice(2).map((l) => JSON.parse(l));
    assert.deepEqual(answers[0], { id: "v1", result: "vbkpool/test", error: null });
    assert.equal(answers[1].id, 5);
    assert.equal(answers[1].error[0], -3);
    s.close("done");
  });
});

Deno.test("StratumSession submits shares and classifies the verdicts", async () => {
  await withPool({ difficulty: "1" }, async (pool) => {
    const { s } = session(pool);
    await s.open({ requireJob: true });
    const job = pool.job;
    const ok = await s.submit({ jobId: job.jobId, extranonce: 1n, ntime: job.timestamp, nonce: 1 });
    assert.deepEqual(ok, { status: "accepted" });
    const stale = await s.submit({ jobId: "999", extranonce: 1n, ntime: job.timestamp, nonce: 2 });
    assert.deepEqual(stale, { status: "stale", code: 21, reason: "Job '999' not found" });
    const low = await s.submit({ jobId: job.jobId, extranonce: 1n, ntime: 1, nonce: 3 });
    assert.equal(low.status, "rejected");
    const sent = JSON.parse(pool.lines[2]!);
    assert.equal(sent.method, "mining.submit");
    assert.deepEqual(sent.params, [
      "VAddress.rig",
      job.jobId,
      "0000000000000001",
      job.timestamp.toString(16).padStart(8, "0"),
      "00000001",
    ]);
    s.close("done");
  });
});

Deno.test("StratumSession.submit() resolves lost when not ready or when the connection drops", async () => {
  await withPool({ answerSubmits: false }, async (pool) => {
    const { s } = session(pool);
    const early = await s.submit({ jobId: "1", extranonce: 0n, ntime: 0, nonce: 0 });
    assert.equal(early.status, "lost");
    await s.open();
    const pending = s.submit({ jobId: "1", extranonce: 0n, ntime: 0, nonce: 0 });
    await waitFor(() => pool.submits.length === 1, 60_000, "the submit");
    assert.equal(s.pendingSubmits, 1);
    pool.dropClients();
    const outcome: ShareOutcome = await pending;
    assert.equal(outcome.status, "lost");
    assert.match(await s.closed, /connection closed/);
  });
});

Deno.test("StratumSession declares a pool dead when submits go unanswered", async () => {
  await withPool({ answerSubmits: false }, async (pool) => {
    const { s } = session(pool, { submitTimeoutMs: 200 });
    await s.open();
    void s.submit({ jobId: "1", extranonce: 0n, ntime: 0, nonce: 0 });
    assert.match(await s.closed, /dead: no reply to a submit/);
  });
});

Deno.test("StratumSession declares a pool dead when no first job comes (a pool without work)", async () => {
  await withPool({ greeting: "none" }, async (pool) => {
    const { s } = session(pool, { firstJobTimeoutMs: 200 });
    await s.open();
    assert.match(await s.closed, /dead: no job within 200 ms of connecting/);
  });
});

Deno.test("StratumSession declares a pool dead when no new job comes while mining", async () => {
  await withPool({}, async (pool) => {
    const { s, events } = session(pool, { firstJobTimeoutMs: 60_000, jobTimeoutMs: 300 });
    await s.open();
    await waitFor(() => events.includes("job 1"), 60_000, "the first job");
    assert.match(await s.closed, /dead: no job for 300 ms/);
  });
});

Deno.test("StratumSession.open() fails when the handshake is not answered", async () => {
  await withPool({ answerHandshake: false }, async (pool) => {
    const { s } = session(pool, { handshakeTimeoutMs: 200 });
    await assert.rejects(() => s.open(), /no reply to subscribe/);
    assert.equal(s.state, "closed");
  });
});

Deno.test("StratumSession.open() fails when authorization is refused", async () => {
  await withPool({ authorize: false }, async (pool) => {
    const { s } = session(pool);
    await assert.rejects(() => s.open(), /authorization refused/);
  });
});

Deno.test("StratumSession.open() fails when nothing listens", async () => {
  const pool = new FakePool();
  const url = pool.url;
  await pool.close();
  const s = new StratumSession({ url, user: "u", connectTimeoutMs: 2000 });
  await assert.rejects(() => s.open(), /Cannot connect/);
  assert.match(await s.closed, /connect failed/);
});

Deno.test("StratumSession.open() with requireJob fails when no job comes in time", async () => {
  await withPool({ greeting: "none" }, async (pool) => {
    const { s } = session(pool, { handshakeTimeoutMs: 200 });
    await assert.rejects(() => s.open({ requireJob: true }), /no job within/);
  });
});

Deno.test("StratumSession closes on client.reconnect and remembers the wait", async () => {
  await withPool({}, async (pool) => {
    const { s } = session(pool);
    await s.open();
    pool.broadcast('{"id":null,"method":"client.reconnect","params":["elsewhere", 1, 3]}');
    assert.equal(await s.closed, "pool asked to reconnect");
    assert.equal(s.reconnectDelayMs, 3000);
  });
});

Deno.test("StratumSession closes on an oversized line", async () => {
  await withPool({}, async (pool) => {
    const { s } = session(pool, { maxLineBytes: 1024 });
    await s.open();
    pool.broadcast("x".repeat(5000));
    assert.match(await s.closed, /line too long/);
  });
});

Deno.test("classifySubmitResponse() reads the many ways pools refuse", () => {
  assert.deepEqual(classifySubmitResponse(false, null), {
    status: "rejected",
    code: -1,
    reason: "rejected (result false)",
  });
  assert.equal(classifySubmitResponse(null, [-2, "Job '5' not found"]).status, "stale");
  assert.equal(classifySubmitResponse(null, [20, "Stale share"]).status, "stale");
  assert.equal(classifySubmitResponse(null, [22, "Duplicate share"]).status, "rejected");
  assert.equal(classifySubmitResponse(true, [23, "Share is above target"]).status, "rejected");
});
