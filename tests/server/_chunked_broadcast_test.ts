import assert from "node:assert/strict";
import { ChunkedBroadcast } from "../../server/_chunked_broadcast.ts";
import { waitUntil } from "../_wait.ts";

class Target {
  jobs: string[] = [];
  sendJob(job: string): void {
    this.jobs.push(job);
  }
}

function targets(n: number): Target[] {
  return Array.from({ length: n }, () => new Target());
}

async function idle(broadcast: ChunkedBroadcast<string>): Promise<void> {
  await waitUntil(() => !broadcast.busy, "the broadcast done", {
    timeoutMs: 10_000,
    intervalMs: 1,
  });
}

Deno.test("ChunkedBroadcast sends a small broadcast at once", () => {
  const b = new ChunkedBroadcast<string>(4);
  const t = targets(3);
  b.start("j1", t);
  assert.equal(b.busy, false);
  assert.deepEqual(t.map((x) => x.jobs), [["j1"], ["j1"], ["j1"]]);
});

Deno.test("ChunkedBroadcast sends the first chunk now and the rest after the event loop ran", async () => {
  const b = new ChunkedBroadcast<string>(4);
  const t = targets(10);
  b.start("j1", t);
  assert.equal(b.busy, true);
  assert.equal(t.filter((x) => x.jobs.length === 1).length, 4);
  await idle(b);
  assert.ok(t.every((x) => x.jobs.length === 1 && x.jobs[0] === "j1"));
});

Deno.test("ChunkedBroadcast finishes the previous broadcast before the next, keeping order", async () => {
  const b = new ChunkedBroadcast<string>(3);
  const t = targets(10);
  b.start("j1", t);
  b.start("j2", t);
  await idle(b);
  for (const x of t) assert.deepEqual(x.jobs, ["j1", "j2"]);
});

Deno.test("ChunkedBroadcast.cancel() drops the rest; finish() sends it", async () => {
  const b = new ChunkedBroadcast<string>(2);
  const t = targets(6);
  // A broadcast of the same shape, started alongside and not cancelled, finishing proves the
  // event loop ran the steps the cancelled one would have taken.
  const control = new ChunkedBroadcast<string>(2);
  control.start("c", targets(6));
  b.start("j1", t);
  b.cancel();
  await idle(control);
  assert.equal(t.filter((x) => x.jobs.length > 0).length, 2);
  b.start("j2", t);
  b.finish();
  assert.equal(b.busy, false);
  assert.ok(t.every((x) => x.jobs.at(-1) === "j2"));
});
