/**
 * End to end over real TCP: the devnet as NodeCore, the pool (upstream client, a Stratum port
 * and a UCP port, shares in a SQLite store) and a scripted miner that behaves like NodeCore's
 * CUDA GPU miner, mining with the WebAssembly kernel.
 */
import assert from "node:assert/strict";
import { BlockRecorder } from "../../server/block_recorder.ts";
import { ExtranonceReservations } from "../../server/extranonce_reservations.ts";
import { StoreShareRecorder } from "../../server/store_share_recorder.ts";
import { openStore, type Store } from "../../store/mod.ts";
import type { UcpMessage } from "../../protocol/ucp_types.ts";
import { ADDRESSES, BAD_ADDRESS, hashHeader, testPort } from "../server/_pool.ts";
import { subscribeAndAuthorize, TestClient } from "../server/_stratum_client.ts";
import { startPoolStack } from "./_pool_stack.ts";
import { waitUntil } from "../_wait.ts";
import { CudaLikeMiner, CudaSetupError, type CudaSubmit } from "./_ucp_cuda_miner.ts";
import { hashToBigInt } from "../../hash/mod.ts";

const ADDRESS = ADDRESSES[0]!;
const INSTANCE = 7;
/** Low difficulties so the WebAssembly kernel finds shares in milliseconds, blocks in seconds. */
const SHARE_DIFFICULTY = 1n << 14n;
const NETWORK_FLOOR = 1n << 18n;

async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-ucp-e2e-" });
  const store = await openStore(`${dir}/pool.sqlite`);
  try {
    await fn(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function ucpStack(store: Store) {
  const reservations = await ExtranonceReservations.open(store, {
    instance: INSTANCE,
    rangeSize: 1_000_000n,
  });
  const blocks = new BlockRecorder(store, { instance: INSTANCE });
  const stack = await startPoolStack({
    ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })],
    ucp: { ports: [{ hostname: "127.0.0.1", port: 0, difficulty: SHARE_DIFFICULTY }] },
    recorder: new StoreShareRecorder(store, { instance: INSTANCE }),
    extranonce: reservations.allocatorOptions(),
    blocks,
  }, { minDifficulty: NETWORK_FLOOR });
  return {
    ...stack,
    ucpPort: stack.pool.ucpServers[0]!.addr.port,
    async stop() {
      await stack.stop();
      await blocks.close();
      await reservations.close();
    },
  };
}

function reason(m: UcpMessage | undefined): string {
  assert.equal(m?.command, "MINING_SUBMIT_FAILURE", JSON.stringify(m));
  return (m as { reason: string }).reason;
}

