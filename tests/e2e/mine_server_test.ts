/**
 * End to end with every part a real process: `vbkpool server` (with its embedded devnet, a
 * real vBlake chain over UCP, persisted to a chain file) and `vbkpool mine` on two threads.
 * The miner's shares are accepted and the devnet chain grows by blocks found through the pool.
 */
import assert from "node:assert/strict";
import { ADDRESS } from "../miner/_stack.ts";
import { spawnVbkpool, type VbkpoolProcess } from "../_process.ts";

/** No HTTP API port (its default may be taken); ignored where unknown. */
const ENV = { VBKPOOL_API_ENABLED: "false" };

function poolBlocks(chainFile: string): number {
  let text = "";
  try {
    text = Deno.readTextFileSync(chainFile);
  } catch {
    return 0;
  }
  return text.split("\n").filter((line) => line.includes('"pool"')).length;
}

Deno.test("vbkpool server + vbkpool mine (2 threads): accepted shares, devnet blocks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-e2e-" });
  const chainFile = `${dir}/chain.jsonl`;
  await Deno.writeTextFile(
    `${dir}/vbkpool.toml`,
    [
      "[stratum]",
      `listen = ["127.0.0.1:0 diff=1000000 vardiff=off"]`,
      "[devnet]",
      "min_difficulty = 4000000",
      "mempool_interval = 0",
      `chain_file = ${JSON.stringify(chainFile)}`,
      "[store]",
      `url = ${JSON.stringify(`${dir}/pool.sqlite`)}`,
      "",
    ].join("\n"),
  );
  const server = spawnVbkpool(["server"], { cwd: dir, env: ENV });
  let miner: VbkpoolProcess | undefined = undefined;
  let minerCode = 0;
  let serverCode = 0;
  try {
    const { stratum: [port] } = await server.serverAddresses();
    miner = spawnVbkpool([
      "mine",
      "--pool",
      `stratum+tcp://127.0.0.1:${port}`,
      "--user",
      `${ADDRESS}.e2e`,
      "--threads",
      "2",
      "--json",
      "--status-interval",
      "1",
    ], { cwd: dir, env: ENV });
    // Fails with the miner's log when it exits or the time is up.
    await miner.until(
      () => poolBlocks(chainFile) >= 1 || undefined,
      "a pool block in the devnet chain",
      150_000,
    );
    minerCode = await miner.stop("SIGINT");
    serverCode = await server.stop("SIGINT");
  } finally {
    await miner?.kill();
    await server.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  assert.equal(minerCode, 0, miner?.err);
  assert.equal(serverCode, 0, server.err);
  const summary = JSON.parse(miner!.out.trim().split("\n").at(-1)!);
  assert.ok(summary.accepted >= 1, miner!.out);
  assert.ok(summary.blocks >= 1, miner!.out);
  assert.equal(summary.rejected, 0, miner!.out);
  assert.equal(summary.kernels.length, 2);
});
