import assert from "node:assert/strict";
import { bytesToHex } from "../../hash/hex.ts";
import {
  buildShareHeader,
  DEFAULT_MAX_IDLE_KEYS,
  DEFAULT_MAX_LIVE_KEYS,
  extranonceWork,
  JobManager,
} from "../../server/jobs.ts";
import type { WorkSeen } from "../../server/_work_seen.ts";
import { SHARE_VECTOR, vectorTemplate } from "./_pool.ts";

Deno.test("JobManager.add() builds the vector's notify and header", () => {
  const job = new JobManager().add(vectorTemplate());
  assert.equal(job.id, "1");
  const params = JSON.parse(job.notifyLine).params;
  assert.deepEqual(params.slice(1), SHARE_VECTOR.notify.slice(1));
  assert.equal(job.notifyLine, job.notifyLineClean);
  assert.equal(
    bytesToHex(job.txRoot),
    "5189c77d29fe5d546a045ec46986852785fea5c13ac7da9c115ff5fb6edf817c",
  );
  assert.equal(job.networkDifficulty, 999_989_182_464n);
  assert.equal(
    job.networkTarget.toString(16).padStart(48, "0"),
    "0000000001197a5f9fcaac50e23a1a5aad23fe01d232ae60",
  );
  for (const work of SHARE_VECTOR.work) {
    const header = buildShareHeader(job, 0x7c000000000f4240n, {
      ntime: parseInt(work.ntime, 16),
      nonce: parseInt(work.nonce, 16),
    });
    assert.equal(bytesToHex(header), work.header);
  }
});

Deno.test("buildShareHeader() writes into a given 64-byte array and checks its size", () => {
  const job = new JobManager().add(vectorTemplate());
  const into = new Uint8Array(80).subarray(8, 72).fill(0xee);
  for (const work of SHARE_VECTOR.work) {
    const options = { ntime: parseInt(work.ntime, 16), nonce: parseInt(work.nonce, 16) };
    const header = buildShareHeader(job, 0x7c000000000f4240n, { ...options, into });
    assert.equal(header, into);
    assert.equal(bytesToHex(header), work.header);
  }
  assert.throws(
    () => buildShareHeader(job, 1n, { ntime: 0, nonce: 0, into: new Uint8Array(63) }),
    { name: "RangeError", message: "Cannot build share header: into must be 64 bytes, got 63" },
  );
});

Deno.test("JobManager sets clean_jobs only on a new previous block", () => {
  const jobs = new JobManager();
  const a = jobs.add(vectorTemplate());
  const b = jobs.add(vectorTemplate({ kind: "mempool_update", upstreamJobId: 43 }));
  const c = jobs.add(vectorTemplate({ upstreamJobId: 44 }));
  assert.deepEqual([a.notify.cleanJobs, b.notify.cleanJobs, c.notify.cleanJobs], [
    true,
    false,
    false,
  ]);
  assert.equal(JSON.parse(b.notifyLine).params[9], false);
  assert.equal(JSON.parse(b.notifyLineClean).params[9], true);
  assert.equal(jobs.size, 3);
  assert.equal(jobs.current, c);
  assert.equal(jobs.get(a.id), a);
  const d = jobs.add(vectorTemplate({ previousBlockHash: new Uint8Array(24).fill(7) }));
  assert.equal(d.notify.cleanJobs, true);
  assert.deepEqual([a.stale, b.stale, c.stale, d.stale], [true, true, true, false]);
  assert.equal(jobs.size, 1);
  assert.equal(jobs.get(a.id), undefined);
});

Deno.test("JobManager ids are unique and nextId() never repeats one", () => {
  const jobs = new JobManager();
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    ids.add(jobs.add(vectorTemplate()).id);
    ids.add(jobs.nextId());
  }
  assert.equal(ids.size, 10);
});

Deno.test("JobManager drops the oldest job beyond maxJobs, and everything on reset()", () => {
  const jobs = new JobManager({ maxJobs: 2 });
  const a = jobs.add(vectorTemplate());
  const b = jobs.add(vectorTemplate());
  const c = jobs.add(vectorTemplate());
  assert.equal(a.stale, true);
  assert.equal(jobs.get(a.id), undefined);
  assert.equal(jobs.get(b.id), b);
  jobs.reset();
  assert.equal(c.stale, true);
  assert.equal(jobs.current, undefined);
  assert.equal(jobs.add(vectorTemplate()).notify.cleanJobs, true); // same block, but after reset
});

