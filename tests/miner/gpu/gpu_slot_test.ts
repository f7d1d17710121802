import assert from "node:assert/strict";
import { GpuSlot, type GpuSlotKernel } from "../../../miner/gpu/gpu_slot.ts";
import { createGpuKernel } from "../../../miner/gpu/gpu_kernel.ts";
import { createControl } from "../../../miner/_control.ts";
import { shareHeader } from "../../../miner/work.ts";
import type { WorkLoopReport } from "../../../miner/work_loop.ts";
import {
  bytesToHex,
  createWasmKernel,
  difficultyToTarget,
  hashToBigInt,
  vblake,
} from "../../../hash/mod.ts";
import { sampleWork } from "../_job.ts";
import { waitFor } from "../_fake_pool.ts";
import { gpuTest } from "./_gpu.ts";

function checkShares(reports: WorkLoopReport[], target: bigint): number {
  let shares = 0;
  for (const r of reports) {
    if (r.type !== "share") continue;
    const w = sampleWork(r.generation, {}, target);
    const hash = vblake(shareHeader(w.header, r.ntime, r.nonce));
    assert.equal(bytesToHex(r.hash), bytesToHex(hash));
    assert.ok(hashToBigInt(hash) < target, "a reported share meets the target");
    shares++;
  }
  return shares;
}

gpuTest("GpuSlot mines on the GPU: shares verify, hashes are counted", async () => {
  const control = createControl(2);
  const reports: WorkLoopReport[] = [];
  const slot = await GpuSlot.start({ index: 1, control, report: (m) => reports.push(m) });
  try {
    assert.equal(slot.kernel, "webgpu");
    assert.ok(slot.adapter.length > 0);
    const target = difficultyToTarget(2048n);
    Atomics.store(control.generation, 0, 1);
    slot.offer(sampleWork(1, {}, target));
    await waitFor(() => checkShares(reports, target) >= 3, 60_000, "three GPU shares");
    assert.ok(Atomics.load(control.hashes, 1) > 0n);
    assert.equal(Atomics.load(control.hashes, 0), 0n);
    assert.deepEqual(reports[0], { ...reports[0], type: "started", index: 1, generation: 1 });
  } finally {
    await slot.terminate();
  }
});

gpuTest("GpuSlot moves to new work within a dispatch or two", async () => {
  const control = createControl(1);
  const started: number[] = [];
  const slot = await GpuSlot.start({
    index: 0,
    control,
    report: (m) => m.type === "started" && started.push(m.generation),
  });
  try {
    Atomics.store(control.generation, 0, 1);
    slot.offer(sampleWork(1, {}, 0n));
    await waitFor(() => Atomics.load(control.hashes, 0) > 0n, 60_000, "GPU hashing");
    Atomics.store(control.generation, 0, 2);
    slot.offer(sampleWork(2, {}, 0n));
    await waitFor(() => started.includes(2), 60_000, "GPU on generation 2");
    assert.deepEqual(started, [1, 2]);
  } finally {
    await slot.terminate();
  }
});

Deno.test("GpuSlot carries on as a CPU thread when its kernel fails", async () => {
  const control = createControl(1);
  const reports: WorkLoopReport[] = [];
  const wasm = createWasmKernel();
  let scans = 0;
  let destroyed = 0;
  const flaky: GpuSlotKernel = {
    name: "flaky",
    adapter: "test",
    destroy: () => void destroyed++,
    scan: (header, options) => {
      if (++scans > 2) {
        return Promise.reject(new Error("Cannot scan: the GPU device was lost (test)"));
      }
      return Promise.resolve(wasm.scan(header, options));
    },
  };
  const fallbacks: string[] = [];
  let atFallback = -1n;
  const slot = await GpuSlot.start({
    index: 0,
    control,
    batch: 1000,
    maxResults: 256, // so that each batch is tried whole (about 4 shares per batch)
    report: (m) => reports.push(m),
    onFallback: (reason) => {
      fallbacks.push(reason);
      atFallback = Atomics.load(control.hashes, 0);
    },
    createKernel: () => Promise.resolve(flaky),
  });
  try {
    const target = difficultyToTarget(256n);
    Atomics.store(control.generation, 0, 1);
    slot.offer(sampleWork(1, {}, target));
    await waitFor(() => fallbacks.length === 1, 60_000, "the fallback");
    assert.match(fallbacks[0]!, /device was lost/);
    assert.equal(atFallback, 2000n); // two GPU batches before the failure
    const before = Atomics.load(control.hashes, 0);
    await waitFor(() => slot.kernel !== "cpu" && slot.kernel !== "flaky", 60_000, "a CPU worker");
    assert.match(slot.kernel, /^(wasm|ts)/);
    await waitFor(() => Atomics.load(control.hashes, 0) > before, 60_000, "CPU hashing");
    await waitFor(() => checkShares(reports, target) > 0, 60_000, "a CPU share");
    // New work reaches the replacement thread.
    Atomics.store(control.generation, 0, 2);
    slot.offer(sampleWork(2, {}, target));
    await waitFor(
      () => reports.some((r) => r.type === "started" && r.generation === 2),
      60_000,
      "the CPU thread on generation 2",
    );
  } finally {
    await slot.terminate();
  }
  assert.ok(destroyed >= 1);
});

Deno.test("GpuSlot.start rejects with the kernel's reason when there is no usable GPU", async () => {
  await assert.rejects(
    () =>
      GpuSlot.start({
        index: 0,
        control: createControl(1),
        report: () => {},
        createKernel: () => Promise.reject(new Error("Cannot use the GPU: no WebGPU adapter")),
      }),
    /no WebGPU adapter/,
  );
});

Deno.test("createGpuKernel says clearly when there is no adapter or no WebGPU", async () => {
  const descriptor = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(navigator), "gpu") ??
    Object.getOwnPropertyDescriptor(navigator, "gpu");
  const stub = (value: unknown) =>
    Object.defineProperty(navigator, "gpu", { value, configurable: true });
  try {
    stub({ requestAdapter: () => Promise.resolve(null) });
    await assert.rejects(() => createGpuKernel(), /Cannot use the GPU: no WebGPU adapter/);
    stub({ requestAdapter: () => Promise.reject(new Error("driver exploded")) });
    await assert.rejects(
      () => createGpuKernel(),
      /requesting an adapter failed \(driver exploded\)/,
    );
    stub(undefined);
    await assert.rejects(() => createGpuKernel(), /WebGPU is not available/);
  } finally {
    delete (navigator as { gpu?: unknown }).gpu;
    if (descriptor && !Object.getOwnPropertyDescriptor(Object.getPrototypeOf(navigator), "gpu")) {
      Object.defineProperty(navigator, "gpu", descriptor);
    }
  }
});
