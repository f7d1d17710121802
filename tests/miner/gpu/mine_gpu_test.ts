/**
 * The GPU in the miner: the thread set with a GPU slot, and `vbkpool mine --gpu` against a
 * local pool on the devnet (in process and as a subprocess), including the CPU fallback when
 * no adapter can be had.
 */
import assert from "node:assert/strict";
import { Miner } from "../../../miner/miner.ts";
import { MiningThreads } from "../../../miner/threads.ts";
import type { GpuSlotKernel } from "../../../miner/gpu/gpu_slot.ts";
import { createWasmKernel } from "../../../hash/mod.ts";
import { ADDRESS, startPool, startTestDevnet } from "../_stack.ts";
import { waitFor } from "../_fake_pool.ts";
import { sampleJob } from "../_job.ts";
import { buildThreadWork } from "../../../miner/work.ts";
import { gpuTest } from "./_gpu.ts";
import { spawnVbkpool, withTempDir } from "../../_process.ts";

/** A stand-in GPU kernel: the WebAssembly kernel behind the asynchronous face. */
function fakeGpu(): GpuSlotKernel {
  const wasm = createWasmKernel();
  return {
    name: "fake-gpu",
    adapter: "test adapter",
    destroy() {},
    scan: (header, options) =>
      new Promise((resolve) => setTimeout(() => resolve(wasm.scan(header, options)), 1)),
  };
}

Deno.test("MiningThreads put the GPU slot after the CPU threads and feed it work", async () => {
  const started: number[] = [];
  const threads = await MiningThreads.start({
    threads: 1,
    gpu: { batch: 4096, createKernel: () => Promise.resolve(fakeGpu()) },
    onStarted: (index) => started.push(index),
  });
  try {
    assert.equal(threads.count, 2);
    assert.deepEqual(threads.kernels.slice(1), ["fake-gpu"]);
    assert.equal(threads.gpuAdapter, "test adapter");
    threads.setWork((thread, generation) =>
      buildThreadWork(sampleJob(), {
        generation,
        sessionId: 1,
        extranonce: 7n,
        thread,
        threads: 2,
        target: 0n,
      })
    );
    // A worker's hashes (shared memory) can show before its "started" message is handled.
    await waitFor(
      () => threads.hashes().every((h) => h > 0) && new Set(started).size >= 2,
      60_000,
      "hashes on both slots and both started",
    );
    assert.deepEqual([...new Set(started)].sort(), [0, 1]);
  } finally {
    await threads.terminate();
  }
});

Deno.test("MiningThreads mine on every core when the GPU is unusable and no CPU threads were asked for", async () => {
  const reasons: string[] = [];
  const threads = await MiningThreads.start({
    threads: 0,
    gpu: {
      createKernel: () => Promise.reject(new Error("Cannot use the GPU: no WebGPU adapter")),
      onUnavailable: (reason) => reasons.push(reason),
    },
  });
  try {
    assert.deepEqual(reasons, ["Cannot use the GPU: no WebGPU adapter"]);
    assert.equal(threads.count, navigator.hardwareConcurrency || 1);
    assert.equal(threads.gpuAdapter, undefined);
    assert.ok(threads.kernels.every((k) => k.startsWith("wasm")));
  } finally {
    await threads.terminate();
  }
  await assert.rejects(() => MiningThreads.start({ threads: 0 }), RangeError);
});

gpuTest("Miner with the GPU alone gets shares accepted by a pool on the devnet", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 2_000_000n });
  const stack = startPool(devnet, { difficulty: 262_144n });
  const accepted: string[] = [];
  const miner = new Miner({
    pools: [stack.url],
    user: `${ADDRESS}.gpu`,
    gpu: true,
    onEvent: (e) => {
      if (e.type === "share" && e.outcome.status === "accepted") accepted.push(e.hash);
    },
  });
  try {
    await miner.start();
    assert.deepEqual(miner.stats().kernels, ["webgpu"]);
    await waitFor(() => accepted.length >= 3, 120_000, "three accepted GPU shares");
  } finally {
    const stats = await miner.stop();
    await stack.stop();
    await devnet.stop();
    assert.equal(stats.rejected, 0, JSON.stringify(stats.rejectReasons));
    assert.ok(stats.accepted >= 3);
    assert.ok(stats.hashes > 0);
  }
});

/**
 * Run `vbkpool mine` until its status line (every second) matches `until`, then stop it with
 * Ctrl-C: it mines as long as the machine needs, not a fixed time.
 */
async function runMine(
  url: string,
  extra: string[],
  until: RegExp,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return await withTempDir("vbkpool-mine-gpu-", async (cwd) => {
    const child = spawnVbkpool([
      "mine",
      "--pool",
      url,
      "--user",
      `${ADDRESS}.cli`,
      "--status-interval",
      "1",
      ...extra,
    ], { cwd, env });
    try {
      await child.waitForLog(until, 120_000);
      const code = await child.stop("SIGINT");
      return { code, out: child.out, err: child.err };
    } finally {
      await child.kill();
    }
  });
}

gpuTest(
  "vbkpool mine --gpu --threads 1 mines on the GPU and a CPU thread; shares accepted",
  async () => {
    const devnet = await startTestDevnet({ minDifficulty: 2_000_000n });
    const stack = startPool(devnet, { difficulty: 262_144n });
    try {
      const { code, out, err } = await runMine(stack.url, [
        "--gpu",
        "--threads",
        "1",
        "--gpu-batch",
        "65536",
        "--json",
        "--thread-rates",
        // A status line with an accepted share and hashes on the GPU slot (thread 2).
      ], / [kMG]?H\/s \[[\d.]+\|(?!0\.00\])[\d.]+\] \| A [1-9]/);
      assert.equal(code, 0, err);
      const summary = JSON.parse(out.trim().split("\n").at(-1)!);
      assert.equal(summary.kernels.length, 2);
      assert.equal(summary.kernels[1], "webgpu");
      assert.ok(summary.accepted >= 1, out);
      assert.equal(summary.rejected, 0, out);
      assert.ok(summary.threadHashrates[1] > 0, out);
      assert.match(err, /Mining on the GPU: /);
      assert.match(err, /on 2 thread\(s\)/);
    } finally {
      await stack.stop();
      await devnet.stop();
    }
  },
);

Deno.test("vbkpool mine --gpu without any adapter says so and mines on the CPU", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 2_000_000n });
  const stack = startPool(devnet, { difficulty: 262_144n });
  try {
    // No such backend on this platform: WebGPU finds no adapter.
    const { code, out, err } = await runMine(
      stack.url,
      ["--gpu", "--threads", "1", "--json", "--thread-rates"],
      / [kMG]?H\/s \[[\d.]+\] \| A [1-9]/,
      { DENO_WEBGPU_BACKEND: Deno.build.os === "windows" ? "metal" : "dx12" },
    );
    assert.equal(code, 0, err);
    assert.match(err, /No GPU mining \(Cannot use the GPU: no WebGPU adapter/);
    assert.match(err, /; mining on the CPU/);
    const summary = JSON.parse(out.trim().split("\n").at(-1)!);
    assert.equal(summary.kernels.length, 1);
    assert.ok(summary.kernels[0].startsWith("wasm"), out);
    assert.ok(summary.accepted >= 1, out);
  } finally {
    await stack.stop();
    await devnet.stop();
  }
});
