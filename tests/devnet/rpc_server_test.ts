/**
 * The devnet's NodeCore HTTP JSON-RPC API, through the payout service's own NodeCore client and
 * through raw HTTP for the error paths.
 */
import assert from "node:assert/strict";
import {
  type Devnet,
  DEVNET_BLOCK_REWARD,
  DEVNET_RIVAL_ADDRESS,
  startDevnet,
} from "../../devnet/mod.ts";
import { NodeCoreRpc } from "../../payouts/nodecore_rpc.ts";
import { NodeCoreRpcError } from "../../payouts/nodecore_rpc_error.ts";
import { ADDRESS, UcpTestClient } from "./_ucp_client.ts";

const M1 = "V7TMHDQC8myywuGbQs5ADTrk14fajz";

async function withApi(
  fn: (devnet: Devnet, rpc: NodeCoreRpc, url: string) => Promise<void>,
  password = "",
): Promise<void> {
  const devnet = await startDevnet({
    port: 0,
    rpcPort: 0,
    rpcPassword: password,
    minDifficulty: 2000n,
    mempoolIntervalMs: 0,
  });
  const url = `http://127.0.0.1:${devnet.rpcAddr!.port}/api`;
  try {
    await fn(devnet, new NodeCoreRpc({ url, password }), url);
  } finally {
    await devnet.stop();
  }
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", body, headers });
  const text = await res.text();
  const json = res.headers.get("content-type") === "application/json"
    ? JSON.parse(text)
    : undefined;
  return { status: res.status, json };
}

Deno.test("devnet API: getinfo, getstateinfo and getblocks follow the main chain", async () => {
  await withApi(async (devnet, rpc) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      const job = await client.login();
      assert.equal((await client.mine(job)).command, "MINING_SUBMIT_SUCCESS");
    } finally {
      await client.close();
    }
    const poolBlock = devnet.chain.blockAt(1)!;
    const info = await rpc.getInfo();
    assert.equal(info.numberOfBlocks, 2);
    assert.equal(info.lastBlock.number, 1);
    assert.equal(info.lastBlock.hash, poolBlock.hashHex);
    assert.equal(info.lastBlock.powCoinbaseReward, DEVNET_BLOCK_REWARD);
    assert.equal(info.transactionFee, 1000n);
    assert.equal(info.defaultAddress?.address, ADDRESS);
    const state = await rpc.getStateInfo();
    assert.equal(state.synced, true);
    assert.equal(state.localBlockchainHeight, 1);
    const b = (await rpc.getBlockAt(1))!;
    assert.equal(b.hash, poolBlock.hashHex);
    assert.equal(b.previousHash, devnet.chain.genesis.hashHex);
    assert.deepEqual(b.coinbaseOutputs, [{ address: ADDRESS, amount: DEVNET_BLOCK_REWARD }]);
    assert.equal(await rpc.getBlockAt(2), undefined, "above the tip");
    // The rival orphans the pool's block: index 1 now holds another hash.
    await devnet.rival.reorg(1);
    const after = (await rpc.getBlockAt(1))!;
    assert.notEqual(after.hash, poolBlock.hashHex);
    assert.deepEqual(after.coinbaseOutputs, [{
      address: DEVNET_RIVAL_ADDRESS,
      amount: DEVNET_BLOCK_REWARD,
    }]);
    assert.deepEqual(await rpc.getBalance([ADDRESS]), [{
      address: ADDRESS,
      unlockedAmount: 0n,
      lockedAmount: 0n,
      totalAmount: 0n,
    }]);
  });
});

