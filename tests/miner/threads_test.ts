import assert from "node:assert/strict";
import { MiningThreads } from "../../miner/threads.ts";
import { buildThreadWork, shareHeader, type ThreadWork } from "../../miner/work.ts";
import type { FoundShare } from "../../miner/work_loop.ts";
import {
  bytesToTarget,
  createBestKernel,
  hashToBigInt,
  MAX_TARGET,
  vblake,
} from "../../hash/mod.ts";
import { sampleJob } from "./_job.ts";
import { waitFor } from "./_fake_pool.ts";
import { waitUntil } from "../_wait.ts";

function builder(target: bigint, jobId = "3") {
  const works = new Map<string, ThreadWork>();
  return {
    works,
    build: (thread: number, generation: number) => {
      const w = buildThreadWork(sampleJob({ jobId }), {
        generation,
        sessionId: 1,
        extranonce: 100n,
        thread,
        threads: 2,
        target,
      });
      works.set(`${generation}/${thread}`, w);
      return w;
    },
  };
}

Deno.test("MiningThreads rejects a bad thread count", async () => {
  await assert.rejects(() => MiningThreads.start({ threads: 0 }), RangeError);
  await assert.rejects(() => MiningThreads.start({ threads: 1.5 }), RangeError);
  await assert.rejects(() => MiningThreads.start({ threads: 257 }), RangeError);
});

Deno.test("MiningThreads hash on every thread and deliver new work to all of them", async () => {
  const started: [number, number][] = [];
  const threads = await MiningThreads.start({
    threads: 2,
    onStarted: (index, generation) => started.push([index, generation]),
  });
  try {
    const best = createBestKernel().name;
    assert.deepEqual(threads.kernels, [best, best]);
    const { build } = builder(0n);
    const g1 = threads.setWork(build);
    await waitFor(() => threads.hashes().every((h) => h > 0), 60_000, "hashes on both threads");
    const g2 = threads.setWork(build);
    assert.equal(g2, g1 + 1);
    await waitFor(
      () => started.filter(([, g]) => g === g2).length === 2,
      60_000,
      "both threads on the new work",
    );
    assert.deepEqual(started.filter(([, g]) => g === g1).map(([i]) => i).sort(), [0, 1]);
  } finally {
    threads.terminate();
  }
});

Deno.test("MiningThreads.pause() stops all hashing until new work", async () => {
  const threads = await MiningThreads.start({ threads: 2 });
  try {
    threads.setWork(builder(0n).build);
    await waitFor(() => threads.hashes().every((h) => h > 0), 60_000, "hashing");
    threads.pause();
    // Counts settle (a slice in flight may still finish): the event that shows every thread
    // has seen the pause is its count standing still for 100 ms (slices take ~3 ms).
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let a = threads.hashes();
    await waitUntil(
      async () => {
        await sleep(100);
        const b = threads.hashes();
        const settled = b.every((h, k) => h === a[k]);
        a = b;
        return settled;
      },
      "the hash counts to settle",
      { timeoutMs: 10_000, intervalMs: 0 },
    );
    // Then they stay put: the property is about time, so a deliberate observation window.
    await sleep(200);
    assert.deepEqual(threads.hashes(), a);
    threads.setWork(builder(0n).build);
    await waitFor(() => threads.hashes()[0]! > a[0]!, 60_000, "hashing again");
  } finally {
    threads.terminate();
  }
});

Deno.test("MiningThreads report shares that verify, from distinct search spaces", async () => {
  const shares: FoundShare[] = [];
  const threads = await MiningThreads.start({
    threads: 2,
    onShare: (s) => shares.push(s),
  });
  const b = builder(MAX_TARGET / 100_000n);
  try {
    threads.setWork(b.build);
    await waitFor(
      () => new Set(shares.map((s) => s.index)).size === 2 && shares.length >= 4,
      60_000,
      "shares from both threads",
    );
  } finally {
    threads.terminate();
  }
  const seen = new Set<string>();
  for (const s of shares) {
    const work = b.works.get(`${s.generation}/${s.index}`)!;
    assert.equal(s.extranonce, 100n + BigInt(s.index));
    const hash = vblake(shareHeader(work.header, s.ntime, s.nonce));
    assert.deepEqual(s.hash, hash);
    assert.ok(hashToBigInt(hash) < bytesToTarget(work.target));
    assert.ok(s.ntime >= work.minTime);
    const id = `${s.extranonce}/${s.ntime}/${s.nonce}`;
    assert.ok(!seen.has(id), `duplicate ${id}`);
    seen.add(id);
  }
});

Deno.test("MiningThreads run the kernel they are asked for", async (t) => {
  for (const kernel of ["wasm-simd", "wasm", "ts"] as const) {
    await t.step(kernel, async () => {
      const threads = await MiningThreads.start({ threads: 1, kernel });
      try {
        assert.deepEqual(threads.kernels, [kernel]);
        threads.setWork(builder(0n).build);
        await waitFor(() => threads.hashes()[0]! > 0, 60_000, "hashing");
      } finally {
        await threads.terminate();
      }
    });
  }
});

Deno.test("MiningThreads.terminate() is idempotent", async () => {
  const threads = await MiningThreads.start({ threads: 1 });
  threads.terminate();
  threads.terminate();
  assert.equal(threads.count, 1);
});
