import assert from "node:assert/strict";
import {
  difficultyToTarget,
  MAX_TARGET,
  meetsTarget,
  targetToBytes,
} from "../../hash/difficulty.ts";
import { bytesToHex, hexToBytes } from "../../hash/hex.ts";
import {
  checkKernel,
  createBestKernel,
  createKernel,
  createReferenceKernel,
  createWasmKernel,
  createWasmSimdKernel,
  DEFAULT_MAX_RESULTS,
  KERNEL_NAMES,
  SCAN_MAX_RESULTS,
  type ScanOptions,
  validateScanOptions,
  type VblakeKernel,
} from "../../hash/kernel.ts";
import { vblake } from "../../hash/vblake.ts";
import { prng, randomBytes, vectors } from "./_vectors.ts";

const simd = createWasmSimdKernel();
const wasm = createWasmKernel();
const reference = createReferenceKernel();
const kernels: [string, VblakeKernel][] = [["wasm-simd", simd], ["wasm", wasm], ["ts", reference]];
const work = vectors.stratum_share.work;
const shareHeader = hexToBytes(work[0]!.header);

/** The plain loop every scan must agree with. */
function loopScan(header: Uint8Array, start: number, count: number, target: bigint): number[] {
  const copy = header.slice();
  const view = new DataView(copy.buffer);
  const found: number[] = [];
  for (let i = 0; i < count; i++) {
    view.setUint32(60, start + i);
    if (meetsTarget(vblake(copy), target)) found.push(start + i);
  }
  return found;
}

Deno.test("kernels are named wasm-simd, wasm and ts", () => {
  assert.equal(simd.name, "wasm-simd");
  assert.equal(wasm.name, "wasm");
  assert.equal(reference.name, "ts");
  assert.deepEqual(KERNEL_NAMES, ["wasm-simd", "wasm", "ts"]);
});

Deno.test("kernel.hash() matches every 64-byte vector", async (t) => {
  const cases = [
    ...vectors.vblake_64.map((c) => [c.name, c.input, c.hash]),
    ...vectors.headers.map((c) => [c.name, c.header, c.hash]),
    ...work.map((c) => [`stratum ${c.nonce}`, c.header, c.hash]),
  ];
  for (const [name, kernel] of kernels) {
    await t.step(name, () => {
      for (const [label, input, hash] of cases) {
        assert.equal(
          bytesToHex(kernel.hash(hexToBytes(input!)), { upper: true }),
          hash!.toUpperCase(),
          label,
        );
      }
    });
  }
});

Deno.test("wasm and reference kernels agree on 10,000 seeded random headers", () => {
  const next = prng(0x5eed);
  for (let i = 0; i < 10_000; i++) {
    const header = randomBytes(next, 64);
    const a = wasm.hash(header), b = vblake(header);
    if (bytesToHex(a) !== bytesToHex(b)) {
      assert.fail(`header ${bytesToHex(header)}: wasm ${bytesToHex(a)}, ts ${bytesToHex(b)}`);
    }
  }
});

Deno.test("scan() finds 0x430b first from 0 at difficulty 65536", async (t) => {
  const target = difficultyToTarget(65536n);
  for (const [name, kernel] of kernels) {
    await t.step(name, () => {
      const result = kernel.scan(shareHeader, {
        startNonce: 0,
        count: 0x10000,
        target,
        maxResults: 1,
      });
      assert.deepEqual(result, { nonces: [0x430b], tried: 0x430c });
    });
  }
});

Deno.test("scan() finds 6 first from 0 at difficulty 256, and stops after maxResults", async (t) => {
  const target = difficultyToTarget(256n);
  const want = loopScan(shareHeader, 0, 4096, target);
  for (const [name, kernel] of kernels.filter(([n]) => n !== "ts")) {
    await t.step(name, () => {
      const all = kernel.scan(shareHeader, { startNonce: 0, count: 4096, target });
      assert.equal(all.tried, 4096);
      assert.equal(all.nonces[0], 6);
      assert.deepEqual(all.nonces, want);
      const two = kernel.scan(shareHeader, { startNonce: 0, count: 4096, target, maxResults: 2 });
      assert.deepEqual(two.nonces, all.nonces.slice(0, 2));
      assert.equal(two.tried, all.nonces[1]! + 1);
    });
  }
});

Deno.test("scan() matches a reference loop on seeded headers and ranges", async (t) => {
  const next = prng(42);
  const ranges: [number, number][] = [
    [0, 2048],
    [next(), 2048],
    [0x7FFFFC00, 2048], // across 2^31
    [2 ** 32 - 2048, 2048], // up to the last nonce
    [2 ** 32 - 1, 1],
  ];
  for (const [start, count] of ranges) {
    await t.step(`start ${start}`, () => {
      const header = randomBytes(next, 64);
      const target = difficultyToTarget(64n);
      const want = loopScan(header, start, count, target);
      for (const [name, kernel] of kernels) {
        const got = kernel.scan(header, { startNonce: start, count, target, maxResults: 4096 });
        assert.deepEqual(got, { nonces: want, tried: count }, name);
      }
    });
  }
});

