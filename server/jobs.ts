/**
 * Jobs: NodeCore templates turned into Stratum jobs with our own ids. Every job of the current
 * previous block stays valid until the previous block changes; then all are dropped at once and
 * the next job carries `clean_jobs = true`. A mempool update (or a new job on the same block)
 * makes a job with `clean_jobs = false`. Per job, everything a share check needs is computed
 * once: the tx root, a header template, the network difficulty and target, and the encoded
 * `mining.notify` line (encoded once per job, sent to every miner as is).
 *
 * @module
 */

import { decodeBits, difficultyToTarget } from "../hash/difficulty.ts";
import { assembleHeader } from "../hash/header.ts";
import { bytesToHex } from "../hash/hex.ts";
import { merkleRootFromTxRoot, txRoot } from "../hash/merkle.ts";
import { encodeNotify } from "../protocol/stratum_encode.ts";
import type { NotifyJob } from "../protocol/stratum_types.ts";
import type { Template } from "./upstream.ts";
import { LiveKeys, WorkSeen } from "./_work_seen.ts";

/** A Stratum job. Shared by every session; treat as read-only except through the manager. */
export interface Job {
  /** Our job id (decimal string, unique per manager). */
  readonly id: string;
  /** The template it came from. */
  readonly template: Template;
  /** The notify fields, with this job's id and `cleanJobs` flag. */
  readonly notify: NotifyJob;
  /** The encoded `mining.notify` line as broadcast. */
  readonly notifyLine: string;
  /** The same job with `clean_jobs = true`, for a miner that just subscribed. */
  readonly notifyLineClean: string;
  /** {@linkcode Job.notifyLine} as UTF-8 with its "\n", encoded once for every miner. */
  readonly notifyBytes: Uint8Array;
  /** {@linkcode Job.notifyLineClean} as UTF-8 with its "\n". */
  readonly notifyBytesClean: Uint8Array;
  /** SHA-256(popRoot ‖ normalRoot), 32 bytes. */
  readonly txRoot: Uint8Array;
  /** The 64-byte header with a zero merkle root and nonce and the template's time. */
  readonly header: Uint8Array;
  /** Network difficulty decoded from the bits. */
  readonly networkDifficulty: bigint;
  /** Network target: a hash below it is a block. */
  readonly networkTarget: bigint;
  /** The full previous block hash in hex: the key of the job's round. */
  readonly previousHashKey: string;
  /** When the job was made (ms since epoch). */
  readonly createdAt: number;
  /**
   * The duplicate state of this job's work: shared by every job whose header differs only in
   * merkle root, time and nonce (same previous block, tx root, metapackage, bits…), so one header
   * is credited once however many job ids it came under.
   */
  readonly seen: WorkSeen;
  /** Per-extranonce parts, cached (see {@linkcode extranonceWork}). */
  readonly extranonces: Map<bigint, ExtranonceWork>;
  /** True once the job has been dropped (new block, reset, or evicted). */
  stale: boolean;
}

/** What a job's header needs from one extranonce. */
export interface ExtranonceWork {
  /** The first 16 bytes of the merkle root with this extranonce. */
  readonly merkle16: Uint8Array;
  /** The extranonce in hex: the first part of duplicate keys. */
  readonly key: string;
}

const ENCODER = new TextEncoder();

/**
 * Extranonces whose merkle root a job keeps (each miner reuses a few; the cache restarts when
 * full). Large enough for every miner of a big pool on the current job; a job that is no longer
 * the current one drops its cache (late shares on it recompute their root).
 */
const MAX_CACHED_EXTRANONCES = 32768;

/** Idle share keys kept by default (see {@linkcode JobManagerOptions.maxIdleKeys}). */
export const DEFAULT_MAX_IDLE_KEYS = 262_144;

/** Share keys kept over all live jobs by default (see {@linkcode JobManagerOptions.maxLiveKeys}). */
export const DEFAULT_MAX_LIVE_KEYS = 1_048_576;

/** The header fields a share cannot change, with the tx root and metapackage behind its merkle. */
function workIdentity(header: Uint8Array, tx: Uint8Array, metapackageHash: Uint8Array): string {
  return `${bytesToHex(header.subarray(0, 36))}${bytesToHex(header.subarray(56, 60))}` +
    `${bytesToHex(tx)}${bytesToHex(metapackageHash)}`;
}

