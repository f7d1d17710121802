import assert from "node:assert/strict";
import {
  type Devnet,
  DEVNET_BLOCK_REWARD,
  DEVNET_RIVAL_ADDRESS,
  type DevnetOptions,
  startDevnet,
  transactionSize,
} from "../../devnet/mod.ts";
import type { UcpMiningJob } from "../../protocol/ucp_types.ts";
import { ADDRESS, UcpTestClient } from "./_ucp_client.ts";

const R = DEVNET_BLOCK_REWARD;
const FEE_1 = 1000n * BigInt(transactionSize(1));
const FEE_2 = 1000n * BigInt(transactionSize(2));
const M1 = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
const M2 = "VCea32PtTGh7qDEXp9KFh1xGx9USvh";

/** A devnet plus a UCP client that mines blocks for ADDRESS (the pool). */
async function withPool(
  fn: (devnet: Devnet, mine: (n?: number) => Promise<void>) => Promise<void>,
  options: DevnetOptions = {},
): Promise<void> {
  const devnet = await startDevnet({
    port: 0,
    minDifficulty: 2000n,
    mempoolIntervalMs: 0,
    ...options,
  });
  const client = await UcpTestClient.connect(devnet.addr.port);
  let loggedIn = false;
  /** The newest job, once it builds on the current tip. */
  const latest = async (): Promise<UcpMiningJob> => {
    let job: UcpMiningJob | undefined;
    await client.until(() => {
      const jobs = client.messages.filter((m) => m.command === "MINING_JOB") as UcpMiningJob[];
      job = jobs.at(-1);
      return job !== undefined && job.blockIndex === devnet.chain.height + 1;
    }, "a job on the tip");
    return job!;
  };
  const mine = async (n = 1) => {
    if (!loggedIn) {
      await client.login();
      loggedIn = true;
    }
    for (let i = 0; i < n; i++) {
      const height = devnet.chain.height;
      const reply = await client.mine(await latest());
      assert.equal(reply.command, "MINING_SUBMIT_SUCCESS", JSON.stringify(reply));
      assert.equal(devnet.chain.height, height + 1);
    }
  };
  try {
    await fn(devnet, mine);
  } finally {
    await client.close();
    await devnet.stop();
  }
}

Deno.test("DevnetLedger pays each main-chain block's finder its reward", async () => {
  await withPool(async (devnet, mine) => {
    await mine(2);
    const rival = await devnet.rival.mineBlock();
    const l = devnet.ledger;
    assert.equal(l.balance(ADDRESS).confirmed, 2n * R);
    assert.equal(l.balance(DEVNET_RIVAL_ADDRESS).confirmed, R);
    assert.deepEqual(l.coinbase(devnet.chain.blockAt(1)!), {
      address: ADDRESS,
      reward: R,
      fees: 0n,
    });
    assert.deepEqual(l.coinbase(rival), { address: DEVNET_RIVAL_ADDRESS, reward: R, fees: 0n });
    assert.equal(l.coinbase(devnet.chain.genesis), undefined);
    assert.deepEqual(l.addresses(), [ADDRESS, DEVNET_RIVAL_ADDRESS].sort());
  }, { blockReward: R });
});

Deno.test("DevnetLedger sends coins in the next block, with the fee to that block's finder", async () => {
  await withPool(async (devnet, mine) => {
    const l = devnet.ledger;
    await mine(2);
    const sent = l.send({
      sourceAddress: ADDRESS,
      outputs: [{ address: M1, amount: 30n * 10n ** 8n }, { address: M2, amount: 12_345n }],
    });
    assert.ok(sent.ok);
    const tx = sent.tx;
    assert.match(tx.txId, /^[0-9A-F]{64}$/);
    assert.equal(tx.fee, FEE_2);
    assert.deepEqual(l.pending().map((t) => t.txId), [tx.txId]);
    assert.equal(l.transaction(tx.txId)?.confirmations, 0);
    assert.equal(l.transaction(tx.txId.toLowerCase())?.block, undefined);
    const spent = 30n * 10n ** 8n + 12_345n + FEE_2;
    assert.deepEqual(l.balance(ADDRESS), {
      confirmed: 2n * R,
      pending: -spent,
      spendable: 2n * R - spent,
    });
    assert.deepEqual(l.balance(M1), { confirmed: 0n, pending: 30n * 10n ** 8n, spendable: 0n });
    const block = await devnet.rival.mineBlock();
    assert.deepEqual(l.pending(), []);
    assert.deepEqual(l.blockTransactions(block).map((t) => t.txId), [tx.txId]);
    assert.equal(l.transaction(tx.txId)?.confirmations, 1);
    assert.equal(l.transaction(tx.txId)?.block, block);
    assert.equal(l.balance(ADDRESS).confirmed, 2n * R - spent);
    assert.equal(l.balance(M1).confirmed, 30n * 10n ** 8n);
    assert.equal(l.balance(M2).confirmed, 12_345n);
    assert.equal(l.balance(DEVNET_RIVAL_ADDRESS).confirmed, R + FEE_2);
    assert.deepEqual(l.coinbase(block), { address: DEVNET_RIVAL_ADDRESS, reward: R, fees: FEE_2 });
    await mine();
    assert.equal(l.transaction(tx.txId)?.confirmations, 2);
  });
});

