import assert from "node:assert/strict";
import {
  blockTarget,
  buildThreadWork,
  scanTarget,
  shareHeader,
  submitParams,
  threadExtranonce,
} from "../../miner/work.ts";
import {
  decodeBits,
  decodeHeader,
  difficultyToTarget,
  encodeBits,
  headerMerkleRoot,
  MAX_TARGET,
  merkle16,
  targetToBytes,
} from "../../hash/mod.ts";
import { sampleJob } from "./_job.ts";

const common = { generation: 4, sessionId: 9, extranonce: 0x7c000000000f4240n, target: 1000n };

Deno.test("buildThreadWork() gives each thread its own extranonce and the full nonce range", () => {
  const job = sampleJob();
  for (let thread = 0; thread < 3; thread++) {
    const work = buildThreadWork(job, { ...common, thread, threads: 3 });
    assert.equal(work.extranonce, 0x7c000000000f4240n + BigInt(thread));
    assert.equal(work.nonceStart, 0);
    assert.equal(work.nonceEnd, 2 ** 32);
    assert.equal(work.generation, 4);
    assert.equal(work.jobId, "3");
    assert.equal(work.minTime, job.timestamp);
    assert.deepEqual(work.target, targetToBytes(1000n));
    const header = decodeHeader(work.header);
    assert.equal(header.height, 5000);
    assert.equal(header.version, 2);
    assert.equal(header.timestamp, job.timestamp);
    assert.equal(header.bits, 0x0600e8d4);
    assert.equal(header.nonce, 0);
    assert.deepEqual(header.previousHash, job.previousHash);
    assert.deepEqual(header.previousKeystone, job.previousKeystone);
    assert.deepEqual(header.secondKeystone, job.secondKeystone);
    assert.deepEqual(header.merkleRoot, merkle16(headerMerkleRoot(job, work.extranonce)));
  }
});

Deno.test("buildThreadWork() with the nonce split covers 2^32 nonces once", () => {
  const job = sampleJob();
  for (const threads of [1, 2, 3, 7]) {
    let next = 0;
    for (let thread = 0; thread < threads; thread++) {
      const work = buildThreadWork(job, { ...common, thread, threads, split: "nonce" });
      assert.equal(work.extranonce, 0x7c000000000f4240n);
      assert.equal(work.nonceStart, next);
      assert.ok(work.nonceEnd > work.nonceStart);
      next = work.nonceEnd;
    }
    assert.equal(next, 2 ** 32);
  }
});

Deno.test("buildThreadWork() keys identify the search space, not the job id", () => {
  const job = sampleJob();
  const key = (j = job, over: Record<string, unknown> = {}) =>
    buildThreadWork(j, { ...common, thread: 0, threads: 2, ...over }).key;
  const base = key();
  assert.equal(key(job, { generation: 5, target: 7n }), base);
  assert.equal(key(sampleJob({ jobId: "4", cleanJobs: false })), base); // resent job
  assert.equal(key(sampleJob({ timestamp: job.timestamp + 60 })), base); // the time rolls anyway
  assert.notEqual(key(job, { thread: 1 }), base);
  assert.notEqual(key(job, { sessionId: 10 }), base);
  assert.notEqual(key(sampleJob({ metapackageHash: new Uint8Array(32) })), base);
  assert.notEqual(key(sampleJob({ previousHash: new Uint8Array(12) })), base);
  assert.notEqual(key(job, { split: "nonce", thread: 1 }), key(job, { split: "nonce" }));
});

Deno.test("buildThreadWork() wraps the extranonce at 2^64 into the signed form", () => {
  const work = buildThreadWork(sampleJob(), {
    ...common,
    extranonce: 0xffffffffffffffffn,
    thread: 1,
    threads: 2,
  });
  assert.equal(work.extranonce, 0n);
  assert.equal(threadExtranonce(0x7fffffffffffffffn, 1), -(2n ** 63n));
});

Deno.test("buildThreadWork() rejects bad threads, targets and jobs", () => {
  const job = sampleJob();
  assert.throws(() => buildThreadWork(job, { ...common, thread: 2, threads: 2 }), RangeError);
  assert.throws(() => buildThreadWork(job, { ...common, thread: -1, threads: 2 }), RangeError);
  assert.throws(() => buildThreadWork(job, { ...common, thread: 0, threads: 0 }), RangeError);
  assert.throws(
    () => buildThreadWork(job, { ...common, thread: 0, threads: 1, target: -1n }),
    RangeError,
  );
  assert.throws(
    () => buildThreadWork(job, { ...common, thread: 0, threads: 1, target: MAX_TARGET + 1n }),
    RangeError,
  );
  assert.throws(
    () => buildThreadWork(sampleJob({ height: 2 ** 31 }), { ...common, thread: 0, threads: 1 }),
    RangeError,
  );
});

Deno.test("scanTarget() takes the easier of the share and block targets", () => {
  const hardNetwork = 0x0600e8d4;
  assert.equal(scanTarget(1000n, hardNetwork), difficultyToTarget(1000n));
  const easyNetwork = encodeBits(100n);
  assert.equal(scanTarget(1000n, easyNetwork), difficultyToTarget(decodeBits(easyNetwork)));
  assert.equal(scanTarget(1000n, 0x00800000), difficultyToTarget(1000n)); // bad bits
});

Deno.test("blockTarget() is 0 for bits that do not decode", () => {
  assert.equal(blockTarget(0), 0n);
  assert.equal(blockTarget(0x04800001), 0n);
  assert.equal(blockTarget(encodeBits(16n)), MAX_TARGET / 16n);
});

Deno.test("submitParams() writes lower-case fixed-width hex", () => {
  assert.deepEqual(submitParams("V1.rig", "12", { extranonce: 1n, ntime: 1, nonce: 0xffffffff }), [
    "V1.rig",
    "12",
    "0000000000000001",
    "00000001",
    "ffffffff",
  ]);
  assert.equal(
    submitParams("w", "1", { extranonce: -(2n ** 63n), ntime: 0, nonce: 0 })[2],
    "8000000000000000",
  );
});

Deno.test("shareHeader() fills time and nonce without touching the template", () => {
  const template = new Uint8Array(64).fill(7);
  const header = shareHeader(template, 0xdeadbeef, 1);
  assert.equal(template[52], 7);
  const view = new DataView(header.buffer);
  assert.equal(view.getUint32(52), 0xdeadbeef);
  assert.equal(view.getUint32(60), 1);
  assert.equal(header[0], 7);
});
