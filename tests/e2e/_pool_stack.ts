/**
 * End-to-end helper: a devnet (a real vBlake chain over UCP on loopback), the pool's Upstream
 * client connected to it, and a Pool, wired as `vbkpool server` wires them.
 *
 * @module
 */

import { type Devnet, type DevnetOptions, startDevnet } from "../../devnet/mod.ts";
import type { PoolEvent } from "../../server/events.ts";
import { Pool, type PoolOptions } from "../../server/pool.ts";
import { Upstream } from "../../server/upstream.ts";
import { waitUntil } from "../_wait.ts";

/** The pool's own address (MINING_AUTH). */
export const POOL_ADDRESS = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";

/** A running devnet + upstream + pool. */
export interface PoolStack {
  devnet: Devnet;
  upstream: Upstream;
  pool: Pool;
  events: PoolEvent[];
  port: number;
  stop(): Promise<void>;
}

/** Start the stack and wait until the pool has its first job. */
export async function startPoolStack(
  poolOptions: Omit<PoolOptions, "upstream">,
  devnetOptions: DevnetOptions = {},
): Promise<PoolStack> {
  const devnet = await startDevnet({
    port: 0,
    mempoolIntervalMs: 0,
    minDifficulty: 20_000n,
    ...devnetOptions,
  });
  const ref: { pool?: Pool } = {};
  const upstream = new Upstream({
    endpoints: [`127.0.0.1:${devnet.addr.port}`],
    address: POOL_ADDRESS,
    backoffMinMs: 50,
    backoffMaxMs: 500,
    onTemplate: (t) => ref.pool?.addTemplate(t),
    onReset: () => ref.pool?.reset(),
  });
  const pool = Pool.start({ vardiffTickMs: 0, ...poolOptions, upstream });
  ref.pool = pool;
  const events: PoolEvent[] = [];
  pool.events.subscribe((e) => events.push(e));
  upstream.start();
  await waitUntil(() => pool.jobs.current !== undefined, "a job from the devnet", 60_000);
  return {
    devnet,
    upstream,
    pool,
    events,
    port: pool.servers[0]!.addr.port,
    async stop() {
      await pool.stop();
      await upstream.stop();
      await devnet.stop();
    },
  };
}
