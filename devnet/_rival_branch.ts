/**
 * The rival's private (withheld) branch: blocks it has found but not yet handed to the node,
 * and what a child of the branch's newest block must carry. The node's chain knows only
 * published blocks, so the child's difficulty bits (the LWMA over the main chain up to the fork
 * plus the private blocks) and keystone fields are computed here the way
 * {@linkcode DevnetChain.childTemplate} computes them; the chain checks them again when the
 * branch is published.
 *
 * @module
 */

import { decodeBits, difficultyToTarget, encodeBits } from "../hash/difficulty.ts";
import { decodeHeader, keystoneHeights } from "../hash/header.ts";
import type { VblakeKernel } from "../hash/kernel.ts";
import type { ChildTemplate, DevnetBlock, DevnetChain } from "./chain.ts";
import { type LwmaBlock, lwmaNextDifficulty } from "./difficulty.ts";

/** A block the rival holds back. */
export interface PrivateBlock extends LwmaBlock {
  /** The 64 header bytes. */
  header: Uint8Array;
  /** Full 24-byte hash. */
  hash: Uint8Array;
  /** Compact difficulty bits. */
  bits: number;
}

/** A withheld branch forked from a main-chain block. */
export interface PrivateBranch {
  /** The public block the branch builds on. */
  fork: DevnetBlock;
  /** The withheld blocks, lowest first. */
  blocks: PrivateBlock[];
}

/**
 * What a child of some block must carry (everything but merkle root, time and nonce), without
 * the parent block itself (a withheld parent is not a chain block) but with its timestamp.
 */
export type BranchChild = Omit<ChildTemplate, "parent"> & {
  /** The parent's timestamp (the child's is never earlier). */
  parentTimestamp: number;
};

const ZERO24 = new Uint8Array(24);

/**
 * Describe a solved header as a private block.
 *
 * @param header 64 header bytes with a valid proof of work.
 * @param kernel The hasher.
 * @returns The private block.
 */
export function privateBlock(header: Uint8Array, kernel: VblakeKernel): PrivateBlock {
  const fields = decodeHeader(header);
  return {
    header,
    hash: kernel.hash(header),
    height: fields.height,
    timestamp: fields.timestamp,
    bits: fields.bits,
    difficulty: decodeBits(fields.bits),
  };
}

/**
 * What the next block of a branch must carry. The fork must be on the chain's main chain.
 *
 * @param chain The node's chain.
 * @param branch The fork point and the withheld blocks.
 * @returns The child's template.
 */
export function branchChild(chain: DevnetChain, branch: PrivateBranch): BranchChild {
  const { fork, blocks } = branch;
  const last = blocks.at(-1);
  if (last === undefined) {
    const child = chain.childTemplate(fork);
    return { ...child, parentTimestamp: fork.timestamp };
  }
  const height = last.height + 1;
  const hashAt = (h: number): Uint8Array =>
    h <= fork.height ? chain.blockAt(h)!.hash : blocks[h - fork.height - 1]!.hash;
  const ks = keystoneHeights(height);
  const { window, blockTime, minDifficulty } = chain.params;
  const history: LwmaBlock[] = [];
  for (let h = Math.max(0, fork.height - (window - blocks.length) + 1); h <= fork.height; h++) {
    history.push(chain.blockAt(h)!);
  }
  history.push(...blocks);
  const bits = encodeBits(
    lwmaNextDifficulty(history, { window, blockTime, minimum: minDifficulty }),
  );
  const difficulty = decodeBits(bits);
  return {
    height,
    previousBlockHash: last.hash,
    previousKeystoneHash: ks.first === null ? ZERO24 : hashAt(ks.first),
    secondKeystoneHash: ks.second === null ? ZERO24 : hashAt(ks.second),
    bits,
    difficulty,
    target: difficultyToTarget(difficulty),
    parentTimestamp: last.timestamp,
  };
}
