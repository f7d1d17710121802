/**
 * The WebGPU vBlake kernel: device, pipelines, buffers and dispatches around the WGSL shader
 * of `vblake_wgsl.ts`. A scan has the same meaning as {@linkcode VblakeKernel.scan} (same
 * validation, same results: the first `maxResults` winning nonces ascending, and how many
 * nonces that took) but is asynchronous: each dispatch is submitted and its small results
 * buffer (a counter and up to {@linkcode RESULT_CAPACITY} nonces) awaited with `mapAsync`,
 * so the event loop never blocks on the GPU. All hashes stay on the device.
 *
 * @module
 */

import {
  type ScanOptions,
  type ScanResult,
  validateScanOptions,
  type ValidScan,
  VBLAKE_BLOCK_SIZE,
  VBLAKE_SIZE,
} from "../../hash/mod.ts";
import { HASH_WORDS, PARAM_WORDS, RESULT_BYTES, RESULT_CAPACITY } from "./_layout.ts";
import { encodeParams } from "./_params.ts";
import { vblakeWgsl } from "./vblake_wgsl.ts";

/** Largest nonce count of one dispatch by default (bounds a dispatch's duration). */
export const DEFAULT_MAX_DISPATCH = 1 << 24;

/** Largest nonce count of one dispatch at all (u32 offsets on the device). */
const DISPATCH_LIMIT = 2 ** 31;

/** Largest `count` of {@linkcode GpuKernel.hashes}. */
export const MAX_DEBUG_HASHES = 65536;

/** Options for {@linkcode createGpuKernel}. */
export interface GpuKernelOptions {
  /** Invocations per workgroup. @default 64 */
  workgroupSize?: number;
  /** Nonces per shader invocation. @default 1 */
  noncesPerInvocation?: number;
  /** Largest nonce count per dispatch (a scan is split into several). @default 2^24 */
  maxDispatch?: number;
  /** Adapter preference. @default "high-performance" */
  powerPreference?: GPUPowerPreference;
  /** Called once when the device is lost (driver reset, device removed, destroyed). */
  onLost?: (reason: string) => void;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The device side of a kernel. */
interface Device {
  device: GPUDevice;
  scanPipeline: GPUComputePipeline;
  params: GPUBuffer;
  results: GPUBuffer;
  readback: GPUBuffer;
  scanGroup: GPUBindGroup;
  maxWorkgroups: number;
}

/**
 * A vBlake kernel on a WebGPU device. Create it with {@linkcode createGpuKernel}; check it
 * with {@linkcode checkGpuKernel} before trusting its results.
 */
export class GpuKernel {
  /** Always "webgpu". */
  readonly name = "webgpu";
  /** The adapter's description (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" for Mesa). */
  readonly adapter: string;
  /** Invocations per workgroup. */
  readonly workgroupSize: number;
  /** Nonces per shader invocation. */
  readonly noncesPerInvocation: number;
  #d: Device;
  #maxDispatch: number;
  #shader: GPUShaderModule;
  #hashPipeline: GPUComputePipeline | undefined;
  #words = new Uint32Array(PARAM_WORDS);
  #queue: Promise<unknown> = Promise.resolve();
  #lost: string | undefined;
  #error: string | undefined;
  #destroyed = false;

