/**
 * The pool's UCP port over real TCP on loopback, driven by the CUDA-like scripted miner, with
 * templates fed straight into the pool (the devnet end-to-end tests are in tests/e2e/).
 */
import assert from "node:assert/strict";
import { difficultyToTarget, encodeBits, hashToBigInt, targetToBytes } from "../../hash/mod.ts";
import { encodeUcp, ucpMerkleRoot } from "../../protocol/mod.ts";
import type { UcpMessage } from "../../protocol/ucp_types.ts";
import type { PoolEvent } from "../../server/events.ts";
import type { PoolOptions } from "../../server/pool.ts";
import type { AcceptedShare, MemoryShareRecorder } from "../../server/share_recorder.ts";
import type { ConnectionLimits } from "../../server/stratum_server.ts";
import type { UcpLimits } from "../../server/ucp_port.ts";
import { CudaLikeMiner, CudaSetupError } from "../e2e/_ucp_cuda_miner.ts";
import { ADDRESSES, BAD_ADDRESS, freshTemplate, hashHeader, startPool } from "./_pool.ts";
import { floodLines } from "./_flood.ts";
import { waitUntil } from "../_wait.ts";

const ADDRESS = ADDRESSES[0]!;
const SHARE_DIFFICULTY = 16n;

function ucpPool(
  options:
    & { limits?: Partial<UcpLimits>; difficulty?: bigint; ucpConnections?: ConnectionLimits }
    & Partial<PoolOptions> = {},
) {
  const { limits, difficulty, ucpConnections, ...rest } = options;
  const started = startPool({
    ucp: {
      ports: [{ hostname: "127.0.0.1", port: 0, difficulty: difficulty ?? SHARE_DIFFICULTY }],
      limits: { writeGapMs: 20, ...limits },
      ...(ucpConnections === undefined ? {} : { connections: ucpConnections }),
    },
    ...rest,
  });
  const events: PoolEvent[] = [];
  started.pool.events.subscribe((e) => events.push(e));
  return { ...started, events, ucpPort: started.pool.ucpServers[0]!.addr.port };
}

/** Find a nonce of the miner's work whose hash fails (or meets) the share target. */
function nonceWhere(miner: CudaLikeMiner, nTime: number, meets: boolean, from = 0): number {
  const header = miner.work!.header.slice();
  const view = new DataView(header.buffer);
  view.setUint32(52, nTime);
  for (let nonce = from;; nonce++) {
    view.setUint32(60, nonce);
    if ((hashToBigInt(hashHeader(header)) < miner.work!.shareTarget) === meets) return nonce;
  }
}

function reason(m: UcpMessage): string {
  assert.equal(m.command, "MINING_SUBMIT_FAILURE", JSON.stringify(m));
  return (m as { reason: string }).reason;
}

Deno.test("UCP port: setup as the CUDA miner expects, one message per read", async () => {
  const { pool, ucpPort, events } = ucpPool();
  const template = freshTemplate(1);
  const job = pool.addTemplate(template)!;
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(`${ADDRESS}.rig1`);
    assert.equal(miner.capabilities, "10011111111");
    const first = miner.work!.job;
    assert.equal(first.jobId, Number(job.id));
    assert.ok(first.requestId >= 0 && first.requestId < 2 ** 31);
    assert.equal(first.blockIndex, template.height);
    assert.equal(first.difficulty, template.bits);
    assert.deepEqual(first.miningTarget, targetToBytes(difficultyToTarget(SHARE_DIFFICULTY)));
    // Its own range from the shared allocator, and the merkle root of extra_nonce_start.
    assert.equal(first.extraNonceStart.toString(16), "7c000000000f4240");
    assert.equal(first.extraNonceEnd, first.extraNonceStart + 999_999n);
    const parts = {
      popTransactionMerkleRoot: template.popRoot,
      normalTransactionMerkleRoot: template.normalRoot,
      intermediateMetapackageHash: template.metapackageHash,
    };
    assert.deepEqual(first.merkleRoot, ucpMerkleRoot(parts, first.extraNonceStart));
    assert.equal(first.poolAddress, template.poolAddress);
    const types = events.map((e) => e.type).filter((t) => t !== "job_broadcast");
    assert.deepEqual(types, ["connection_open", "authorized"]);
    const open = events.find((e) => e.type === "connection_open");
    assert.ok(open?.type === "connection_open" && open.port === ucpPort);
    assert.equal(pool.sessionCount, 1);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a second miner gets another range and another merkle root", async () => {
  const { pool, ucpPort } = ucpPool();
  pool.addTemplate(freshTemplate(1));
  const a = await CudaLikeMiner.connect(ucpPort);
  const b = await CudaLikeMiner.connect(ucpPort);
  try {
    await a.setup(ADDRESS);
    await b.setup(ADDRESSES[1]!);
    assert.notEqual(a.work!.extraNonce, b.work!.extraNonce);
    assert.notDeepEqual(a.work!.job.merkleRoot, b.work!.job.merkleRoot);
    assert.equal(a.work!.jobId, b.work!.jobId);
  } finally {
    await a.close();
    await b.close();
    await pool.stop();
  }
});

