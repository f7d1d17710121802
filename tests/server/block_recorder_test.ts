import assert from "node:assert/strict";
import { encodeBits } from "../../hash/difficulty.ts";
import { BlockRecorder } from "../../server/block_recorder.ts";
import { PoolEvents } from "../../server/events.ts";
import { StoreShareRecorder } from "../../server/store_share_recorder.ts";
import type { NewBlock, Store } from "../../store/mod.ts";
import { ADDRESSES, freshTemplate, hex16, hex8, mine, startPool, testPort } from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { until, withStore } from "./_store.ts";

const ADDRESS = ADDRESSES[2]!;

for (const accepted of [true, false]) {
  Deno.test(`BlockRecorder stores a block only when NodeCore accepts it (accepted: ${accepted})`, async () => {
    await withStore(async (store) => {
      const events = new PoolEvents();
      const blocks = new BlockRecorder(store, events, { instance: 4 });
      const { pool, port } = startPool({
        ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
        recorder: new StoreShareRecorder(store, { instance: 4 }),
        events,
        upstream: { submitBlock: () => Promise.resolve({ accepted }) },
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
        const stored = await store.listBlocks();
        if (!accepted) {
          assert.deepEqual(stored, []);
          return;
        }
        assert.equal(stored.length, 1);
        const b = stored[0]!;
        assert.deepEqual(
          [b.instance, b.address, b.worker, b.status, b.networkDifficulty, b.effort],
          [4, ADDRESS, "asic", "pending", 256n, 1 / 256],
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

Deno.test("BlockRecorder retries a failed write", async () => {
  const written: NewBlock[] = [];
  let failures = 2;
  const store = {
    recordBlock(block: NewBlock) {
      if (failures-- > 0) return Promise.reject(new Error("database is locked"));
      written.push(block);
      return Promise.resolve({ block: { effort: 1 }, inserted: true });
    },
  } as unknown as Store;
  const events = new PoolEvents();
  const recorder = new BlockRecorder(store, events, { instance: 0, retryMs: [5, 5, 5] });
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
  };
  events.emit({ type: "block_found", at: 5, share });
  events.emit({ type: "block_result", at: 6, hash: share.hash, height: 10, accepted: true });
  await until(() => written.length === 1);
  assert.equal(written[0]!.height, 10);
  // A result for an unknown candidate is ignored.
  events.emit({ type: "block_result", at: 7, hash: "00".repeat(24), height: 11, accepted: true });
  await recorder.close();
  assert.equal(written.length, 1);
});