Deno.test("scan() tries exactly count nonces", async (t) => {
  for (const [name, kernel] of kernels) {
    await t.step(name, () => {
      for (const count of [0, 1, 2, 7, 100]) {
        const result = kernel.scan(shareHeader, { startNonce: 5, count, target: 0n });
        assert.deepEqual(result, { nonces: [], tried: count });
      }
      // Difficulty 1: every nonce qualifies, so the found list is the tried range.
      const result = kernel.scan(shareHeader, { startNonce: 10, count: 50, target: MAX_TARGET });
      assert.deepEqual(result.nonces, Array.from({ length: 50 }, (_, i) => 10 + i));
      assert.equal(result.tried, 50);
    });
  }
});

Deno.test("scan() caps results at maxResults and reports the nonces tried", async (t) => {
  for (const [name, kernel] of kernels.filter(([n]) => n !== "ts")) {
    await t.step(name, () => {
      const result = kernel.scan(shareHeader, { startNonce: 0, count: 1000, target: MAX_TARGET });
      assert.equal(result.nonces.length, DEFAULT_MAX_RESULTS);
      assert.equal(result.tried, DEFAULT_MAX_RESULTS);
      const max = kernel.scan(shareHeader, {
        startNonce: 0,
        count: SCAN_MAX_RESULTS + 5,
        target: MAX_TARGET,
        maxResults: SCAN_MAX_RESULTS,
      });
      assert.equal(max.nonces.length, SCAN_MAX_RESULTS);
      assert.equal(max.nonces.at(-1), SCAN_MAX_RESULTS - 1);
      assert.equal(max.tried, SCAN_MAX_RESULTS);
    });
  }
});

Deno.test("scan() accepts the target as bigint or 24 bytes", () => {
  const target = difficultyToTarget(256n);
  const options = { startNonce: 0, count: 2048 };
  for (const [, kernel] of kernels) {
    assert.deepEqual(
      kernel.scan(shareHeader, { ...options, target }),
      kernel.scan(shareHeader, { ...options, target: targetToBytes(target) }),
    );
  }
});

Deno.test("scan() ignores the template's nonce bytes and leaves the header unchanged", () => {
  const header = shareHeader.slice();
  header.set([0xDE, 0xAD, 0xBE, 0xEF], 60);
  const before = bytesToHex(header);
  const target = difficultyToTarget(256n);
  for (const [, kernel] of kernels) {
    const result = kernel.scan(header, { startNonce: 0, count: 7, target });
    assert.deepEqual(result.nonces, [6]);
    assert.equal(bytesToHex(header), before);
  }
});

Deno.test("scan() rejects bad arguments", async (t) => {
  const base: ScanOptions = { startNonce: 0, count: 1, target: 1n };
  const rows: [string, unknown, Partial<Record<keyof ScanOptions, unknown>>, ErrorConstructor][] = [
    ["63-byte header", new Uint8Array(63), {}, RangeError],
    ["65-byte header", new Uint8Array(65), {}, RangeError],
    ["hex header", "00".repeat(64), {}, TypeError],
    ["negative start", shareHeader, { startNonce: -1 }, RangeError],
    ["start 2^32", shareHeader, { startNonce: 2 ** 32 }, RangeError],
    ["fractional start", shareHeader, { startNonce: 0.5 }, TypeError],
    ["bigint start", shareHeader, { startNonce: 1n }, TypeError],
    ["negative count", shareHeader, { count: -1 }, RangeError],
    ["count past 2^32", shareHeader, { startNonce: 2 ** 32 - 10, count: 11 }, RangeError],
    ["maxResults 0", shareHeader, { maxResults: 0 }, RangeError],
    ["maxResults too big", shareHeader, { maxResults: SCAN_MAX_RESULTS + 1 }, RangeError],
    ["negative target", shareHeader, { target: -1n }, RangeError],
    ["target above 2^192-1", shareHeader, { target: MAX_TARGET + 1n }, RangeError],
    ["32-byte target", shareHeader, { target: new Uint8Array(32) }, RangeError],
    ["number target", shareHeader, { target: 5 }, TypeError],
  ];
  for (const [name, kernel] of kernels) {
    await t.step(name, () => {
      for (const [label, header, patch, error] of rows) {
        assert.throws(
          () => kernel.scan(header as Uint8Array, { ...base, ...patch } as ScanOptions),
          error,
          label,
        );
      }
      assert.throws(() => kernel.scan(shareHeader, null as unknown as ScanOptions), TypeError);
    });
  }
  await t.step("validateScanOptions()", () => {
    for (const [label, header, patch, error] of rows) {
      assert.throws(
        () => validateScanOptions(header, { ...base, ...patch } as ScanOptions),
        error,
        label,
      );
    }
    assert.throws(
      () => validateScanOptions(shareHeader, null as unknown as ScanOptions),
      TypeError,
    );
  });
});

