import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { bytesToHex } from "../../hash/hex.ts";
import { StoreShareRecorder } from "../../server/store_share_recorder.ts";
import {
  ADDRESSES,
  freshTemplate,
  hashHeader,
  headerFromNotify,
  hex16,
  hex8,
  mine,
  startPool,
  testPort,
} from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { until, withStore } from "./_store.ts";

const ADDRESS = ADDRESSES[0]!;

Deno.test("StoreShareRecorder makes every share answered true durable, with its fields", async () => {
  await withStore(async (store) => {
    const { pool, port } = startPool({
      ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
      recorder: new StoreShareRecorder(store, { instance: 3 }),
    });
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, `${ADDRESS}.rig`);
      pool.addTemplate(freshTemplate(4));
      const notify = await client.notification("mining.notify");
      const ntime = Math.floor(Date.now() / 1000);
      const nonces = mine(notify.json.params, extranonce, { ntime, difficulty: 1n, count: 16 });
      const replies = await Promise.all(nonces.map((nonce) =>
        client.call("mining.submit", [
          `${ADDRESS}.rig`,
          notify.json.params[0],
          hex16(extranonce),
          hex8(ntime),
          hex8(nonce),
        ])
      ));
      assert.ok(replies.every((r) => r.json.result === true));
      const rows = await store.listShares();
      assert.equal(rows.length, nonces.length);
      const hashes = nonces.map((n) =>
        bytesToHex(hashHeader(headerFromNotify(notify.json.params, extranonce, ntime, n)))
      );
      assert.deepEqual(rows.map((r) => bytesToHex(r.hash)).sort(), hashes.sort());
      const row = rows[0]!;
      assert.deepEqual(
        [row.instance, row.address, row.worker, row.jobId, row.difficulty, row.height],
        [3, ADDRESS, "rig", notify.json.params[0], 1n, parseInt(notify.json.params[1], 16)],
      );
    } finally {
      await client.close();
      await pool.stop();
    }
  });
});

Deno.test("StoreShareRecorder: a failing database gets the miner an error, never a true", async () => {
  await withStore(async (store, path) => {
    const { pool, port } = startPool({
      ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
      recorder: new StoreShareRecorder(store, { instance: 0 }),
    });
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(5));
      const notify = await client.notification("mining.notify");
      const ntime = Math.floor(Date.now() / 1000);
      const [a, b] = mine(notify.json.params, extranonce, { ntime, difficulty: 1n, count: 16 });
      const submit = (nonce: number) =>
        client.call("mining.submit", [
          ADDRESS,
          notify.json.params[0],
          hex16(extranonce),
          hex8(ntime),
          hex8(nonce),
        ]);
      const other = new DatabaseSync(path);
      other.exec("BEGIN EXCLUSIVE");
      let refused;
      try {
        refused = await submit(a!);
      } finally {
        other.exec("ROLLBACK");
        other.close();
      }
      assert.notEqual(refused.json.result, true);
      assert.ok(refused.json.error !== null);
      assert.equal(await store.countShares(), 0);
      await until(() => store.stats().healthy);
      assert.equal((await submit(b!)).json.result, true);
      assert.equal(await store.countShares(), 1);
    } finally {
      await client.close();
      await pool.stop();
    }
  }, { busyTimeoutMs: 50, probeIntervalMs: 20 });
});

Deno.test("StoreShareRecorder stores a share and refuses a malformed hash", async () => {
  await withStore(async (store) => {
    const recorder = new StoreShareRecorder(store, { instance: 1 });
    const share = {
      at: 1,
      connectionId: 1,
      ip: "127.0.0.1",
      port: 3333,
      worker: `${ADDRESS}.x`,
      address: ADDRESS,
      workerName: "x",
      jobId: "7",
      upstreamJobId: 7,
      height: 10,
      extranonce: 1n,
      ntime: 0,
      nonce: 0,
      hash: "cd".repeat(24),
      difficulty: 64n,
      achievedDifficulty: 100n,
      networkDifficulty: 1000n,
      block: false,
      solo: false,
    };
    await recorder.record(share);
    await assert.rejects(recorder.record({ ...share, hash: "zz" }), SyntaxError);
    assert.equal(await store.countShares(), 1);
  }, { thread: false });
});
