import assert from "node:assert/strict";
import { SentJobs } from "../../server/_sent_jobs.ts";
import { type Job, JobManager } from "../../server/jobs.ts";
import { vectorTemplate } from "./_pool.ts";

/** Jobs of one round: a block's job, then mempool updates. */
function jobs(count: number): { manager: JobManager; list: Job[] } {
  const manager = new JobManager({ maxJobs: 1000 });
  const list: Job[] = [];
  for (let i = 0; i < count; i++) {
    list.push(manager.add(vectorTemplate({
      upstreamJobId: i,
      kind: i === 0 ? "job" : "mempool_update",
      normalRoot: new Uint8Array(32).fill(i % 256),
    })));
  }
  return { manager, list };
}

Deno.test("SentJobs finds a job by id with the difficulty it was sent with", () => {
  const { list: [a, b] } = jobs(2);
  const sent = new SentJobs();
  assert.equal(sent.get("1"), undefined);
  sent.set("1", a!, 64n, 640n, 8);
  sent.set("x", b!, 128n, 320n, 8);
  assert.equal(sent.size, 2);
  assert.deepEqual(sent.get("1"), { job: a, difficulty: 64n, target: 640n });
  assert.deepEqual(sent.get("x"), { job: b, difficulty: 128n, target: 320n });
  // The same id again: updated in place, as Map.set.
  sent.set("1", a!, 256n, 160n, 8);
  assert.equal(sent.size, 2);
  assert.deepEqual(sent.get("1"), { job: a, difficulty: 256n, target: 160n });
  sent.clear();
  assert.equal(sent.size, 0);
  assert.equal(sent.get("1"), undefined);
  assert.equal(sent.get("x"), undefined);
  sent.set("x", a!, 1n, 1n, 8);
  assert.deepEqual(sent.get("x"), { job: a, difficulty: 1n, target: 1n });
});

Deno.test("SentJobs at its cap drops the stale jobs first, then the oldest", () => {
  const { manager, list } = jobs(6);
  const sent = new SentJobs();
  for (const job of list.slice(0, 4)) sent.set(job.id, job, 1n, 1n, 4);
  assert.equal(sent.size, 4);
  // A fifth: none stale, so the oldest goes.
  sent.set(list[4]!.id, list[4]!, 1n, 1n, 4);
  assert.equal(sent.size, 4);
  assert.equal(sent.get(list[0]!.id), undefined);
  for (const job of list.slice(1, 5)) assert.equal(sent.get(job.id)?.job, job);
  // A new block makes every earlier job stale: the next one sent replaces all of them.
  const next = manager.add(vectorTemplate({ previousBlockHash: new Uint8Array(24).fill(9) }));
  assert.ok(list.every((j) => j.stale));
  sent.set(next.id, next, 1n, 1n, 4);
  assert.equal(sent.size, 1);
  assert.equal(sent.get(next.id)?.job, next);
  // A cap of 1 keeps only the last.
  const one = new SentJobs();
  one.set("a", next, 1n, 1n, 1);
  one.set("b", next, 2n, 2n, 1);
  assert.equal(one.size, 1);
  assert.equal(one.get("a"), undefined);
  assert.equal(one.get("b")?.difficulty, 2n);
});

Deno.test("SentJobs stays within its cap over many blocks and updates", () => {
  const { list } = jobs(300); // one round: none stale
  const sent = new SentJobs();
  let id = 0;
  for (let block = 0; block < 10_000; block++) {
    sent.clear();
    // A block's job, then mempool updates and difficulty refreshes under fresh ids.
    for (let k = 0; k < block % 7; k++) {
      sent.set(String(++id), list[block % list.length]!, BigInt(k + 1), 1n, 4);
      assert.ok(sent.size <= 4);
    }
    assert.equal(sent.size, Math.min(4, block % 7));
    if (block % 7 > 0) assert.equal(sent.get(String(id))?.difficulty, BigInt(block % 7));
  }
});
