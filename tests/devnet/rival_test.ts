import assert from "node:assert/strict";
import {
  createGenesis,
  type DevnetBlock,
  DevnetChain,
  type DevnetOptions,
  MAX_PRIVATE_LEAD,
  RivalMiner,
  startDevnet,
} from "../../devnet/mod.ts";
import {
  assembleHeader,
  createWasmKernel,
  decodeBits,
  difficultyToTarget,
  parseChainText,
  verifyChain,
} from "../../hash/mod.ts";
import type { UcpMiningJob } from "../../protocol/ucp_types.ts";
import { UcpTestClient } from "./_ucp_client.ts";
import { waitUntil } from "../_wait.ts";

const kernel = createWasmKernel();
const DEADLINE_MS = 60_000;

/**
 * Mine on the devnet like a real miner (in slices, always on the newest job, one submit per
 * job) until `done()`; throws after the deadline.
 */
async function mineUntil(client: UcpTestClient, done: () => boolean, what: string) {
  let job: UcpMiningJob = await client.login();
  let seen = client.messages.length;
  let header = headerFor(job);
  let target = difficultyToTarget(decodeBits(job.difficulty));
  let nonce = 0;
  let solved = false;
  // One slice of mining per check: bounded by the deadline like every wait.
  await waitUntil(
    () => {
      if (done()) return true;
      for (; seen < client.messages.length; seen++) {
        const m = client.messages[seen]!;
        if (m.command === "MINING_JOB") {
          job = m;
          header = headerFor(job);
          target = difficultyToTarget(decodeBits(job.difficulty));
          nonce = 0;
          solved = false;
        }
      }
      if (!solved) {
        const found =
          kernel.scan(header, { startNonce: nonce, count: 50_000, target, maxResults: 1 })
            .nonces[0];
        nonce += 50_000;
        if (found !== undefined) {
          solved = true;
          client.send({
            command: "MINING_SUBMIT",
            requestId: client.requestId(),
            jobId: job.jobId,
            nTime: new DataView(header.buffer).getUint32(52),
            nonce: found,
            extraNonce: job.extraNonceStart,
          });
        }
      }
      return false;
    },
    what,
    { timeoutMs: DEADLINE_MS, intervalMs: 5 },
  );
}

function headerFor(job: UcpMiningJob): Uint8Array {
  return assembleHeader({
    height: job.blockIndex,
    version: job.blockVersion,
    previousBlockHash: job.previousBlockHash,
    previousKeystoneHash: job.secondPreviousBlockHash,
    secondKeystoneHash: job.thirdPreviousBlockHash,
    merkleRoot: job.merkleRoot,
    timestamp: Math.max(job.timestamp, Math.floor(Date.now() / 1000)),
    bits: job.difficulty,
    nonce: 0,
  });
}

function verifies(text: string) {
  return verifyChain(parseChainText(text), { kernel });
}

async function withDevnet(
  options: DevnetOptions,
  fn: (devnet: Awaited<ReturnType<typeof startDevnet>>) => Promise<void>,
) {
  const devnet = await startDevnet({ port: 0, mempoolIntervalMs: 0, ...options });
  try {
    await fn(devnet);
  } finally {
    await devnet.stop();
  }
}

Deno.test("RivalMiner (automatic) orphans a mining client's blocks; the chain with orphans verifies", async () => {
  await withDevnet({
    minDifficulty: 300_000n,
    blockTime: 1,
    window: 20,
    rivalShare: 0.3,
    rivalReorgShare: 0.5,
  }, async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      const poolOrphans = () => devnet.chain.orphans().filter((b) => b.source === "pool");
      await mineUntil(client, () => poolOrphans().length > 0, "an orphaned pool block");
      const stats = devnet.rival.stats;
      const main = devnet.chain.mainChain();
      const count = (blocks: DevnetBlock[], source: string) =>
        blocks.filter((b) => b.source === source).length;
      console.log(
        `rival: ${main.length - 1} main-chain blocks (${count(main, "rival")} rival, ` +
          `${count(main, "pool")} pool), ${poolOrphans().length} pool block(s) orphaned; ` +
          `rival stats ${JSON.stringify(stats)}`,
      );
      assert.ok(stats.reorgs >= 1);
      assert.ok(stats.orphaned >= 1);
      assert.ok(devnet.stats.reorgs >= 1);
      await client.next("MINING_RESET", DEADLINE_MS);
      for (const orphan of poolOrphans()) {
        assert.equal(devnet.chain.isMainChain(orphan.hash), false);
        assert.equal(devnet.chain.confirmations(orphan.hashHex), 0);
      }
      const mainReport = verifies(devnet.chain.exportText());
      assert.equal(mainReport.ok, true);
      assert.equal(mainReport.count, devnet.chain.height + 1);
      const all = verifies(devnet.chain.exportText({ includeOrphans: true }));
      assert.equal(all.ok, true);
      assert.ok(all.forkHeights >= 1);

      // The test controls still work while automatic mining is on.
      const branch = await devnet.rival.reorg(1);
      assert.equal(branch.length, 2);
      assert.equal(devnet.chain.isMainChain(branch[1]!.hash), true);
      const block = await devnet.rival.mineBlock();
      assert.equal(devnet.chain.blockByHash(block.hash), block);
      assert.equal(verifies(devnet.chain.exportText({ includeOrphans: true })).ok, true);
    } finally {
      await client.close();
    }
  });
});