Deno.test("devnet API: sendcoins, gettransactions and getpendingtransactions", async () => {
  await withApi(async (devnet, rpc) => {
    await devnet.rival.mineBlock();
    const [txId] = await rpc.sendCoins({
      sourceAddress: DEVNET_RIVAL_ADDRESS,
      amounts: [{ address: M1, amount: 123_456_789n }],
    });
    assert.match(txId!, /^[0-9A-F]{64}$/);
    const [pending] = await rpc.getPendingTransactions();
    assert.equal(pending!.txId, txId);
    assert.equal(pending!.sourceAddress, DEVNET_RIVAL_ADDRESS);
    assert.deepEqual((await rpc.getTransactions([txId!]))[0]!.confirmations, 0);
    const block = await devnet.rival.mineBlock();
    await devnet.rival.mineBlock();
    const [info] = await rpc.getTransactions([txId!, "00".repeat(32)]);
    assert.equal(info!.confirmations, 2);
    assert.equal(info!.blockNumber, block.height);
    assert.equal(info!.blockHash, block.hashHex);
    assert.deepEqual(info!.transaction.outputs, [{ address: M1, amount: 123_456_789n }]);
    const mined = (await rpc.getBlockAt(block.height))!;
    assert.deepEqual(mined.transactions.map((t) => t.txId), [txId]);
    assert.equal(mined.powCoinbaseReward, DEVNET_BLOCK_REWARD + info!.transaction.transactionFee);
    assert.equal((await rpc.getBalance([M1]))[0]!.unlockedAmount, 123_456_789n);
    const err = await rpc.sendCoins({
      sourceAddress: M1,
      amounts: [{ address: DEVNET_RIVAL_ADDRESS, amount: 123_456_789n }],
    }).catch((e) => e);
    assert.ok(err instanceof NodeCoreRpcError);
    assert.equal(err.kind, "rejected");
    assert.equal(err.code, "V008");
    assert.equal(err.nodeDidNothing, true);
    assert.match(err.message, /can't gather enough inputs/);
  });
});

Deno.test("devnet API: getsignatureindex reports decimal strings, the mempool in poolIndex only", async () => {
  await withApi(async (devnet, rpc, url) => {
    await devnet.rival.mineBlock();
    const R = DEVNET_RIVAL_ADDRESS;
    assert.deepEqual(await rpc.getSignatureIndex([R, M1]), [
      { address: R, blockchainIndex: -1n, poolIndex: -1n },
      { address: M1, blockchainIndex: -1n, poolIndex: -1n },
    ]);
    await rpc.sendCoins({ sourceAddress: R, amounts: [{ address: M1, amount: 5n }] });
    await rpc.sendCoins({ sourceAddress: R, amounts: [{ address: M1, amount: 6n }] });
    assert.deepEqual(await rpc.getSignatureIndex([R]), [
      { address: R, blockchainIndex: -1n, poolIndex: 1n },
    ]);
    await devnet.rival.mineBlock();
    const raw = await post(
      url,
      JSON.stringify({
        jsonrpc: "2.0",
        method: "getsignatureindex",
        params: { addresses: [R] },
        id: 1,
      }),
    );
    assert.deepEqual(raw.json.result.indexes, [{
      address: R,
      blockchainIndex: "1",
      poolIndex: "1",
    }]);
    const bad = await post(
      url,
      '{"method":"getsignatureindex","params":{"addresses":["V1"]},"id":1}',
    );
    assert.equal(bad.json.error.code, -32602);
  });
});

Deno.test("devnet API (test-only faults): sendcoins answers late, executes late or not at all", async (t) => {
  await withApi(async (devnet, _rpc, url) => {
    await devnet.rival.mineBlock();
    const R = DEVNET_RIVAL_ADDRESS;
    const impatient = new NodeCoreRpc({ url, timeoutMs: 100 });
    const send = (amount: bigint) =>
      impatient.sendCoins({ sourceAddress: R, amounts: [{ address: M1, amount }] }).catch((e) => e);
    const poolIndex = () => devnet.ledger.signatureIndex(R).poolIndex;

    await t.step("a late reply: the client times out, the transaction exists", async () => {
      const outcome = devnet.faults.nextSend({ replyDelayMs: 1000 });
      const err = await send(7n);
      assert.ok(err instanceof NodeCoreRpcError);
      assert.equal(err.kind, "timeout");
      assert.equal(err.nodeDidNothing, false);
      const { txIds } = await outcome;
      assert.deepEqual(devnet.ledger.pending().map((x) => x.txId), txIds);
      assert.equal(poolIndex(), 0n);
    });

    await t.step(
      "a late execution: nothing shows the transaction until it is created",
      async () => {
        const { promise: go, resolve: release } = Promise.withResolvers<void>();
        const outcome = devnet.faults.nextSend({ executeWhen: go });
        const err = await send(8n);
        assert.equal(err.kind, "timeout");
        assert.equal(devnet.ledger.pending().length, 1, "only the first transaction");
        assert.equal(poolIndex(), 0n);
        release();
        const { txIds } = await outcome;
        assert.equal(txIds.length, 1);
        assert.equal(devnet.ledger.transaction(txIds[0]!)?.confirmations, 0, "in the mempool now");
        assert.equal(poolIndex(), 1n);
      },
    );

    await t.step("executeAfterMs: created that long after the request", async () => {
      const started = Date.now();
      const outcome = devnet.faults.nextSend({ executeAfterMs: 200 });
      assert.equal((await send(11n)).kind, "timeout");
      const { txIds } = await outcome;
      assert.ok(Date.now() - started >= 200);
      assert.equal(devnet.ledger.transaction(txIds[0]!)?.confirmations, 0);
      assert.equal(poolIndex(), 2n);
    });

    await t.step("no execution: HTTP 500, and the node did nothing", async () => {
      const outcome = devnet.faults.nextSend({ execute: false });
      const err = await send(9n);
      assert.equal(err.kind, "http");
      assert.equal(err.status, 500);
      assert.deepEqual((await outcome).txIds, []);
      assert.equal(devnet.ledger.pending().length, 3);
      assert.equal(poolIndex(), 2n);
      assert.equal(devnet.faults.armed, false, "each fault applies once");
    });

    await t.step("stopping the devnet cancels a held reply and a pending execution", async () => {
      const outcome = devnet.faults.nextSend({ executeAfterMs: 60_000, replyDelayMs: 60_000 });
      assert.equal((await send(10n)).kind, "timeout");
      const started = Date.now();
      await devnet.stop();
      assert.ok(Date.now() - started < 30_000, "stop does not wait for the held reply");
      assert.deepEqual((await outcome).txIds, []);
      assert.equal(devnet.ledger.pending().length, 3);
    });
  });
});

Deno.test("devnet API: HTTP and JSON-RPC errors", async () => {
  await withApi(async (_devnet, _rpc, url) => {
    const auth = { "x-vbk-rpc-password": "pw" };
    const ok = await post(
      url,
      '{"jsonrpc":"2.0","method":"getlastblock","params":{},"id":"a"}',
      auth,
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.json.id, "a");
    assert.match(ok.json.result.header.hash, /^[0-9A-F]{48}$/);
    assert.equal((await post(url, '{"method":"getinfo","id":1}')).status, 401);
    assert.equal((await post(url.replace("/api", "/x"), "{}", auth)).status, 404);
    const get = await fetch(url, { headers: auth });
    await get.body?.cancel();
    assert.equal(get.status, 405);
    const cases: [string, number][] = [
      ["{not json", -32700],
      ["[1]", -32600],
      ['{"id":1}', -32600],
      ['{"method":"nosuchmethod","id":1}', -32601],
      ['{"method":"getinfo","params":5,"id":1}', -32602],
      [
        '{"method":"sendcoins","params":{"amounts":[{"address":"V","amount":"1.5"}]},"id":1}',
        -32602,
      ],
      ['{"method":"getblocks","params":{"filters":[{}]},"id":1}', -32602],
      ['{"method":"gettransactions","params":{"ids":[5]},"id":1}', -32602],
    ];
    for (const [body, code] of cases) {
      const r = await post(url, body, auth);
      assert.equal(r.status, 200, body);
      assert.equal(r.json.error.code, code, body);
    }
  }, "pw");
});
