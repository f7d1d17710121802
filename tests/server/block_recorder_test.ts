import assert from "node:assert/strict";
import { encodeBits } from "../../hash/difficulty.ts";
import { BlockRecorder } from "../../server/block_recorder.ts";
import { StoreShareRecorder } from "../../server/store_share_recorder.ts";
import type { NewBlock, Store } from "../../store/mod.ts";
import { ADDRESSES, freshTemplate, hex16, hex8, mine, startPool, testPort } from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { until, withStore } from "./_store.ts";

const ADDRESS = ADDRESSES[2]!;

const OUTCOMES = [
  { accepted: true, outcome: "accepted", status: "pending", note: "" },
  { accepted: false, outcome: "refused", status: "submitted", note: "submit_rejected" },
  { accepted: false, outcome: "unknown", status: "submitted", note: "submit_unknown" },
  { accepted: false, outcome: "not_sent", status: "submitted", note: "submit_failed" },
] as const;

for (const { accepted, outcome, status, note } of OUTCOMES) {
  Deno.test(`BlockRecorder keeps the candidate before submitting, then NodeCore's answer (${outcome})`, async () => {
    await withStore(async (store) => {
      const blocks = new BlockRecorder(store, { instance: 4 });
      let storedAtSubmit: string | undefined;
      const { pool, port } = startPool({
        ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
        recorder: new StoreShareRecorder(store, { instance: 4 }),
        blocks,
        upstream: {
          async submitBlock() {
            storedAtSubmit = (await store.listBlocks())[0]?.status;
            return { accepted, outcome };
          },
        },
      });
      const client = await TestClient.connect(port());
      try {
        const { extranonce } = await subscribeAndAuthorize(client, `${ADDRESS}.asic`);
        pool.addTemplate(freshTemplate(9, { bits: encodeBits(256n) }));
        const notify = await client.notification("mining.notify");
        const ntime = Math.floor(Date.now() / 1000);
        const [nonce] = mine(notify.json.params, extranonce, { ntime, difficulty: 256n });
        const reply = await client.call("mining.submit", [
          `${ADDRESS}.asic`,
          notify.json.params[0],
          hex16(extranonce),
          hex8(ntime),
          hex8(nonce!),
        ]);
        assert.equal(reply.json.result, true);
        await until(() => pool.inflight === 0);
        await blocks.settled();
        // The candidate was durable before NodeCore was asked.
        assert.equal(storedAtSubmit, "submitted");
        const stored = await store.listBlocks();
        assert.equal(stored.length, 1);
        const b = stored[0]!;
        assert.deepEqual(
          [b.instance, b.address, b.worker, b.status, b.note, b.networkDifficulty, b.effort],
          [4, ADDRESS, "asic", status, note, 256n, 1 / 256],
        );
        assert.deepEqual(b.hash, (await store.listShares())[0]!.hash);
      } finally {
        await client.close();
        await pool.stop();
        await blocks.close();
      }
    });
  });
}

Deno.test("BlockRecorder retries a failed write, then writes the answer", async () => {
  const written: NewBlock[] = [];
  const updates: unknown[] = [];
  let failures = 2;
  const store = {
    recordBlock(block: NewBlock) {
      if (failures-- > 0) return Promise.reject(new Error("database is locked"));
      written.push(block);
      return Promise.resolve({ block: { effort: 1 }, inserted: true });
    },
    updateBlock(_hash: Uint8Array, update: unknown) {
      updates.push(update);
      return Promise.resolve({ status: "pending" });
    },
  } as unknown as Store;
  const recorder = new BlockRecorder(store, { instance: 0, retryMs: [5, 5, 5] });
  const share = {
    at: 5,
    connectionId: 1,
    ip: "127.0.0.1",
    port: 3333,
    worker: "V1",
    address: "V1",
    workerName: "",
    jobId: "1",
    upstreamJobId: 7,
    height: 10,
    extranonce: 1n,
    ntime: 0,
    nonce: 0,
    hash: "ef".repeat(24),
    difficulty: 64n,
    achievedDifficulty: 2000n,
    networkDifficulty: 1000n,
    block: true,
    solo: false,
  };
  // The first write fails: the pool submits anyway, the write is retried.
  assert.equal(await recorder.candidate(share), false);
  recorder.outcome(share, { accepted: true, outcome: "accepted" });
  await until(() => updates.length === 1);
  assert.equal(written.length, 1);
  assert.equal(written[0]!.height, 10);
  assert.equal(written[0]!.status, "submitted");
  assert.deepEqual(updates[0], { status: "pending", note: "", ifStatus: ["submitted"] });
  // An answer for an unknown candidate is ignored.
  recorder.outcome({ ...share, hash: "00".repeat(24) }, { accepted: true, outcome: "accepted" });
  await recorder.close();
  assert.equal(written.length, 1);
  assert.equal(updates.length, 1);
});