Deno.test("RivalMiner withholds its finds and publishes the oldest beyond its lead when nothing competes", async () => {
  const params = { blockTime: 1, window: 100, minDifficulty: 1000n };
  const chain = new DevnetChain(await createGenesis(params, { kernel }), params, { kernel });
  const published: { change: string; foundBefore: number }[] = [];
  const rival: RivalMiner = new RivalMiner({
    chain,
    kernel,
    share: 0.9,
    reorgShare: 1,
    submit: (header) => {
      const result = chain.addBlock(header, { finder: "rival", source: "rival" });
      if (result.ok) {
        published.push({ change: result.change, foundBefore: rival.stats.found });
        rival.notify(result.block);
      }
      return result;
    },
  });
  try {
    rival.start();
    await waitUntil(() => chain.height >= 2, "withheld blocks", DEADLINE_MS);
    // Nothing is published until the rival holds one block more than its lead; then the oldest.
    assert.deepEqual(published.slice(0, 2), [
      { change: "extended", foundBefore: MAX_PRIVATE_LEAD + 1 },
      { change: "extended", foundBefore: MAX_PRIVATE_LEAD + 2 },
    ]);
    assert.ok(rival.stats.races >= 1);
    assert.equal(chain.orphans().length, 0);
    assert.equal(verifies(chain.exportText()).ok, true);
  } finally {
    await rival.stop();
  }
});

Deno.test("RivalMiner.stop() ends the thread: later searches reject, stop is idempotent", async () => {
  const params = { blockTime: 10, window: 100, minDifficulty: 1000n };
  const chain = new DevnetChain(await createGenesis(params, { kernel }), params, { kernel });
  const rival = new RivalMiner({
    chain,
    kernel,
    submit: (header) => chain.addBlock(header, { finder: "rival", source: "rival" }),
  });
  const block = await rival.mineBlock();
  assert.equal(chain.tip, block);
  assert.equal(rival.blocksFound, 1);
  await rival.stop();
  await rival.stop();
  await assert.rejects(() => rival.mineBlock(), /the rival is stopped/);
  await assert.rejects(() => rival.reorg(0), RangeError);
  await assert.rejects(() => rival.reorg(1.5), RangeError);
  await assert.rejects(() => rival.reorg(2), RangeError);
});

Deno.test("RivalMiner queues concurrent manual requests; a rejected block rejects mineBlock", async () => {
  const params = { blockTime: 10, window: 100, minDifficulty: 1000n };
  const chain = new DevnetChain(await createGenesis(params, { kernel }), params, { kernel });
  let refuse = false;
  const rival = new RivalMiner({
    chain,
    kernel,
    submit: (header) =>
      refuse
        ? { ok: false, reason: "refused by the test" }
        : chain.addBlock(header, { finder: "rival", source: "rival" }),
  });
  try {
    await rival.mineBlock();
    // Run one at a time, in order: the reorg replaces the block the second request found.
    const [a, b, branch] = await Promise.all([
      rival.mineBlock(),
      rival.mineBlock(),
      rival.reorg(1),
    ]);
    assert.equal(a.height, 2);
    assert.equal(b.height, 3);
    assert.deepEqual(branch.map((x) => x.height), [3, 4]);
    assert.equal(chain.tip, branch[1]);
    assert.deepEqual(chain.orphans(), [b]);
    refuse = true;
    await assert.rejects(() => rival.mineBlock(), /Cannot mine rival block: refused by the test/);
    refuse = false;
    assert.equal((await rival.mineBlock()).height, 5);
  } finally {
    await rival.stop();
  }
});
