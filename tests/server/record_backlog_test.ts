import assert from "node:assert/strict";
import { type AcceptedShare, RecordBacklog, type ShareRecorder } from "../../server/mod.ts";

/** A recorder whose records settle when the test says so. */
function heldRecorder() {
  const held: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const recorder: ShareRecorder = {
    record: () => new Promise<void>((resolve, reject) => held.push({ resolve, reject })),
  };
  return { recorder, held };
}

const SHARE = {} as AcceptedShare;

Deno.test("RecordBacklog pauses reads at pauseAt and resumes at half, counting failures too", async () => {
  const { recorder, held } = heldRecorder();
  let clock = 0;
  const backlog = new RecordBacklog({ recorder, pauseAt: 4, clock: () => clock });
  const records = Array.from({ length: 3 }, () => backlog.record(SHARE));
  assert.equal(backlog.gate.open, true, "3 < 4 pending");
  records.push(backlog.record(SHARE));
  assert.equal(backlog.gate.open, false, "4 pending");
  records.push(backlog.record(SHARE)); // lines framed before the gate shut still come
  assert.equal(backlog.stats().pending, 5);
  clock = 250;
  held[0]!.resolve();
  held[1]!.reject(new Error("commit failed")); // a failed record settles too
  await Promise.allSettled(records.slice(0, 2));
  assert.equal(backlog.gate.open, false, "3 pending > 2");
  held[2]!.resolve();
  await records[2];
  assert.equal(backlog.gate.open, true, "2 pending: half of pauseAt");
  assert.deepEqual(backlog.stats(), { pending: 2, pauses: 1, pausedMs: 250, paused: false });
  for (const h of held.slice(3)) h.resolve();
  await Promise.all(records.slice(3));
  assert.equal(backlog.stats().pending, 0);
});

Deno.test("RecordBacklog: the wrapped recorder's rejection reaches the caller; 0 never pauses", async () => {
  const { recorder, held } = heldRecorder();
  const backlog = new RecordBacklog({ recorder, pauseAt: 0 });
  const records = Array.from({ length: 1000 }, () => backlog.record(SHARE));
  assert.equal(backlog.gate.open, true);
  held[0]!.reject(new Error("full"));
  await assert.rejects(records[0]!, /full/);
  for (const h of held.slice(1)) h.resolve();
  await Promise.all(records.slice(1));
  const throwing = new RecordBacklog({
    recorder: {
      record: () => {
        throw new Error("sync failure");
      },
    },
    pauseAt: 1,
  });
  await assert.rejects(throwing.record(SHARE), /sync failure/);
  assert.equal(throwing.stats().pending, 0);
  assert.equal(throwing.gate.open, true);
});

Deno.test("RecordBacklog.setPauseAt: a reload to a higher threshold or to 0 reopens the gate", async () => {
  const { recorder, held } = heldRecorder();
  const backlog = new RecordBacklog({ recorder, pauseAt: 2 });
  const records = [backlog.record(SHARE), backlog.record(SHARE)];
  assert.equal(backlog.gate.open, false);
  backlog.setPauseAt(10);
  assert.equal(backlog.gate.open, true, "2 pending ≤ 5");
  backlog.setPauseAt(2);
  records.push(backlog.record(SHARE));
  assert.equal(backlog.gate.open, false, "a lower threshold applies with the next share");
  backlog.setPauseAt(0);
  assert.equal(backlog.gate.open, true);
  for (const h of held) h.resolve();
  await Promise.all(records);
});
