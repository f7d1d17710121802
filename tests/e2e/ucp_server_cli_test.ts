/**
 * End to end through the command line: `vbkpool server` (embedded devnet, SQLite store) with a
 * `[ucp]` port from its configuration file, mined by the CUDA-like scripted miner.
 */
import assert from "node:assert/strict";
import { openStore } from "../../store/mod.ts";
import { ADDRESSES } from "../server/_pool.ts";
import { CudaLikeMiner } from "./_ucp_cuda_miner.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ADDRESS = ADDRESSES[1]!;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test("vbkpool server with [ucp] listen serves a GPU miner: shares and a block in the store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-ucp-cli-" });
  const stratumPort = freePort();
  const ucpPort = freePort();
  const config = `${dir}/vbkpool.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[stratum]",
      `listen = ["127.0.0.1:${stratumPort}"]`,
      "[ucp]",
      `listen = ["127.0.0.1:${ucpPort}"]`,
      "difficulty = 16384",
      "[devnet]",
      "min_difficulty = 262144",
      "[store]",
      `url = "${dir}/pool.sqlite"`,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "server", "--config", config],
    cwd: dir,
    env: { NO_COLOR: "1", VBKPOOL_API_ENABLED: "false" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const reading = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (log += chunk) }),
  );
  let miner: CudaLikeMiner | undefined;
  let accepted = 0;
  try {
    const deadline = Date.now() + 60_000;
    while (!/upstream "ready"/.test(log)) {
      if (Date.now() > deadline) throw new Error(`server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(
      log,
      new RegExp(`UCP \\(legacy GPU miners\\) on "127\\.0\\.0\\.1":${ucpPort}: share difficulty`),
    );
    miner = await CudaLikeMiner.connect(ucpPort);
    await miner.setup(`${ADDRESS}.cli`);
    const height = miner.work!.job.blockIndex;
    const mineUntil = Date.now() + 120_000;
    const successes = () =>
      [...miner!.submits.values()].filter((s) => s.reply?.command === "MINING_SUBMIT_SUCCESS");
    // A block: the miner's block-quality share is accepted and the next height arrives.
    while (!(successes().some((s) => s.block) && miner.work!.job.blockIndex > height)) {
      assert.ok(Date.now() < mineUntil, `no block in time:\n${log}`);
      assert.equal(miner.gaveUp, false, "more than 5 submits went unanswered");
      assert.equal(miner.closed, undefined);
      const sent = await miner.mine(1 << 13, 1);
      await new Promise((r) => setTimeout(r, sent.length > 0 ? 100 : 0));
    }
    await miner.waitFor(() => miner!.unanswered.length === 0, 10_000, "every reply");
    accepted = successes().length;
    child.kill("SIGINT");
    assert.equal(await miner.closedByServer(), "closed by server");
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0, log);
  } finally {
    await miner?.close();
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
  }
  try {
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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
