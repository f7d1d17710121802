import assert from "node:assert/strict";
import { difficultyToTarget, encodeBits, hashToBigInt } from "../../hash/difficulty.ts";
import { vblake } from "../../hash/vblake.ts";
import { buildShareHeader, type Job, JobManager } from "../../server/jobs.ts";
import { type ShareFacts, validateShare } from "../../server/shares.ts";
import { ADDRESSES, SHARE_VECTOR, vectorTemplate } from "./_pool.ts";

const W = ADDRESSES[0]!;
const [, , EXTRANONCE, NTIME, NONCE] = SHARE_VECTOR.submit as [
  string,
  string,
  string,
  string,
  string,
];
const START = 0x7c000000000f4240n;
const NOW = 0x5cfbb600 * 1000;

function facts(job: Job, overrides: Partial<ShareFacts> = {}, difficulty = 65536n): ShareFacts {
  return {
    authorized: new Set([W]),
    extranonce: { start: START, end: START + 1_000_000n },
    jobs: new Map([[job.id, { job, difficulty, target: difficultyToTarget(difficulty) }]]),
    hash: vblake,
    now: NOW,
    ...overrides,
  };
}

function submit(job: Job, changes: Record<number, unknown> = {}): unknown[] {
  const params: unknown[] = [W, job.id, EXTRANONCE, NTIME, NONCE];
  for (const [i, v] of Object.entries(changes)) params[Number(i)] = v;
  return params;
}

Deno.test("validateShare() accepts the vector share and computes its hash", () => {
  const job = new JobManager().add(vectorTemplate());
  const verdict = validateShare(submit(job), facts(job));
  assert.ok(verdict.ok);
  assert.equal(verdict.hashHex, SHARE_VECTOR.work[2]!.hash);
  assert.equal(verdict.difficulty, 65536n);
  assert.equal(verdict.block, false);
  assert.ok(verdict.achievedDifficulty >= 65536n);
  assert.equal(verdict.submit.nonce, 0x430b);
  assert.ok(job.seen.keys.has(`${START.toString(16)}:${0x5cfbb600}:${0x430b}`));
});

Deno.test("validateShare() refuses in the documented order", async (t) => {
  const cases: [string, (job: Job) => [unknown[], Partial<ShareFacts>], string][] = [
    ["nobody authorized", (j) => [submit(j), { authorized: new Set() }], "unauthorized"],
    ["not subscribed", (j) => [submit(j), { extranonce: undefined }], "not_subscribed"],
    ["unauthorized before not subscribed", (j) => [
      submit(j),
      { authorized: new Set(), extranonce: undefined },
    ], "unauthorized"],
    ["too few params", (j) => [submit(j).slice(0, 4), {}], "bad_params"],
    ["a number param", (j) => [submit(j, { 4: 17163 }), {}], "bad_params"],
    ["params not an array", () => [{} as unknown as unknown[], {}], "bad_params"],
    ["short extranonce", (j) => [submit(j, { 2: "7c00" }), {}], "bad_extranonce_size"],
    ["long ntime", (j) => [submit(j, { 3: "5cfbb6000" }), {}], "bad_ntime_size"],
    ["short nonce", (j) => [submit(j, { 4: "430b" }), {}], "bad_nonce_size"],
    ["non-hex nonce", (j) => [submit(j, { 4: "0000430g" }), {}], "bad_hex"],
    ["another worker", (j) => [submit(j, { 0: ADDRESSES[1] }), {}], "unauthorized"],
    ["unknown job", (j) => [submit(j, { 1: "999" }), {}], "stale_job"],
    ["ntime before the job", (j) => [submit(j, { 3: "5cfbb5ff" }), {}], "ntime_out_of_range"],
    ["ntime too far ahead", (j) => [submit(j, { 3: "5cfbb72d" }), {}], "ntime_out_of_range"],
    ["extranonce below the range", (j) => [
      submit(j, { 2: "7c000000000f423f" }),
      {},
    ], "extranonce_not_owned"],
    ["extranonce at the range end", (j) => [
      submit(j, { 2: "7c000000001e8480" }),
      {},
    ], "extranonce_not_owned"],
    ["negative extranonce", (j) => [
      submit(j, { 2: "fc000000000f4240" }),
      {},
    ], "extranonce_not_owned"],
    ["low difficulty", (j) => [submit(j, { 4: "00000001" }), {}], "low_difficulty"],
  ];
  for (const [name, make, reason] of cases) {
    await t.step(name, () => {
      const job = new JobManager().add(vectorTemplate());
      const [params, extra] = make(job);
      const verdict = validateShare(params, facts(job, extra));
      assert.equal(verdict.ok, false);
      assert.equal(!verdict.ok && verdict.reason, reason);
      assert.equal(job.seen.keys.size, 0);
    });
  }
});

