/**
 * Miners are told when the pool has no work, over real TCP (templates fed straight into the
 * pool; the same with the real devnet stopped and started is in tests/e2e/no_work_test.ts).
 */
import assert from "node:assert/strict";
import type { PoolEvent } from "../../server/events.ts";
import { CudaLikeMiner, CudaSetupError } from "../e2e/_ucp_cuda_miner.ts";
import { waitUntil } from "../_process.ts";
import { ADDRESSES, freshTemplate, startPool } from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";

const ADDRESS = ADDRESSES[0]!;
const NO_WORK = [20, "No work available: the pool has no job from its node", null];

function noWorkPool(limits: { noWorkWaitMs: number; noWorkGraceMs: number }) {
  const started = startPool({
    limits,
    ucp: {
      ports: [{ hostname: "127.0.0.1", port: 0, difficulty: 16n }],
      limits: { writeGapMs: 5 },
    },
  });
  const events: PoolEvent[] = [];
  started.pool.events.subscribe((e) => events.push(e));
  return { ...started, events, ucpPort: started.pool.ucpServers[0]!.addr.port };
}

function closes(events: PoolEvent[], reason: string): number {
  return events.filter((e) => e.type === "connection_close" && e.reason === reason).length;
}

Deno.test("without work, a new miner is refused at once after the wait; an earlier one is closed then", async () => {
  const { pool, port, ucpPort, events } = noWorkPool({ noWorkWaitMs: 500, noWorkGraceMs: 60_000 });
  const clients: TestClient[] = [];
  const ucp: CudaLikeMiner[] = [];
  try {
    // Within the wait (as at start-up, or early in an upstream restart) a miner is answered.
    const early = await TestClient.connect(port());
    clients.push(early);
    await subscribeAndAuthorize(early, ADDRESS);
    // It never gets a job: closed when the wait passes.
    await early.closed;
    await waitUntil(() => closes(events, "no work") === 1, "the early miner's close");
    // Now a subscribe is refused with a clear error, and the connection closed.
    const late = await TestClient.connect(port());
    clients.push(late);
    const refused = await late.call("mining.subscribe", ["some-miner/1.0"]);
    assert.deepEqual(refused.json.error, NO_WORK);
    await late.closed;
    // UCP: MINING_SUBSCRIBE_FAILURE with the reason, then a close.
    const gpu = await CudaLikeMiner.connect(ucpPort);
    ucp.push(gpu);
    await assert.rejects(
      () => gpu.setup(ADDRESS),
      (err: Error) =>
        err instanceof CudaSetupError &&
        /MINING_SUBSCRIBE_FAILURE: No work available: the pool has no job from its node/.test(
          err.message,
        ),
    );
    assert.equal(await gpu.closedByServer(), "closed by server");
    // Work again: miners are welcome.
    pool.addTemplate(freshTemplate(1));
    const back = await TestClient.connect(port());
    clients.push(back);
    await subscribeAndAuthorize(back, ADDRESS);
    await back.notification("mining.notify");
    const gpuBack = await CudaLikeMiner.connect(ucpPort);
    ucp.push(gpuBack);
    await gpuBack.setup(ADDRESS);
  } finally {
    for (const c of clients) await c.close();
    for (const m of ucp) await m.close();
    await pool.stop();
  }
});

Deno.test("miners with work survive a short outage and are asked to reconnect after the grace", async () => {
  const grace = 1500;
  const { pool, port, ucpPort, events } = noWorkPool({ noWorkWaitMs: 200, noWorkGraceMs: grace });
  const clients: TestClient[] = [];
  const ucp: CudaLikeMiner[] = [];
  try {
    pool.addTemplate(freshTemplate(1));
    const mining = await TestClient.connect(port());
    clients.push(mining);
    await subscribeAndAuthorize(mining, ADDRESS);
    await mining.notification("mining.notify");
    const gpu = await CudaLikeMiner.connect(ucpPort);
    ucp.push(gpu);
    await gpu.setup(ADDRESS);

    // A short outage: newcomers are refused (proof that the wait has passed) ...
    pool.reset();
    await waitUntil(async () => {
      const probe = await TestClient.connect(port());
      clients.push(probe);
      const reply = await probe.call("mining.subscribe", []);
      return reply.json.error?.[1] === NO_WORK[1];
    }, "a newcomer refused");
    // ... while the miners that had work keep their sessions and get the next job.
    const seen = gpu.messages.length;
    pool.addTemplate(freshTemplate(2));
    const clean = await mining.notification("mining.notify");
    assert.equal(clean.json.params[9], true);
    await gpu.next("MINING_JOB", seen);
    assert.equal(mining.closedReason, undefined);

    // A long outage: after the grace, client.reconnect and a close; UCP miners are closed.
    const lostAt = Date.now();
    pool.reset();
    const reconnect = await mining.notification("client.reconnect", 60_000);
    assert.equal(reconnect.raw, '{"id":null,"method":"client.reconnect","params":[]}');
    await mining.closed;
    assert.ok(Date.now() - lostAt >= grace, "asked to reconnect before the grace ended");
    assert.equal(await gpu.closedByServer(), "closed by server");
    await waitUntil(() => closes(events, "no work") >= 2, "both close events");

    // When work is back, a miner that reconnects mines again.
    pool.addTemplate(freshTemplate(3));
    const again = await TestClient.connect(port());
    clients.push(again);
    await subscribeAndAuthorize(again, ADDRESS);
    await again.notification("mining.notify");
  } finally {
    for (const c of clients) await c.close();
    for (const m of ucp) await m.close();
    await pool.stop();
  }
});
