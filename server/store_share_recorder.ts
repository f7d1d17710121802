/**
 * The database {@linkcode ShareRecorder}: each accepted share goes to the store's group commit,
 * and the session answers the miner `true` only after the transaction holding it committed.
 *
 * @module
 */
import { hexToBytes } from "../hash/hex.ts";
import type { Store } from "../store/mod.ts";
import type { AcceptedShare, ShareRecorder } from "./share_recorder.ts";

const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUES["0123456789abcdef".charCodeAt(i)] = i;
  HEX_VALUES["0123456789ABCDEF".charCodeAt(i)] = i;
}

/**
 * Where the share's hash is decoded: the store copies it before `recordShare` returns, so one
 * buffer serves every share (a new Uint8Array costs ~0.7 µs in V8).
 */
const HASH_SCRATCH = new Uint8Array(24);

/** The share's hash as bytes: a lookup-table decoder for the validator's hex (once per share). */
function hashBytes(hex: string): Uint8Array {
  if (hex.length !== 2 * HASH_SCRATCH.length) return hexToBytes(hex); // the store's length error
  const out = HASH_SCRATCH;
  for (let i = 0; i < out.length; i++) {
    const hi = HEX_VALUES[hex.charCodeAt(2 * i)] ?? -1;
    const lo = HEX_VALUES[hex.charCodeAt(2 * i + 1)] ?? -1;
    if (hi < 0 || lo < 0) return hexToBytes(hex);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Options for {@linkcode StoreShareRecorder}. */
export interface StoreShareRecorderOptions {
  /** This pool instance's id (the extranonce prefix), stored with every share. */
  instance: number;
}

/**
 * Records accepted shares in a {@linkcode Store}.
 *
 * @example Usage
 * ```ts
 * import { StoreShareRecorder } from "./store_share_recorder.ts";
 * import { openStore } from "../store/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = await openStore(`${dir}/pool.sqlite`, { thread: false });
 * const recorder = new StoreShareRecorder(store, { instance: 31 });
 * await recorder.record({
 *   at: 1, connectionId: 1, ip: "127.0.0.1", port: 3333, worker: "V1.rig", address: "V1",
 *   workerName: "rig", jobId: "1", upstreamJobId: 7, height: 10, extranonce: 1n, ntime: 0,
 *   nonce: 0, hash: "ab".repeat(24), difficulty: 64n, achievedDifficulty: 100n,
 *   networkDifficulty: 1000n, block: false, solo: false,
 * });
 * assert.equal(await store.countShares(), 1);
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class StoreShareRecorder implements ShareRecorder {
  #store: Store;
  #instance: number;

  /**
   * @param store Where shares go.
   * @param options The instance id.
   */
  constructor(store: Store, options: StoreShareRecorderOptions) {
    this.#store = store;
    this.#instance = options.instance;
  }

  /**
   * Make a share durable.
   *
   * @param share The accepted share.
   * @returns Resolves after the commit.
   * @throws {Error} (as a rejection) when the store refuses or fails the commit
   *   (`StoreUnavailableError`).
   */
  record(share: AcceptedShare): Promise<void> {
    try {
      return this.#store.recordShare({
        instance: this.#instance,
        address: share.address,
        worker: share.workerName,
        jobId: share.jobId,
        difficulty: share.difficulty,
        networkDifficulty: share.networkDifficulty,
        height: share.height,
        time: share.at,
        hash: hashBytes(share.hash),
        solo: share.solo,
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }
}
