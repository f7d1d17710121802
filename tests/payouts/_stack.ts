/**
 * Test stack for the payout service: a devnet with its HTTP API (the wallet), a SQLite store, the
 * NodeCore client, and a UCP client that mines blocks for the pool address (so coinbases fund
 * the pool wallet), plus helpers that record found blocks and shares as the pool would.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Devnet,
  type DevnetBlock,
  type DevnetOptions,
  startDevnet,
} from "../../devnet/mod.ts";
import { NodeCoreRpc } from "../../payouts/mod.ts";
import type { UcpMiningJob } from "../../protocol/ucp_types.ts";
import { type NewBlock, openStore, type Share, type Store } from "../../store/mod.ts";
import { UcpTestClient } from "../devnet/_ucp_client.ts";
import { freshPostgresDatabase, POSTGRES_URL } from "../store/_backends.ts";

/** The pool's address (MINING_AUTH username; the coinbase pays it). */
export const POOL = "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C";
/** Miner addresses. */
export const A = "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX";
export const B = "V7TMHDQC8myywuGbQs5ADTrk14fajz";
export const C = "VCea32PtTGh7qDEXp9KFh1xGx9USvh";
/** The fee address. */
export const FEE = "V2C86eV6xi1uPykYPNnP8nWwu9GJxf";
/** 1 VBK. */
export const VBK = 100_000_000n;

/** A running stack. */
export interface PayoutStack {
  devnet: Devnet;
  store: Store;
  rpc: NodeCoreRpc;
  url: string;
  dir: string;
  /** What `openStore` (and `VBKPOOL_STORE_URL`) takes. */
  storeLocation: string;
  /** Mine `n` blocks for the pool over UCP; returns them. */
  minePool(n?: number): Promise<DevnetBlock[]>;
  /** Mine `n` blocks over UCP logged in as `address` (their coinbase pays it); returns them. */
  mineAs(address: string, n?: number): Promise<DevnetBlock[]>;
  /**
   * Record a devnet block as found by the pool (at `time`): `pending`, found by A, unless
   * `fields` say otherwise (e.g. a `submitted` candidate with a note, a SOLO block).
   */
  recordFound(block: FoundBlock, time: number, fields?: Partial<NewBlock>): Promise<void>;
  /** Record a share (`solo`: accepted on a SOLO port). */
  share(
    address: string,
    difficulty: bigint,
    networkDifficulty: bigint,
    time: number,
    options?: { solo?: boolean },
  ): Promise<void>;
}

/** What {@linkcode PayoutStack.recordFound} needs of a block. */
export type FoundBlock = Pick<DevnetBlock, "height" | "hash" | "difficulty">;

/**
 * A block candidate that no chain holds: a random hash at `height` (as if the pool had written
 * a candidate NodeCore never took).
 *
 * @param height Its height.
 * @returns The block.
 */
export function phantomBlock(height: number): FoundBlock {
  return { height, hash: crypto.getRandomValues(new Uint8Array(24)), difficulty: 2000n };
}

/**
 * One test per store backend (PostgreSQL when VBKPOOL_TEST_POSTGRES_URL is set).
 *
 * @param name Test name (the backend is appended).
 * @param fn The test.
 * @param options Devnet settings.
 */
export function stackTest(
  name: string,
  fn: (s: PayoutStack) => Promise<void>,
  options: DevnetOptions = {},
): void {
  for (const backend of STACK_BACKENDS) {
    Deno.test({
      name: `${name} (${backend.name})`,
      ignore: backend.ignore,
      fn: () => withStack(fn, options, backend.name),
    });
  }
}

let hashCounter = 0;

/**
 * Credit balances through a (made-up) confirmed block, as the unlocker would.
 *
 * @param store The pool's store.
 * @param amounts Atomic units per address.
 */
