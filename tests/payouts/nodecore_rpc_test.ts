/**
 * The NodeCore HTTP JSON-RPC client against a local server that replays the JSON shapes of
 * spec/nodecore-admin-api.md §2.5 (64-bit values as strings, upper-case hex, enums by name,
 * `success`/`results`), and every kind of failure.
 */
import assert from "node:assert/strict";
import { NodeCoreRpc } from "../../payouts/nodecore_rpc.ts";
import { NodeCoreRpcError } from "../../payouts/nodecore_rpc_error.ts";

type Handler = (body: Record<string, unknown>, req: Request) => Response | Promise<Response>;

interface Replay {
  rpc: NodeCoreRpc;
  requests: { body: Record<string, unknown>; headers: Headers }[];
  url: string;
}

async function withReplay(
  handler: Handler,
  fn: (r: Replay) => Promise<void>,
  options: { password?: string; timeoutMs?: number; maxReplyBytes?: number } = {},
): Promise<void> {
  const requests: Replay["requests"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json();
    requests.push({ body, headers: req.headers });
    return await handler(body, req);
  });
  const url = `http://127.0.0.1:${server.addr.port}/api`;
  try {
    await fn({ rpc: new NodeCoreRpc({ url, ...options }), requests, url });
  } finally {
    await server.shutdown();
  }
}

/** A reply carrying `result` with the request's id. */
function result(value: unknown): Handler {
  return (body) => Response.json({ jsonrpc: "2.0", id: body.id, result: value });
}

function raw(text: string, status = 200): Handler {
  return () => new Response(text, { status });
}