Deno.test("validateShare() allows ntime up to now + 300 s and refuses one more", () => {
  const job = new JobManager().add(vectorTemplate());
  const atLimit = validateShare(submit(job, { 3: "5cfbb72c" }), facts(job));
  assert.equal(!atLimit.ok && atLimit.reason, "low_difficulty"); // passed the time check
  const custom = validateShare(
    submit(job, { 3: "5cfbb601" }),
    facts(job, { ntimeFutureSeconds: 0 }),
  );
  assert.equal(!custom.ok && custom.reason, "ntime_out_of_range");
});

Deno.test("validateShare() refuses a duplicate, and a job that is stale", () => {
  const manager = new JobManager();
  const job = manager.add(vectorTemplate());
  const f = facts(job);
  assert.ok(validateShare(submit(job), f).ok);
  const dup = validateShare(submit(job, { 2: EXTRANONCE.toUpperCase() }), f);
  assert.equal(!dup.ok && dup.reason, "duplicate_share");
  manager.add(vectorTemplate({ previousBlockHash: new Uint8Array(24).fill(9) }));
  const stale = validateShare(submit(job, { 4: "00000006" }), f);
  assert.deepEqual(stale, { ok: false, reason: "stale_job", worker: W, jobId: job.id });
});

Deno.test("validateShare() refuses the same header submitted under another job id", async (t) => {
  // Every job carries the same work (an upstream that sends one template twice, a reset on the
  // same block, a chain that flips back): one header, one credit.
  const sent = (jobs: Job[]) => ({
    jobs: new Map(
      jobs.map((j) => [j.id, { job: j, difficulty: 65536n, target: difficultyToTarget(65536n) }]),
    ),
  });
  await t.step("a repeated template on the same block", () => {
    const manager = new JobManager();
    const first = manager.add(vectorTemplate());
    const again = manager.add(vectorTemplate({ upstreamJobId: 99, kind: "mempool_update" }));
    assert.notEqual(first.id, again.id);
    const f = facts(first, sent([first, again]));
    assert.ok(validateShare(submit(first), f).ok);
    const dup = validateShare(submit(again), f);
    assert.equal(!dup.ok && dup.reason, "duplicate_share");
  });
  await t.step("after an upstream reset on the same block", () => {
    const manager = new JobManager();
    const first = manager.add(vectorTemplate());
    assert.ok(validateShare(submit(first), facts(first)).ok);
    manager.reset();
    const after = manager.add(vectorTemplate());
    const dup = validateShare(submit(after), facts(after));
    assert.equal(!dup.ok && dup.reason, "duplicate_share");
  });
  await t.step("when the chain flips to another block and back", () => {
    const manager = new JobManager();
    const first = manager.add(vectorTemplate());
    assert.ok(validateShare(submit(first), facts(first)).ok);
    manager.add(vectorTemplate({ previousBlockHash: new Uint8Array(24).fill(9) }));
    const back = manager.add(vectorTemplate());
    assert.equal(back.notify.cleanJobs, true);
    const dup = validateShare(submit(back), facts(back));
    assert.equal(!dup.ok && dup.reason, "duplicate_share");
  });
  await t.step("when the chain comes back after two other blocks", () => {
    const manager = new JobManager();
    const first = manager.add(vectorTemplate());
    assert.ok(validateShare(submit(first), facts(first)).ok);
    manager.add(vectorTemplate({ previousBlockHash: new Uint8Array(24).fill(9) }));
    manager.add(vectorTemplate({ previousBlockHash: new Uint8Array(24).fill(8) }));
    const back = manager.add(vectorTemplate());
    const dup = validateShare(submit(back), facts(back));
    assert.equal(!dup.ok && dup.reason, "duplicate_share");
  });
  await t.step("when the keys were forgotten: refused below the ntime floor", () => {
    const manager = new JobManager({ maxIdleKeys: 0 });
    const first = manager.add(vectorTemplate());
    assert.ok(validateShare(submit(first, { 4: "00000001" }), facts(first, {}, 1n)).ok);
    manager.add(vectorTemplate({ previousBlockHash: new Uint8Array(24).fill(9) }));
    assert.equal(first.seen.keys.size, 0); // idle work beyond the budget keeps only its floor
    const back = manager.add(vectorTemplate());
    assert.equal(back.seen, first.seen);
    const replay = validateShare(submit(back, { 4: "00000001" }), facts(back, {}, 1n));
    assert.equal(!replay.ok && replay.reason, "stale_job");
    const later = validateShare(submit(back, { 3: "5cfbb601" }), facts(back, {}, 1n));
    assert.ok(later.ok);
  });
  await t.step("a different template on the same block is different work", () => {
    const manager = new JobManager();
    const first = manager.add(vectorTemplate());
    const other = manager.add(vectorTemplate({ normalRoot: new Uint8Array(32).fill(5) }));
    assert.notEqual(first.seen, other.seen);
  });
});

