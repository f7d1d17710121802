/**
 * End to end over real TCP: the devnet as NodeCore, the pool's upstream client, the pool, and
 * scripted miners.
 */
import assert from "node:assert/strict";
import { decodeBits } from "../../hash/difficulty.ts";
import type { MemoryShareRecorder } from "../../server/share_recorder.ts";
import { ADDRESSES, hex16, hex8, mine, testPort } from "../server/_pool.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";
import { startPoolStack } from "./_pool_stack.ts";
import { waitUntil } from "../_wait.ts";

const ADDRESS = ADDRESSES[0]!;

Deno.test("a block found through the pool reaches the devnet and its share is credited", async () => {
  const stack = await startPoolStack({
    ports: [testPort({ difficulty: 64n, minDifficulty: 1n, vardiff: false })],
  });
  const client = await TestClient.connect(stack.port);
  try {
    const { extranonce } = await subscribeAndAuthorize(client, `${ADDRESS}.e2e`);
    const notify = await client.notification("mining.notify");
    const params = notify.json.params;
    const network = decodeBits(parseInt(params[8], 16));
    const height = stack.devnet.chain.height;
    assert.equal(parseInt(params[1], 16), height + 1);
    const ntime = Math.floor(Date.now() / 1000);
    const [nonce] = mine(params, extranonce, { ntime, difficulty: network, count: 1 << 26 });
    assert.ok(nonce !== undefined, "no block-quality nonce found");
    const reply = await client.call(
      "mining.submit",
      [`${ADDRESS}.e2e`, params[0], hex16(extranonce), hex8(ntime), hex8(nonce)],
    );
    assert.equal(reply.json.result, true);
    await waitUntil(() => stack.devnet.chain.height === height + 1, "the block on the chain");
    await waitUntil(() => stack.events.some((e) => e.type === "block_result"), "the block result");
    const result = stack.events.find((e) => e.type === "block_result");
    assert.ok(result?.type === "block_result" && result.accepted, JSON.stringify(result));
    assert.ok(stack.devnet.chain.isMainChain(result.hash));
    const totals = (stack.pool.recorder as MemoryShareRecorder).totals(`${ADDRESS}.e2e`);
    assert.equal(totals?.shares, 1);
    assert.equal(totals?.blocks, 1);
    assert.equal(totals?.work, 64n);
    // The devnet's next job is a new block: clean_jobs, and the old job is stale.
    const next = await client.notification("mining.notify");
    assert.equal(next.json.params[9], true);
    assert.equal(parseInt(next.json.params[1], 16), height + 2);
    const [other] = mine(params, extranonce, { ntime, difficulty: 1n, startNonce: nonce + 1 });
    const stale = await client.call(
      "mining.submit",
      [`${ADDRESS}.e2e`, params[0], hex16(extranonce), hex8(ntime), hex8(other!)],
    );
    assert.deepEqual(stale.json.error, [21, `Job '${params[0]}' not found`, null]);
  } finally {
    await client.close();
    await stack.stop();
  }
});

Deno.test("devnet mempool updates keep jobs valid; a rival block makes them stale", async () => {
  const stack = await startPoolStack({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
  });
  const client = await TestClient.connect(stack.port);
  try {
    const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
    const first = await client.notification("mining.notify");
    const ntime = Math.floor(Date.now() / 1000);
    const nonces = mine(first.json.params, extranonce, { ntime, difficulty: 1n });
    const submit = (jobId: string, nonce: number) =>
      client.call("mining.submit", [ADDRESS, jobId, hex16(extranonce), hex8(ntime), hex8(nonce)]);
    stack.devnet.mempoolUpdate();
    const update = await client.notification("mining.notify");
    assert.equal(update.json.params[9], false);
    assert.notDeepEqual(update.json.params[6], first.json.params[6]);
    assert.equal((await submit(first.json.params[0], nonces[0]!)).json.result, true);
    const nonces2 = mine(update.json.params, extranonce, { ntime, difficulty: 1n });
    assert.equal((await submit(update.json.params[0], nonces2[0]!)).json.result, true);
    await stack.devnet.rival.mineBlock();
    const block = await client.notification("mining.notify");
    assert.equal(block.json.params[9], true);
    const stale = await submit(update.json.params[0], nonces2[1]!);
    assert.equal(stale.json.error[0], 21);
  } finally {
    await client.close();
    await stack.stop();
  }
});

Deno.test("the Java reference miner's exact message sequence gets accepted shares", async () => {
  const difficulty = 256n;
  const stack = await startPoolStack({
    ports: [testPort({ difficulty, minDifficulty: 1n, vardiff: false })],
  });
  const client = await TestClient.connect(stack.port);
  try {
    // StratumClient.start(): subscribe with id "1" and [] (Gson key order method, params, id).
    client.sendRaw('{"method":"mining.subscribe","params":[],"id":"1"}');
    const sub = await client.waitFor((l) => l.json?.id === "1");
    const base = BigInt("0x" + sub.json.result[1]);
    assert.equal(sub.json.result[2], 8);
    // onSubscribed: threads get base + 10·i, then mining.authorize [username, ""] with id "2".
    client.sendRaw(`{"method":"mining.authorize","params":["${ADDRESS}",""],"id":"2"}`);
    const setDiff = await client.notification("mining.set_difficulty");
    assert.equal(BigInt(setDiff.json.params[0]), difficulty); // BigInteger(param) must parse
    const notify = await client.notification("mining.notify");
    const auth = await client.waitFor((l) => l.json?.id === "2");
    assert.equal(auth.json.result, true);
    const params = notify.json.params;
    let id = 3;
    const ids: string[] = [];
    for (let thread = 0; thread < 2; thread++) {
      const extranonce = base + 10n * BigInt(thread);
      const ts = Math.floor(Date.now() / 1000);
      // Each thread counts nonces up from Integer.MIN_VALUE (0x80000000).
      const found = mine(params, extranonce, { ntime: ts, difficulty, startNonce: 0x80000000 });
      for (const nonce of found.slice(0, 2)) {
        const reqId = String(id++);
        ids.push(reqId);
        const submit = [
          ADDRESS,
          params[0],
          hex16(extranonce).toUpperCase(),
          hex8(ts).toUpperCase(),
          hex8(nonce).toUpperCase(),
        ];
        client.sendRaw(
          `{"method":"mining.submit","params":${JSON.stringify(submit)},"id":"${reqId}"}`,
        );
      }
    }
    for (const reqId of ids) {
      const reply = await client.waitFor((l) => l.json?.id === reqId);
      assert.equal(reply.raw, `{"id":"${reqId}","result":true,"error":null}`);
    }
    const recorder = stack.pool.recorder as MemoryShareRecorder;
    assert.equal(recorder.totals(ADDRESS)?.shares, 4);
  } finally {
    await client.close();
    await stack.stop();
  }
});
