/**
 * End to end: the devnet (a real vBlake chain over UCP), the pool (upstream + Stratum port) and
 * `vbkpool mine` as a real subprocess with two threads. The miner's shares are accepted and
 * the devnet chain grows by blocks the pool found.
 */
import assert from "node:assert/strict";
import { ADDRESS, startPool, startTestDevnet } from "../miner/_stack.ts";
import { spawnVbkpool } from "../_process.ts";

Deno.test("vbkpool mine (2 threads) gets shares accepted and extends the devnet chain", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 4_000_000n });
  const stack = startPool(devnet, { difficulty: 1_000_000n });
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-e2e-mine-" });
  const miner = spawnVbkpool([
    "mine",
    "--pool",
    stack.url,
    "--user",
    `${ADDRESS}.e2e`,
    "--threads",
    "2",
    "--status-interval",
    "1",
    "--duration",
    "170",
    "--json",
  ], { cwd: dir });
  let code: number | undefined;
  try {
    const poolBlocks = () => devnet.chain.mainChain().filter((b) => b.source === "pool").length;
    await miner.until(() => poolBlocks() >= 1 || undefined, "a pool block on the devnet", 150_000);
    // A periodic status line (stdout is not a terminal), then stop with Ctrl-C.
    await miner.waitForLog(/\d [kMG]?H\/s \| A \d+ R \d+ S \d+ \|/, 60_000);
    assert.ok(devnet.chain.height >= 1);
    code = await miner.stop("SIGINT");
  } finally {
    await miner.kill();
    await stack.stop();
    await devnet.stop();
    await Deno.remove(dir, { recursive: true });
  }
  const { out, err } = miner;
  assert.equal(code, 0, err);
  const summary = JSON.parse(out.trim().split("\n").at(-1)!);
  assert.ok(summary.accepted >= 1, out);
  assert.ok(summary.blocks >= 1, out);
  assert.equal(summary.kernels.length, 2);
  assert.ok(summary.hashes > 0);
  assert.match(out, /Shares: \d+ accepted/);
  assert.match(err, /Mining as .* on 2 thread\(s\) \(wasm(-simd)?\)/);
  assert.match(err, /Block found!/);
});
