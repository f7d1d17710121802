/**
 * A whole pool for miner end-to-end tests and benchmarks: an embedded devnet (a real vBlake
 * chain served over UCP on loopback), the pool's upstream client and the pool's Stratum port,
 * wired as `vbkpool server` wires them.
 *
 * @module
 */
import { type Devnet, type DevnetOptions, startDevnet } from "../../devnet/mod.ts";
import { DEFAULT_PORT_DIFFICULTY, Pool } from "../../server/mod.ts";
import { Upstream } from "../../server/upstream.ts";

/** A valid VeriBlock address for the pool and the miners. */
export const ADDRESS = "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d";

/** Options for {@linkcode startPool}. */
export interface PoolStackOptions {
  /** Stratum port (0: any). */
  port?: number;
  /** Fixed share difficulty (vardiff off). @default 1_048_576n */
  difficulty?: bigint;
}

/** A pool on top of a devnet. */
export interface PoolStack {
  /** The pool. */
  pool: Pool;
  /** Its upstream client. */
  upstream: Upstream;
  /** `stratum+tcp://127.0.0.1:PORT`. */
  url: string;
  /** The Stratum port. */
  port: number;
  /** Stop the pool and its upstream (not the devnet). */
  stop(): Promise<void>;
}

/**
 * Start a devnet for pools to mine on.
 *
 * @param options Devnet options (port 0 and no mempool timer by default).
 * @returns The devnet.
 */
export function startTestDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  return startDevnet({ port: 0, mempoolIntervalMs: 0, ...options });
}

/**
 * Start a pool whose upstream is `devnet`.
 *
 * @param devnet The devnet.
 * @param options Port and share difficulty.
 * @returns The running pool.
 */
export function startPool(devnet: Devnet, options: PoolStackOptions = {}): PoolStack {
  const pool: Pool = Pool.start({
    ports: [{
      ...DEFAULT_PORT_DIFFICULTY,
      hostname: "127.0.0.1",
      port: options.port ?? 0,
      difficulty: options.difficulty ?? 1_048_576n,
      minDifficulty: 1n,
      vardiff: false,
    }],
    upstream: { submitBlock: (submission) => upstream.submitBlock(submission) },
    vardiffTickMs: 0,
  });
  const upstream = new Upstream({
    endpoints: [`127.0.0.1:${devnet.addr.port}`],
    address: ADDRESS,
    backoffMinMs: 50,
    backoffMaxMs: 500,
    onTemplate: (t) => pool.addTemplate(t),
    onReset: () => pool.reset(),
  });
  upstream.start();
  const port = pool.servers[0]!.addr.port;
  return {
    pool,
    upstream,
    port,
    url: `stratum+tcp://127.0.0.1:${port}`,
    async stop() {
      await pool.stop({ graceMs: 1000 });
      await upstream.stop();
    },
  };
}