Deno.test("JobManager.add() rejects unusable templates", async (t) => {
  const cases: [string, Record<string, unknown>, ErrorConstructor][] = [
    ["zero bits", { bits: 0 }, RangeError],
    ["negative bits", { bits: 0x04923456 }, RangeError],
    ["short previous hash", { previousBlockHash: new Uint8Array(12) }, RangeError],
    ["short pop root", { popRoot: new Uint8Array(31) }, RangeError],
    ["short metapackage", { metapackageHash: new Uint8Array(16) }, RangeError],
    ["metapackage not bytes", { metapackageHash: "33" }, TypeError],
    ["height too big", { height: 2 ** 31 }, RangeError],
    ["version too big", { version: 0x10000 }, RangeError],
    ["timestamp negative", { timestamp: -1 }, RangeError],
  ];
  for (const [name, change, kind] of cases) {
    await t.step(name, () => {
      const jobs = new JobManager();
      assert.throws(() => jobs.add(vectorTemplate(change)), kind);
      assert.equal(jobs.size, 0);
    });
  }
  assert.throws(() => new JobManager().add(null as never), TypeError);
});

Deno.test("JobManager.add() encodes each notify once, as bytes with the newline", () => {
  const jobs = new JobManager();
  const a = jobs.add(vectorTemplate());
  const b = jobs.add(vectorTemplate({ kind: "mempool_update", upstreamJobId: 43 }));
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(decode(a.notifyBytes), a.notifyLine + "\n");
  assert.equal(a.notifyBytes, a.notifyBytesClean);
  assert.equal(decode(b.notifyBytes), b.notifyLine + "\n");
  assert.equal(decode(b.notifyBytesClean), b.notifyLineClean + "\n");
});

Deno.test("JobManager.add() drops the extranonce cache of the job it supersedes", () => {
  const jobs = new JobManager();
  const a = jobs.add(vectorTemplate());
  const first = extranonceWork(a, 0x7c000000000f4240n);
  assert.equal(a.extranonces.size, 1);
  jobs.add(vectorTemplate({ kind: "mempool_update", upstreamJobId: 43 }));
  assert.equal(a.extranonces.size, 0);
  // A late share on the older job still gets the same root.
  assert.deepEqual(extranonceWork(a, 0x7c000000000f4240n).merkle16, first.merkle16);
});

Deno.test("JobManager bounds the duplicate state of work no live job uses", () => {
  const manager = new JobManager({ maxJobs: 4, maxIdleKeys: 100, maxWorks: 50 });
  for (let i = 0; i < 1000; i++) {
    const job = manager.add(
      vectorTemplate({
        normalRoot: new Uint8Array(32).fill(i % 251),
        upstreamJobId: i,
        timestamp: 1000 + i,
      }),
    );
    for (let n = 0; n < 50; n++) job.seen.add(`k:${1000 + i}:${n}`, 1000 + i, 0n);
  }
  const stats = manager.seenStats;
  assert.ok(stats.idleKeys <= 100, `idle keys ${stats.idleKeys}`);
  assert.ok(stats.works <= 50, `works ${stats.works}`);
  assert.equal(manager.size, 4);
});

Deno.test("JobManager with its defaults holds a bounded number of share keys however long it runs", () => {
  // A busy pool for a while: 1,000 templates (a new block every 4, mempool updates between),
  // 1,000 accepted shares on each, one per connection (2,000 connections), 1,000,000 in all.
  const manager = new JobManager();
  const works = new Set<WorkSeen>();
  const owners = Array.from(
    { length: 2000 },
    (_, i) => 0x7c000000000f4240n + BigInt(i) * 1_000_000n,
  );
  const hex = owners.map((o) => o.toString(16));
  const firstKeys: { key: string; ntime: number; owner: bigint }[] = [];
  let most = 0;
  for (let t = 0; t < 1000; t++) {
    const job = manager.add(
      vectorTemplate({
        upstreamJobId: t,
        kind: t % 4 === 0 ? "job" : "mempool_update",
        previousBlockHash: new Uint8Array(24).fill(Math.floor(t / 4) % 256).fill(t >> 10, 0, 1),
        normalRoot: new Uint8Array(32).fill(t % 256).fill(t >> 8, 0, 1),
        timestamp: 1_560_000_000 + t,
      }),
    );
    works.add(job.seen);
    for (let n = 0; n < 1000; n++) {
      const i = (t * 1000 + n) % owners.length;
      const owner = owners[i]!;
      const ntime = 1_560_000_000 + t;
      const key = `${hex[i]}:${ntime}:${n}`; // as validateShare makes them

      assert.equal(job.seen.check(key, ntime, { owner, cap: 262_144 }), "new");
      job.seen.add(key, ntime, owner);
      if (t === 0 && n < 10) firstKeys.push({ key, ntime, owner });
    }
    // Keys and floors held by every work the manager still knows (idle or live).
    let held = 0;
    for (const w of works) held += w.size;
    most = Math.max(most, held);
    assert.ok(manager.seenStats.idleKeys <= DEFAULT_MAX_IDLE_KEYS);
  }
  // Live: at most the 4 jobs of the current block, 1,000 keys each.
  assert.ok(most <= DEFAULT_MAX_IDLE_KEYS + 4 * 1000 + 4000, `held at most ${most}`);
  assert.ok(manager.seenStats.works <= 10_000);
  // The first work's keys were forgotten, not its shares: when it comes back, a repeated share
  // is still refused (as stale, by its connection's ntime floor).
  const again = manager.add(
    vectorTemplate({
      upstreamJobId: 5000,
      previousBlockHash: new Uint8Array(24).fill(0).fill(0, 0, 1),
      normalRoot: new Uint8Array(32).fill(0).fill(0, 0, 1),
      timestamp: 1_560_000_000,
    }),
  );
  const first = [...works][0]!;
  assert.equal(again.seen, first);
  assert.equal(first.keys.size, 0);
  for (const { key, ntime, owner } of firstKeys) {
    assert.equal(again.seen.check(key, ntime, { owner, cap: 262_144 }), "stale_job");
  }
});

