import assert from "node:assert/strict";
import { RigApi, rigSummary } from "../../miner/rig_api.ts";
import type { MinerStats } from "../../miner/miner.ts";
import { waitUntil } from "../_process.ts";

const R = { s10: 3_600_000.4, s60: 3_500_000.6, m15: 3_400_000 };
const G = { s10: 50_000_000, s60: 49_000_000, m15: 48_000_000 };

function stats(over: Partial<MinerStats> = {}): MinerStats {
  return {
    startedAt: 0,
    uptimeMs: 61_500,
    kernels: ["wasm-simd", "webgpu"],
    pool: undefined,
    poolIndex: undefined,
    difficulty: undefined,
    job: undefined,
    hashrate: 0,
    threadHashrates: [0, 0],
    hashes: 12,
    accepted: 0,
    rejected: 1,
    stale: 0,
    lost: 0,
    blocks: 0,
    rejectReasons: { "Share is above target": 1 },
    connections: 0,
    jobSwitchMs: [],
    rates: { s10: R.s10 + G.s10, s60: R.s60 + G.s60, m15: R.m15 + G.m15 },
    threadRates: [R, G],
    gpuAdapter: "llvmpipe",
    paused: true,
    latency: { samples: 0, p50Ms: 0, maxMs: 0 },
    lastRejections: [{ reason: "Share is above target", at: Date.UTC(2026, 0, 1) }],
    ...over,
  };
}

Deno.test("rigSummary() rounds rates, names the GPU and is null where nothing is known", () => {
  const doc = rigSummary(stats(), { version: "9.9.9" });
  assert.deepEqual(doc.threads[0], {
    index: 0,
    kernel: "wasm-simd",
    hashrate: { "10s": 3_600_000, "60s": 3_500_001, "15m": 3_400_000 },
  });
  assert.deepEqual(doc.gpu, {
    adapter: "llvmpipe",
    hashrate: { "10s": 50_000_000, "60s": 49_000_000, "15m": 48_000_000 },
  });
  assert.equal(doc.kernel, "wasm-simd, webgpu");
  assert.equal(doc.pool, null);
  assert.deepEqual(doc.pools, []);
  assert.equal(doc.uptimeSeconds, 61);
  assert.equal(doc.paused, true);
  assert.deepEqual(doc.shares.lastRejections, [
    { reason: "Share is above target", at: "2026-01-01T00:00:00.000Z" },
  ]);
  assert.equal(rigSummary(stats({ kernels: ["wasm"], threadRates: [R] }), doc).gpu, null);
});

Deno.test("RigApi without a token answers anyone on loopback; with one, only its bearer", async () => {
  const open = RigApi.listen({ port: 0, stats: () => stats(), version: "1.2.3" });
  const locked = RigApi.listen({ port: 0, stats: () => stats(), version: "1.2.3", token: "tok" });
  try {
    assert.equal(open.addr.hostname, "127.0.0.1", "loopback by default");
    const a = await fetch(`http://127.0.0.1:${open.addr.port}/api/summary`);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal((await a.json()).version, "1.2.3");
    const url = `http://127.0.0.1:${locked.addr.port}/api/threads`;
    for (
      const [authorization, status] of [
        ["bearer tok", 200],
        ["Bearer  tok ", 200],
        ["Bearer tok2", 401],
        ["Bearer", 401],
        ["tok", 401],
      ] as const
    ) {
      const r = await fetch(url, { headers: { authorization } });
      assert.equal(r.status, status, authorization);
      await r.body?.cancel();
    }
  } finally {
    await open.close();
    await locked.close();
  }
});

Deno.test("RigApi holds at most 16 connections; the 17th is closed at once", async () => {
  const api = RigApi.listen({ port: 0, stats: () => stats(), version: "1" });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 16; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: api.addr.port }));
    }
    await waitUntil(() => api.httpStats.connections === 16, "16 connections held");
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: api.addr.port });
    conns.push(extra);
    await waitUntil(() => api.httpStats.refused.server_full === 1, "the 17th refused");
    assert.equal(await extra.read(new Uint8Array(16)), null, "closed without an answer");
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // Closed by the server.
      }
    }
    await api.close();
  }
});
