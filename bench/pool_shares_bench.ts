/**
 * Share validation cost without the network: `validateShare` on a job at share difficulty 1
 * (header rebuild, two SHA-256, vBlake WebAssembly, duplicate set), and its parts.
 *
 * ```sh
 * deno bench -A bench/pool_shares_bench.ts
 * ```
 *
 * @module
 */

import { difficultyToTarget, hashToBigInt } from "../hash/difficulty.ts";
import { createWasmKernel } from "../hash/kernel.ts";
import { parseStratumRequest } from "../protocol/stratum_request.ts";
import { buildShareHeader, JobManager } from "../server/jobs.ts";
import { validateShare } from "../server/shares.ts";

const kernel = createWasmKernel();
// Unbounded keys: the bench accepts millions of shares at one ntime.
const job = new JobManager({ maxJobs: 1, maxLiveKeys: 1 << 30 }).add({
  upstreamJobId: 1,
  kind: "job",
  height: 1000,
  version: 2,
  previousBlockHash: new Uint8Array(24).fill(1),
  previousKeystoneHash: new Uint8Array(24).fill(2),
  secondKeystoneHash: new Uint8Array(24).fill(3),
  popRoot: new Uint8Array(32).fill(0x11),
  normalRoot: new Uint8Array(32).fill(0x22),
  metapackageHash: new Uint8Array(32).fill(0x33),
  timestamp: 1_700_000_000,
  bits: 0x0600e8d4,
  poolAddress: "",
  extraNonceStart: 0n,
  extraNonceEnd: 0n,
  endpoint: "bench",
  receivedAt: 0,
});
const W = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d";
const facts = {
  authorized: new Set([W]),
  extranonce: { start: 0x7c000000000f4240n, end: 0x7c000000001e8480n },
  jobs: new Map([[job.id, { job, difficulty: 1n, target: difficultyToTarget(1n) }]]),
  hash: (h: Uint8Array) => kernel.hash(h),
  now: 1_700_000_100_000,
  maxSharesPerJob: 1 << 30,
};
let nonce = 0;

Deno.bench({
  name: "validateShare (accepted share)",
  group: "share",
  baseline: true,
  fn() {
    const params = [
      W,
      job.id,
      "7c000000000f4240",
      "6553f1a0",
      (nonce++).toString(16).padStart(8, "0"),
    ];
    if (!validateShare(params, facts).ok) throw new Error("rejected");
  },
});

Deno.bench({
  name: "parseStratumRequest (submit line)",
  group: "share",
  fn() {
    parseStratumRequest(
      `{"id":7,"method":"mining.submit","params":["${W}","1","7c000000000f4240","6553f1a0","0000430b"]}`,
    );
  },
});

Deno.bench({
  name: "buildShareHeader (merkle + header)",
  group: "share",
  fn() {
    buildShareHeader(job, 0x7c000000000f4240n, { ntime: 1_700_000_000, nonce: nonce++ });
  },
});

const header = buildShareHeader(job, 0x7c000000000f4240n, { ntime: 1_700_000_000, nonce: 1 });
Deno.bench({
  name: "vBlake hash (wasm) + hashToBigInt",
  group: "share",
  fn() {
    hashToBigInt(kernel.hash(header));
  },
});
