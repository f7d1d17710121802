import assert from "node:assert/strict";
import { type AcceptedShare, MemoryShareRecorder } from "../../server/share_recorder.ts";

const SHARE: AcceptedShare = {
  at: 5,
  connectionId: 1,
  ip: "127.0.0.1",
  port: 3333,
  worker: "VA.rig1",
  address: "VA",
  workerName: "rig1",
  jobId: "1",
  upstreamJobId: 2,
  height: 3,
  extranonce: 1n,
  ntime: 0,
  nonce: 0,
  hash: "00",
  difficulty: 100n,
  achievedDifficulty: 150n,
  networkDifficulty: 1000n,
  block: false,
  solo: false,
};

Deno.test("MemoryShareRecorder totals shares per worker", async () => {
  const recorder = new MemoryShareRecorder();
  await recorder.record(SHARE);
  await recorder.record({ ...SHARE, at: 9, difficulty: 50n, block: true });
  await recorder.record({ ...SHARE, worker: "VA.rig2", workerName: "rig2" });
  assert.deepEqual(recorder.totals("VA.rig1"), {
    shares: 2,
    work: 150n,
    blocks: 1,
    lastShareAt: 9,
  });
  assert.equal(recorder.totals("nobody"), undefined);
  assert.deepEqual(recorder.workers().sort(), ["VA.rig1", "VA.rig2"]);
  assert.equal(recorder.shares, 3);
  assert.equal(recorder.work, 250n);
});