Deno.test("validateShare() forgets a full duplicate set and refuses at or below its floor", () => {
  const job = new JobManager().add(vectorTemplate());
  const f = facts(job, { maxSharesPerJob: 1 }, 1n);
  assert.ok(validateShare(submit(job, { 4: "00000001" }), f).ok);
  const full = validateShare(submit(job, { 4: "00000002" }), f);
  assert.equal(!full.ok && full.reason, "stale_job");
  // Not stuck: a later ntime is new work (and a re-sent template shares the fresh set).
  assert.ok(validateShare(submit(job, { 3: "5cfbb601", 4: "00000002" }), f).ok);
});

Deno.test("validateShare() checks the block target before the share target", () => {
  // Network difficulty 2^14 (bits for 16384): the vector hash (difficulty ≥ 65536) is a block.
  const bits = encodeBits(16384n);
  const job = new JobManager().add(vectorTemplate({ bits }));
  const nonce = findNonce(job, 16384n);
  // Share difficulty far above the network: the hash misses the share target but is a block.
  const verdict = validateShare(
    submit(job, { 4: nonce }),
    facts(job, {}, 1n << 40n),
  );
  assert.ok(verdict.ok);
  assert.equal(verdict.block, true);
  assert.equal(verdict.difficulty, 16384n); // credited at the network difficulty
});

Deno.test("validateShare() credits the difficulty the job was sent with", () => {
  const job = new JobManager().add(vectorTemplate());
  const jobs = new Map([
    ["old", { job, difficulty: 256n, target: difficultyToTarget(256n) }],
    ["new", { job, difficulty: 1n << 30n, target: difficultyToTarget(1n << 30n) }],
  ]);
  const old = validateShare(submit(job, { 1: "old", 4: "00000006" }), facts(job, { jobs }));
  assert.ok(old.ok);
  assert.equal(old.difficulty, 256n);
  const fresh = validateShare(submit(job, { 1: "new", 4: "0000430b" }), facts(job, { jobs }));
  assert.equal(!fresh.ok && fresh.reason, "low_difficulty");
});

function findNonce(job: Job, difficulty: bigint): string {
  const target = difficultyToTarget(difficulty);
  for (let nonce = 0; nonce < 1 << 22; nonce++) {
    const header = buildShareHeader(job, START, { ntime: 0x5cfbb600, nonce });
    if (hashToBigInt(vblake(header)) < target) return nonce.toString(16).padStart(8, "0");
  }
  throw new Error("no nonce found");
}

Deno.test("validateShare(): a flood over the live-key budget never gets a replay credited, on any live job", () => {
  // One round of 8 mempool updates, a budget of 300 live keys: an attacker floods every job while
  // an honest miner submits a few shares to each; then every accepted share is sent again.
  const manager = new JobManager({ maxLiveKeys: 300 });
  const attacker = { start: START, end: START + 1_000_000n };
  const honest = { start: START + 2_000_000n, end: START + 3_000_000n };
  const jobs: Job[] = [];
  const sent = new Map<string, { job: Job; difficulty: bigint; target: bigint }>();
  const accepted: { params: unknown[]; range: typeof attacker }[] = [];
  const send = (params: unknown[], range: typeof attacker) =>
    validateShare(params, facts(jobs[0]!, { jobs: sent, extranonce: range }, 1n));
  let most = 0;
  for (let j = 0; j < 8; j++) {
    const job = manager.add(vectorTemplate({
      kind: j === 0 ? "job" : "mempool_update",
      upstreamJobId: j,
      normalRoot: new Uint8Array(32).fill(j + 1),
    }));
    jobs.push(job);
    sent.set(job.id, { job, difficulty: 1n, target: difficultyToTarget(1n) });
    for (let n = 0; n < 105; n++) {
      const range = n % 21 === 0 ? honest : attacker;
      const params = [W, job.id, range.start.toString(16), NTIME, n.toString(16).padStart(8, "0")];
      const verdict = send(params, range);
      assert.ok(verdict.ok, `job ${j} share ${n}: ${!verdict.ok && verdict.reason}`);
      accepted.push({ params, range });
      most = Math.max(most, manager.seenStats.liveKeys);
    }
  }
  assert.ok(most <= 300, `live keys at most ${most}`);
  assert.equal(jobs[0]!.seen.keys.size, 0, "the oldest live work gave way first");
  for (const { params, range } of accepted) {
    const replay = send(params, range);
    assert.ok(!replay.ok, `replay credited: ${params.join(" ")}`);
    assert.ok(["duplicate_share", "stale_job"].includes(replay.reason), replay.reason);
  }
  // The attacker's floods leave the honest miner's next second of work alone on every job.
  for (const job of jobs) {
    const next = send([W, job.id, honest.start.toString(16), "5cfbb601", "00000000"], honest);
    assert.ok(next.ok, `honest share on job ${job.id}: ${!next.ok && next.reason}`);
  }
});
