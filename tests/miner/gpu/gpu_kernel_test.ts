import assert from "node:assert/strict";
import {
  bytesToHex,
  createReferenceKernel,
  createWasmKernel,
  difficultyToTarget,
  hashToBigInt,
  hexToBytes,
  MAX_TARGET,
  SCAN_MAX_RESULTS,
  vblake,
} from "../../../hash/mod.ts";
import { checkGpuKernel } from "../../../miner/gpu/check_gpu_kernel.ts";
import { createGpuKernel, type GpuKernel } from "../../../miner/gpu/gpu_kernel.ts";
import { prng, randomBytes, vectors } from "../../hash/_vectors.ts";
import { gpuTest } from "./_gpu.ts";

const hex = (bytes: Uint8Array) => bytesToHex(bytes, { upper: true });
const shareWork = vectors.stratum_share.work;
const shareTemplate = hexToBytes(shareWork[0]!.header);

let shared: GpuKernel | undefined;

/** Run `fn` on the shared default kernel, or on a kernel of its own with other options. */
async function withKernel(
  fn: (kernel: GpuKernel) => Promise<void>,
  options?: Parameters<typeof createGpuKernel>[0],
): Promise<void> {
  if (options === undefined) {
    shared ??= await createGpuKernel();
    return await fn(shared);
  }
  const kernel = await createGpuKernel(options);
  try {
    await fn(kernel);
  } finally {
    kernel.destroy();
  }
}

gpuTest("GpuKernel hashes equal the reference on the vectors of vectors.json", async (t) => {
  await withKernel(async (kernel) => {
    const cases: [string, string, string][] = [
      ...vectors.vblake_64.map((c) => [c.name, c.input, c.hash] as [string, string, string]),
      ...vectors.headers.map((c) => [c.name, c.header, c.hash] as [string, string, string]),
      ...shareWork.map((w) =>
        [`stratum_share ${w.nonce}`, w.header, w.hash] as [
          string,
          string,
          string,
        ]
      ),
      ...vectors.vblake_padded_input.cases.map((c) => {
        const block = new Uint8Array(64);
        block.set(hexToBytes(c.input));
        return [`padded "${c.input}"`, bytesToHex(block), c.hash] as [string, string, string];
      }),
    ];
    assert.ok(cases.length >= 15);
    for (const [name, input, hash] of cases) {
      await t.step(name, async () => {
        assert.equal(hex(await kernel.hash(hexToBytes(input))), hash.toUpperCase());
      });
    }
  });
});

gpuTest("GpuKernel hashes equal the reference on random headers and nonce runs", async () => {
  await withKernel(async (kernel) => {
    const next = prng(0x6b1a5e);
    for (let i = 0; i < 6; i++) {
      const header = randomBytes(next, 64);
      const startNonce = i === 0 ? 0xFFFFFFFF - 99 : next();
      const count = Math.min(100, 2 ** 32 - startNonce);
      const got = await kernel.hashes(header, { startNonce, count });
      assert.equal(got.length, count);
      const copy = header.slice();
      const view = new DataView(copy.buffer);
      for (let k = 0; k < count; k++) {
        view.setUint32(60, startNonce + k);
        assert.equal(hex(got[k]!), hex(vblake(copy)), `header ${i}, nonce ${startNonce + k}`);
      }
    }
  });
});

gpuTest(
  "GpuKernel scan of 0..0x10000 at difficulty 65536 finds exactly the reference's nonces",
  async () => {
    await withKernel(async (kernel) => {
      const options = { startNonce: 0, count: 0x10000, target: difficultyToTarget(65536n) };
      const want = createWasmKernel().scan(shareTemplate, options);
      const got = await kernel.scan(shareTemplate, options);
      assert.deepEqual(got, want);
      assert.equal(got.nonces[0], 0x430b); // the vector's first winner from 0
      assert.equal(got.tried, 0x10000);
    });
  },
);

gpuTest("GpuKernel scan agrees with the reference across dispatch shapes", async (t) => {
  const shapes = [
    { workgroupSize: 64, noncesPerInvocation: 1, maxDispatch: 1000 },
    { workgroupSize: 32, noncesPerInvocation: 4, maxDispatch: 1 << 24 },
    { workgroupSize: 256, noncesPerInvocation: 3, maxDispatch: 777 },
  ];
  const reference = createReferenceKernel();
  const header = hexToBytes(vectors.headers[4]!.header);
  for (const shape of shapes) {
    await t.step(JSON.stringify(shape), async () => {
      await withKernel(async (kernel) => {
        for (const [startNonce, count] of [[0, 3000], [0xFFFFFFFF - 2047, 2048], [7, 1]]) {
          const options = { startNonce: startNonce!, count: count!, target: MAX_TARGET / 32n };
          assert.deepEqual(await kernel.scan(header, options), reference.scan(header, options));
        }
      }, shape);
    });
  }
});

