/**
 * vBlake on the GPU through WebGPU: a generated WGSL compute shader (64-bit words as pairs of
 * u32, rounds unrolled, a nonce range per dispatch, winners written back through an atomic
 * counter), the device and dispatch management around it, its start-up self-test against
 * the TypeScript reference, the asynchronous scanning loop, and the GPU mining slot that sits
 * beside the CPU threads.
 *
 * Import rule: part of `miner/`; may import `hash/` and the rest of `miner/` (never
 * `threads.ts`, which imports this folder).
 *
 * @example Usage
 * ```ts
 * import { vblakeWgsl } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(vblakeWgsl().includes("fn scan("));
 * ```
 *
 * @module
 */
export * from "./check_gpu_kernel.ts";
export * from "./gpu_kernel.ts";
export * from "./gpu_slot.ts";
export * from "./gpu_work_loop.ts";
export * from "./vblake_wgsl.ts";