/** Options for {@linkcode JobManager}. */
export interface JobManagerOptions {
  /** Most live jobs per round; the oldest is dropped beyond it. @default 64 */
  maxJobs?: number;
  /**
   * Share keys kept for work no live job uses (~100 bytes of heap each with the per-connection
   * ntime they update, so the default holds ~26 MiB): the work of a reset, of a block the chain
   * may flip back to, of a template that may come again. Beyond it the oldest such work keeps
   * only its ntime floors (see `_work_seen.ts`): a duplicate is still refused, and only a share at
   * or below its connection's floor on that work is refused as stale. The default covers every
   * key of a round that ends in a reset up to ~140 s at 19,000 miners (one share per 10 s each);
   * a million keys (the earlier default) held ~95 MiB once a busy pool had run ~20 minutes.
   * @default 262144
   */
  maxIdleKeys?: number;
  /**
   * Share keys (and per-connection floors) kept over all live jobs at once (~100 bytes each, so
   * ~100 MiB at the default). Each job's work also has its own cap (`maxSharesPerJob`), but a
   * round holds up to `maxJobs` works; beyond this budget the oldest live works keep only their
   * ntime floors (see `_work_seen.ts`), down to three quarters of it: a duplicate is still refused,
   * and only a share at or below its own connection's floor on such a work is refused as stale.
   * At 15,000 shares/s a round reaches the default after ~70 s. With the default per-job cap
   * (262,144, below three quarters of this) the newest work never gives way.
   * @default 1048576
   */
  maxLiveKeys?: number;
  /** Works remembered at most (a floor is a few hundred bytes); the oldest idle go. @default 10000 */
  maxWorks?: number;
  /** Clock (ms since epoch). @default Date.now */
  now?: () => number;
}

/**
 * Turns templates into jobs and keeps the live ones.
 *
 * @example Usage
 * ```ts
 * import { JobManager } from "./jobs.ts";
 * import assert from "node:assert/strict";
 *
 * const template = {
 *   upstreamJobId: 42, kind: "job" as const, height: 1000000, version: 2,
 *   previousBlockHash: new Uint8Array(24).fill(1), previousKeystoneHash: new Uint8Array(24),
 *   secondKeystoneHash: new Uint8Array(24), popRoot: new Uint8Array(32),
 *   normalRoot: new Uint8Array(32), metapackageHash: new Uint8Array(32),
 *   timestamp: 1560000000, bits: 0x0600e8d4, poolAddress: "", extraNonceStart: 0n,
 *   extraNonceEnd: 0n, endpoint: "127.0.0.1:8501", receivedAt: 0,
 * };
 * const jobs = new JobManager();
 * const first = jobs.add(template);
 * const update = jobs.add({ ...template, kind: "mempool_update" as const, upstreamJobId: 43 });
 * assert.equal(first.notify.cleanJobs, true);
 * assert.equal(update.notify.cleanJobs, false);
 * assert.equal(jobs.get(first.id), first); // same block: still valid
 * const next = jobs.add({ ...template, previousBlockHash: new Uint8Array(24).fill(2) });
 * assert.equal(next.notify.cleanJobs, true);
 * assert.equal(jobs.get(first.id), undefined);
 * assert.equal(first.stale, true);
 * ```
 */
export class JobManager {
  #jobs = new Map<string, Job>();
  #counter = 0;
  #round: string | undefined;
  #current: Job | undefined;
  /** Since when there has been no current job (undefined while there is one). */
  #noJobSince: number | undefined;
  #maxJobs: number;
  #maxIdleKeys: number;
  #maxWorks: number;
  #now: () => number;
  /** Duplicate state by work identity, oldest first. */
  #seen = new Map<string, WorkSeen>();
  /** Works without a live job that still hold keys, in the order they became idle. */
  #idle = new Set<WorkSeen>();
  /** Keys held by works without a live job. */
  #idleKeys = 0;
  /** Keys and floors held by works of live jobs, with their cap. */
  #live: LiveKeys;