export async function creditBalances(
  store: Store,
  amounts: Record<string, bigint>,
): Promise<void> {
  const hash = crypto.getRandomValues(new Uint8Array(24));
  await store.recordBlock({
    instance: 0,
    height: 1,
    hash,
    address: A,
    worker: "",
    networkDifficulty: 1n,
    time: Date.now(),
  });
  const credits = Object.entries(amounts).map(([address, amount]) => ({
    address,
    amount,
    reason: "share" as const,
  }));
  const reward = credits.reduce((s, c) => s + c.amount, 0n);
  assert.ok(await store.payouts.creditBlock(hash, { reward, confirmations: 1, credits }));
}

/** The store backends the payout tests run on: SQLite always, PostgreSQL when configured. */
export const STACK_BACKENDS: readonly { name: "sqlite" | "postgres"; ignore: boolean }[] = [
  { name: "sqlite", ignore: false },
  { name: "postgres", ignore: POSTGRES_URL === undefined },
];

/** Run `fn` with a fresh stack. */
export async function withStack(
  fn: (s: PayoutStack) => Promise<void>,
  options: DevnetOptions = {},
  backend: "sqlite" | "postgres" = "sqlite",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-payouts-" });
  const pg = backend === "postgres" ? await freshPostgresDatabase() : undefined;
  const storeLocation = pg?.url ?? `${dir}/pool.sqlite`;
  const devnet = await startDevnet({
    port: 0,
    rpcPort: 0,
    minDifficulty: 2000n,
    mempoolIntervalMs: 0,
    ...options,
  });
  const store = await openStore(storeLocation, { thread: false, synchronous: "normal" });
  const url = `http://127.0.0.1:${devnet.rpcAddr!.port}/api`;
  const clients = new Map<string, UcpTestClient>();
  const clientFor = async (address: string): Promise<UcpTestClient> => {
    let client = clients.get(address);
    if (client === undefined) {
      client = await UcpTestClient.connect(devnet.addr.port);
      clients.set(address, client);
      await client.login(address);
    }
    return client;
  };
  const latest = async (client: UcpTestClient): Promise<UcpMiningJob> => {
    let job: UcpMiningJob | undefined;
    await client.until(() => {
      const jobs = client.messages.filter((m) => m.command === "MINING_JOB") as UcpMiningJob[];
      job = jobs.at(-1);
      const tip = devnet.chain.tip.hash;
      return job !== undefined && job.blockIndex === devnet.chain.height + 1 &&
        job.previousBlockHash.every((b, i) => b === tip[i]);
    }, "a job on the tip");
    return job!;
  };
  const mineAs = async (address: string, n = 1): Promise<DevnetBlock[]> => {
    const client = await clientFor(address);
    const out: DevnetBlock[] = [];
    for (let i = 0; i < n; i++) {
      const reply = await client.mine(await latest(client));
      assert.equal(reply.command, "MINING_SUBMIT_SUCCESS", JSON.stringify(reply));
      out.push(devnet.chain.tip);
    }
    return out;
  };
  const stack: PayoutStack = {
    devnet,
    store,
    url,
    dir,
    storeLocation,
    rpc: new NodeCoreRpc({ url, timeoutMs: 5000 }),
    minePool: (n) => mineAs(POOL, n),
    mineAs,
    async recordFound(block, time, fields = {}) {
      const result = await store.recordBlock({
        instance: 0,
        height: block.height,
        hash: block.hash,
        address: A,
        worker: "rig",
        networkDifficulty: block.difficulty,
        time,
        ...fields,
      });
      assert.equal(result.inserted, true);
    },
    async share(address, difficulty, networkDifficulty, time, options = {}) {
      const hash = crypto.getRandomValues(new Uint8Array(24));
      new DataView(hash.buffer).setUint32(0, hashCounter++);
      const s: Share = {
        instance: 0,
        address,
        worker: "rig",
        jobId: "1",
        difficulty,
        networkDifficulty,
        height: 1,
        time,
        hash,
        solo: options.solo === true,
      };
      await store.recordShare(s);
    },
  };
  try {
    await fn(stack);
  } finally {
    for (const client of clients.values()) await client.close();
    await devnet.stop();
    await store.close();
    await pg?.drop();
    await Deno.remove(dir, { recursive: true });
  }
}