Deno.test("DevnetLedger refuses sends it cannot pay and malformed outputs", async () => {
  await withPool(async (devnet, mine) => {
    const l = devnet.ledger;
    await mine();
    const all = l.send({ sourceAddress: ADDRESS, outputs: [{ address: M1, amount: R }] });
    assert.ok(!all.ok);
    assert.match(all.reason, /can't gather enough inputs/);
    const ok = l.send({ sourceAddress: ADDRESS, outputs: [{ address: M1, amount: R - FEE_1 }] });
    assert.ok(ok.ok, "exactly the balance including the fee");
    const again = l.send({ sourceAddress: ADDRESS, outputs: [{ address: M1, amount: 1n }] });
    assert.ok(!again.ok, "pending spends count");
    for (
      const outputs of [
        [],
        [{ address: "Vbad", amount: 1n }],
        [{ address: M1, amount: 0n }],
        [{ address: M1, amount: -5n }],
        [{ address: M1, amount: 1 as never }],
        Array.from({ length: 1001 }, () => ({ address: M1, amount: 1n })),
      ]
    ) {
      assert.equal(
        l.send({ sourceAddress: ADDRESS, outputs }).ok,
        false,
        JSON.stringify(outputs.length),
      );
    }
    assert.equal(
      l.send({ sourceAddress: "nope", outputs: [{ address: M1, amount: 1n }] }).ok,
      false,
    );
    assert.equal(l.pending().length, 1);
  });
});

Deno.test("DevnetLedger takes the fee from the outputs when asked", async () => {
  await withPool(async (devnet, mine) => {
    await mine();
    const sent = devnet.ledger.send({
      outputs: [{ address: M1, amount: 10n ** 8n }, { address: M2, amount: 10n ** 8n }],
      takeFeeFromOutputs: true,
    });
    assert.ok(sent.ok);
    assert.equal(sent.tx.sourceAddress, ADDRESS, "the richest address pays by default");
    assert.equal(sent.tx.outputs.reduce((s, o) => s + o.amount, 0n) + sent.tx.fee, 2n * 10n ** 8n);
  });
});

Deno.test("DevnetLedger undoes orphaned blocks: coinbase gone, transactions back in the mempool", async () => {
  await withPool(async (devnet, mine) => {
    const l = devnet.ledger;
    await mine(2); // heights 1, 2: 2R for the pool
    const sent = l.send({ sourceAddress: ADDRESS, outputs: [{ address: M1, amount: R + R / 2n }] });
    assert.ok(sent.ok);
    await mine(); // height 3 holds the transaction
    const mined = devnet.chain.blockAt(3)!;
    assert.equal(l.transaction(sent.tx.txId)?.block, mined);
    assert.equal(l.balance(ADDRESS).confirmed, 3n * R - R - R / 2n - FEE_1 + FEE_1);

    // A one-block reorg: the pool's block 3 is orphaned; the rival branch re-includes the tx.
    const branch = await devnet.rival.reorg(1);
    assert.equal(devnet.chain.isMainChain(mined.hash), false);
    const status = l.transaction(sent.tx.txId)!;
    assert.equal(status.block, branch[0], "re-mined in the replacing block");
    assert.equal(status.confirmations, 2);
    assert.equal(l.balance(ADDRESS).confirmed, 2n * R - R - R / 2n - FEE_1);
    assert.equal(l.balance(M1).confirmed, R + R / 2n);
    assert.equal(l.balance(DEVNET_RIVAL_ADDRESS).confirmed, 2n * R + FEE_1);

    // A deeper reorg takes the pool's block 2 as well: the pool can no longer pay, the tx is dropped.
    await devnet.rival.reorg(3);
    assert.equal(l.transaction(sent.tx.txId), undefined);
    assert.deepEqual(l.pending(), []);
    assert.equal(l.balance(ADDRESS).confirmed, R);
    assert.equal(l.balance(M1).confirmed, 0n);
  });
});

Deno.test("DevnetLedger.signatureIndex() is NodeCore's: last index used, in blocks and with the mempool", async () => {
  await withPool(async (devnet, mine) => {
    const l = devnet.ledger;
    const index = (address: string) => l.signatureIndex(address);
    assert.deepEqual(index(ADDRESS), { blockchainIndex: -1n, poolIndex: -1n }, "nothing signed");
    await mine(2);
    assert.deepEqual(
      index(ADDRESS),
      { blockchainIndex: -1n, poolIndex: -1n },
      "coinbases sign nothing",
    );
    const first = l.send({
      sourceAddress: ADDRESS,
      outputs: [{ address: M1, amount: R + R / 2n }],
    });
    assert.ok(first.ok);
    assert.deepEqual(index(ADDRESS), { blockchainIndex: -1n, poolIndex: 0n }, "pending: pool only");
    assert.deepEqual(
      index(M1),
      { blockchainIndex: -1n, poolIndex: -1n },
      "receiving signs nothing",
    );
    await mine(); // height 3 holds it
    assert.deepEqual(index(ADDRESS), { blockchainIndex: 0n, poolIndex: 0n });
    assert.ok(l.send({ sourceAddress: ADDRESS, outputs: [{ address: M2, amount: R / 4n }] }).ok);
    assert.deepEqual(index(ADDRESS), { blockchainIndex: 0n, poolIndex: 1n });
    // A deep reorg removes the pool's coinbases: both transactions leave, the indexes go back.
    await devnet.rival.reorg(3);
    assert.equal(l.transaction(first.tx.txId), undefined, "dropped");
    assert.deepEqual(index(ADDRESS), { blockchainIndex: -1n, poolIndex: -1n });
  });
});

Deno.test("DevnetLedger persists beside the chain file and replays on restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-ledger-" });
  const chainFile = `${dir}/chain.jsonl`;
  const options: DevnetOptions = { chainFile, blockReward: 7n * 10n ** 8n };
  try {
    let txId = "";
    let pendingId = "";
    let balances: Record<string, bigint> = {};
    await withPool(async (devnet, mine) => {
      await mine(2);
      const a = devnet.ledger.send({
        sourceAddress: ADDRESS,
        outputs: [{ address: M1, amount: 10n ** 8n }],
      });
      assert.ok(a.ok);
      txId = a.tx.txId;
      await devnet.rival.mineBlock();
      const b = devnet.ledger.send({
        sourceAddress: ADDRESS,
        outputs: [{ address: M2, amount: 5n }],
      });
      assert.ok(b.ok);
      pendingId = b.tx.txId;
      balances = Object.fromEntries(
        [ADDRESS, M1, M2, DEVNET_RIVAL_ADDRESS].map((x) => [x, devnet.ledger.balance(x).confirmed]),
      );
    }, options);
    assert.ok((await Deno.stat(`${chainFile}.ledger`)).size > 0);
    // Restart with another configured reward: recorded blocks keep theirs.
    const again = await startDevnet({ ...options, blockReward: 1n, port: 0, mempoolIntervalMs: 0 });
    try {
      const l = again.ledger;
      for (const [address, amount] of Object.entries(balances)) {
        assert.equal(l.balance(address).confirmed, amount, address);
      }
      assert.equal(l.transaction(txId)?.confirmations, 1);
      assert.deepEqual(l.pending().map((t) => t.txId), [pendingId]);
      const next = await again.rival.mineBlock();
      assert.equal(l.coinbase(next)?.reward, 1n);
      assert.equal(l.transaction(pendingId)?.block, next);
    } finally {
      await again.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
