/**
 * vBlake on the GPU (WebGPU) against the WebAssembly kernel on one CPU thread. Each iteration
 * scans NONCES nonces of the mainnet 5000 header at an unreachable target (every hash is
 * computed, none is reported), so hashes per second = NONCES × iterations per second. On a
 * machine without a GPU, Mesa's software adapter (lavapipe or llvmpipe) runs the shader on
 * the CPU cores. Without any adapter only the CPU row runs and a line says why.
 *
 * ```sh
 * deno bench -A bench/gpu_kernel_bench.ts
 * ```
 *
 * @module
 */

import { createWasmKernel, hexToBytes } from "../hash/mod.ts";
import { createGpuKernel, type GpuKernel } from "../miner/gpu/mod.ts";

/** Nonces per scan iteration. */
const NONCES = 1 << 20;

const header = hexToBytes(
  "00001388000294E7DC3E3BE21A96ECCF0FBDF5F62A3331DC995C36B0935637860679DDD5DB0F135312B2C27867C9A83EF1B99B985C9B949307023AD672BAFD77",
);
const wasm = createWasmKernel();
let wasmNonce = 0;

async function tryGpu(
  options: Parameters<typeof createGpuKernel>[0],
): Promise<GpuKernel | undefined> {
  try {
    return await createGpuKernel(options);
  } catch (error) {
    console.warn(`GPU benchmark skipped: ${error instanceof Error ? error.message : error}`);
    return undefined;
  }
}

Deno.bench({
  group: "vblake-gpu",
  name: `wasm scan (1 CPU thread), ${NONCES} nonces`,
  baseline: true,
  n: 5,
  warmup: 1,
  fn() {
    wasm.scan(header, { startNonce: wasmNonce, count: NONCES, target: 0n });
    wasmNonce = (wasmNonce + NONCES) % 2 ** 31;
  },
});

for (const shape of [{ workgroupSize: 64 }, { workgroupSize: 256 }, { noncesPerInvocation: 4 }]) {
  const kernel = await tryGpu(shape);
  if (kernel === undefined) break;
  let nonce = 0;
  Deno.bench({
    group: "vblake-gpu",
    name: `webgpu scan (${kernel.adapter}, ${JSON.stringify(shape)}), ${NONCES} nonces`,
    n: 5,
    warmup: 1,
    async fn() {
      await kernel.scan(header, { startNonce: nonce, count: NONCES, target: 0n });
      nonce = (nonce + NONCES) % 2 ** 31;
    },
  });
}