async function rejects(
  p: Promise<unknown>,
  kind: NodeCoreRpcError["kind"],
  message?: RegExp,
): Promise<NodeCoreRpcError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof NodeCoreRpcError, `expected NodeCoreRpcError, got ${caught}`);
  assert.equal(caught.kind, kind, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

const POOL = "V3TCJ69TfVVELGJi9H5c2m3smAiWeP";
const MINER1 = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
const MINER2 = "VCea32PtTGh7qDEXp9KFh1xGx9USvh";
const TXID = "75ADB65B16F9BBD1F61E696527B037B50950DD06789A6686B5A43D0BD7D5D8A6";

Deno.test("NodeCoreRpc.getInfo() reads the §2.5 getinfo reply with 64-bit strings", async () => {
  const reply = {
    success: true,
    numberOfBlocks: 34702,
    lastBlock: {
      number: 34701,
      timestamp: 1532533932,
      hash: "0000000005E9546757DA84B2AE030769CFF649D44C7790AD",
      previousHash: "00000000071A57E9BC42F9AD39DB385EC7415DEC39B13800",
      decodedDifficulty: "127442026496",
      winningNonce: "-1685906495",
      powCoinbaseReward: "4375000000",
      popCoinbaseReward: "1202878180",
      version: 1,
    },
    defaultAddress: {
      address: "VEJjTP9qG7ckVRXuiiS4PU7ZqCN3v6",
      unlockedAmount: "0",
      totalAmount: "0",
    },
    transactionFee: "1000",
    estimatedHashrate: "3432319593",
    decodedDifficulty: "127442026496",
  };
  await withReplay(result(reply), async ({ rpc, requests }) => {
    const info = await rpc.getInfo();
    assert.equal(info.numberOfBlocks, 34702);
    assert.equal(info.lastBlock.number, 34701);
    assert.equal(info.lastBlock.hash, "0000000005E9546757DA84B2AE030769CFF649D44C7790AD");
    assert.equal(info.lastBlock.decodedDifficulty, 127442026496n);
    assert.equal(info.lastBlock.powCoinbaseReward, 4_375_000_000n);
    assert.deepEqual(info.defaultAddress, {
      address: "VEJjTP9qG7ckVRXuiiS4PU7ZqCN3v6",
      unlockedAmount: 0n,
      lockedAmount: 0n,
      totalAmount: 0n,
    });
    assert.equal(info.transactionFee, 1000n);
    const req = requests[0]!;
    assert.deepEqual(
      { ...req.body, id: 0 },
      { jsonrpc: "2.0", method: "getinfo", params: {}, id: 0 },
    );
    assert.equal(req.headers.get("content-type"), "application/json");
    assert.equal(req.headers.get("x-vbk-rpc-password"), null, "no password configured");
  });
});

Deno.test("NodeCoreRpc.getStateInfo() reads enums by name or number and applies the sync rule", async (t) => {
  const cases: [string, Record<string, unknown>, boolean][] = [
    ["synced, names", { networkHeight: 1000, localBlockchainHeight: 997 }, true],
    ["behind by 4", { networkHeight: 1000, localBlockchainHeight: 996 }, false],
    ["no network height", { localBlockchainHeight: 5 }, false],
  ];
  for (const [name, heights, synced] of cases) {
    await t.step(name, async () => {
      const reply = {
        blockchainState: { state: "NORMAL" },
        operatingState: { state: 2 },
        networkState: { state: "CONNECTED" },
        connectedPeerCount: 8,
        ...heights,
        success: true,
        programVersion: "0.4.13",
        walletState: "UNLOCKED",
      };
      await withReplay(result(reply), async ({ rpc }) => {
        const s = await rpc.getStateInfo();
        assert.equal(s.synced, synced);
        assert.equal(s.blockchainState, "NORMAL");
        assert.equal(s.operatingState, "RUNNING");
        assert.equal(s.walletState, "UNLOCKED");
        assert.equal(s.connectedPeerCount, 8);
        assert.equal(s.programVersion, "0.4.13");
      });
    });
  }
});

Deno.test("NodeCoreRpc.getBlockAt() sends the index filter and reads the §2.5 block", async () => {
  const block = {
    number: 349601,
    timestamp: 1565000000,
    hash: "000000181e25345c75a5176696ff5e989f1e86786a51ec42",
    previousHash: "00000000071A57E9BC42F9AD39DB385EC7415DEC39B13800",
    secondPreviousHash: "00",
    thirdPreviousHash: "00",
    encodedDifficulty: 123456789,
    winningNonce: "-5",
    regularTransactions: [{
      signed: {
        signature: "AB",
        publicKey: "CD",
        signatureIndex: "7",
        transaction: {
          type: "STANDARD",
          sourceAddress: POOL,
          sourceAmount: "9223372036854775807",
          outputs: [{ address: MINER1, amount: "9007199254740993" }],
          transactionFee: "250000",
          timestamp: 1565000000,
          size: 250,
          txId: TXID.toLowerCase(),
        },
      },
    }, { unsigned: { type: 1, sourceAddress: MINER2, outputs: [], txId: TXID } }],
    popTransactions: [],
    totalFees: "250000",
    powCoinbaseReward: "4375250000",
    popCoinbaseReward: "0",
    blockContentMetapackage: {
      coinbaseTransaction: {
        powCoinbaseAmount: "4375250000",
        powOutputs: [{ address: POOL, amount: "4375250000" }],
        popOutputs: [],
        blockHeight: 349601,
        txId: TXID,
      },
      minerComment: "x",
    },
    size: 1234,
    version: 2,
  };
  await withReplay(result({ success: true, blocks: [block] }), async ({ rpc, requests }) => {
    const b = (await rpc.getBlockAt(349601))!;
    assert.deepEqual(requests[0]!.body.params, { searchLength: 1, filters: [{ index: 349601 }] });
    assert.equal(requests[0]!.body.method, "getblocks");
    assert.equal(b.hash, "000000181E25345C75A5176696FF5E989F1E86786A51EC42", "hex is upper-cased");
    assert.equal(b.powCoinbaseReward, 4_375_250_000n);
    assert.equal(b.encodedDifficulty, 123456789);
    assert.equal(b.totalFees, 250_000n);
    assert.deepEqual(b.coinbaseOutputs, [{ address: POOL, amount: 4_375_250_000n }]);
    assert.equal(b.transactions.length, 2);
    const tx = b.transactions[0]!;
    assert.equal(tx.txId, TXID);
    assert.equal(tx.sourceAmount, 9_223_372_036_854_775_807n, "exact beyond 2^53");
    assert.deepEqual(tx.outputs, [{ address: MINER1, amount: 9_007_199_254_740_993n }]);
    assert.equal(b.transactions[1]!.type, "STANDARD", "enum by number");
    assert.equal(b.transactions[1]!.sourceAmount, 0n, "missing = default");
  });
});

Deno.test("NodeCoreRpc.getBlockAt() returns undefined above the tip, either way NodeCore says it", async () => {
  await withReplay(result({ success: true, blocks: [] }), async ({ rpc }) => {
    assert.equal(await rpc.getBlockAt(10), undefined);
  });
  await withReplay(
    result({ success: false, results: [{ error: true, code: "V404", message: "not found" }] }),
    async ({ rpc }) => assert.equal(await rpc.getBlockAt(10), undefined),
  );
  await withReplay(
    result({ success: true, blocks: [{ number: 9, hash: "AA" }] }),
    async ({ rpc }) => {
      await rejects(rpc.getBlockAt(10), "malformed", /blocks\[0\]\.number/);
    },
  );
  await withReplay(
    result({
      success: true,
      blocks: [{
        number: 10,
        blockContentMetapackage: { coinbaseTransaction: { powOutputs: [{ amount: 1.5 }] } },
      }],
    }),
    async ({ rpc }) => {
      await rejects(
        rpc.getBlockAt(10),
        "malformed",
        /blocks\[0\]\.blockContentMetapackage\.coinbaseTransaction\.powOutputs\[0\]\.amount/,
      );
    },
  );
  await withReplay(
    result({ success: true, blocks: [{ number: 10, powCoinbaseReward: "5" }] }),
    async ({ rpc }) => {
      const b = (await rpc.getBlockAt(10))!;
      assert.deepEqual(b.coinbaseOutputs, [], "no metapackage: no outputs (proto3 default)");
      assert.equal(b.encodedDifficulty, 0);
    },
  );
  await withReplay(result({}), async ({ rpc }) => {
    await assert.rejects(rpc.getBlockAt(-1), RangeError);
    await assert.rejects(rpc.getBlockAt(1.5), RangeError);
  });
});

Deno.test("NodeCoreRpc.getBalance() reads confirmed balances as bigints", async () => {
  const reply = {
    success: true,
    confirmed: [{
      address: POOL,
      unlockedAmount: "123456789012345678",
      lockedAmount: "1",
      totalAmount: "123456789012345679",
    }],
    unconfirmed: [{ address: POOL }],
    totalConfirmed: "123456789012345679",
  };
  await withReplay(result(reply), async ({ rpc, requests }) => {
    assert.deepEqual(await rpc.getBalance([POOL]), [{
      address: POOL,
      unlockedAmount: 123_456_789_012_345_678n,
      lockedAmount: 1n,
      totalAmount: 123_456_789_012_345_679n,
    }]);
    assert.deepEqual(requests[0]!.body.params, { addresses: [POOL] });
  });
});

Deno.test("NodeCoreRpc.getSignatureIndex() reads §1.8 indexes exactly from decimal strings", async (t) => {
  await t.step("64-bit strings, -1 for an unused address, a proto3-omitted zero", async () => {
    const reply = {
      success: true,
      results: [],
      indexes: [
        { address: POOL, blockchainIndex: "9007199254740993", poolIndex: "9007199254740995" },
        { address: MINER1, blockchainIndex: "-1", poolIndex: "-1" },
        { address: MINER2, poolIndex: "0" },
      ],
    };
    await withReplay(result(reply), async ({ rpc, requests }) => {
      assert.deepEqual(await rpc.getSignatureIndex([POOL, MINER1, MINER2]), [
        {
          address: POOL,
          blockchainIndex: 9_007_199_254_740_993n,
          poolIndex: 9_007_199_254_740_995n,
        },
        { address: MINER1, blockchainIndex: -1n, poolIndex: -1n },
        { address: MINER2, blockchainIndex: 0n, poolIndex: 0n },
      ]);
      assert.equal(requests[0]!.body.method, "getsignatureindex");
      assert.deepEqual(requests[0]!.body.params, { addresses: [POOL, MINER1, MINER2] });
    });
  });
  await t.step("an empty reply is an empty list", async () => {
    await withReplay(result({ success: true }), async ({ rpc }) => {
      assert.deepEqual(await rpc.getSignatureIndex([POOL]), []);
    });
  });
  const bad: [string, unknown][] = [
    ["a float", 1.5],
    ["a number past 2^53", 2 ** 60],
    ["hex", "0x10"],
    ["a decimal fraction", "1.0"],
    ["text", "seven"],
  ];
  for (const [name, value] of bad) {
    await t.step(`${name} is malformed`, async () => {
      const reply = {
        success: true,
        indexes: [{ address: POOL, blockchainIndex: "1", poolIndex: value }],
      };
      await withReplay(result(reply), async ({ rpc }) => {
        await rejects(rpc.getSignatureIndex([POOL]), "malformed", /indexes\[0\]\.poolIndex/);
      });
    });
  }
  await t.step("a refusal is a rejected call", async () => {
    const reply = {
      success: false,
      results: [{ error: true, code: "V004", message: "Invalid address", details: "nope" }],
    };
    await withReplay(result(reply), async ({ rpc }) => {
      await rejects(rpc.getSignatureIndex(["nope"]), "rejected", /\[V004\] Invalid address/);
    });
  });
});

Deno.test("NodeCoreRpc.sendCoins() sends amounts as decimal strings and returns the txids", async () => {
  await withReplay(
    result({ success: true, txIds: [TXID.toLowerCase()] }),
    async ({ rpc, requests }) => {
      const ids = await rpc.sendCoins({
        sourceAddress: POOL,
        amounts: [{ address: MINER1, amount: 10_000_000_000n }, {
          address: MINER2,
          amount: 9_007_199_254_740_993n,
        }],
      });
      assert.deepEqual(ids, [TXID]);
      assert.deepEqual(requests[0]!.body.params, {
        amounts: [
          { address: MINER1, amount: "10000000000" },
          { address: MINER2, amount: "9007199254740993" },
        ],
        takeFeeFromOutputs: false,
        sourceAddress: POOL,
      });
    },
    { password: "s3cret" },
  );
  await withReplay(result({}), async ({ rpc }) => {
    await assert.rejects(rpc.sendCoins({ amounts: [] }), RangeError);
    await assert.rejects(rpc.sendCoins({ amounts: [{ address: MINER1, amount: 0n }] }), RangeError);
  });
});

Deno.test("NodeCoreRpc.sendCoins() turns a refusal into a typed error that says nothing was sent", async () => {
  const refusal = {
    success: false,
    results: [{
      error: true,
      code: "V008",
      message: "Send command error",
      details:
        "Including the desired fee of 1000 atomic units per byte, we can't gather enough inputs",
    }],
  };
  await withReplay(result(refusal), async ({ rpc }) => {
    const err = await rejects(
      rpc.sendCoins({ sourceAddress: POOL, amounts: [{ address: MINER1, amount: 5n }] }),
      "rejected",
      /\[V008\] Send command error Including the desired fee/,
    );
    assert.equal(err.code, "V008");
    assert.equal(err.method, "sendcoins");
    assert.equal(err.nodeDidNothing, true);
  });
  // NC#155: a txid AND an error; the outcome is not a clean refusal.
  await withReplay(result({ ...refusal, txIds: [TXID] }), async ({ rpc }) => {
    const err = await rejects(
      rpc.sendCoins({ amounts: [{ address: MINER1, amount: 5n }] }),
      "rejected",
    );
    assert.deepEqual(err.txIds, [TXID]);
    assert.equal(err.nodeDidNothing, false);
  });
});

Deno.test("NodeCoreRpc.getTransactions() and getPendingTransactions() read transaction infos", async () => {
  const info = {
    confirmations: 3,
    transaction: {
      type: "STANDARD",
      sourceAddress: POOL,
      sourceAmount: "1250000",
      outputs: [{ address: MINER1, amount: "1000000" }],
      transactionFee: "250000",
      txId: TXID,
    },
    blockNumber: 100,
    timestamp: 1565000000,
    blockHash: "000000181E25345C75A5176696FF5E989F1E86786A51EC42",
  };
  await withReplay(result({ success: true, transactions: [info] }), async ({ rpc, requests }) => {
    const [t] = await rpc.getTransactions([TXID]);
    assert.deepEqual(requests[0]!.body.params, { searchLength: 5000, ids: [TXID] });
    assert.equal(t!.confirmations, 3);
    assert.equal(t!.blockNumber, 100);
    assert.equal(t!.transaction.transactionFee, 250_000n);
  });
  await withReplay(result({ success: true }), async ({ rpc }) => {
    assert.deepEqual(await rpc.getTransactions([TXID], { searchLength: 1 }), []);
  });
  await withReplay(result({ success: true, transactions: [info.transaction] }), async ({ rpc }) => {
    const [p] = await rpc.getPendingTransactions();
    assert.equal(p!.txId, TXID);
    assert.deepEqual(p!.outputs, [{ address: MINER1, amount: 1_000_000n }]);
  });
});

Deno.test("NodeCoreRpc sends X-VBK-RPC-PASSWORD and reports HTTP 401 as an auth error", async () => {
  await withReplay(
    (body, req) =>
      req.headers.get("x-vbk-rpc-password") === "right"
        ? Response.json({ jsonrpc: "2.0", id: body.id, result: { success: true } })
        : new Response(null, { status: 401 }),
    async ({ url }) => {
      await new NodeCoreRpc({ url, password: "right" }).call("getinfo");
      const err = await rejects(
        new NodeCoreRpc({ url, password: "wrong" }).call("getinfo"),
        "auth",
      );
      assert.equal(err.nodeDidNothing, true);
      await rejects(new NodeCoreRpc({ url }).call("getinfo"), "auth", /HTTP 401/);
    },
  );
});

Deno.test("NodeCoreRpc reports every failure with its kind", async (t) => {
  const cases: [string, Handler, NodeCoreRpcError["kind"], RegExp][] = [
    ["HTTP 500", raw("Error in NodeCore", 500), "http", /HTTP 500 Error in NodeCore/],
    [
      "JSON-RPC error object",
      (b) =>
        Response.json({
          jsonrpc: "2.0",
          id: b.id,
          error: { code: -32601, message: "Method not found" },
        }),
      "rpc",
      /error -32601 Method not found/,
    ],
    ["not JSON", raw("<html>"), "malformed", /not JSON/],
    ["an array", raw("[]"), "malformed", /not a JSON object/],
    [
      "another id",
      (b) => Response.json({ jsonrpc: "2.0", id: Number(b.id) + 1, result: {} }),
      "malformed",
      /reply id/,
    ],
    [
      "no result",
      (b) => Response.json({ jsonrpc: "2.0", id: b.id }),
      "malformed",
      /no result object/,
    ],
    [
      "a fractional 64-bit value",
      result({ success: true, transactionFee: "12.5", lastBlock: {} }),
      "malformed",
      /transactionFee is "12.5"/,
    ],
    [
      "an imprecise 64-bit JSON number",
      result({ success: true, transactionFee: 9007199254740993 }),
      "malformed",
      /transactionFee/,
    ],
    [
      "a string height",
      result({ success: true, numberOfBlocks: "x" }),
      "malformed",
      /numberOfBlocks/,
    ],
    [
      "success missing, an error result",
      result({ results: [{ error: true, message: "boom" }] }),
      "rejected",
      /boom/,
    ],
  ];
  for (const [name, handler, kind, message] of cases) {
    await t.step(name, async () => {
      await withReplay(handler, async ({ rpc }) => {
        await rejects(rpc.getInfo(), kind, message);
      });
    });
  }
  await t.step("a reply larger than the limit", async () => {
    await withReplay(raw(" ".repeat(5000)), async ({ rpc }) => {
      await rejects(rpc.getInfo(), "malformed", /larger than 1000 bytes/);
    }, { maxReplyBytes: 1000 });
  });
  await t.step("no answer in time", async () => {
    let release = () => {};
    const hang = new Promise<void>((r) => release = r);
    await withReplay(async (b) => {
      await hang;
      return Response.json({ jsonrpc: "2.0", id: b.id, result: {} });
    }, async ({ rpc }) => {
      const err = await rejects(rpc.getInfo(), "timeout", /no answer within 100 ms/);
      assert.equal(err.nodeDidNothing, false);
      release();
    }, { timeoutMs: 100 });
  });
  await t.step("nobody listening", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const rpc = new NodeCoreRpc({ url: `http://127.0.0.1:${port}/api` });
    const err = await rejects(rpc.getInfo(), "unreachable");
    assert.equal(err.nodeDidNothing, false);
  });
  await t.step("a bad URL", () => {
    assert.throws(() => new NodeCoreRpc({ url: "ftp://x/api" }), TypeError);
    assert.throws(() => new NodeCoreRpc({ url: "not a url" }), TypeError);
  });
});