Deno.test("validateScanOptions() resolves the default cap and the target bytes", () => {
  const target = targetToBytes(difficultyToTarget(1000n));
  assert.deepEqual(validateScanOptions(shareHeader, { startNonce: 7, count: 0, target }), {
    startNonce: 7,
    count: 0,
    target,
    maxResults: DEFAULT_MAX_RESULTS,
  });
  const resolved = validateScanOptions(shareHeader, {
    startNonce: 2 ** 32 - 1,
    count: 1,
    target: difficultyToTarget(1000n),
    maxResults: SCAN_MAX_RESULTS,
  });
  assert.deepEqual(resolved.target, target);
  assert.equal(resolved.maxResults, SCAN_MAX_RESULTS);
});

Deno.test("hash() rejects bad headers in both kernels", () => {
  for (const [, kernel] of kernels) {
    assert.throws(() => kernel.hash(new Uint8Array(63)), RangeError);
    assert.throws(() => kernel.hash(new Uint8Array(65)), RangeError);
    assert.throws(() => kernel.hash([] as unknown as Uint8Array), TypeError);
  }
});

Deno.test("wasm kernels are independent instances", () => {
  for (const create of [createWasmKernel, createWasmSimdKernel]) {
    const a = create(), b = create();
    a.scan(shareHeader, { startNonce: 0, count: 10, target: 1n });
    a.hash(new Uint8Array(64).fill(0xFF));
    const hash = bytesToHex(b.hash(new Uint8Array(64)), { upper: true });
    assert.equal(hash, vectors.vblake_64[0]!.hash);
  }
});

Deno.test("checkKernel() passes real kernels and rejects broken ones", () => {
  checkKernel(simd);
  checkKernel(wasm);
  checkKernel(reference);
  const wrongHash: VblakeKernel = { name: "zero", hash: () => new Uint8Array(24), scan: wasm.scan };
  assert.throws(() => checkKernel(wrongHash), /Cannot trust kernel zero: hash/);
  const wrongScan: VblakeKernel = {
    name: "lazy",
    hash: (h) => wasm.hash(h),
    scan: () => ({ nonces: [], tried: 0 }),
  };
  assert.throws(() => checkKernel(wrongScan), /Cannot trust kernel lazy: scan/);
});

Deno.test("createBestKernel() picks wasm-simd here without falling back", () => {
  let fellBack = false;
  const kernel = createBestKernel({ onFallback: () => fellBack = true });
  assert.equal(kernel.name, "wasm-simd");
  assert.equal(fellBack, false);
});

/** A kernel that loads but loses the finds of every third nonce (a broken lane). */
function brokenSimd(): VblakeKernel {
  const inner = createWasmSimdKernel();
  return {
    name: "wasm-simd",
    hash: (header) => inner.hash(header),
    scan(header, options) {
      const result = inner.scan(header, options);
      return { ...result, nonces: result.nonces.filter((n) => n % 3 !== 2) };
    },
  };
}

Deno.test("createBestKernel() falls back to wasm when the SIMD self-test fails", () => {
  const reasons: unknown[] = [];
  const kernel = createBestKernel({
    candidates: [brokenSimd, createWasmKernel],
    onFallback: (reason) => reasons.push(reason),
  });
  assert.equal(kernel.name, "wasm");
  assert.equal(reasons.length, 1);
  assert.match(String(reasons[0]), /Cannot trust kernel wasm-simd: scan/);
});

Deno.test("createBestKernel() falls back past kernels that do not load, down to ts", () => {
  const reasons: string[] = [];
  function unsupported(): VblakeKernel {
    throw new Error("Cannot create the wasm-simd kernel: WebAssembly SIMD is not supported");
  }
  const kernel = createBestKernel({
    candidates: [unsupported, brokenSimd],
    onFallback: (reason) => reasons.push(String(reason)),
  });
  assert.equal(kernel.name, "ts");
  assert.equal(reasons.length, 2);
  assert.match(reasons[0]!, /SIMD is not supported/);
  assert.match(reasons[1]!, /Cannot trust kernel wasm-simd/);
});

Deno.test("createKernel() forces each kernel and rejects unknown names", () => {
  for (const name of KERNEL_NAMES) assert.equal(createKernel(name).name, name);
  assert.throws(() => createKernel("wasm-avx" as "wasm"), RangeError);
  assert.throws(() => createKernel("" as "wasm"), RangeError);
  assert.throws(() => createKernel(1 as unknown as "wasm"), TypeError);
  assert.throws(() => createKernel(undefined as unknown as "wasm"), TypeError);
});
