import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  runVerifyWorkload,
  VERIFY_HEADER,
  verifyChecksum,
  type VerifyScanner,
} from "../../miner/verify_workload.ts";
import { createKernel, KERNEL_NAMES, vblake } from "../../hash/mod.ts";
import { createCheckedGpuKernel } from "../../miner/gpu/mod.ts";
import { gpuTest } from "./gpu/_gpu.ts";

/** The documented checksums (README "Verified benchmark"). */
const DOCUMENTED = {
  1_048_576: {
    found: 4225,
    checksum: "54db779ed58acf1cd839a67a1e955bc0f046de4ed6476a4cf43a857fb4e8ec19",
  },
};

const N = 65_536;

/**
 * The workload computed without the kernels or the module under test: the reference vBlake
 * on each header, a zero first byte, and SHA-256 from @noble/hashes.
 */
function independent(nonces: number): { found: number; checksum: string } {
  const header = new Uint8Array(64);
  header.set([
    0x00,
    0x00,
    0x13,
    0x88,
    0x00,
    0x02,
    0x94,
    0xe7,
    0xdc,
    0x3e,
    0x3b,
    0xe2,
    0x1a,
    0x96,
    0xec,
    0xcf,
    0x0f,
    0xbd,
    0xf5,
    0xf6,
    0x2a,
    0x33,
    0x31,
    0xdc,
    0x99,
    0x5c,
    0x36,
    0xb0,
    0x93,
    0x56,
    0x37,
    0x86,
    0x06,
    0x79,
    0xdd,
    0xd5,
    0xdb,
    0x0f,
    0x13,
    0x53,
    0x12,
    0xb2,
    0xc2,
    0x78,
    0x67,
    0xc9,
    0xa8,
    0x3e,
    0xf1,
    0xb9,
    0x9b,
    0x98,
    0x5c,
    0x9b,
    0x94,
    0x93,
    0x07,
    0x02,
    0x3a,
    0xd6,
    0x72,
    0xba,
    0xfd,
    0x77,
  ]);
  assert.deepEqual(header, VERIFY_HEADER, "the header is block 5000 of spec §5.2 #5");
  const view = new DataView(header.buffer);
  const out: number[] = [];
  for (let nonce = 0; nonce < nonces; nonce++) {
    view.setUint32(60, nonce);
    if (vblake(header)[0] === 0) out.push(nonce);
  }
  const bytes = new Uint8Array(out.length * 4);
  out.forEach((n, i) => new DataView(bytes.buffer).setUint32(i * 4, n));
  const checksum = [...sha256(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { found: out.length, checksum };
}

const EXPECTED = independent(N);

Deno.test("the verify workload gives every CPU kernel the independently computed checksum", async () => {
  assert.ok(EXPECTED.found > 150 && EXPECTED.found < 370, `${EXPECTED.found} found (1 in 256)`);
  for (const name of KERNEL_NAMES) {
    const r = await runVerifyWorkload(createKernel(name), { nonces: N });
    assert.deepEqual({ kernel: r.kernel, found: r.found, checksum: r.checksum }, {
      kernel: name,
      ...EXPECTED,
    });
    assert.ok(r.rate > 0);
  }
});

Deno.test("the verify workload's 1M checksum is the one README documents", async () => {
  for (const name of ["wasm-simd", "wasm"] as const) {
    const r = await runVerifyWorkload(createKernel(name));
    assert.equal(r.nonces, 1_048_576);
    assert.deepEqual({ found: r.found, checksum: r.checksum }, DOCUMENTED[1_048_576], name);
  }
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  assert.ok(readme.includes(DOCUMENTED[1_048_576].checksum), "README states the checksum");
});

gpuTest("the verify workload gives the WebGPU kernel the same checksum", async () => {
  const gpu = await createCheckedGpuKernel();
  try {
    const r = await runVerifyWorkload(gpu as VerifyScanner, { nonces: N });
    assert.deepEqual({ kernel: r.kernel, found: r.found, checksum: r.checksum }, {
      kernel: "webgpu",
      ...EXPECTED,
    });
  } finally {
    gpu.destroy();
  }
});

Deno.test("a kernel that hashes wrongly gets another checksum; a bad report is an error", async () => {
  const reference = createKernel("ts");
  // Off by one nonce: the same number of finds, in the wrong places.
  const shifted: VerifyScanner = {
    name: "broken",
    scan: (header, options) => {
      const r = reference.scan(header, options);
      return { ...r, nonces: r.nonces.map((n) => n + 1) };
    },
  };
  const r = await runVerifyWorkload(shifted, { nonces: 4096 });
  const good = await runVerifyWorkload(reference, { nonces: 4096 });
  assert.equal(r.found, good.found);
  assert.notEqual(r.checksum, good.checksum);
  const stuck: VerifyScanner = { name: "stuck", scan: () => ({ nonces: [], tried: 0 }) };
  await assert.rejects(() => runVerifyWorkload(stuck, { nonces: 10 }), /stuck reported 0 of 10/);
  await assert.rejects(() => runVerifyWorkload(reference, { nonces: 0 }), RangeError);
  await assert.rejects(() => runVerifyWorkload(reference, { nonces: 1.5 }), RangeError);
  const stop = new AbortController();
  stop.abort();
  await assert.rejects(() => runVerifyWorkload(reference, { signal: stop.signal }), /stopped/);
  assert.equal(verifyChecksum([1]), verifyChecksum([1]));
  assert.notEqual(verifyChecksum([1, 2]), verifyChecksum([2, 1]));
});