  /**
   * Use {@linkcode createGpuKernel}.
   *
   * @param d The device and its resources.
   * @param shader The compiled shader module.
   * @param info Adapter description and sizes.
   */
  constructor(
    d: Device,
    shader: GPUShaderModule,
    info: {
      adapter: string;
      workgroupSize: number;
      noncesPerInvocation: number;
      maxDispatch: number;
      onLost?: (reason: string) => void;
    },
  ) {
    this.#d = d;
    this.#shader = shader;
    this.adapter = info.adapter;
    this.workgroupSize = info.workgroupSize;
    this.noncesPerInvocation = info.noncesPerInvocation;
    this.#maxDispatch = info.maxDispatch;
    d.device.lost.then((lost) => {
      if (this.#destroyed) return;
      this.#lost = lost.message || lost.reason || "unknown reason";
      info.onLost?.(this.#lost);
    });
    d.device.addEventListener("uncapturederror", (event) => {
      this.#error ??= (event as GPUUncapturedErrorEvent).error.message;
    });
  }

  /** Why the device was lost, or undefined while it works. */
  get lost(): string | undefined {
    return this.#lost;
  }

  /**
   * Try `count` nonces on a header template (nonce bytes 60..63 ignored), as
   * {@linkcode VblakeKernel.scan} does, on the GPU.
   *
   * @param header 64-byte header template.
   * @param options Range, target and result cap.
   * @returns The winning nonces (ascending) and how many nonces were tried.
   * @throws {TypeError} / {RangeError} On bad input (the promise rejects).
   * @throws {Error} When the device is lost or reports an error.
   */
  async scan(header: Uint8Array, options: ScanOptions): Promise<ScanResult> {
    const plan = validateScanOptions(header, options);
    const template = header.slice();
    return await this.#serial(() => this.#scan(template, plan));
  }

  /**
   * Hash nonces `startNonce .. startNonce + count - 1` of a header template with the debug
   * entry point, which writes every full hash back. For tests; mining never reads hashes back.
   *
   * @param header 64-byte header template (nonce bytes ignored).
   * @param options First nonce and count (1..{@linkcode MAX_DEBUG_HASHES}).
   * @returns One 24-byte hash per nonce.
   * @throws {TypeError} / {RangeError} On bad input.
   * @throws {Error} When the device is lost or reports an error.
   */
  async hashes(
    header: Uint8Array,
    options: { startNonce: number; count: number },
  ): Promise<Uint8Array[]> {
    const { startNonce, count } = validateScanOptions(header, {
      startNonce: options?.startNonce,
      count: options?.count,
      target: 0n,
    });
    if (count < 1 || count > MAX_DEBUG_HASHES) {
      throw new RangeError(`Cannot hash: count ${count} is not in 1..${MAX_DEBUG_HASHES}`);
    }
    const template = header.slice();
    return await this.#serial(() => this.#hashes(template, startNonce, count));
  }

  /**
   * Hash one 64-byte header (its own nonce) on the GPU, through the debug entry point.
   *
   * @param header 64 bytes.
   * @returns The 24-byte hash.
   */
  async hash(header: Uint8Array): Promise<Uint8Array> {
    // A header that is not 64 bytes is rejected by hashes().
    const nonce = header instanceof Uint8Array && header.length === VBLAKE_BLOCK_SIZE
      ? new DataView(header.buffer, header.byteOffset, VBLAKE_BLOCK_SIZE).getUint32(60)
      : 0;
    const [hash] = await this.hashes(header, { startNonce: nonce, count: 1 });
    return hash!;
  }

  /** Release the device. Safe to call more than once. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#d.device.destroy();
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #check(action: string): void {
    if (this.#destroyed) throw new Error(`Cannot ${action}: the GPU kernel was destroyed`);
    if (this.#lost !== undefined) {
      throw new Error(`Cannot ${action}: the GPU device was lost (${this.#lost})`);
    }
    if (this.#error !== undefined) {
      throw new Error(`Cannot ${action}: the GPU reported an error (${this.#error})`);
    }
  }

  #grid(count: number, perInvocation: number): [number, number] {
    const invocations = Math.ceil(count / perInvocation);
    const groups = Math.ceil(invocations / this.workgroupSize);
    const x = Math.min(groups, this.#d.maxWorkgroups);
    const y = Math.ceil(groups / x);
    if (y > this.#d.maxWorkgroups) throw new RangeError("Cannot dispatch: too many nonces");
    return [x, y];
  }

  async #scan(header: Uint8Array, plan: ValidScan): Promise<ScanResult> {
    const nonces: number[] = [];
    let start = plan.startNonce;
    let remaining = plan.count;
    let tried = 0;
    let limit = Math.min(this.#maxDispatch, DISPATCH_LIMIT);
    while (remaining > 0) {
      const chunk = Math.min(remaining, limit);
      const found = await this.#dispatchScan(header, plan.target, start, chunk);
      if (found === undefined) {
        // More winners than the results buffer holds: retry on a smaller range.
        limit = Math.max(1, Math.floor(chunk / 2));
        continue;
      }
      found.sort((a, b) => a - b);
      const need = plan.maxResults - nonces.length;
      if (found.length >= need) {
        nonces.push(...found.slice(0, need));
        tried += nonces[nonces.length - 1]! - start + 1;
        return { nonces, tried };
      }
      nonces.push(...found);
      tried += chunk;
      start += chunk;
      remaining -= chunk;
    }
    return { nonces, tried };
  }

  /** One scan dispatch; undefined when the winners overflow the results buffer. */
  async #dispatchScan(
    header: Uint8Array,
    target: Uint8Array,
    base: number,
    count: number,
  ): Promise<number[] | undefined> {
    this.#check("scan");
    const d = this.#d;
    encodeParams(this.#words, header, target, { base, count });
    d.device.queue.writeBuffer(d.params, 0, this.#words);
    d.device.queue.writeBuffer(d.results, 0, new Uint32Array(1));
    const encoder = d.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(d.scanPipeline);
    pass.setBindGroup(0, d.scanGroup);
    const [x, y] = this.#grid(count, this.noncesPerInvocation);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    encoder.copyBufferToBuffer(d.results, 0, d.readback, 0, RESULT_BYTES);
    d.device.queue.submit([encoder.finish()]);
    try {
      await d.readback.mapAsync(GPUMapMode.READ);
    } catch (error) {
      this.#check("scan");
      throw new Error(`Cannot scan: reading the GPU results failed (${errorText(error)})`);
    }
    const words = new Uint32Array(d.readback.getMappedRange());
    const found = words[0]!;
    const out = found > RESULT_CAPACITY ? undefined : Array.from(words.subarray(1, 1 + found));
    d.readback.unmap();
    this.#check("scan");
    return out;
  }

  async #hashes(header: Uint8Array, base: number, count: number): Promise<Uint8Array[]> {
    this.#check("hash");
    const d = this.#d;
    this.#hashPipeline ??= await d.device.createComputePipelineAsync({
      layout: "auto",
      compute: { module: this.#shader, entryPoint: "hash_debug" },
    });
    const bytes = count * HASH_WORDS * 4;
    const out = d.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const read = d.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      encodeParams(this.#words, header, new Uint8Array(VBLAKE_SIZE), { base, count });
      d.device.queue.writeBuffer(d.params, 0, this.#words);
      const group = d.device.createBindGroup({
        layout: this.#hashPipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: d.params } },
          { binding: 2, resource: { buffer: out } },
        ],
      });
      const encoder = d.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.#hashPipeline);
      pass.setBindGroup(0, group);
      const [x, y] = this.#grid(count, 1);
      pass.dispatchWorkgroups(x, y);
      pass.end();
      encoder.copyBufferToBuffer(out, 0, read, 0, bytes);
      d.device.queue.submit([encoder.finish()]);
      try {
        await read.mapAsync(GPUMapMode.READ);
      } catch (error) {
        this.#check("hash");
        throw new Error(`Cannot hash: reading the GPU results failed (${errorText(error)})`);
      }
      const view = new DataView(read.getMappedRange().slice(0));
      read.unmap();
      this.#check("hash");
      const hashes: Uint8Array[] = [];
      for (let i = 0; i < count; i++) {
        const hash = new Uint8Array(VBLAKE_SIZE);
        const hv = new DataView(hash.buffer);
        for (let w = 0; w < HASH_WORDS; w++) {
          hv.setUint32(4 * w, view.getUint32(4 * (i * HASH_WORDS + w), true), true);
        }
        hashes.push(hash);
      }
      return hashes;
    } finally {
      out.destroy();
      read.destroy();
    }
  }
}

function checkOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot create the GPU kernel: ${name} ${value} is not in ${min}..${max}`);
  }
  return value;
}

/**
 * Request a WebGPU adapter and device and build the vBlake pipeline on it.
 *
 * @example Usage
 * ```ts ignore
 * import { createGpuKernel, checkGpuKernel } from "./gpu_kernel.ts";
 *
 * const kernel = await createGpuKernel(); // throws when there is no adapter
 * try {
 *   await checkGpuKernel(kernel);
 *   const { nonces } = await kernel.scan(new Uint8Array(64), {
 *     startNonce: 0, count: 1 << 20, target: 2n ** 176n,
 *   });
 *   console.log(nonces);
 * } finally {
 *   kernel.destroy();
 * }
 * ```
 *
 * @param options Shader shape, dispatch cap, adapter preference, loss callback.
 * @returns A ready kernel (not yet self-tested).
 * @throws {RangeError} When an option is out of range.
 * @throws {Error} When WebGPU, an adapter or a device is unavailable, or the shader fails to
 * build.
 */
export async function createGpuKernel(options: GpuKernelOptions = {}): Promise<GpuKernel> {
  const workgroupSize = checkOption("workgroupSize", options.workgroupSize ?? 64, 1, 1024);
  const noncesPerInvocation = checkOption(
    "noncesPerInvocation",
    options.noncesPerInvocation ?? 1,
    1,
    256,
  );
  const maxDispatch = checkOption(
    "maxDispatch",
    options.maxDispatch ?? DEFAULT_MAX_DISPATCH,
    1,
    DISPATCH_LIMIT,
  );
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (gpu === undefined) {
    throw new Error("Cannot use the GPU: WebGPU is not available in this runtime");
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({
      powerPreference: options.powerPreference ?? "high-performance",
    });
  } catch (error) {
    throw new Error(`Cannot use the GPU: requesting an adapter failed (${errorText(error)})`);
  }
  if (adapter === null) {
    throw new Error(
      "Cannot use the GPU: no WebGPU adapter (no GPU driver; on Linux install Mesa's " +
        "mesa-vulkan-drivers for a software adapter, or set DENO_WEBGPU_BACKEND=gl)",
    );
  }
  const info = adapter.info;
  const name = [info.description, info.device, info.vendor, info.architecture].find((s) => s) ??
    "unknown adapter";
  if (workgroupSize > adapter.limits.maxComputeInvocationsPerWorkgroup) {
    throw new RangeError(
      `Cannot create the GPU kernel: workgroupSize ${workgroupSize} is above the adapter's ` +
        `limit ${adapter.limits.maxComputeInvocationsPerWorkgroup}`,
    );
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice();
  } catch (error) {
    throw new Error(`Cannot use the GPU: requesting a device failed (${errorText(error)})`);
  }
  try {
    device.pushErrorScope("validation");
    device.pushErrorScope("internal");
    const shader = device.createShaderModule({
      label: "vblake",
      code: vblakeWgsl({ workgroupSize, noncesPerInvocation }),
    });
    const scanPipeline = await device.createComputePipelineAsync({
      label: "vblake scan",
      layout: "auto",
      compute: { module: shader, entryPoint: "scan" },
    });
    const params = device.createBuffer({
      size: PARAM_WORDS * 4,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const results = device.createBuffer({
      size: RESULT_BYTES,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    const readback = device.createBuffer({
      size: RESULT_BYTES,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const scanGroup = device.createBindGroup({
      layout: scanPipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: params } },
        { binding: 1, resource: { buffer: results } },
      ],
    });
    const internal = await device.popErrorScope();
    const validation = await device.popErrorScope();
    const failure = validation ?? internal;
    if (failure !== null) throw new Error(failure.message);
    return new GpuKernel(
      {
        device,
        scanPipeline,
        params,
        results,
        readback,
        scanGroup,
        maxWorkgroups: device.limits.maxComputeWorkgroupsPerDimension,
      },
      shader,
      {
        adapter: name,
        workgroupSize,
        noncesPerInvocation,
        maxDispatch,
        ...(options.onLost ? { onLost: options.onLost } : {}),
      },
    );
  } catch (error) {
    device.destroy();
    throw new Error(`Cannot build the vBlake GPU pipeline: ${errorText(error)}`);
  }
}