Deno.test("UCP port: shares are validated, credited to address.worker and always answered", async () => {
  const { pool, ucpPort, events } = ucpPool();
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(`${ADDRESS}.rig1`);
    const work = miner.work!;
    const nTime = Math.floor(Date.now() / 1000);
    const good = nonceWhere(miner, nTime, true);
    const ok = await miner.submit({ jobId: work.jobId, nTime, nonce: good });
    assert.equal((await miner.reply(ok)).command, "MINING_SUBMIT_SUCCESS");
    // The same share again: a duplicate.
    const dup = await miner.submit({ jobId: work.jobId, nTime, nonce: good });
    assert.equal(reason(await miner.reply(dup)), "Duplicate share");
    // A hash above the share target.
    const bad = nonceWhere(miner, nTime, false);
    const high = await miner.submit({ jobId: work.jobId, nTime, nonce: bad });
    assert.equal(reason(await miner.reply(high)), "Share is above target");
    // Another connection's extranonce (and a negative one).
    const foreign = await miner.submit({
      jobId: work.jobId,
      nTime,
      nonce: good,
      extraNonce: work.extraNonce + 1_000_000n,
    });
    assert.match(reason(await miner.reply(foreign)), /^Extranonce is not owned by this connection/);
    const negative = await miner.submit({ jobId: work.jobId, nTime, nonce: good, extraNonce: -1n });
    assert.match(reason(await miner.reply(negative)), /^Extranonce is not owned/);
    // A job never sent, an nTime below the template's time.
    const unknown = await miner.submit({ jobId: 999_999, nTime, nonce: good });
    assert.match(reason(await miner.reply(unknown)), /^Job '999999' not found/);
    const early = await miner.submit({ jobId: work.jobId, nTime: work.timestamp - 1, nonce: 1 });
    assert.match(reason(await miner.reply(early)), /^Ntime out of range/);
    assert.equal(miner.unanswered.length, 0);
    assert.equal(miner.gaveUp, false);
    const recorder = pool.recorder as MemoryShareRecorder;
    assert.deepEqual(recorder.workers(), [`${ADDRESS}.rig1`]);
    assert.equal(recorder.totals(`${ADDRESS}.rig1`)?.work, SHARE_DIFFICULTY);
    const accepted = events.find((e) => e.type === "share_accepted");
    assert.ok(accepted?.type === "share_accepted");
    const share: AcceptedShare = accepted.share;
    assert.equal(share.address, ADDRESS);
    assert.equal(share.workerName, "rig1");
    assert.equal(share.port, ucpPort);
    assert.equal(share.extranonce, work.extraNonce);
    const rejected = events.filter((e) => e.type === "share_rejected").map((e) =>
      e.type === "share_rejected" ? e.reason : ""
    );
    assert.deepEqual(rejected, [
      "duplicate_share",
      "low_difficulty",
      "extranonce_not_owned",
      "extranonce_not_owned",
      "stale_job",
      "ntime_out_of_range",
    ]);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: nonce and nTime are accepted signed or unsigned", async () => {
  const { pool, ucpPort } = ucpPool();
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    const work = miner.work!;
    const nTime = Math.floor(Date.now() / 1000);
    const big = nonceWhere(miner, nTime, true, 0x9000_0000); // ≥ 2^31: negative when signed
    const line = encodeUcp({
      command: "MINING_SUBMIT",
      requestId: 7,
      jobId: work.jobId,
      nTime,
      nonce: big,
      extraNonce: work.extraNonce,
    });
    assert.match(line, /"nonce":\{"type":"NONCE","data":-\d+\}/);
    await miner.sendRaw(line);
    const reply = await miner.next("MINING_SUBMIT_SUCCESS");
    assert.equal(reply.requestId, 7);
    // The same share unsigned (as the CUDA miner sends it) is now a duplicate.
    const again = await miner.submit({ jobId: work.jobId, nTime, nonce: big });
    assert.equal(reason(await miner.reply(again)), "Duplicate share");
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: an invalid address fails MINING_AUTH with a reason; three failures close", async () => {
  const { pool, ucpPort } = ucpPool();
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await assert.rejects(
      () => miner.setup(BAD_ADDRESS),
      (err: unknown) =>
        err instanceof CudaSetupError && err.stage === "authentication" &&
        /MINING_AUTH_FAILURE: Worker name is not a valid VeriBlock address/.test(err.message),
    );
    miner.startReading();
    const auth = (name: string, id: number) =>
      miner.sendRaw(
        encodeUcp({ command: "MINING_AUTH", requestId: id, username: name, password: "" }),
      );
    // Subscribing or submitting before a successful auth is refused with a reason.
    await miner.sendRaw(
      encodeUcp({ command: "MINING_SUBSCRIBE", requestId: 2, updateFrequencyMs: 500 }),
    );
    const sub = await miner.next("MINING_SUBSCRIBE_FAILURE");
    assert.match((sub as { reason: string }).reason, /not authorized/);
    const early = await miner.submit({ jobId: 1, nTime: 1, nonce: 1 });
    assert.match(reason(await miner.reply(early)), /not authorized/);
    await auth(`${ADDRESS}x`, 3);
    await auth("", 4);
    assert.equal(await miner.closedByServer(), "closed by server");
    const failures = miner.messages.filter((m) => m.command === "MINING_AUTH_FAILURE");
    assert.equal(failures.length, 2);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a new block makes old jobs stale; a mempool update keeps them", async () => {
  const { pool, ucpPort } = ucpPool();
  const base = freshTemplate(1);
  pool.addTemplate(base);
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    const first = miner.work!.jobId;
    const firstHeader = miner.work!.header.slice();
    const nTime = Math.floor(Date.now() / 1000);
    const good1 = nonceWhere(miner, nTime, true);
    // Mempool update: same block, new job id and this connection's new merkle root.
    const updated = {
      ...base,
      kind: "mempool_update" as const,
      upstreamJobId: 43,
      popRoot: new Uint8Array(32).fill(0x44),
    };
    const update = pool.addTemplate(updated)!;
    const m = await miner.next("MINING_MEMPOOL_UPDATE");
    assert.ok(m.command === "MINING_MEMPOOL_UPDATE");
    assert.equal(m.jobId, Number(update.id));
    assert.deepEqual(
      m.newMerkleRoot,
      ucpMerkleRoot({
        popTransactionMerkleRoot: updated.popRoot,
        normalTransactionMerkleRoot: updated.normalRoot,
        intermediateMetapackageHash: updated.metapackageHash,
      }, miner.work!.extraNonce),
    );
    assert.equal(miner.work!.jobId, Number(update.id));
    assert.notDeepEqual(miner.work!.header, firstHeader);
    // Shares on both jobs of the block count.
    const onOld = await miner.submit({ jobId: first, nTime, nonce: good1 });
    assert.equal((await miner.reply(onOld)).command, "MINING_SUBMIT_SUCCESS");
    const good2 = nonceWhere(miner, nTime, true);
    const onNew = await miner.submit({ jobId: miner.work!.jobId, nTime, nonce: good2 });
    assert.equal((await miner.reply(onNew)).command, "MINING_SUBMIT_SUCCESS");
    // A new block: a MINING_JOB, and the old jobs are stale.
    const seen = miner.messages.length;
    const next = pool.addTemplate(freshTemplate(2))!;
    const job = await miner.next("MINING_JOB", seen);
    assert.ok(job.command === "MINING_JOB");
    assert.equal(job.jobId, Number(next.id));
    const good3 = nonceWhere(miner, nTime, true, good2 + 1);
    const stale = await miner.submit({ jobId: first, nTime, nonce: good3 });
    assert.match(reason(await miner.reply(stale)), new RegExp(`^Job '${first}' not found`));
    const stale2 = await miner.submit({ jobId: Number(update.id), nTime, nonce: good3 });
    assert.match(reason(await miner.reply(stale2)), /not found/);
    assert.equal(miner.unanswered.length, 0);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a block candidate goes upstream with the connection's extranonce", async () => {
  const { pool, ucpPort, blocks } = ucpPool();
  const template = freshTemplate(1, { bits: encodeBits(64n), upstreamJobId: 777 });
  pool.addTemplate(template);
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(`${ADDRESS}.gpu`);
    let block;
    for (let i = 0; i < 200 && block === undefined; i++) {
      const sent = await miner.mine(1 << 12, 2);
      for (const submit of sent) await miner.reply(submit);
      block = sent.find((submit) => submit.block);
    }
    assert.ok(block !== undefined, "no block-quality share found");
    assert.equal((await miner.reply(block)).command, "MINING_SUBMIT_SUCCESS");
    await miner.waitFor(() => blocks.list.length > 0, 60_000, "a block submission");
    assert.deepEqual(blocks.list[0], {
      upstreamJobId: 777,
      nTime: block.nTime,
      nonce: block.nonce,
      extraNonce: miner.work!.extraNonce,
      endpoint: "test",
    });
    await miner.waitFor(() => miner.unanswered.length === 0);
    const recorder = pool.recorder as MemoryShareRecorder;
    assert.ok((recorder.totals(`${ADDRESS}.gpu`)?.blocks ?? 0) >= 1);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: malformed lines and unknown commands are answered, then closed", async () => {
  const { pool, ucpPort } = ucpPool();
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    await miner.sendRaw('{"command":"GET_STATUS","request_id":{"data":9}}');
    const unknown = await miner.next("ERROR_UNKNOWN_COMMAND");
    assert.equal(unknown.requestId, 9);
    // A job id above 2^31 - 1 (a wrapped Java int) is refused with a reason.
    await miner.sendRaw(
      '{"command":"MINING_SUBMIT","request_id":{"data":11},"job_id":{"data":2147483648},' +
        '"nTime":{"data":1},"nonce":{"data":1},"extra_nonce":{"data":1}}',
    );
    const refused = await miner.next("MINING_SUBMIT_FAILURE");
    assert.equal(refused.requestId, 11);
    assert.match(reason(refused), /job_id is out of range/);
    await miner.sendRaw('{"method":"mining.subscribe","params":[],"id":1}');
    await miner.sendRaw("not json");
    assert.equal(await miner.closedByServer(), "closed by server");
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a miner that never logs in is closed at the deadline", async () => {
  const { pool, ucpPort } = ucpPool({ limits: { authorizeTimeoutMs: 50 } });
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    assert.equal(await miner.closedByServer(60_000), "closed by server");
    assert.equal(miner.lines.length, 1); // CAPABILITIES only
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: with ban_offences = 1 a high invalid-share ratio bans the IP on every port", async () => {
  const { pool, ucpPort } = ucpPool({
    bans: {
      enabled: true,
      checkThreshold: 4,
      invalidPercent: 50,
      offences: 1,
      exemptLoopback: false,
    },
  });
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    const nTime = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 4; i++) {
      await miner.submit({
        jobId: miner.work!.jobId,
        nTime,
        nonce: nonceWhere(miner, nTime, false, i * 100),
      });
    }
    assert.equal(await miner.closedByServer(), "closed by server");
    assert.equal(miner.unanswered.length, 0); // the submit that got the IP banned too
    assert.ok(pool.bans.isBanned("127.0.0.1", Date.now()));
    const again = await CudaLikeMiner.connect(ucpPort);
    assert.equal(await again.closedByServer(), "closed by server");
    assert.equal(again.lines.length, 0);
    await again.close();
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: stop answers a submit whose record is still in flight", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const { pool, ucpPort } = ucpPool({ recorder: { record: () => gate } });
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    const nTime = Math.floor(Date.now() / 1000);
    const s = await miner.submit({
      jobId: miner.work!.jobId,
      nTime,
      nonce: nonceWhere(miner, nTime, true),
    });
    await miner.waitFor(() => pool.inflight > 0, 60_000, "the record in flight");
    const stopping = pool.stop();
    // Part of the scenario: the record completes while stop() is already waiting for it.
    setTimeout(release, 100);
    await stopping;
    assert.equal((await miner.reply(s)).command, "MINING_SUBMIT_SUCCESS");
    assert.equal(await miner.closedByServer(), "closed by server");
  } finally {
    release();
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a miner that subscribes before the pool has work gets the first job when it comes", async () => {
  const { pool, ucpPort } = ucpPool();
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    const setup = miner.setup(ADDRESS);
    // The work comes only once the pool has the miner subscribed (and waiting for a job).
    const session = () => [...pool.ucpServers[0]!.sessions.values()][0];
    await waitUntil(() => session()?.subscribed, "the miner subscribed");
    const job = pool.addTemplate(freshTemplate(1))!;
    await setup;
    assert.equal(miner.work!.jobId, Number(job.id));
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: unsubscribe stops jobs; subscribing again keeps the extranonce range", async () => {
  const { pool, ucpPort, events } = ucpPool();
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    const start = miner.work!.extraNonce;
    await miner.sendRaw(encodeUcp({ command: "MINING_UNSUBSCRIBE", requestId: 5 }));
    await miner.next("MINING_UNSUBSCRIBE_SUCCESS");
    const seen = miner.messages.length;
    pool.addTemplate(freshTemplate(2));
    const broadcast = events.findLast((e) => e.type === "job_broadcast");
    assert.ok(broadcast?.type === "job_broadcast" && broadcast.sessions === 0);
    await miner.sendRaw(
      encodeUcp({ command: "MINING_SUBSCRIBE", requestId: 6, updateFrequencyMs: 500 }),
    );
    // Replies keep their order: no job before the answer to the new subscribe.
    const answered = await miner.next("MINING_SUBSCRIBE_SUCCESS", seen);
    const before = miner.messages.slice(seen, miner.messages.indexOf(answered));
    assert.equal(before.some((m) => m.command === "MINING_JOB"), false);
    const job = await miner.next("MINING_JOB", seen);
    assert.ok(job.command === "MINING_JOB");
    assert.equal(job.extraNonceStart, start);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: an authorized miner that never subscribes is closed at the deadline", async () => {
  const { pool, ucpPort, events } = ucpPool({ limits: { subscribeTimeoutMs: 50 } });
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    miner.startReading();
    await miner.sendRaw(
      encodeUcp({ command: "MINING_AUTH", requestId: 1, username: ADDRESS, password: "" }),
    );
    await miner.next("MINING_AUTH_SUCCESS");
    assert.equal(await miner.closedByServer(60_000), "closed by server");
    await miner.waitFor(() => events.some((e) => e.type === "connection_close"));
    const closed = events.find((e) => e.type === "connection_close");
    assert.ok(closed?.type === "connection_close" && closed.reason === "subscribe timeout");
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a flood is refused with answers, then closed", async () => {
  const { pool, ucpPort } = ucpPool({ limits: { requestsPerSecond: 0.001, requestBurst: 4 } });
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS); // AUTH and SUBSCRIBE take two tokens
    const nTime = Math.floor(Date.now() / 1000);
    const sent = [];
    for (let i = 0; i < 5; i++) {
      sent.push(await miner.submit({ jobId: miner.work!.jobId, nTime, nonce: i }));
    }
    assert.equal(await miner.closedByServer(), "closed by server");
    const answers = sent.slice(2).map((s) => s.reply);
    assert.ok(answers.every((m) => m !== undefined && reason(m) === "Too many requests"));
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: an idle miner is closed; the per-IP cap refuses extra connections", async () => {
  const { pool, ucpPort, events } = ucpPool({
    limits: { idleTimeoutMs: 50 },
    ucpConnections: { maxConnectionsPerIp: 1, exemptLoopback: false },
  });
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  const extra = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    assert.equal(await extra.closedByServer(), "closed by server");
    assert.equal(extra.lines.length, 0);
    assert.equal(await miner.closedByServer(60_000), "closed by server");
    await miner.waitFor(() => events.some((e) => e.type === "connection_close"));
    const closed = events.find((e) => e.type === "connection_close");
    assert.ok(closed?.type === "connection_close" && closed.reason === "idle timeout");
  } finally {
    await extra.close();
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a line longer than the limit closes the connection, others keep mining", async () => {
  const { pool, ucpPort, events } = ucpPool({ ucpConnections: { maxLineBytes: 1024 } });
  pool.addTemplate(freshTemplate(1));
  const long = await CudaLikeMiner.connect(ucpPort);
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    long.startReading();
    await long.sendRaw(
      encodeUcp({ command: "MINING_AUTH", requestId: 1, username: ADDRESS, password: "" }),
    );
    await long.next("MINING_AUTH_SUCCESS");
    await long.sendRaw(
      encodeUcp({
        command: "MINING_AUTH",
        requestId: 2,
        username: ADDRESS,
        password: "x".repeat(2000),
      }),
    );
    assert.equal(await long.closedByServer(60_000), "closed by server");
    await long.waitFor(() => events.some((e) => e.type === "connection_close"));
    const closed = events.find((e) => e.type === "connection_close");
    assert.ok(closed?.type === "connection_close" && closed.reason === "line too long");
    // The other miner is untouched: its share is still answered.
    const nTime = Math.floor(Date.now() / 1000);
    const s = await miner.submit({
      jobId: miner.work!.jobId,
      nTime,
      nonce: nonceWhere(miner, nTime, true),
    });
    assert.equal((await miner.reply(s)).command, "MINING_SUBMIT_SUCCESS");
  } finally {
    await long.close();
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: past the bad-message limit a connection is neither read nor answered; others mine on", async () => {
  const { pool, ucpPort, events } = ucpPool();
  pool.addTemplate(freshTemplate(1));
  const miner = await CudaLikeMiner.connect(ucpPort);
  try {
    await miner.setup(ADDRESS);
    // 5 MB of invalid submits: each is refused with a reason until the third (the limit).
    const bad = '{"command":"MINING_SUBMIT","request_id":{"data":5}}';
    const flood = await floodLines(ucpPort, bad, { count: 100_000 });
    const commands = flood.lines.map((l) => JSON.parse(l).command);
    assert.deepEqual(commands, ["CAPABILITIES", ...Array(3).fill("MINING_SUBMIT_FAILURE")]);
    const isFlood = (e: PoolEvent) => e.type === "connection_close" && e.bytesOut !== undefined;
    await miner.waitFor(() => events.some(isFlood));
    const closed = events.find(isFlood) as Extract<PoolEvent, { type: "connection_close" }>;
    assert.match(closed.reason, /^too many bad messages/);
    assert.equal(closed.bytesOut, flood.received.length);
    assert.ok(closed.bytesIn! <= 4096, `the pool read ${closed.bytesIn} bytes`);
    // The well-behaved miner still gets answers and jobs.
    const nTime = Math.floor(Date.now() / 1000);
    const s = await miner.submit({
      jobId: miner.work!.jobId,
      nTime,
      nonce: nonceWhere(miner, nTime, true),
    });
    assert.equal((await miner.reply(s)).command, "MINING_SUBMIT_SUCCESS");
    const seen = miner.messages.length;
    pool.addTemplate(freshTemplate(2));
    await miner.next("MINING_JOB", seen);
  } finally {
    await miner.close();
    await pool.stop();
  }
});

