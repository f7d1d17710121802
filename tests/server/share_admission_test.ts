/**
 * The share-admission rules, attacked from the miner's side on both ports (Stratum and UCP):
 * credit never above the network difficulty, a block never refused before it is hashed, one
 * connection's ntime choice never makes another's shares stale.
 */
import assert from "node:assert/strict";
import { difficultyToTarget, encodeBits, hashToBigInt } from "../../hash/difficulty.ts";
import { createWasmKernel } from "../../hash/kernel.ts";
import { JobManager } from "../../server/jobs.ts";
import type { PoolEvent } from "../../server/events.ts";
import { validateShare } from "../../server/shares.ts";
import type { AcceptedShare } from "../../server/share_recorder.ts";
import { CudaLikeMiner } from "../e2e/_ucp_cuda_miner.ts";
import {
  ADDRESSES,
  freshTemplate,
  hashHeader,
  headerFromNotify,
  hex16,
  hex8,
  startPool,
  testPort,
} from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { until } from "./_store.ts";

const NETWORK = 256n;
const kernel = createWasmKernel();

/** A nonce from `from` whose hash meets `meets` and (when given) misses `misses`. */
function nonceFor(
  header: Uint8Array,
  options: { meets: bigint; misses?: bigint; from?: number },
): number {
  const meets = difficultyToTarget(options.meets);
  const misses = options.misses === undefined ? undefined : difficultyToTarget(options.misses);
  const h = header.slice();
  const view = new DataView(h.buffer);
  for (let nonce = options.from ?? 0; nonce < 1 << 30; nonce++) {
    view.setUint32(60, nonce);
    const value = hashToBigInt(hashHeader(h));
    if (value < meets && (misses === undefined || value >= misses)) return nonce;
  }
  throw new Error("no nonce found");
}

function credited(events: PoolEvent[]): AcceptedShare[] {
  return events.flatMap((e) => e.type === "share_accepted" ? [e.share] : []);
}

Deno.test("validateShare() pays a miner at 16x the network difficulty no more per hash than one at 1/16 (vBlake, fixed nonces)", () => {
  // Every hash of a fixed run of nonces is checked with the real vBlake; a hash credits what
  // the validator credits. Expected credit per hash is 1 at any share difficulty; crediting the
  // share difficulty above the network's would pay 2 - 1/16 = 1.94.
  const network = 64n;
  const hashes = 200_000;
  const perHash = (difficulty: bigint): number => {
    const job = new JobManager().add(freshTemplate(7, { bits: encodeBits(network) }));
    const range = { start: 0x7c00000000100000n, end: 0x7c00000000200000n };
    const facts = {
      authorized: new Set(["w"]),
      extranonce: range,
      jobs: new Map([[job.id, { job, difficulty, target: difficultyToTarget(difficulty) }]]),
      hash: (header: Uint8Array) => kernel.hash(header),
      now: job.template.timestamp * 1000,
      maxSharesPerJob: hashes + 1,
    };
    const ntime = hex8(job.template.timestamp);
    const extranonce = hex16(range.start);
    let total = 0n;
    let blocks = 0;
    for (let nonce = 0; nonce < hashes; nonce++) {
      const verdict = validateShare(["w", job.id, extranonce, ntime, hex8(nonce)], facts);
      if (!verdict.ok) continue;
      assert.ok(verdict.difficulty <= network, "credit above the network difficulty");
      total += verdict.difficulty;
      if (verdict.block) blocks++;
    }
    assert.ok(blocks > 2000, `only ${blocks} blocks`);
    return Number(total) / hashes;
  };
  const high = perHash(network * 16n);
  const low = perHash(network / 16n);
  assert.ok(Math.abs(high - 1) < 0.08, `credit per hash at 16x: ${high}`);
  assert.ok(Math.abs(low - 1) < 0.08, `credit per hash at 1/16: ${low}`);
  assert.ok(high / low < 1.1, `16x earns ${high / low} times as much per hash as 1/16`);
});

