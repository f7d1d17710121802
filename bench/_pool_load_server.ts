/**
 * Worker half of `bench/pool_load.ts`: a Pool on 127.0.0.1:0 with one job at share difficulty
 * 1 (every hash meets it), vardiff and bans off, limits raised, shares recorded in memory.
 * Posts `{ port }` when listening. The message "template" adds a new block template and posts
 * `{ at, loopMs }` (when it started, on the shared wall clock, and how long the broadcast loop
 * took); any other message stops the pool.
 *
 * @module
 */

import { Pool } from "../server/pool.ts";
import { DEFAULT_PORT_DIFFICULTY } from "../server/stratum_port.ts";

const pool = Pool.start({
  ports: [{
    ...DEFAULT_PORT_DIFFICULTY,
    hostname: "127.0.0.1",
    port: 0,
    difficulty: 1n,
    minDifficulty: 1n,
    vardiff: false,
  }],
  upstream: { submitBlock: () => Promise.resolve({ accepted: true }) },
  vardiffTickMs: 0,
  bans: { enabled: false },
  connections: { maxConnectionsPerIp: 0, maxSendQueueBytes: 1 << 24 },
  limits: {
    requestsPerSecond: 1e9,
    requestBurst: 1e9,
    maxPendingSubmits: 1 << 20,
    maxSharesPerJob: 1 << 24,
    idleTimeoutMs: 3_600_000,
  },
});
let round = 0;

/** A new block template (a new previous hash every call: clean_jobs). */
function addTemplate(): void {
  round++;
  pool.addTemplate({
    upstreamJobId: round,
    kind: "job",
    height: 1000 + round,
    version: 2,
    previousBlockHash: new Uint8Array(24).fill(round & 0xff),
    previousKeystoneHash: new Uint8Array(24).fill(2),
    secondKeystoneHash: new Uint8Array(24).fill(3),
    popRoot: new Uint8Array(32).fill(0x11),
    normalRoot: new Uint8Array(32).fill(0x22),
    metapackageHash: new Uint8Array(32).fill(0x33),
    timestamp: Math.floor(Date.now() / 1000) - 60,
    bits: 0x0600e8d4, // network difficulty ~1e12: no blocks
    poolAddress: "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C",
    extraNonceStart: 0n,
    extraNonceEnd: 0n,
    endpoint: "bench",
    receivedAt: Date.now(),
  });
}
addTemplate();

// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.postMessage({ port: pool.servers[0]!.addr.port });
scope.onmessage = async (e: MessageEvent) => {
  if (e.data === "template") {
    const at = performance.timeOrigin + performance.now();
    addTemplate();
    scope.postMessage({ at, loopMs: performance.timeOrigin + performance.now() - at });
    return;
  }
  await pool.stop();
  scope.postMessage({ stopped: true });
  scope.close();
};
