import assert from "node:assert/strict";
import { openStore } from "../../store/mod.ts";
import { StoreWorkerDifficulty } from "../../server/store_worker_difficulty.ts";
import { ADDRESSES, freshTemplate, startPool, testPort } from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { withStore } from "./_store.ts";

const ADDRESS = ADDRESSES[1]!;

Deno.test("StoreWorkerDifficulty restores a worker's difficulty after reconnect and after a restart", async () => {
  await withStore(async (first, path) => {
    const port = testPort({ difficulty: 1024n, minDifficulty: 1n });
    // Run 1: the miner asks for 4096; the pool remembers it.
    let { pool, port: portOf } = startPool({
      ports: [port],
      difficulties: new StoreWorkerDifficulty(first),
    });
    pool.addTemplate(freshTemplate(7));
    let client = await TestClient.connect(portOf());
    await subscribeAndAuthorize(client, `${ADDRESS}.gpu`);
    await client.call("mining.suggest_difficulty", ["4096"]);
    assert.deepEqual((await client.notification("mining.set_difficulty")).json.params, ["4096"]);
    await client.close();
    await first.flush();
    assert.equal(await first.getWorkerDifficulty(ADDRESS, "gpu"), 4096n);
    // Reconnect: restored.
    client = await TestClient.connect(portOf());
    const ready = await subscribeAndAuthorize(client, `${ADDRESS}.gpu`);
    assert.equal(ready.difficulty, 1024n);
    assert.deepEqual((await client.notification("mining.set_difficulty")).json.params, ["4096"]);
    await client.close();
    await pool.stop();
    // Restart: a new pool on a reopened store restores it too.
    const reopened = await openStore(path);
    try {
      ({ pool, port: portOf } = startPool({
        ports: [port],
        difficulties: new StoreWorkerDifficulty(reopened),
      }));
      pool.addTemplate(freshTemplate(8));
      client = await TestClient.connect(portOf());
      await subscribeAndAuthorize(client, `${ADDRESS}.gpu`);
      assert.deepEqual((await client.notification("mining.set_difficulty")).json.params, ["4096"]);
      await client.close();
      await pool.stop();
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("StoreWorkerDifficulty keys by address and worker name", async () => {
  await withStore(async (store) => {
    const d = new StoreWorkerDifficulty(store);
    d.save("V1", 5n);
    d.save("V1.a.b", 7n);
    await store.flush();
    assert.equal(await store.getWorkerDifficulty("V1", ""), 5n);
    assert.equal(await store.getWorkerDifficulty("V1", "a.b"), 7n);
    assert.equal(await d.load("V1.a.b"), 7n);
    assert.equal(await d.load("V2"), undefined);
    d.save("V1", 0n); // invalid: logged, not thrown
    await store.flush();
    assert.equal(await d.load("V1"), 5n);
  }, { thread: false });
});