Deno.test("JobManager keeps the duplicate state of a reset for the same work", () => {
  const manager = new JobManager();
  const first = manager.add(vectorTemplate());
  first.seen.add("k:1:1", 1, 0n);
  manager.reset();
  const again = manager.add(vectorTemplate());
  assert.equal(again.seen, first.seen);
  assert.ok(again.seen.keys.has("k:1:1"));
  assert.equal(manager.seenStats.idleKeys, 0);
});

Deno.test("JobManager.noJobSince is when the last job went (or the manager began), until a job comes", () => {
  let now = 1_000;
  const jobs = new JobManager({ now: () => now });
  assert.equal(jobs.noJobSince, 1_000);
  now = 2_000;
  jobs.add(vectorTemplate());
  assert.equal(jobs.noJobSince, undefined);
  now = 3_000;
  jobs.reset();
  assert.equal(jobs.noJobSince, 3_000);
  now = 4_000;
  jobs.reset(); // still none: the outage began at the first reset
  assert.equal(jobs.noJobSince, 3_000);
  jobs.add(vectorTemplate());
  assert.equal(jobs.noJobSince, undefined);
});

Deno.test("JobManager with its defaults bounds the keys of one long round with every live job in use", () => {
  // A round that does not end (no block for a long while) at a high share rate: the 64 live jobs
  // of its mempool updates get 20,000 shares each (1,280,000 in all, each under its per-job cap).
  const manager = new JobManager();
  const owners = Array.from({ length: 5000 }, (_, i) => 0x7c000000000f4240n + BigInt(i) * 1000n);
  const hex = owners.map((o) => o.toString(16));
  let most = 0;
  const sample: { seen: WorkSeen; key: string; ntime: number; owner: bigint }[] = [];
  for (let t = 0; t < 64; t++) {
    const job = manager.add(vectorTemplate({
      upstreamJobId: t,
      kind: t === 0 ? "job" : "mempool_update",
      normalRoot: new Uint8Array(32).fill(t + 1),
    }));
    const ntime = 1_560_000_000 + t;
    for (let n = 0; n < 20_000; n++) {
      const i = n % owners.length;
      const owner = owners[i]!;
      const key = `${hex[i]}:${ntime}:${n}`;
      assert.equal(job.seen.check(key, ntime, { owner, cap: 262_144 }), "new");
      job.seen.add(key, ntime, owner);
      if (n % 4999 === 0) sample.push({ seen: job.seen, key, ntime, owner });
    }
    most = Math.max(most, manager.seenStats.liveKeys);
  }
  assert.equal(manager.size, 64);
  assert.ok(most <= DEFAULT_MAX_LIVE_KEYS, `live keys at most ${most}`);
  assert.ok(sample[0]!.seen.keys.size === 0, "the oldest live work gave way");
  for (const { seen, key, ntime, owner } of sample) {
    assert.notEqual(seen.check(key, ntime, { owner, cap: 262_144 }), "new", key);
  }
});

Deno.test("JobManager.continuesRound: a mempool update of the current block, not a new block", () => {
  const jobs = new JobManager();
  const block = (seed: number, n = 0) =>
    vectorTemplate({
      previousBlockHash: new Uint8Array(24).fill(seed),
      normalRoot: new Uint8Array(32).fill(n),
    });
  assert.equal(jobs.continuesRound(block(1)), false, "no round yet");
  jobs.add(block(1));
  assert.equal(jobs.continuesRound(block(1, 7)), true);
  assert.equal(jobs.add(block(1, 7)).notify.cleanJobs, false, "add agrees");
  assert.equal(jobs.continuesRound(block(2)), false);
  jobs.add(block(2));
  assert.equal(jobs.continuesRound(block(1, 8)), false, "the old block's update is not this round");
  jobs.reset();
  assert.equal(jobs.continuesRound(block(2, 9)), false, "a reset ends the round");
});