Deno.test("UCP port: a silent miner is closed at its deadline; an active one is not", async () => {
  // UCP has a fixed share difficulty (no vardiff): its deadline is [ucp] idle_timeout_seconds.
  const { pool, ucpPort, events } = ucpPool({ limits: { idleTimeoutMs: 500 } });
  pool.addTemplate(freshTemplate(1));
  const silent = await CudaLikeMiner.connect(ucpPort);
  const active = await CudaLikeMiner.connect(ucpPort);
  try {
    await silent.setup(ADDRESS);
    await active.setup(`${ADDRESS}.active`);
    let stop = false;
    let answered = 0;
    const mining = (async () => {
      for (let from = 0; !stop; from += 1000) {
        const nTime = Math.floor(Date.now() / 1000);
        const nonce = nonceWhere(active, nTime, true, from);
        const s = await active.submit({ jobId: active.work!.jobId, nTime, nonce });
        assert.equal((await active.reply(s)).command, "MINING_SUBMIT_SUCCESS");
        answered++;
        await new Promise((r) => setTimeout(r, 100)); // pacing: a share every 100 ms keeps it active
      }
    })();
    // The event that proves the deadline has passed: the silent miner's close.
    assert.equal(await silent.closedByServer(60_000), "closed by server");
    await silent.waitFor(() => events.some((e) => e.type === "connection_close"));
    const closed = events.filter((e) => e.type === "connection_close");
    assert.equal(closed.length, 1);
    assert.ok(closed[0]!.type === "connection_close" && closed[0]!.reason === "idle timeout");
    stop = true;
    await mining;
    assert.equal(active.closed, undefined);
    assert.ok(answered >= 3, `${answered} shares answered`);
  } finally {
    await silent.close();
    await active.close();
    await pool.stop();
  }
});
