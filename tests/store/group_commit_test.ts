import assert from "node:assert/strict";
import { GroupCommit, type GroupCommitBackend, StoreUnavailableError } from "../../store/mod.ts";
import { waitUntil } from "../_process.ts";

interface Fake extends GroupCommitBackend<number, number> {
  batches: number[][];
  fail: Error | undefined;
  hang: boolean;
  probes: number;
  resets: number;
  probeFails: boolean;
}

function fake(): Fake {
  const f: Fake = {
    batches: [],
    fail: undefined,
    hang: false,
    probes: 0,
    resets: 0,
    probeFails: false,
    commit(ops) {
      f.batches.push(ops);
      if (f.hang) return new Promise(() => {});
      if (f.fail) return Promise.reject(f.fail);
      return Promise.resolve(ops.map((n) => n * 10));
    },
    probe() {
      f.probes++;
      return f.probeFails ? Promise.reject(new Error("still down")) : Promise.resolve();
    },
    reset() {
      f.resets++;
      return Promise.resolve();
    },
  };
  return f;
}

async function until(condition: () => boolean): Promise<void> {
  await waitUntil(condition, "the condition", 60_000);
}

Deno.test("GroupCommit closes a batch at maxBatch and settles each caller with its result", async () => {
  const f = fake();
  const stage = new GroupCommit(f, { maxBatch: 3, delayMs: 1 });
  const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => stage.submit(n)));
  assert.deepEqual(results, [10, 20, 30, 40, 50, 60, 70]);
  assert.deepEqual(f.batches, [[1, 2, 3], [4, 5, 6], [7]]);
  assert.deepEqual(
    { ...stage.stats(), lastCommitMs: 0 },
    {
      healthy: true,
      queueDepth: 0,
      batches: 3,
      committed: 7,
      failed: 0,
      lastCommitMs: 0,
      lastError: undefined,
      probes: 0,
    },
  );
  await stage.close();
});

Deno.test("GroupCommit fills the next batch while one commits", async () => {
  const f = fake();
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const stage = new GroupCommit<number, number>({
    ...f,
    async commit(ops) {
      f.batches.push(ops);
      if (f.batches.length === 1) await gate;
      return ops;
    },
  }, { delayMs: 0 });
  const first = stage.submit(1);
  await until(() => f.batches.length === 1);
  const rest = [2, 3, 4].map((n) => stage.submit(n));
  assert.equal(stage.stats().queueDepth, 4);
  release();
  assert.deepEqual(await Promise.all([first, ...rest]), [1, 2, 3, 4]);
  assert.deepEqual(f.batches, [[1], [2, 3, 4]]);
  await stage.close();
});

Deno.test("GroupCommit rejects a failed batch and what is queued, refuses until a probe succeeds", async () => {
  const f = fake();
  const health: boolean[] = [];
  const probeErrors: string[] = [];
  const stage = new GroupCommit(f, {
    delayMs: 0,
    probeMs: 5,
    where: "testdb",
    onHealth: (h) => health.push(h),
    onProbeError: (message) => probeErrors.push(message),
  });
  f.fail = new Error("disk I/O error");
  f.probeFails = true;
  const failed = stage.submit(1);
  await assert.rejects(failed, (err: Error) => {
    assert.ok(err instanceof StoreUnavailableError);
    assert.equal(err.message, "Cannot commit 1 operation(s) to testdb: disk I/O error");
    assert.equal((err.cause as Error).message, "disk I/O error");
    return true;
  });
  assert.equal(stage.healthy, false);
  await assert.rejects(
    stage.submit(2),
    /^StoreUnavailableError: Cannot commit: testdb is failing \(disk I\/O error\)$/,
  );
  assert.equal(f.batches.length, 1);
  await until(() => f.probes >= 3);
  // Each distinct probe failure is told once (the commit's own failure went to onHealth).
  assert.deepEqual(probeErrors, ["still down"]);
  assert.equal(stage.stats().lastError, "still down");
  f.fail = undefined;
  f.probeFails = false;
  await until(() => stage.healthy);
  assert.equal(await stage.submit(3), 30);
  assert.deepEqual(health, [false, true]);
  assert.equal(stage.stats().failed, 2);
  await stage.close();
});

Deno.test("GroupCommit times out a hung commit and resets the backend", async () => {
  const f = fake();
  const stage = new GroupCommit(f, { delayMs: 0, timeoutMs: 20, probeMs: 5 });
  f.hang = true;
  await assert.rejects(stage.submit(1), /commit took longer than 20 ms/);
  assert.equal(f.resets, 1);
  f.hang = false;
  await until(() => stage.healthy);
  assert.equal(await stage.submit(2), 20);
  await stage.close();
});

Deno.test("GroupCommit refuses work beyond maxQueue", async () => {
  const f = fake();
  const stage = new GroupCommit(f, { delayMs: 1000, maxQueue: 2, maxBatch: 100 });
  const a = stage.submit(1);
  const b = stage.submit(2);
  await assert.rejects(stage.submit(3), /the commit queue is full \(2 operations\)/);
  await stage.flush();
  assert.deepEqual(await Promise.all([a, b]), [10, 20]);
  await stage.close();
});

Deno.test("GroupCommit close commits queued work and then refuses", async () => {
  const f = fake();
  const stage = new GroupCommit(f, { delayMs: 10_000 });
  const queued = [stage.submit(1), stage.submit(2)];
  await stage.close();
  assert.deepEqual(await Promise.all(queued), [10, 20]);
  await assert.rejects(stage.submit(3), /Cannot commit: the store is closed/);
});

Deno.test("GroupCommit treats a wrong number of results as a failure", async () => {
  const stage = new GroupCommit<number, number>({
    commit: () => Promise.resolve([1]),
    probe: () => Promise.resolve(),
  }, { delayMs: 0, probeMs: 1 });
  const results = await Promise.allSettled([stage.submit(1), stage.submit(2)]);
  assert.ok(results.every((r) => r.status === "rejected"));
  assert.match(String((results[0] as PromiseRejectedResult).reason), /returned 1 results for 2/);
  await stage.close();
});

Deno.test("GroupCommit's watch fails an idle stage, and a batch that committed meanwhile is not acknowledged", async () => {
  const f = fake();
  const db: { lost?: Error } = {};
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const health: [boolean, unknown][] = [];
  const stage = new GroupCommit<number, number>({
    ...f,
    async commit(ops) {
      f.batches.push(ops);
      if (f.batches.length === 2) await gate;
      return ops.map((n) => n * 10);
    },
    probe() {
      f.probes++;
      return db.lost === undefined ? Promise.resolve() : Promise.reject(db.lost);
    },
    watch() {
      if (db.lost !== undefined) throw db.lost;
    },
  }, { delayMs: 0, probeMs: 5, where: "testdb", onHealth: (h, e) => health.push([h, e]) });
  assert.equal(await stage.submit(1), 10);
  // A batch is committing when the database is lost: its success does not count.
  const inFlight = stage.submit(2);
  await until(() => f.batches.length === 2);
  db.lost = new Error("testdb was removed");
  await until(() => !stage.healthy);
  release();
  await assert.rejects(inFlight, (err: Error) => {
    assert.ok(err instanceof StoreUnavailableError);
    assert.match(err.message, /testdb was removed/);
    return true;
  });
  await assert.rejects(stage.submit(3), /is failing \(testdb was removed\)/);
  await until(() => stage.stats().probes >= 3);
  assert.equal(stage.healthy, false);
  assert.deepEqual(health, [[false, db.lost]]);
  assert.equal(f.batches.length, 2);
  await stage.close();
});
