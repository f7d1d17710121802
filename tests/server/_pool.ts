/**
 * Test helpers for the pool: templates (from the stratum_share vector or made up), a pool on
 * loopback port 0, and a miner-side share search over notify params.
 *
 * @module
 */

import { difficultyToTarget } from "../../hash/difficulty.ts";
import { hexToBytes } from "../../hash/hex.ts";
import { createWasmKernel } from "../../hash/kernel.ts";
import { headerMerkleRoot } from "../../hash/merkle.ts";
import type { BlockSubmission, Template } from "../../server/upstream.ts";
import { Pool, type PoolOptions } from "../../server/pool.ts";
import { DEFAULT_PORT_DIFFICULTY, type StratumPortOptions } from "../../server/stratum_port.ts";

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/vectors.json", import.meta.url)),
);

/** The stratum_share vector. */
export const SHARE_VECTOR = vectors.stratum_share as {
  notify: unknown[];
  extranonce: string;
  work: { ntime: string; nonce: string; header: string; hash: string }[];
  submit: string[];
};

/** Valid VeriBlock addresses from the vectors. */
export const ADDRESSES = vectors.addresses.valid_standard as string[];

/** An address that fails its checksum. */
export const BAD_ADDRESS = vectors.addresses.invalid[0] as string;

function pad24(hex: string): Uint8Array {
  return hexToBytes(hex.padStart(48, "0"));
}

/** The vector's notify as a Template (previous hashes padded to 24 bytes on the left). */
export function vectorTemplate(overrides: Partial<Template> = {}): Template {
  const n = SHARE_VECTOR.notify;
  const [m0, m1, m2] = n[6] as string[];
  return {
    upstreamJobId: 42,
    kind: "job",
    height: parseInt(n[1] as string, 16),
    version: parseInt(n[2] as string, 16),
    previousBlockHash: pad24(n[3] as string),
    previousKeystoneHash: pad24(n[4] as string),
    secondKeystoneHash: pad24(n[5] as string),
    popRoot: hexToBytes(m0!),
    normalRoot: hexToBytes(m1!),
    metapackageHash: hexToBytes(m2!),
    timestamp: parseInt(n[7] as string, 16),
    bits: parseInt(n[8] as string, 16),
    poolAddress: ADDRESSES[3]!,
    extraNonceStart: 0n,
    extraNonceEnd: 0n,
    endpoint: "test",
    receivedAt: Date.now(),
    ...overrides,
  };
}

/** A template whose time is now and whose previous block is `seed` repeated. */
export function freshTemplate(seed: number, overrides: Partial<Template> = {}): Template {
  return vectorTemplate({
    previousBlockHash: new Uint8Array(24).fill(seed),
    timestamp: Math.floor(Date.now() / 1000) - 5,
    ...overrides,
  });
}

/** A port on 127.0.0.1:0 with the given difficulty settings. */
export function testPort(overrides: Partial<StratumPortOptions> = {}): StratumPortOptions {
  return { ...DEFAULT_PORT_DIFFICULTY, hostname: "127.0.0.1", port: 0, ...overrides };
}

/** Block submissions a test pool received. */
export interface SubmittedBlocks {
  list: BlockSubmission[];
}

/** Start a pool on loopback with test-friendly defaults (no vardiff timer, no bans). */
export function startPool(
  options: Partial<PoolOptions> = {},
): { pool: Pool; port: (i?: number) => number; blocks: SubmittedBlocks } {
  const blocks: SubmittedBlocks = { list: [] };
  const pool = Pool.start({
    ports: [testPort()],
    upstream: {
      submitBlock: (s) => {
        blocks.list.push(s);
        return Promise.resolve({ accepted: true, endpoint: "test" });
      },
    },
    vardiffTickMs: 0,
    bans: { enabled: false },
    ...options,
  });
  return { pool, port: (i = 0) => pool.servers[i]!.addr.port, blocks };
}

const kernel = createWasmKernel();

/** What a miner needs from a notify to build headers. */
export function headerFromNotify(
  params: unknown[],
  extranonce: bigint,
  ntime: number,
  nonce = 0,
): Uint8Array {
  const [m0, m1, m2] = params[6] as string[];
  const root = headerMerkleRoot({
    popRoot: hexToBytes(m0!),
    normalRoot: hexToBytes(m1!),
    metapackageHash: hexToBytes(m2!),
  }, extranonce);
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, parseInt(params[1] as string, 16));
  view.setUint16(4, parseInt(params[2] as string, 16));
  header.set(hexToBytes(params[3] as string), 6);
  header.set(hexToBytes(params[4] as string), 18);
  header.set(hexToBytes(params[5] as string), 27);
  header.set(root.subarray(0, 16), 36);
  view.setUint32(52, ntime);
  view.setUint32(56, parseInt(params[8] as string, 16));
  view.setUint32(60, nonce);
  return header;
}

/** Find nonces (from `startNonce`) whose hash meets `difficulty` for a notify. */
export function mine(
  params: unknown[],
  extranonce: bigint,
  options: { ntime: number; difficulty: bigint; startNonce?: number; count?: number },
): number[] {
  const header = headerFromNotify(params, extranonce, options.ntime);
  return kernel.scan(header, {
    startNonce: options.startNonce ?? 0,
    count: options.count ?? 1 << 20,
    target: difficultyToTarget(options.difficulty),
    maxResults: 16,
  }).nonces;
}

/** Hash a header with the test kernel. */
export function hashHeader(header: Uint8Array): Uint8Array {
  return kernel.hash(header);
}

/** 8 lower-case hex chars. */
export function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

/** 16 lower-case hex chars. */
export function hex16(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}
