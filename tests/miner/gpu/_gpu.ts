/**
 * GPU test helper: probes for a WebGPU adapter once per test module. Where no adapter at all
 * can be had, the GPU tests are registered as ignored and a line saying why is printed, so
 * the skip is visible in the test output.
 *
 * @module
 */

async function probe(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (gpu === undefined) return "WebGPU is not available in this Deno";
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter === null) {
      return "no WebGPU adapter (install mesa-vulkan-drivers, or set DENO_WEBGPU_BACKEND=gl)";
    }
    return undefined;
  } catch (error) {
    return `requesting a WebGPU adapter failed: ${String(error)}`;
  }
}

/** Why GPU tests are skipped here, or undefined when an adapter exists. */
export const GPU_SKIP_REASON: string | undefined = await probe();

/**
 * Register a test that needs a GPU adapter (ignored, with a printed reason, when none).
 *
 * @param name Test name.
 * @param fn Test body.
 */
export function gpuTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  if (GPU_SKIP_REASON !== undefined) {
    console.warn(`SKIPPED (no GPU adapter: ${GPU_SKIP_REASON}): ${name}`);
  }
  Deno.test({ name, ignore: GPU_SKIP_REASON !== undefined, fn });
}
