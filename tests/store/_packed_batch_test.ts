import assert from "node:assert/strict";
import {
  batchTransfer,
  packBatch,
  readShare,
  scratchShare,
  unpackOutcomes,
} from "../../store/_packed_batch.ts";
import type { WriteOp } from "../../store/_ops.ts";
import { sampleShare } from "./_samples.ts";

const INT64_MAX = (1n << 63n) - 1n;

Deno.test("packBatch() keeps order and reads back every field exactly", () => {
  const a = sampleShare({ difficulty: INT64_MAX, networkDifficulty: 1n, time: 2 ** 53 - 1 });
  const b = sampleShare({ worker: "", jobId: "ff", height: 2 ** 31 - 1, instance: 7 });
  const c = sampleShare();
  const difficulty: WriteOp = {
    kind: "difficulty",
    address: "V1",
    worker: "",
    difficulty: 5n,
    time: 1,
  };
  const ops: WriteOp[] = [
    { kind: "share", share: a },
    { kind: "share", share: b },
    difficulty,
    { kind: "share", share: c },
  ];
  const batch = packBatch(ops);
  assert.deepEqual(batch.steps, [2, difficulty, 1]);
  assert.equal(batch.shares.count, 3);
  const strings = [a.address, "rig1", "1a", b.address, "", "ff", c.address, "rig1", "1a"];
  assert.deepEqual(batch.shares.strings, strings);
  const scratch = scratchShare();
  for (const [i, s] of [a, b, c].entries()) {
    assert.deepEqual({ ...readShare(batch.shares, i, scratch) }, s);
  }
  assert.equal(batchTransfer(batch).length, 3);
});

Deno.test("packBatch() packs a batch without shares", () => {
  const op: WriteOp = { kind: "pruneShares", before: 1, limit: 2 };
  const batch = packBatch([op]);
  assert.deepEqual(batch.steps, [op]);
  assert.equal(batch.shares.count, 0);
  assert.equal(batch.shares.hashes.length, 0);
});

Deno.test("unpackOutcomes() gives one outcome per operation, in order", () => {
  const share: WriteOp = { kind: "share", share: sampleShare() };
  const other: WriteOp = { kind: "pruneRollups", before: 1, limit: 2 };
  const ops = [share, other, share, share];
  const outcomes = unpackOutcomes(ops, { shares: 3, others: [{ ok: true, value: 3 }] });
  assert.deepEqual(outcomes, [
    { ok: true, value: undefined },
    { ok: true, value: 3 },
    { ok: true, value: undefined },
    { ok: true, value: undefined },
  ]);
});

Deno.test("unpackOutcomes() rejects an answer that does not match the batch", () => {
  const share: WriteOp = { kind: "share", share: sampleShare() };
  assert.throws(
    () => unpackOutcomes([share, share], { shares: 1, others: [] }),
    {
      name: "RangeError",
      message: "Cannot read commit outcomes: 1 shares and 0 other outcomes for 2 and 0 operations",
    },
  );
  assert.throws(
    () => unpackOutcomes([share], { shares: 1, others: [{ ok: true, value: 1 }] }),
    RangeError,
  );
});
