/**
 * A node that floods the pool with mempool updates (MINING_MEMPOOL_UPDATE many times a second)
 * must not make it send a job to every miner each time, nor churn the live jobs the miners
 * work on: with `updateIntervalMs` the updates between two sends are merged into the newest.
 */
import assert from "node:assert/strict";
import { ADDRESSES, freshTemplate, hex16, hex8, mine, startPool, testPort } from "./_pool.ts";
import { type Ready, subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import type { Pool } from "../../server/pool.ts";
import { bytesToHex as hex } from "../../hash/hex.ts";

const ADDRESS = ADDRESSES[0]!;
const INTERVAL_MS = 300;

/** A mempool update of block `seed`: the same previous block, transaction root `n`. */
function update(seed: number, n: number) {
  const normalRoot = new Uint8Array(32);
  new DataView(normalRoot.buffer).setUint32(0, n + 1);
  return freshTemplate(seed, { normalRoot });
}

/** The transaction root a notify carries (params[6][1]). */
function normalRootOf(line: { json?: { params?: unknown[] } | null }): string {
  return (line.json!.params![6] as string[])[1]!;
}

/** A paced pool with one authorized miner (difficulty 1) for `body`; both closed after. */
async function withPacedPool(
  body: (t: { pool: Pool; client: TestClient; ready: Ready }) => Promise<void>,
): Promise<void> {
  const { pool, port } = startPool({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
    updateIntervalMs: INTERVAL_MS,
  });
  const client = await TestClient.connect(port());
  try {
    await body({ pool, client, ready: await subscribeAndAuthorize(client, ADDRESS) });
  } finally {
    await client.close();
    await pool.stop();
  }
}

Deno.test("Pool merges a flood of mempool updates into one job per interval; shares on it count", () =>
  withPacedPool(async ({ pool, client, ready }) => {
    const block = pool.addTemplate(freshTemplate(1))!;
    const first = await client.notification("mining.notify");
    assert.equal(first.raw, block.notifyLine);
    // The node sends 500 updates at once: none is sent nor becomes a job now.
    for (let i = 0; i < 500; i++) assert.equal(pool.addTemplate(update(1, i)), undefined);
    assert.equal(pool.jobs.size, 1, "held updates are not jobs: the miners' jobs stay live");
    // When the interval is up, the newest alone goes out (not clean: the old job stays valid).
    const sent = await client.notification("mining.notify");
    assert.equal(normalRootOf(sent), hex(update(1, 499).normalRoot));
    assert.equal((sent.json!.params as unknown[])[9], false);
    assert.equal(pool.jobs.size, 2);
    assert.equal(pool.mergedUpdates, 499);
    // A share on it, and one on the block's first job, are both accepted.
    for (const params of [sent.json!.params, first.json!.params]) {
      const p = params as unknown[];
      const ntime = parseInt(p[7] as string, 16);
      const [nonce] = mine(p, ready.extranonce, { ntime, difficulty: 1n });
      const reply = await client.call("mining.submit", [
        ADDRESS,
        p[0],
        hex16(ready.extranonce),
        hex8(ntime),
        hex8(nonce!),
      ]);
      assert.equal(reply.json?.result, true, reply.raw);
    }
    // A new block comes at once even right after a send, and nothing else came in between.
    const next = pool.addTemplate(freshTemplate(2))!;
    assert.equal((await client.notification("mining.notify")).raw, next.notifyLine);
    const notifies = client.lines.filter((l) => l.json?.method === "mining.notify");
    assert.equal(notifies.length, 3, "block, the newest update, the next block");
  }));

Deno.test("Pool drops a held update for a new block and on an upstream reset", () =>
  withPacedPool(async ({ pool, client }) => {
    pool.addTemplate(freshTemplate(1));
    await client.notification("mining.notify");
    pool.addTemplate(update(1, 1)); // held
    const block2 = pool.addTemplate(freshTemplate(2))!; // sent at once, drops the update of 1
    assert.equal((await client.notification("mining.notify")).raw, block2.notifyLine);
    pool.addTemplate(update(2, 2)); // held
    pool.reset(); // its upstream connection is gone: never sent
    const block3 = pool.addTemplate(freshTemplate(3))!;
    assert.equal((await client.notification("mining.notify")).raw, block3.notifyLine);
    // A later update is held and sent: the pacer's timers ran, and the dropped ones never came.
    pool.addTemplate(update(3, 3));
    const sent = await client.notification("mining.notify");
    assert.equal(normalRootOf(sent), hex(update(3, 3).normalRoot));
    const roots = client.lines.filter((l) => l.json?.method === "mining.notify").map(normalRootOf);
    assert.equal(roots.length, 4, "blocks 1, 2, 3 and the update of 3");
    assert.ok(!roots.includes(hex(update(1, 1).normalRoot)));
    assert.ok(!roots.includes(hex(update(2, 2).normalRoot)));
  }));

Deno.test("Pool refuses an unusable template before it can replace or drop a held update", () =>
  withPacedPool(async ({ pool, client }) => {
    pool.addTemplate(freshTemplate(1));
    await client.notification("mining.notify");
    assert.equal(pool.addTemplate(update(1, 1)), undefined); // good, held
    // An unusable update of the same block must not replace it ...
    const broken = { ...update(1, 2), metapackageHash: new Uint8Array(31) };
    assert.equal(pool.addTemplate(broken), undefined);
    // ... nor one that cannot even say its block pass for a new block and drop it.
    const nameless = { ...update(1, 3), previousBlockHash: undefined as unknown as Uint8Array };
    assert.equal(pool.addTemplate(nameless), undefined);
    const sent = await client.notification("mining.notify");
    assert.equal(normalRootOf(sent), hex(update(1, 1).normalRoot));
    assert.equal(pool.mergedUpdates, 0);
    assert.equal(pool.jobs.size, 2);
  }));
