/**
 * End to end through the command line: `vbkpool server` (embedded devnet, SQLite store) with a
 * `[ucp]` port from its configuration file, mined by the CUDA-like scripted miner.
 */
import assert from "node:assert/strict";
import { openStore } from "../../store/mod.ts";
import { ADDRESSES } from "../server/_pool.ts";
import { CudaLikeMiner } from "./_ucp_cuda_miner.ts";
import { spawnVbkpool, withTempDir } from "../_process.ts";

const ADDRESS = ADDRESSES[1]!;

Deno.test("vbkpool server with [ucp] listen serves a GPU miner: shares and a block in the store", async () => {
  await withTempDir("vbkpool-ucp-cli-", async (dir) => {
    const config = `${dir}/vbkpool.toml`;
    await Deno.writeTextFile(
      config,
      [
        "[stratum]",
        `listen = ["127.0.0.1:0"]`,
        "[ucp]",
        `listen = ["127.0.0.1:0"]`,
        "difficulty = 16384",
        "[devnet]",
        "min_difficulty = 262144",
        "[store]",
        `url = "${dir}/pool.sqlite"`,
        "",
      ].join("\n"),
    );
    const server = spawnVbkpool(["server", "--config", config], {
      cwd: dir,
      env: { VBKPOOL_API_ENABLED: "false" },
    });
    let miner: CudaLikeMiner | undefined;
    let accepted = 0;
    try {
      const { ucp: [ucpPort] } = await server.serverAddresses();
      assert.ok(ucpPort !== undefined, server.err);
      assert.match(
        server.err,
        /UCP \(legacy GPU miners\) on 127\.0\.0\.1:\d+: share difficulty 16384/,
      );
      await server.waitForLog(/upstream ready/);
      const log = () => server.err;
      miner = await CudaLikeMiner.connect(ucpPort);
      await miner.setup(`${ADDRESS}.cli`);
      const height = miner.work!.job.blockIndex;
      const successes = () =>
        [...miner!.submits.values()].filter((s) => s.reply?.command === "MINING_SUBMIT_SUCCESS");
      // A block: the miner's block-quality share is accepted and the next height arrives.
      await miner.mineUntil(
        () => successes().some((s) => s.block) && miner!.work!.job.blockIndex > height,
        () => `a block:\n${log()}`,
      );
      await miner.waitFor(() => miner!.unanswered.length === 0, 30_000, "every reply");
      accepted = successes().length;
      server.signal("SIGINT");
      assert.equal(await miner.closedByServer(), "closed by server");
      assert.equal(await server.stop(), 0, log());
    } finally {
      await miner?.close();
      await server.kill();
    }
    const store = await openStore(`${dir}/pool.sqlite`);
    try {
      const shares = await store.listShares({ address: ADDRESS, limit: 10_000 });
      assert.equal(shares.length, accepted);
      assert.ok(shares.every((s) => s.worker === "cli" && s.difficulty >= 16384n));
      const blocks = await store.listBlocks();
      assert.ok(blocks.some((b) => b.address === ADDRESS && b.worker === "cli"));
    } finally {
      await store.close();
    }
  });
});
