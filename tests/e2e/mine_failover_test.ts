/**
 * End to end: the miner against real pools on a devnet survives a pool restart, fails over
 * to a second pool and returns to the preferred one once it is back.
 */
import assert from "node:assert/strict";
import { Miner, type MinerEvent } from "../../miner/mod.ts";
import { ADDRESS, type PoolStack, startPool, startTestDevnet } from "../miner/_stack.ts";
import { waitFor } from "../miner/_fake_pool.ts";
import { TcpProxy } from "../store/_tcp_proxy.ts";

const FAST = {
  user: `${ADDRESS}.failover`,
  threads: 1,
  backoffMinMs: 50,
  backoffMaxMs: 400,
  failbackMs: 300,
};

/**
 * A pool's fixed address across restarts: a proxy that holds its own port (bound to port 0) and
 * forwards to the current pool, closing every connection while the pool is down. Restarting a
 * pool on the port it gave up would race with any other socket that takes it meanwhile.
 */
class Gate {
  #proxy: TcpProxy;

  constructor(stack: PoolStack) {
    this.#proxy = new TcpProxy({ hostname: "127.0.0.1", port: stack.port });
  }

  /** `stratum+tcp://127.0.0.1:PORT` of the gate. */
  get url(): string {
    return `stratum+tcp://127.0.0.1:${this.#proxy.port}`;
  }

  /** The pool goes away: connections are closed, new ones closed at once. */
  async down(stack: PoolStack): Promise<void> {
    this.#proxy.cut();
    await stack.stop();
  }

  /** A (new) pool is behind the gate. */
  up(stack: PoolStack): PoolStack {
    this.#proxy.retarget({ hostname: "127.0.0.1", port: stack.port });
    this.#proxy.restore();
    return stack;
  }

  close(): Promise<void> {
    return this.#proxy.close();
  }
}

function acceptedAt(events: MinerEvent[], pool: string): number {
  return events.filter((e) =>
    e.type === "share" && e.pool === pool && e.outcome.status === "accepted"
  ).length;
}

Deno.test("Miner survives a pool restart and keeps mining", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 2_000_000n });
  let stack = startPool(devnet, { difficulty: 200_000n });
  const gate = new Gate(stack);
  const events: MinerEvent[] = [];
  const miner = new Miner({ ...FAST, pools: [gate.url], onEvent: (e) => events.push(e) });
  try {
    await miner.start();
    await waitFor(() => acceptedAt(events, gate.url) >= 1, 60_000, "a share before the restart");
    await gate.down(stack);
    await waitFor(() => miner.stats().pool === undefined, 60_000, "the disconnect");
    const before = acceptedAt(events, gate.url);
    stack = gate.up(startPool(devnet, { difficulty: 200_000n }));
    await waitFor(
      () => acceptedAt(events, gate.url) > before,
      60_000,
      "a share after the restart",
    );
    assert.ok(miner.stats().connections >= 2);
    assert.equal(miner.stats().rejected, 0);
  } finally {
    await miner.stop();
    await stack.stop();
    await gate.close();
    await devnet.stop();
  }
  assert.ok(events.some((e) => e.type === "disconnected"));
});

Deno.test("Miner fails over to a second pool and back to the first", async () => {
  const devnet = await startTestDevnet({ minDifficulty: 2_000_000n });
  let first = startPool(devnet, { difficulty: 200_000n });
  const second = startPool(devnet, { difficulty: 200_000n });
  const gate = new Gate(first);
  const events: MinerEvent[] = [];
  const miner = new Miner({
    ...FAST,
    pools: [gate.url, second.url],
    onEvent: (e) => events.push(e),
  });
  try {
    await miner.start();
    await waitFor(() => acceptedAt(events, gate.url) >= 1, 60_000, "a share at the first pool");
    assert.equal(miner.stats().poolIndex, 0);
    await gate.down(first);
    await waitFor(() => miner.stats().poolIndex === 1, 60_000, "fail-over");
    await waitFor(() => acceptedAt(events, second.url) >= 1, 60_000, "a share at the second pool");
    const before = acceptedAt(events, gate.url);
    first = gate.up(startPool(devnet, { difficulty: 200_000n }));
    await waitFor(() => miner.stats().poolIndex === 0, 60_000, "fail-back");
    await waitFor(() => acceptedAt(events, gate.url) > before, 60_000, "a share after fail-back");
    await waitFor(() => second.pool.sessionCount === 0, 60_000, "the second pool released");
  } finally {
    await miner.stop();
    await first.stop();
    await second.stop();
    await gate.close();
    await devnet.stop();
  }
  const connected = events.flatMap((e) => e.type === "connected" ? [e.index] : []);
  assert.deepEqual(connected, [0, 1, 0]);
});