Deno.test("a CUDA-like UCP miner mines through the pool on the devnet: shares in the store, a block on the chain", async () => {
  await withStore(async (store) => {
    const stack = await ucpStack(store);
    const miner = await CudaLikeMiner.connect(stack.ucpPort);
    const stratum = await TestClient.connect(stack.port);
    try {
      // Setup: each message alone in its read, capability bits 0-5, the first job at once.
      await miner.setup(`${ADDRESS}.gpu0`);
      assert.equal(miner.capabilities, "10011111111");
      const height = stack.devnet.chain.height;
      assert.equal(miner.work!.job.blockIndex, height + 1);
      // One allocator for both protocols: the ranges are disjoint.
      const { extranonce } = await subscribeAndAuthorize(stratum, ADDRESSES[1]!);
      assert.notEqual(extranonce, miner.work!.extraNonce);
      assert.equal(miner.work!.extraNonce >> 58n, BigInt(INSTANCE));
      const firstJob = miner.work!.jobId;

      // Mine like the GPU miner (throttled to a GPU's share rate: at most ~10 submits/s).
      const poolBlocks = () =>
        stack.devnet.chain.mainChain().filter((b) => b.source === "pool").length;
      const accepted = () =>
        [...miner.submits.values()].filter((s) => s.reply?.command === "MINING_SUBMIT_SUCCESS")
          .length;
      await miner.mineUntil(
        () => poolBlocks() > 0 && accepted() >= 10,
        () => `a block (${accepted()} shares accepted)`,
      );
      await miner.waitFor(() => miner.unanswered.length === 0, 60_000, "every reply");
      assert.equal(miner.gaveUp, false);

      // The block: on the devnet's main chain, found by this miner's share, and the miner moved
      // on to the next height with a MINING_JOB.
      const block = stack.devnet.chain.mainChain().find((b) => b.source === "pool")!;
      await waitUntil(
        () => stack.events.some((e) => e.type === "block_result"),
        "the block result",
      );
      const result = stack.events.find((e) => e.type === "block_result");
      assert.ok(result?.type === "block_result" && result.accepted, JSON.stringify(result));
      assert.equal(result.hash, block.hashHex.toLowerCase());
      await miner.waitFor(() => (miner.work?.job.blockIndex ?? 0) > height + 1, 60_000, "job");
      assert.notEqual(miner.work!.jobId, firstJob);

      // The shares: credited to the address and worker in the store, one row per SUCCESS.
      await store.flush();
      const rows = await store.listShares({ address: ADDRESS, limit: 10_000 });
      assert.equal(rows.length, accepted());
      assert.ok(rows.every((r) => r.worker === "gpu0" && r.instance === INSTANCE));
      assert.ok(rows.some((r) => r.difficulty === SHARE_DIFFICULTY));
      const row = await waitUntil(
        async () => (await store.listBlocks()).find((b) => b.height === block.height),
        "the block in the store",
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      assert.equal(row.address, ADDRESS);
      assert.equal(row.worker, "gpu0");
      // Every submit was answered; the rejected ones (stale after the block) with a reason.
      for (const s of miner.submits.values()) {
        if (s.reply?.command === "MINING_SUBMIT_FAILURE") assert.match(reason(s.reply), /\S/);
      }
    } finally {
      await stratum.close();
      await miner.close();
      await stack.stop();
    }
  });
});

Deno.test("UCP miner on the devnet: bad address, high hash, foreign extranonce, duplicate and stale shares all get answers", async () => {
  await withStore(async (store) => {
    const stack = await ucpStack(store);
    const refused = await CudaLikeMiner.connect(stack.ucpPort);
    const miner = await CudaLikeMiner.connect(stack.ucpPort);
    const other = await CudaLikeMiner.connect(stack.ucpPort);
    try {
      await assert.rejects(
        () => refused.setup(BAD_ADDRESS),
        (err: unknown) =>
          err instanceof CudaSetupError &&
          /^MINING_AUTH_FAILURE: Worker name is not a valid VeriBlock address/.test(err.message),
      );
      await miner.setup(ADDRESS);
      await other.setup(`${ADDRESSES[2]!}.b`);
      const work = miner.work!;
      const nTime = Math.max(work.timestamp, Math.floor(Date.now() / 1000));
      const header = work.header.slice();
      const view = new DataView(header.buffer);
      view.setUint32(52, nTime);
      let good: number | undefined;
      let high: number | undefined;
      for (let nonce = 0; good === undefined || high === undefined; nonce++) {
        view.setUint32(60, nonce);
        const value = hashToBigInt(hashHeader(header));
        if (value < work.shareTarget && value >= work.networkTarget) good ??= nonce;
        else if (value >= work.shareTarget) high ??= nonce;
      }
      const ask = async (s: Parameters<CudaLikeMiner["submit"]>[0]): Promise<CudaSubmit> => {
        const submit = await miner.submit(s);
        await miner.reply(submit);
        return submit;
      };
      const ok = await ask({ jobId: work.jobId, nTime, nonce: good });
      assert.equal(ok.reply?.command, "MINING_SUBMIT_SUCCESS");
      assert.equal(
        reason((await ask({ jobId: work.jobId, nTime, nonce: good })).reply),
        "Duplicate share",
      );
      assert.equal(
        reason((await ask({ jobId: work.jobId, nTime, nonce: high })).reply),
        "Share is above target",
      );
      const foreign = await ask({
        jobId: work.jobId,
        nTime,
        nonce: good,
        extraNonce: other.work!.extraNonce,
      });
      assert.match(reason(foreign.reply), /^Extranonce is not owned by this connection/);
      // A rival block on the devnet: a new MINING_JOB, and the old job is stale.
      const seen = miner.messages.length;
      await stack.devnet.rival.mineBlock();
      await miner.next("MINING_JOB", seen);
      const stale = await ask({ jobId: work.jobId, nTime, nonce: good + 1 });
      assert.match(reason(stale.reply), new RegExp(`^Job '${work.jobId}' not found`));
      assert.equal(miner.unanswered.length, 0);
      assert.equal(miner.gaveUp, false);
      await store.flush();
      assert.equal((await store.listShares({ address: ADDRESS })).length, 1);
    } finally {
      await refused.close();
      await miner.close();
      await other.close();
      await stack.stop();
    }
  });
});