gpuTest(
  "GpuKernel scan honours maxResults and overflowing result buffers like the CPU",
  async () => {
    await withKernel(async (kernel) => {
      const wasm = createWasmKernel();
      // Every hash but all-FF meets MAX_TARGET: 3000 winners overflow the 1024-nonce buffer.
      const all = { startNonce: 5, count: 3000, target: MAX_TARGET };
      assert.deepEqual(await kernel.scan(shareTemplate, { ...all, maxResults: 300 }), {
        nonces: Array.from({ length: 300 }, (_, i) => 5 + i),
        tried: 300,
      });
      const some = { startNonce: 100, count: 20000, target: MAX_TARGET / 16n, maxResults: 50 };
      assert.deepEqual(await kernel.scan(shareTemplate, some), wasm.scan(shareTemplate, some));
      const many = { ...all, maxResults: SCAN_MAX_RESULTS };
      assert.deepEqual(await kernel.scan(shareTemplate, many), wasm.scan(shareTemplate, many));
      assert.deepEqual(await kernel.scan(shareTemplate, { ...all, count: 0 }), {
        nonces: [],
        tried: 0,
      });
    });
  },
);

gpuTest("GpuKernel scan pins the full 192-bit compare (target = hash and hash + 1)", async () => {
  await withKernel(async (kernel) => {
    for (const w of shareWork) {
      const nonce = parseInt(w.nonce, 16);
      const value = hashToBigInt(hexToBytes(w.hash));
      const at = { startNonce: nonce, count: 1 };
      assert.deepEqual((await kernel.scan(shareTemplate, { ...at, target: value + 1n })).nonces, [
        nonce,
      ]);
      assert.deepEqual((await kernel.scan(shareTemplate, { ...at, target: value })).nonces, []);
      // A target differing only in its lowest byte, from the other side.
      const bytes = hexToBytes(w.hash);
      bytes[23] = bytes[23]! ^ 1;
      const near = hashToBigInt(bytes);
      const hit = near > value ? [nonce] : [];
      assert.deepEqual((await kernel.scan(shareTemplate, { ...at, target: bytes })).nonces, hit);
    }
  });
});

gpuTest("GpuKernel rejects bad input with clear errors", async () => {
  await withKernel(async (kernel) => {
    const ok = { startNonce: 0, count: 1, target: 1n };
    // deno-lint-ignore no-explicit-any
    const bad = (header: any, options: any) => () => kernel.scan(header, options);
    await assert.rejects(bad(new Uint8Array(63), ok), RangeError);
    await assert.rejects(bad("00".repeat(64), ok), TypeError);
    await assert.rejects(bad(shareTemplate, { ...ok, startNonce: -1 }), RangeError);
    await assert.rejects(
      bad(shareTemplate, { ...ok, startNonce: 2 ** 32 - 1, count: 2 }),
      RangeError,
    );
    await assert.rejects(bad(shareTemplate, { ...ok, count: 1.5 }), TypeError);
    await assert.rejects(bad(shareTemplate, { ...ok, target: new Uint8Array(23) }), RangeError);
    await assert.rejects(bad(shareTemplate, { ...ok, target: 1 }), TypeError);
    await assert.rejects(bad(shareTemplate, { ...ok, maxResults: 0 }), RangeError);
    await assert.rejects(bad(shareTemplate, null), TypeError);
    await assert.rejects(
      () => kernel.hashes(shareTemplate, { startNonce: 0, count: 0 }),
      RangeError,
    );
    await assert.rejects(() => kernel.hash(new Uint8Array(65)), RangeError);
    // Still usable after bad input.
    assert.equal(hex(await kernel.hash(shareTemplate)), shareWork[0]!.hash.toUpperCase());
  });
  await assert.rejects(() => createGpuKernel({ workgroupSize: 0 }), RangeError);
  await assert.rejects(() => createGpuKernel({ noncesPerInvocation: 257 }), RangeError);
});

gpuTest("checkGpuKernel passes the real kernel and refuses a faulty one", async () => {
  await withKernel(async (kernel) => {
    await checkGpuKernel(kernel);
    const faulty = Object.create(kernel) as GpuKernel;
    // A kernel whose scans miss every other winner.
    Object.defineProperty(faulty, "scan", {
      value: async (header: Uint8Array, options: Parameters<GpuKernel["scan"]>[1]) => {
        const result = await kernel.scan(header, options);
        return { ...result, nonces: result.nonces.filter((_, i) => i % 2 === 0) };
      },
    });
    await assert.rejects(() => checkGpuKernel(faulty), /Cannot trust kernel webgpu/);
  });
});

gpuTest("GpuKernel refuses work once destroyed", async () => {
  const kernel = shared ?? await createGpuKernel();
  shared = undefined;
  kernel.destroy();
  kernel.destroy();
  await assert.rejects(
    () => kernel.scan(shareTemplate, { startNonce: 0, count: 1, target: 1n }),
    /destroyed/,
  );
});