Deno.test("Stratum: d=N above the network is announced and credited at the network difficulty, and follows it", async () => {
  const { pool, port } = startPool({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, maxDifficulty: 1n << 40n })],
  });
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  pool.addTemplate(freshTemplate(1, { bits: encodeBits(NETWORK) }));
  const client = await TestClient.connect(port());
  try {
    const { extranonce } = await subscribeAndAuthorize(client, ADDRESSES[0]!, "d=65536");
    const announced = await client.notification("mining.set_difficulty");
    assert.equal(announced.json.params[0], String(NETWORK));
    await client.notification("mining.notify"); // sent at subscribe, at difficulty 1
    const notify = await client.notification("mining.notify"); // the fresh id after d=N
    // A hash that is a block but misses d=65536 counts one network difficulty, as does every
    // block, whatever the session's difficulty.
    const ntime = Math.floor(Date.now() / 1000);
    const header = headerFromNotify(notify.json.params, extranonce, ntime);
    const nonce = nonceFor(header, { meets: NETWORK, misses: 65536n });
    const reply = await client.call("mining.submit", [
      ADDRESSES[0]!,
      notify.json.params[0],
      hex16(extranonce),
      hex8(ntime),
      hex8(nonce),
    ]);
    assert.equal(reply.json.result, true);
    await until(() => credited(events).length === 1);
    assert.equal(credited(events)[0]!.difficulty, NETWORK);
    assert.equal(credited(events)[0]!.block, true);
    // The network gets easier: the announced difficulty follows it down ...
    pool.addTemplate(freshTemplate(2, { bits: encodeBits(64n) }));
    const down = await client.notification("mining.set_difficulty");
    assert.equal(down.json.params[0], "64");
    // ... and back up, never past what the miner asked for.
    pool.addTemplate(freshTemplate(3, { bits: encodeBits(1n << 20n) }));
    const up = await client.notification("mining.set_difficulty");
    assert.equal(up.json.params[0], "65536");
    // suggest_difficulty above the network is capped too.
    pool.addTemplate(freshTemplate(4, { bits: encodeBits(NETWORK) }));
    assert.equal((await client.notification("mining.set_difficulty")).json.params[0], "256");
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("Stratum: mining.suggest_difficulty and a fixed port difficulty above the network are capped", async () => {
  const { pool, port } = startPool({
    ports: [testPort({ difficulty: 4096n, minDifficulty: 1n, vardiff: false })],
  });
  pool.addTemplate(freshTemplate(1, { bits: encodeBits(NETWORK) }));
  const client = await TestClient.connect(port());
  try {
    const ready = await subscribeAndAuthorize(client, ADDRESSES[0]!);
    assert.equal(ready.difficulty, NETWORK);
    await client.call("mining.suggest_difficulty", [1_000_000]);
    // Nothing above the network is ever announced: the next template's difficulty is the cap.
    pool.addTemplate(freshTemplate(2, { bits: encodeBits(128n) }));
    const next = await client.notification("mining.set_difficulty");
    assert.equal(next.json.params[0], "128");
    for (const line of client.lines) {
      if (line.json?.method === "mining.set_difficulty") {
        assert.ok(BigInt(line.json.params[0]) <= NETWORK, line.raw);
      }
    }
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("UCP: a port difficulty above the network credits one network difficulty per share", async () => {
  const { pool, blocks } = startPool({
    ucp: { ports: [{ hostname: "127.0.0.1", port: 0, difficulty: 1024n }] },
  });
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  pool.addTemplate(freshTemplate(1, { bits: encodeBits(NETWORK) }));
  const miner = await CudaLikeMiner.connect(pool.ucpServers[0]!.addr.port);
  try {
    await miner.setup(ADDRESSES[0]!);
    const work = miner.work!;
    const nTime = Math.floor(Date.now() / 1000);
    const header = work.header.slice();
    new DataView(header.buffer).setUint32(52, nTime);
    // A hash that meets the port's difficulty (4x the network's) counts one network difficulty.
    const nonce = nonceFor(header, { meets: 1024n });
    const sent = await miner.submit({ jobId: work.jobId, nTime, nonce });
    assert.equal((await miner.reply(sent)).command, "MINING_SUBMIT_SUCCESS");
    await until(() => credited(events).length === 1);
    assert.equal(credited(events)[0]!.difficulty, NETWORK);
    assert.equal(blocks.list.length, 1);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

/** A Stratum miner on a pool with network difficulty 256 and share difficulty 1. */
async function stratumMiner(limits: Record<string, number>) {
  const started = startPool({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
    limits,
  });
  started.pool.addTemplate(freshTemplate(1, { bits: encodeBits(NETWORK) }));
  const client = await TestClient.connect(started.port());
  const { extranonce } = await subscribeAndAuthorize(client, ADDRESSES[0]!);
  const notify = await client.notification("mining.notify");
  const ntime = Math.floor(Date.now() / 1000);
  const header = headerFromNotify(notify.json.params, extranonce, ntime);
  const submit = (nonce: number) =>
    client.call("mining.submit", [
      ADDRESSES[0]!,
      notify.json.params[0],
      hex16(extranonce),
      hex8(ntime),
      hex8(nonce),
    ]);
  return { ...started, client, header, submit };
}

Deno.test("Stratum: over the pending-submit cap a share is refused, a block is still accepted and submitted", async () => {
  const { pool, blocks, client, header, submit } = await stratumMiner({ maxPendingSubmits: 0 });
  try {
    const share = await submit(nonceFor(header, { meets: 1n, misses: NETWORK }));
    assert.deepEqual(share.json.error.slice(0, 2), [20, "Too many requests"]);
    assert.equal(blocks.list.length, 0);
    const block = await submit(nonceFor(header, { meets: NETWORK }));
    assert.equal(block.json.result, true);
    assert.equal(blocks.list.length, 1);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("Stratum: a flooding connection still gets its block submitted, its other submits are refused", async () => {
  const { pool, blocks, client, header, submit } = await stratumMiner({
    requestsPerSecond: 0.001,
    requestBurst: 2, // subscribe and authorize
    maxProtocolErrors: 3,
  });
  try {
    const share = await submit(nonceFor(header, { meets: 1n, misses: NETWORK }));
    assert.deepEqual(share.json.error.slice(0, 2), [20, "Too many requests"]);
    const block = await submit(nonceFor(header, { meets: NETWORK }));
    assert.equal(block.json.result, true);
    assert.equal(blocks.list.length, 1);
    // The third flooded request condemns the connection: answered, then nothing more is read.
    client.send("mining.extranonce.subscribe", []);
    client.send("mining.submit", [ADDRESSES[0]!, "x", "00", "00", "00"]);
    await client.closed;
    assert.equal(blocks.list.length, 1);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("Stratum: a flood from one connection does not hold back another connection's block", async () => {
  const { pool, port, blocks } = startPool({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
    limits: { requestsPerSecond: 50, requestBurst: 100, maxProtocolErrors: 3 },
  });
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  pool.addTemplate(freshTemplate(1, { bits: encodeBits(NETWORK) }));
  const honest = await TestClient.connect(port());
  const flooder = await Deno.connect({ hostname: "127.0.0.1", port: port() });
  try {
    const b = await subscribeAndAuthorize(honest, ADDRESSES[0]!);
    const notify = await honest.notification("mining.notify");
    const jobId = notify.json.params[0];
    const ntime = Math.floor(Date.now() / 1000);
    // The flooder subscribes, authorizes, then writes 20,000 submits (about 2 MB) without ever
    // reading a reply ...
    const lines = [
      JSON.stringify({ id: 1, method: "mining.subscribe", params: [] }),
      JSON.stringify({ id: 2, method: "mining.authorize", params: [ADDRESSES[1]!, ""] }),
      ...Array.from({ length: 20_000 }, (_, n) =>
        JSON.stringify({
          id: n + 3,
          method: "mining.submit",
          params: [ADDRESSES[1]!, jobId, "7c00000000000000", hex8(ntime), hex8(n)],
        })),
    ];
    const bytes = new TextEncoder().encode(lines.join("\n") + "\n");
    const writing = (async () => {
      try {
        for (let off = 0; off < bytes.length;) off += await flooder.write(bytes.subarray(off));
      } catch {
        // Closed by the pool.
      }
    })();
    // ... while the honest miner submits a block.
    const header = headerFromNotify(notify.json.params, b.extranonce, ntime);
    const nonce = nonceFor(header, { meets: NETWORK });
    const reply = await honest.call("mining.submit", [
      ADDRESSES[0]!,
      jobId,
      hex16(b.extranonce),
      hex8(ntime),
      hex8(nonce),
    ]);
    assert.equal(reply.json.result, true);
    assert.ok(blocks.list.some((s) => s.nonce === nonce));
    await writing;
    await until(() =>
      events.some((e) =>
        e.type === "connection_close" && e.connectionId !== 0 &&
        pool.sessionCount === 1
      )
    );
    // The flooder was stopped after its burst and three refusals: its later lines were never
    // validated (at most burst + 3 verdicts for it).
    const flooderVerdicts = events.filter((e) =>
      e.type === "share_rejected" && e.worker === ADDRESSES[1]
    ).length;
    assert.ok(flooderVerdicts <= 103, `${flooderVerdicts} verdicts for the flooder`);
  } finally {
    try {
      flooder.close();
    } catch {
      // Already closed.
    }
    await honest.close();
    await pool.stop();
  }
});

/** A UCP miner on a pool with network difficulty 256 and share difficulty 1. */
async function ucpMiner(limits: Record<string, number>) {
  const started = startPool({
    ucp: { ports: [{ hostname: "127.0.0.1", port: 0, difficulty: 1n }], limits },
  });
  started.pool.addTemplate(freshTemplate(1, { bits: encodeBits(NETWORK) }));
  const miner = await CudaLikeMiner.connect(started.pool.ucpServers[0]!.addr.port);
  await miner.setup(ADDRESSES[0]!);
  const work = miner.work!;
  const nTime = Math.floor(Date.now() / 1000);
  const header = work.header.slice();
  new DataView(header.buffer).setUint32(52, nTime);
  const submit = async (nonce: number) => {
    const sent = await miner.submit({ jobId: work.jobId, nTime, nonce });
    return await miner.reply(sent);
  };
  return { ...started, miner, header, submit };
}

function failure(m: { command: string }): string {
  assert.equal(m.command, "MINING_SUBMIT_FAILURE", JSON.stringify(m));
  return (m as unknown as { reason: string }).reason;
}

Deno.test("UCP: over the pending-submit cap a share is refused, a block is still accepted and submitted", async () => {
  const { pool, blocks, miner, header, submit } = await ucpMiner({ maxPendingSubmits: 0 });
  try {
    const share = await submit(nonceFor(header, { meets: 1n, misses: NETWORK }));
    assert.equal(failure(share), "Too many requests");
    const block = await submit(nonceFor(header, { meets: NETWORK }));
    assert.equal(block.command, "MINING_SUBMIT_SUCCESS");
    assert.equal(blocks.list.length, 1);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP: a flooding connection still gets its block submitted, its other submits are refused", async () => {
  const { pool, blocks, miner, header, submit } = await ucpMiner({
    requestsPerSecond: 0.001,
    requestBurst: 2,
    maxProtocolErrors: 3,
  });
  try {
    const share = await submit(nonceFor(header, { meets: 1n, misses: NETWORK }));
    assert.equal(failure(share), "Too many requests");
    const block = await submit(nonceFor(header, { meets: NETWORK }));
    assert.equal(block.command, "MINING_SUBMIT_SUCCESS");
    assert.equal(blocks.list.length, 1);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("one miner's share timed far ahead plus a flood that fills the work makes no one else's shares stale", async () => {
  const { pool, port, blocks } = startPool({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
    ucp: { ports: [{ hostname: "127.0.0.1", port: 0, difficulty: 1n }] },
    limits: { maxSharesPerJob: 16, ntimeFutureSeconds: 300 },
  });
  pool.addTemplate(freshTemplate(1, { bits: encodeBits(NETWORK) }));
  const attacker = await TestClient.connect(port());
  const honest = await TestClient.connect(port());
  const gpu = await CudaLikeMiner.connect(pool.ucpServers[0]!.addr.port);
  try {
    const a = await subscribeAndAuthorize(attacker, ADDRESSES[1]!);
    const h = await subscribeAndAuthorize(honest, ADDRESSES[0]!);
    await gpu.setup(ADDRESSES[2]!);
    const notify = await honest.notification("mining.notify");
    const jobId = notify.json.params[0];
    const now = Math.floor(Date.now() / 1000);
    const ahead = now + 290;
    const submitAs = (c: TestClient, who: string, ex: bigint, ntime: number, nonce: number) =>
      c.call("mining.submit", [who, jobId, hex16(ex), hex8(ntime), hex8(nonce)]);
    // One share timed almost 5 minutes ahead, then enough shares to fill the work's set.
    assert.equal(
      (await submitAs(attacker, ADDRESSES[1]!, a.extranonce, ahead, 0)).json.result,
      true,
    );
    for (let n = 1; n <= 20; n++) {
      const r = await submitAs(attacker, ADDRESSES[1]!, a.extranonce, now, n);
      assert.ok(r.json.result === true || r.json.error?.[0] === 21, r.raw);
    }
    // The attacker's own shares at or below its floor are now stale ...
    const own = await submitAs(attacker, ADDRESSES[1]!, a.extranonce, now, 1000);
    assert.equal(own.json.error?.[0], 21);
    // ... nobody else's: the honest Stratum miner's shares and its block are accepted ...
    const header = headerFromNotify(notify.json.params, h.extranonce, now);
    assert.equal((await submitAs(honest, ADDRESSES[0]!, h.extranonce, now, 1)).json.result, true);
    // From 2: nonce 1 was just sent (and is a block itself once in 256 runs: a duplicate).
    const blockNonce = nonceFor(header, { meets: NETWORK, from: 2 });
    const block = await submitAs(honest, ADDRESSES[0]!, h.extranonce, now, blockNonce);
    assert.equal(block.json.result, true, block.raw);
    assert.ok(blocks.list.some((s) => s.nonce === blockNonce));
    // ... and so are the UCP miner's.
    const sent = await gpu.submit({ jobId: gpu.work!.jobId, nTime: now, nonce: 7 });
    assert.equal((await gpu.reply(sent)).command, "MINING_SUBMIT_SUCCESS");
    // A duplicate is still refused after the keys were forgotten.
    const again = await submitAs(honest, ADDRESSES[0]!, h.extranonce, now, blockNonce);
    assert.notEqual(again.json.result, true);
  } finally {
    await attacker.close();
    await honest.close();
    await gpu.close();
    await pool.stop();
  }
});
