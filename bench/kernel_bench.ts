/**
 * vBlake kernel throughput: the TypeScript reference (baseline) against the scalar and SIMD
 * WebAssembly kernels, single thread, with `deno bench` (for the full comparison with medians,
 * thread scaling and the C build, run `deno task bench:kernel`). Each iteration scans NONCES nonces of the mainnet 5000 header at the
 * CPU-pool share target (difficulty 2^24), so hashes per second = NONCES × iterations per
 * second. A second group times single `hash()` calls (verification path).
 *
 * ```sh
 * deno bench -A bench/kernel_bench.ts
 * ```
 *
 * @module
 */

import { difficultyToTarget } from "../hash/difficulty.ts";
import { hexToBytes } from "../hash/hex.ts";
import { createReferenceKernel, createWasmKernel, createWasmSimdKernel } from "../hash/kernel.ts";

/** Nonces per scan iteration. */
const NONCES = 20_000;

const header = hexToBytes(
  "00001388000294E7DC3E3BE21A96ECCF0FBDF5F62A3331DC995C36B0935637860679DDD5DB0F135312B2C27867C9A83EF1B99B985C9B949307023AD672BAFD77",
);
const target = difficultyToTarget(1n << 24n);
const reference = createReferenceKernel();
const wasm = createWasmKernel();
const simd = createWasmSimdKernel();
let referenceNonce = 0;
let wasmNonce = 0;
let simdNonce = 0;

Deno.bench({
  group: "vblake",
  name: `ts reference scan, ${NONCES} nonces`,
  baseline: true,
  fn() {
    reference.scan(header, { startNonce: referenceNonce, count: NONCES, target });
    referenceNonce = (referenceNonce + NONCES) % 2 ** 31;
  },
});

Deno.bench({
  group: "vblake",
  name: `wasm scan, ${NONCES} nonces`,
  fn() {
    wasm.scan(header, { startNonce: wasmNonce, count: NONCES, target });
    wasmNonce = (wasmNonce + NONCES) % 2 ** 31;
  },
});

Deno.bench({
  group: "vblake",
  name: `wasm-simd scan, ${NONCES} nonces`,
  fn() {
    simd.scan(header, { startNonce: simdNonce, count: NONCES, target });
    simdNonce = (simdNonce + NONCES) % 2 ** 31;
  },
});

Deno.bench({
  group: "vblake-hash",
  name: "ts reference hash()",
  baseline: true,
  fn() {
    reference.hash(header);
  },
});

Deno.bench({
  group: "vblake-hash",
  name: "wasm hash()",
  fn() {
    wasm.hash(header);
  },
});

Deno.bench({
  group: "vblake-hash",
  name: "wasm-simd hash() (the module's scalar single-header path)",
  fn() {
    simd.hash(header);
  },
});
