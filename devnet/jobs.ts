/**
 * The devnet's job book: each template it hands out (a block to build on plus a transaction
 * set) gets a job id; recent jobs are kept so a late submit gets a clear "stale" answer.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import type { UcpJobTemplate } from "../protocol/ucp_server_session.ts";
import type { ChildTemplate, DevnetBlock } from "./chain.ts";
import type { MempoolRoots } from "./mempool.ts";

/** A devnet job: the UCP template plus what the devnet needs to check a submit. */
export interface DevnetJob extends UcpJobTemplate {
  /** The block this job builds on. */
  parent: DevnetBlock;
  /** Network target of the block. */
  target: bigint;
  /** When the job was made (ms). */
  createdAt: number;
}

/** Options for {@linkcode JobBook}. */
export interface JobBookOptions {
  /** Jobs remembered for stale answers. @default 64 */
  keep?: number;
  /** First job id. @default 1 */
  firstJobId?: number;
  /** Header version of new blocks. @default 2 */
  version?: number;
  /** `miner_comment` of every job. @default "vbkpool devnet" */
  minerComment?: string;
}

const INT31_MAX = 0x7fffffff;
const ENCODER = new TextEncoder();

function digest(...parts: (Uint8Array | string | number)[]): Uint8Array {
  const chunks = parts.map((p) =>
    typeof p === "string"
      ? ENCODER.encode(p)
      : typeof p === "number"
      ? new Uint8Array(new Uint32Array([p >>> 0]).buffer)
      : p
  );
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return sha256(all);
}

/**
 * Job ids and recent jobs.
 *
 * @example Usage
 * ```ts
 * import { JobBook } from "./jobs.ts";
 * import { createGenesis, DevnetChain } from "./chain.ts";
 * import { createBestKernel } from "../hash/kernel.ts";
 * import assert from "node:assert/strict";
 *
 * const kernel = createBestKernel();
 * const params = { blockTime: 10, window: 100, minDifficulty: 50n };
 * const chain = new DevnetChain(await createGenesis(params, { kernel }), params, { kernel });
 * const roots = { popRoot: new Uint8Array(32), normalRoot: new Uint8Array(32) };
 * const book = new JobBook();
 * const job = book.create(chain.childTemplate(), roots);
 * assert.equal(job.blockIndex, 1);
 * assert.equal(book.get(job.jobId), job);
 * assert.equal(book.create(chain.childTemplate(), roots).jobId, job.jobId + 1);
 * ```
 */
export class JobBook {
  #jobs = new Map<number, DevnetJob>();
  #keep: number;
  #nextId: number;
  #version: number;
  #comment: string;
  #current: DevnetJob | undefined;

  /**
   * @param options Retention, first id, version, comment.
   */
  constructor(options: JobBookOptions = {}) {
    this.#keep = Math.max(1, options.keep ?? 64);
    this.#nextId = options.firstJobId ?? 1;
    this.#version = options.version ?? 2;
    this.#comment = options.minerComment ?? "vbkpool devnet";
  }

  /** The newest job. */
  get current(): DevnetJob | undefined {
    return this.#current;
  }

  /**
   * Make a job for a child of `child.parent` with the given transaction roots.
   *
   * @param child What the block must carry (from `DevnetChain.childTemplate`).
   * @param roots Transaction roots.
   * @param now Current time in ms. @default Date.now()
   * @returns The new job (also the current one).
   */
  create(child: ChildTemplate, roots: MempoolRoots, now: number = Date.now()): DevnetJob {
    const jobId = this.#nextId;
    this.#nextId = jobId >= INT31_MAX ? 1 : jobId + 1;
    const height = child.height;
    const ledgerHash = digest("ledger", child.parent.hash).slice(0, 24);
    const coinbaseTxid = digest("coinbase", height, roots.normalRoot);
    const popDatastoreHash = digest("pop-datastore", height, roots.popRoot);
    const job: DevnetJob = {
      jobId,
      blockIndex: height,
      blockVersion: this.#version,
      previousBlockHash: child.previousBlockHash,
      secondPreviousBlockHash: child.previousKeystoneHash,
      thirdPreviousBlockHash: child.secondKeystoneHash,
      timestamp: Math.max(Math.floor(now / 1000), child.parent.timestamp),
      difficulty: child.bits,
      ledgerHash,
      coinbaseTxid,
      popDatastoreHash,
      minerComment: this.#comment,
      popTransactionMerkleRoot: roots.popRoot,
      normalTransactionMerkleRoot: roots.normalRoot,
      intermediateMetapackageHash: digest(
        "metapackage",
        coinbaseTxid,
        ledgerHash,
        popDatastoreHash,
      ),
      parent: child.parent,
      target: child.target,
      createdAt: now,
    };
    this.#jobs.set(jobId, job);
    if (this.#jobs.size > this.#keep) {
      this.#jobs.delete(this.#jobs.keys().next().value!);
    }
    this.#current = job;
    return job;
  }

  /**
   * A remembered job.
   *
   * @param jobId The id from a submit.
   * @returns The job, or `undefined` when unknown or forgotten.
   */
  get(jobId: number): DevnetJob | undefined {
    return this.#jobs.get(jobId);
  }
}