  /**
   * Make an empty manager.
   *
   * @param options Limits and clock.
   */
  constructor(options: JobManagerOptions = {}) {
    this.#maxJobs = Math.max(1, options.maxJobs ?? 64);
    this.#maxIdleKeys = Math.max(0, options.maxIdleKeys ?? DEFAULT_MAX_IDLE_KEYS);
    this.#maxWorks = Math.max(1, options.maxWorks ?? 10_000);
    this.#live = new LiveKeys(options.maxLiveKeys ?? DEFAULT_MAX_LIVE_KEYS);
    this.#now = options.now ?? Date.now;
    this.#noJobSince = this.#now();
  }

  /**
   * Whether a template continues the current round (same previous block: a mempool update,
   * whose job {@linkcode add} makes without `clean_jobs`) rather than starting a new one.
   *
   * @param template A template that passed {@linkcode checkTemplate}.
   * @returns True for a mempool update of the block being mined.
   */
  continuesRound(template: Template): boolean {
    return this.#round !== undefined && bytesToHex(template.previousBlockHash) === this.#round;
  }

  /** The newest live job, if any. */
  get current(): Job | undefined {
    return this.#current;
  }

  /**
   * Since when the manager has had no current job (ms since epoch: its creation, or the reset
   * that dropped the last one), or undefined while it has one.
   */
  get noJobSince(): number | undefined {
    return this.#noJobSince;
  }

  /** Number of live jobs. */
  get size(): number {
    return this.#jobs.size;
  }

  /**
   * A fresh job id (for a session's re-sent job after a difficulty change).
   *
   * @returns A decimal id never returned before by this manager.
   */
  nextId(): string {
    return String(++this.#counter);
  }

  /**
   * A live job by id.
   *
   * @param id Our job id.
   * @returns The job, or undefined when unknown or dropped.
   */
  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /**
   * Make a job from a template. A new previous block hash drops every older job.
   *
   * @param template The template.
   * @returns The new job (also the current one).
   * @throws {TypeError} When a template field has the wrong type.
   * @throws {RangeError} When a field is out of range (bad lengths, bits that do not decode).
   */
  add(template: Template): Job {
    const { networkDifficulty, header, tx } = templateParts(template);
    const previousHashKey = bytesToHex(template.previousBlockHash);
    const cleanJobs = previousHashKey !== this.#round;
    const id = this.nextId();
    const notify: NotifyJob = {
      jobId: id,
      height: template.height,
      version: template.version,
      previousHash: header.slice(6, 18),
      previousKeystone: header.slice(18, 27),
      secondKeystone: header.slice(27, 36),
      popRoot: template.popRoot,
      normalRoot: template.normalRoot,
      metapackageHash: template.metapackageHash,
      timestamp: template.timestamp,
      bits: template.bits,
      cleanJobs,
    };
    const notifyLineClean = encodeNotify({ ...notify, cleanJobs: true });
    const notifyLine = cleanJobs ? notifyLineClean : encodeNotify(notify);
    const notifyBytesClean = ENCODER.encode(notifyLineClean + "\n");
    const job: Job = {
      id,
      template,
      notify,
      notifyLine,
      notifyLineClean,
      notifyBytes: cleanJobs ? notifyBytesClean : ENCODER.encode(notifyLine + "\n"),
      notifyBytesClean,
      txRoot: tx,
      header,
      networkDifficulty,
      networkTarget: difficultyToTarget(networkDifficulty),
      previousHashKey,
      createdAt: this.#now(),
      seen: this.#seenFor(workIdentity(header, tx, template.metapackageHash), previousHashKey),
      extranonces: new Map(),
      stale: false,
    };
    if (cleanJobs) this.#dropAll();
    else this.#current?.extranonces.clear();
    this.#round = previousHashKey;
    this.#jobs.set(id, job);
    this.#current = job;
    this.#noJobSince = undefined;
    while (this.#jobs.size > this.#maxJobs) {
      const oldest = this.#jobs.values().next().value;
      if (oldest === undefined) break;
      this.#drop(oldest);
      this.#jobs.delete(oldest.id);
    }
    this.#trim();
    return job;
  }

  /** The duplicate state of a work identity (remembered, or new), with one more live job. */
  #seenFor(identity: string, round: string): WorkSeen {
    let seen = this.#seen.get(identity);
    if (seen === undefined) {
      seen = new WorkSeen(round);
      this.#seen.set(identity, seen);
    } else if (seen.live === 0) {
      this.#idleKeys -= seen.size;
      this.#idle.delete(seen);
    }
    seen.round = round;
    seen.live++;
    this.#live.join(seen); // counted, and the newest: it gives way last
    return seen;
  }

