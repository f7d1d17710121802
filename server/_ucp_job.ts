/**
 * A pool job as UCP work: the shared MINING_JOB template (made once per job and personalised
 * per connection by `UcpServerSession`) and its UCP job id.
 *
 * @module
 */

import { isValidAddress } from "../hash/address.ts";
import type { UcpJobTemplate } from "../protocol/ucp_server_session.ts";
import type { Job } from "./jobs.ts";

const INT31 = 0x80000000;
const TEMPLATES = new WeakMap<Job, UcpJobTemplate>();
const ZERO24 = new Uint8Array(24);
const ZERO32 = new Uint8Array(32);

/**
 * The UCP `job_id` of a pool job: its decimal id reduced into 0..2^31 − 1 (JOB_ID is a
 * non-negative Java int; one id per job, the same on every connection).
 *
 * @param job The pool job.
 * @returns 0..2^31 − 1.
 */
export function ucpJobId(job: Job): number {
  const n = Number(job.id);
  return Number.isSafeInteger(n) && n >= 0 ? n % INT31 : 0;
}

/**
 * The MINING_JOB template of a pool job, made once per job. The informational fields the
 * pool's templates do not carry (ledger hash, coinbase txid, PoP datastore hash) are zeros.
 * `pool_address` is the template's coinbase address when it is a valid address; otherwise the
 * session fills in the miner's own.
 *
 * @param job The pool job.
 * @returns The shared template.
 */
export function ucpJobTemplate(job: Job): UcpJobTemplate {
  let template = TEMPLATES.get(job);
  if (template !== undefined) return template;
  const t = job.template;
  template = {
    jobId: ucpJobId(job),
    blockIndex: t.height,
    blockVersion: t.version,
    previousBlockHash: t.previousBlockHash,
    secondPreviousBlockHash: t.previousKeystoneHash,
    thirdPreviousBlockHash: t.secondKeystoneHash,
    ...(isValidAddress(t.poolAddress) ? { poolAddress: t.poolAddress } : {}),
    timestamp: t.timestamp,
    difficulty: t.bits,
    ledgerHash: ZERO24,
    coinbaseTxid: ZERO32,
    popDatastoreHash: ZERO32,
    minerComment: "",
    popTransactionMerkleRoot: t.popRoot,
    normalTransactionMerkleRoot: t.normalRoot,
    intermediateMetapackageHash: t.metapackageHash,
  };
  TEMPLATES.set(job, template);
  return template;
}

/**
 * Whether `next` can go to a miner that mines `previous` as a MINING_MEMPOOL_UPDATE (a new
 * job id and merkle root, everything else in the header unchanged).
 *
 * @param previous The job the miner has.
 * @param next The new job.
 * @returns True for a mempool update of the same block template.
 */
export function isMempoolFollowUp(previous: Job | undefined, next: Job): boolean {
  if (previous === undefined || previous.stale || next.notify.cleanJobs) return false;
  if (next.template.kind !== "mempool_update") return false;
  const a = previous.template;
  const b = next.template;
  return previous.previousHashKey === next.previousHashKey && a.height === b.height &&
    a.version === b.version && a.timestamp === b.timestamp && a.bits === b.bits &&
    sameBytes(previous.header.subarray(18, 36), next.header.subarray(18, 36));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
