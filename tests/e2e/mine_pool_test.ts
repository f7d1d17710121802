/**
 * End to end: the devnet (a real vBlake chain over UCP), the pool (upstream + Stratum port) and
 * `vbkpool mine` as a real subprocess with two threads. The miner's shares are accepted and
 * the devnet chain grows by blocks the pool found.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ADDRESS, startPool, startTestDevnet } from "../miner/_stack.ts";
import { waitFor } from "../miner/_fake_pool.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

Deno.test("vbkpool mine (2 threads) gets shares accepted and extends the devnet chain", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 4_000_000n });
  const stack = startPool(devnet, { difficulty: 1_000_000n });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
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
    ],
    cwd: Deno.makeTempDirSync(),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (out += chunk) }),
  );
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (chunk) => void (err += chunk) }),
  );
  let out = "";
  let err = "";
  try {
    const poolBlocks = () => devnet.chain.mainChain().filter((b) => b.source === "pool").length;
    await waitFor(() => poolBlocks() >= 1, 150_000, `a pool block on the devnet; log:\n${err}`);
    // A periodic status line (stdout is not a terminal), then stop with Ctrl-C.
    await waitFor(() => /MH\/s \[/.test(err), 10_000, "a status line");
    assert.ok(devnet.chain.height >= 1);
  } finally {
    try {
      child.kill("SIGINT");
    } catch {
      // already exited
    }
    const status = await child.status;
    await Promise.all([stdout, stderr]);
    await stack.stop();
    await devnet.stop();
    assert.equal(status.code, 0, err);
  }
  const summary = JSON.parse(out.trim().split("\n").at(-1)!);
  assert.ok(summary.accepted >= 1, out);
  assert.ok(summary.blocks >= 1, out);
  assert.equal(summary.kernels.length, 2);
  assert.ok(summary.hashes > 0);
  assert.match(out, /Shares: \d+ accepted/);
  assert.match(err, /Mining as .* on 2 thread\(s\) \("?wasm(-simd)?"?\)/);
  assert.match(err, /Block found!/);
});
