/**
 * Sample shares and blocks for store tests.
 *
 * @module
 */
import type { NewBlock, Share } from "../../store/mod.ts";

let counter = 0;

/** A 24-byte hash unique within this process (and random enough across processes). */
export function uniqueHash(): Uint8Array {
  const h = crypto.getRandomValues(new Uint8Array(24));
  new DataView(h.buffer).setUint32(0, counter++);
  return h;
}

/** A valid share; fields can be overridden. */
export function sampleShare(overrides: Partial<Share> = {}): Share {
  return {
    instance: 0,
    address: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX",
    worker: "rig1",
    jobId: "1a",
    difficulty: 1000n,
    networkDifficulty: 1_000_000n,
    height: 100,
    time: 1_700_000_000_000,
    hash: uniqueHash(),
    solo: false,
    ...overrides,
  };
}

/** A valid block; fields can be overridden. */
export function sampleBlock(overrides: Partial<NewBlock> = {}): NewBlock {
  return {
    instance: 0,
    height: 100,
    hash: uniqueHash(),
    address: "V5Ujv72h4jEBcKnALGc4fKqs6CDAPX",
    worker: "rig1",
    networkDifficulty: 1_000_000n,
    time: 1_700_000_000_000,
    ...overrides,
  };
}