  /** Mark a job stale; its work becomes idle when no other live job uses it. */
  #drop(job: Job): void {
    job.stale = true;
    const seen = job.seen;
    if (--seen.live > 0) return;
    this.#live.leave(seen);
    if (seen.size === 0) return;
    this.#idleKeys += seen.size;
    this.#idle.add(seen);
  }

  /** Keep idle keys and remembered works within their bounds, oldest first. */
  #trim(): void {
    for (const seen of this.#idle) {
      if (this.#idleKeys <= this.#maxIdleKeys) break;
      this.#idleKeys -= seen.forget();
      this.#idle.delete(seen);
    }
    for (const [identity, seen] of this.#seen) {
      if (this.#seen.size <= this.#maxWorks) break;
      if (seen.live > 0) continue;
      if (this.#idle.delete(seen)) this.#idleKeys -= seen.size;
      this.#seen.delete(identity);
    }
  }

  /** Work identities remembered, and the share keys held (for tests and metrics). */
  get seenStats(): { works: number; idleKeys: number; liveKeys: number } {
    return { works: this.#seen.size, idleKeys: this.#idleKeys, liveKeys: this.#live.held };
  }

  /**
   * Drop every job (upstream reset or failover); the next job is a clean one. Duplicate state is
   * kept: the same work may come back under new job ids.
   */
  reset(): void {
    if (this.#current !== undefined) this.#noJobSince = this.#now();
    this.#dropAll();
    this.#trim();
    this.#round = undefined;
    this.#current = undefined;
  }

  #dropAll(): void {
    for (const job of this.#jobs.values()) this.#drop(job);
    this.#jobs.clear();
  }
}

/**
 * Check that a template can become a job (the checks {@linkcode JobManager.add} makes), without
 * making one: the pool checks a template before it may hold it (a mempool update held for
 * later must not turn out unusable when its time comes, having replaced a good one).
 *
 * @example Usage
 * ```ts
 * import { checkTemplate } from "./jobs.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => checkTemplate(null as never), TypeError);
 * ```
 *
 * @param template The template.
 * @throws {TypeError} When a template field has the wrong type.
 * @throws {RangeError} When a field is out of range (bad lengths, bits that do not decode).
 */
export function checkTemplate(template: Template): void {
  templateParts(template);
}

function templateParts(
  template: Template,
): { networkDifficulty: bigint; header: Uint8Array; tx: Uint8Array } {
  if (typeof template !== "object" || template === null) {
    throw new TypeError("Cannot add job: template must be an object");
  }
  const networkDifficulty = decodeBits(template.bits);
  const header = assembleHeader({
    height: template.height,
    version: template.version,
    previousBlockHash: template.previousBlockHash,
    previousKeystoneHash: template.previousKeystoneHash,
    secondKeystoneHash: template.secondKeystoneHash,
    merkleRoot: new Uint8Array(16),
    timestamp: template.timestamp,
    bits: template.bits,
    nonce: 0,
  });
  const tx = txRoot(template.popRoot, template.normalRoot);
  if (!(template.metapackageHash instanceof Uint8Array)) {
    throw new TypeError("Cannot add job: metapackageHash must be a Uint8Array");
  }
  if (template.metapackageHash.length !== 32) {
    throw new RangeError("Cannot add job: metapackageHash must be 32 bytes");
  }
  return { networkDifficulty, header, tx };
}

/**
 * The 64-byte header a share claims: the job's header with the merkle root of the extranonce,
 * the ntime and the nonce written in. With `into`, the header is written there instead of into a
 * new array (the share check reuses one buffer: a new Uint8Array costs ~0.7 µs in V8).
 *
 * @example Usage
 * ```ts
 * import { buildShareHeader, JobManager } from "./jobs.ts";
 * import { bytesToHex } from "../hash/hex.ts";
 * import assert from "node:assert/strict";
 *
 * const job = new JobManager().add({
 *   upstreamJobId: 1, kind: "job", height: 1000000, version: 2,
 *   previousBlockHash: new Uint8Array(24), previousKeystoneHash: new Uint8Array(24),
 *   secondKeystoneHash: new Uint8Array(24), popRoot: new Uint8Array(32).fill(0x11),
 *   normalRoot: new Uint8Array(32).fill(0x22), metapackageHash: new Uint8Array(32).fill(0x33),
 *   timestamp: 0x5cfbb600, bits: 0x0600e8d4, poolAddress: "", extraNonceStart: 0n,
 *   extraNonceEnd: 0n, endpoint: "", receivedAt: 0,
 * });
 * const header = buildShareHeader(job, 0x7c000000000f4240n, { ntime: 0x5cfbb600, nonce: 0x430b });
 * assert.equal(bytesToHex(header.subarray(36, 52)), "7b50fd797320002e6fe7263b0fa86b51");
 * assert.equal(bytesToHex(header.subarray(52)), "5cfbb6000600e8d40000430b");
 * ```
 *
 * @param job The job.
 * @param extranonce The extranonce (0..2^63 − 1).
 * @param options The header's time and nonce (uint32 each), and optionally a 64-byte array to
 *   write the header into.
 * @returns The header: `into`, or a new 64-byte array.
 * @throws {RangeError} When the extranonce is out of the signed 64-bit range, or `into` is not
 *   64 bytes.
 */
export function buildShareHeader(
  job: Job,
  extranonce: bigint,
  options: { ntime: number; nonce: number; into?: Uint8Array },
): Uint8Array {
  let header: Uint8Array;
  if (options.into === undefined) header = job.header.slice();
  else {
    header = options.into;
    if (header.length !== 64) {
      throw new RangeError(
        `Cannot build share header: into must be 64 bytes, got ${header.length}`,
      );
    }
    header.set(job.header);
  }
  header.set(extranonceWork(job, extranonce).merkle16, 36);
  const view = new DataView(header.buffer, header.byteOffset, 64);
  view.setUint32(52, options.ntime);
  view.setUint32(60, options.nonce);
  return header;
}

/**
 * The merkle root part and duplicate-key prefix of an extranonce on a job, computed once per
 * extranonce (two SHA-256 calls) and cached on the job: a miner submits many shares with the
 * same extranonce.
 *
 * @example Usage
 * ```ts
 * import { extranonceWork, JobManager } from "./jobs.ts";
 * import { bytesToHex } from "../hash/hex.ts";
 * import assert from "node:assert/strict";
 *
 * const job = new JobManager().add({
 *   upstreamJobId: 1, kind: "job", height: 1, version: 2,
 *   previousBlockHash: new Uint8Array(24), previousKeystoneHash: new Uint8Array(24),
 *   secondKeystoneHash: new Uint8Array(24), popRoot: new Uint8Array(32).fill(0x11),
 *   normalRoot: new Uint8Array(32).fill(0x22), metapackageHash: new Uint8Array(32).fill(0x33),
 *   timestamp: 0, bits: 0x0600e8d4, poolAddress: "", extraNonceStart: 0n, extraNonceEnd: 0n,
 *   endpoint: "", receivedAt: 0,
 * });
 * const work = extranonceWork(job, 0x7c000000000f4240n);
 * assert.equal(bytesToHex(work.merkle16), "7b50fd797320002e6fe7263b0fa86b51");
 * assert.equal(extranonceWork(job, 0x7c000000000f4240n), work); // cached
 * ```
 *
 * @param job The job.
 * @param extranonce The extranonce (0..2^63 − 1).
 * @returns The cached parts.
 * @throws {RangeError} When the extranonce is out of the signed 64-bit range.
 */
export function extranonceWork(job: Job, extranonce: bigint): ExtranonceWork {
  let work = job.extranonces.get(extranonce);
  if (work === undefined) {
    const root = merkleRootFromTxRoot(
      { txRoot: job.txRoot, metapackageHash: job.template.metapackageHash },
      extranonce,
    );
    work = { merkle16: root.slice(0, 16), key: extranonce.toString(16) };
    if (job.extranonces.size >= MAX_CACHED_EXTRANONCES) job.extranonces.clear();
    job.extranonces.set(extranonce, work);
  }
  return work;
}
