import assert from "node:assert/strict";
import type { PoolEvent } from "../../server/events.ts";
import type { MemoryShareRecorder } from "../../server/share_recorder.ts";
import { ADDRESSES, SHARE_VECTOR, startPool, testPort, vectorTemplate } from "./_pool.ts";
import { TestClient } from "./_stratum_client.ts";

const ADDRESS = ADDRESSES[0]!;
const [, , EXTRANONCE, NTIME, NONCE] = SHARE_VECTOR.submit as [
  string,
  string,
  string,
  string,
  string,
];
const VECTOR_HASH = SHARE_VECTOR.work[2]!.hash;

async function vectorSession(difficulty: bigint) {
  const started = startPool({
    ports: [testPort({ difficulty, minDifficulty: 1n, vardiff: false })],
  });
  const events: PoolEvent[] = [];
  started.pool.events.subscribe((e) => events.push(e));
  const client = await TestClient.connect(started.port());
  const subscribed = await client.call("mining.subscribe", [], "1");
  assert.equal(
    subscribed.raw,
    `{"id":"1","result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"],"${EXTRANONCE}",8],"error":null}`,
  );
  const setDiff = await client.notification("mining.set_difficulty");
  assert.deepEqual(setDiff.json.params, [String(difficulty)]);
  const authorized = await client.call("mining.authorize", [ADDRESS, ""], "2");
  assert.equal(authorized.raw, `{"id":"2","result":true,"error":null}`);
  started.pool.addTemplate(vectorTemplate());
  const notify = await client.notification("mining.notify");
  return { ...started, client, events, jobId: notify.json.params[0] as string, notify };
}

Deno.test("the stratum_share vector is accepted at difficulty 65536 with the right hash", async () => {
  const { pool, client, events, jobId, notify } = await vectorSession(65536n);
  try {
    const expected = SHARE_VECTOR.notify.slice(1, 10);
    assert.deepEqual(notify.json.params.slice(1), expected);
    const reply = await client.call(
      "mining.submit",
      [ADDRESS, jobId, EXTRANONCE, NTIME, NONCE],
      "3",
    );
    assert.equal(reply.raw, `{"id":"3","result":true,"error":null}`);
    const accepted = events.find((e) => e.type === "share_accepted");
    assert.ok(accepted?.type === "share_accepted");
    assert.equal(accepted.share.hash, VECTOR_HASH);
    assert.equal(accepted.share.difficulty, 65536n);
    assert.equal(accepted.share.block, false);
    assert.equal(accepted.share.extranonce, 0x7c000000000f4240n);
    const recorder = pool.recorder as MemoryShareRecorder;
    assert.deepEqual(recorder.totals(ADDRESS)?.work, 65536n);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("the stratum_share vector is rejected at difficulty 1048576", async () => {
  const { pool, client, events, jobId } = await vectorSession(1048576n);
  try {
    const reply = await client.call(
      "mining.submit",
      [ADDRESS, jobId, EXTRANONCE.toUpperCase(), NTIME.toUpperCase(), NONCE.toUpperCase()],
      7,
    );
    assert.equal(reply.raw, `{"id":7,"result":null,"error":[23,"Share is above target",null]}`);
    const rejected = events.find((e) => e.type === "share_rejected");
    assert.ok(rejected?.type === "share_rejected");
    assert.equal(rejected.reason, "low_difficulty");
    assert.equal((pool.recorder as MemoryShareRecorder).shares, 0);
  } finally {
    await client.close();
    await pool.stop();
  }
});
