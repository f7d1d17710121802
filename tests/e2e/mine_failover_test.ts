/**
 * End to end: the miner against real pools on a devnet survives a pool restart, fails over
 * to a second pool and returns to the preferred one once it is back.
 */
import assert from "node:assert/strict";
import { Miner, type MinerEvent } from "../../miner/mod.ts";
import { ADDRESS, startPool, startTestDevnet } from "../miner/_stack.ts";
import { waitFor } from "../miner/_fake_pool.ts";

const FAST = {
  user: `${ADDRESS}.failover`,
  threads: 1,
  backoffMinMs: 50,
  backoffMaxMs: 400,
  failbackMs: 300,
};

function acceptedAt(events: MinerEvent[], pool: string): number {
  return events.filter((e) =>
    e.type === "share" && e.pool === pool && e.outcome.status === "accepted"
  ).length;
}

Deno.test("Miner survives a pool restart and keeps mining", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 2_000_000n });
  let stack = startPool(devnet, { difficulty: 200_000n });
  const port = stack.port;
  const events: MinerEvent[] = [];
  const miner = new Miner({ ...FAST, pools: [stack.url], onEvent: (e) => events.push(e) });
  try {
    await miner.start();
    await waitFor(() => acceptedAt(events, stack.url) >= 1, 60_000, "a share before the restart");
    await stack.stop();
    await waitFor(() => miner.stats().pool === undefined, 60_000, "the disconnect");
    const before = acceptedAt(events, stack.url);
    stack = startPool(devnet, { port, difficulty: 200_000n });
    await waitFor(
      () => acceptedAt(events, stack.url) > before,
      60_000,
      "a share after the restart",
    );
    assert.ok(miner.stats().connections >= 2);
    assert.equal(miner.stats().rejected, 0);
  } finally {
    await miner.stop();
    await stack.stop();
    await devnet.stop();
  }
  assert.ok(events.some((e) => e.type === "disconnected"));
});

Deno.test("Miner fails over to a second pool and back to the first", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 2_000_000n });
  let first = startPool(devnet, { difficulty: 200_000n });
  const second = startPool(devnet, { difficulty: 200_000n });
  const port = first.port;
  const events: MinerEvent[] = [];
  const miner = new Miner({
    ...FAST,
    pools: [first.url, second.url],
    onEvent: (e) => events.push(e),
  });
  try {
    await miner.start();
    await waitFor(() => acceptedAt(events, first.url) >= 1, 60_000, "a share at the first pool");
    assert.equal(miner.stats().poolIndex, 0);
    await first.stop();
    await waitFor(() => miner.stats().poolIndex === 1, 60_000, "fail-over");
    await waitFor(() => acceptedAt(events, second.url) >= 1, 60_000, "a share at the second pool");
    const before = acceptedAt(events, first.url);
    first = startPool(devnet, { port, difficulty: 200_000n });
    await waitFor(() => miner.stats().poolIndex === 0, 60_000, "fail-back");
    await waitFor(() => acceptedAt(events, first.url) > before, 60_000, "a share after fail-back");
    await waitFor(() => second.pool.sessionCount === 0, 60_000, "the second pool released");
  } finally {
    await miner.stop();
    await first.stop();
    await second.stop();
    await devnet.stop();
  }
  const connected = events.flatMap((e) => e.type === "connected" ? [e.index] : []);
  assert.deepEqual(connected, [0, 1, 0]);
});
