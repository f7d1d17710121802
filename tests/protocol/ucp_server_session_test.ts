import assert from "node:assert/strict";
import {
  decodeUcp,
  encodeUcp,
  type UcpJobTemplate,
  ucpMerkleRoot,
  type UcpMessage,
  type UcpServerSessionHost,
} from "../../protocol/mod.ts";
import { UcpServerSession } from "../../protocol/ucp_server_session.ts";
import { headerMerkleRoot } from "../../hash/merkle.ts";

const filled = (n: number, b: number) => new Uint8Array(n).fill(b);

const TEMPLATE: UcpJobTemplate = {
  jobId: 100,
  blockIndex: 42,
  blockVersion: 2,
  previousBlockHash: filled(24, 1),
  secondPreviousBlockHash: filled(24, 2),
  thirdPreviousBlockHash: filled(24, 3),
  timestamp: 1_700_000_000,
  difficulty: 0x04010000,
  ledgerHash: filled(24, 4),
  coinbaseTxid: filled(32, 5),
  popDatastoreHash: filled(32, 6),
  minerComment: "devnet",
  popTransactionMerkleRoot: filled(32, 0x11),
  normalTransactionMerkleRoot: filled(32, 0x22),
  intermediateMetapackageHash: filled(32, 0x33),
};

const START = 8935141660704064064n;

function auth(id: number, user = "alice") {
  return encodeUcp({ command: "MINING_AUTH", requestId: id, username: user, password: "" });
}
function subscribe(id: number) {
  return encodeUcp({ command: "MINING_SUBSCRIBE", requestId: id, updateFrequencyMs: 500 });
}
function submit(id: number, extraNonce = START) {
  return encodeUcp({
    command: "MINING_SUBMIT",
    requestId: id,
    jobId: 100,
    nTime: 1_700_000_001,
    nonce: 0xdeadbeef,
    extraNonce,
  });
}

function makeSession(overrides: Partial<UcpServerSessionHost> = {}, maxOffences = 3) {
  const submits: bigint[] = [];
  const host: UcpServerSessionHost = {
    authorize: (u) => u === "alice" ? { ok: true } : { ok: false, reason: "bad user" },
    subscribe: () => ({
      ok: true,
      subscription: {
        extraNonceStart: START,
        extraNonceEnd: START + 1_000_000n,
        miningTarget: filled(24, 0xff),
        template: TEMPLATE,
      },
    }),
    submit: (s) => {
      submits.push(s.extraNonce);
      return s.nonce === 0xdeadbeef ? { ok: true } : { ok: false, reason: "nope" };
    },
    ...overrides,
  };
  return { session: new UcpServerSession(host, { maxOffences }), submits };
}

function commands(messages: UcpMessage[]): string[] {
  return messages.map((m) => m.command);
}

Deno.test("UcpServerSession.start() sends CAPABILITIES first", () => {
  const { session } = makeSession();
  const out = session.start();
  assert.deepEqual(out.send, [{
    command: "CAPABILITIES",
    requestId: 1,
    capabilities: "10011111111",
  }]);
  assert.equal(session.state, "connected");
});

Deno.test("UcpServerSession auth → subscribe → job with per-connection merkle root", () => {
  const { session } = makeSession();
  session.start();
  assert.deepEqual(session.handleLine(auth(1)).send, [{
    command: "MINING_AUTH_SUCCESS",
    requestId: 1,
  }]);
  assert.equal(session.username, "alice");
  const out = session.handleLine(subscribe(2));
  assert.deepEqual(commands(out.send), ["MINING_SUBSCRIBE_SUCCESS", "MINING_JOB"]);
  const job = out.send[1]!;
  assert.ok(job.command === "MINING_JOB");
  assert.equal(job.jobId, 100);
  assert.equal(job.poolAddress, "alice");
  assert.equal(job.extraNonceStart, START);
  const expected = headerMerkleRoot({
    popRoot: TEMPLATE.popTransactionMerkleRoot,
    normalRoot: TEMPLATE.normalTransactionMerkleRoot,
    metapackageHash: TEMPLATE.intermediateMetapackageHash,
  }, START).slice(0, 24);
  assert.deepEqual(job.merkleRoot, expected);
  assert.deepEqual(ucpMerkleRoot(TEMPLATE, START), expected);
  // Round trip through the codec keeps the 64-bit extranonce exact.
  const decoded = decodeUcp(encodeUcp(job));
  assert.ok(decoded.ok && decoded.message.command === "MINING_JOB");
  assert.equal(decoded.message.extraNonceStart, START);
});

Deno.test("UcpServerSession refuses subscribe and submit before auth", () => {
  const { session } = makeSession();
  const sub = session.handleLine(subscribe(5)).send;
  assert.equal(sub[0]!.command, "MINING_SUBSCRIBE_FAILURE");
  const sb = session.handleLine(submit(6)).send[0]!;
  assert.ok(sb.command === "MINING_SUBMIT_FAILURE");
  assert.equal(sb.requestId, 6);
  assert.match(sb.reason, /not authorized/);
  session.handleLine(auth(7));
  const sb2 = session.handleLine(submit(8)).send[0]!;
  assert.ok(sb2.command === "MINING_SUBMIT_FAILURE");
  assert.match(sb2.reason, /not subscribed/);
});

Deno.test("UcpServerSession reports auth failure with the host's reason", () => {
  const { session } = makeSession();
  const out = session.handleLine(auth(1, "mallory")).send;
  assert.deepEqual(out, [{ command: "MINING_AUTH_FAILURE", requestId: 1, reason: "bad user" }]);
  assert.equal(session.state, "connected");
  assert.equal(session.handleLine(auth(2)).send[0]!.command, "MINING_AUTH_SUCCESS");
  assert.equal(session.handleLine(auth(3)).send[0]!.command, "MINING_AUTH_FAILURE");
});

Deno.test("UcpServerSession passes submits to the host and answers in order", () => {
  const { session, submits } = makeSession();
  session.handleLine(auth(1));
  session.handleLine(subscribe(2));
  assert.deepEqual(session.handleLine(submit(3)).send, [{
    command: "MINING_SUBMIT_SUCCESS",
    requestId: 3,
  }]);
  assert.deepEqual(session.handleLine(submit(4, -5n)).send, [{
    command: "MINING_SUBMIT_SUCCESS",
    requestId: 4,
  }]);
  assert.deepEqual(submits, [START, -5n]);
});

Deno.test("UcpServerSession supports deferred submit verdicts", () => {
  const { session } = makeSession({ submit: () => "deferred" });
  session.handleLine(auth(1));
  session.handleLine(subscribe(2));
  assert.deepEqual(session.handleLine(submit(3)).send, []);
  assert.equal(session.pendingSubmits, 1);
  const dup = session.handleLine(submit(3)).send[0]!;
  assert.equal(dup.command, "MINING_SUBMIT_FAILURE");
  assert.deepEqual(session.resolveSubmit(3, { ok: false, reason: "stale" }).send, [{
    command: "MINING_SUBMIT_FAILURE",
    requestId: 3,
    reason: "stale",
  }]);
  assert.deepEqual(session.resolveSubmit(3, { ok: true }).send, []);
});

Deno.test("UcpServerSession answers unknown commands with their request id", async (t) => {
  const { session } = makeSession();
  await t.step("unknown command name", () => {
    const out = session.handleLine('{"command":"GET_STATUS","request_id":{"data":77}}');
    assert.deepEqual(out.send, [{ command: "ERROR_UNKNOWN_COMMAND", requestId: 77 }]);
    assert.equal(out.close, undefined);
  });
  await t.step("a server-only command sent by a client", () => {
    const out = session.handleLine(encodeUcp({ command: "MINING_RESET", requestId: 9 }));
    assert.deepEqual(out.send, [{ command: "ERROR_UNKNOWN_COMMAND", requestId: 9 }]);
  });
  await t.step("acks are accepted silently", () => {
    assert.deepEqual(
      session.handleLine(encodeUcp({ command: "MINING_RESET_ACK", requestId: 1 })).send,
      [],
    );
    assert.deepEqual(
      session.handleLine(encodeUcp({ command: "MINING_MEMPOOL_UPDATE_ACK", requestId: 2 })).send,
      [],
    );
  });
  assert.equal(session.offences, 0);
});

Deno.test("UcpServerSession counts malformed and invalid lines and asks to close", () => {
  const { session } = makeSession({}, 3);
  assert.deepEqual(session.handleLine("{not json"), { send: [] });
  const bad = session.handleLine(
    '{"command":"MINING_SUBMIT","request_id":{"data":4},"job_id":{"data":"x"}}',
  );
  assert.equal(bad.send[0]!.command, "MINING_SUBMIT_FAILURE");
  assert.ok(bad.send[0]!.command === "MINING_SUBMIT_FAILURE");
  assert.equal(bad.send[0]!.requestId, 4);
  assert.match(bad.send[0]!.reason, /invalid MINING_SUBMIT/);
  assert.equal(bad.close, undefined);
  const third = session.handleLine("[1,2,3]");
  assert.equal(session.offences, 3);
  assert.match(third.close ?? "", /too many bad messages/);
});

Deno.test("UcpServerSession personalises jobs, mempool updates and resets", () => {
  const { session } = makeSession({
    subscribe: () => ({
      ok: true,
      subscription: { extraNonceStart: -1n, extraNonceEnd: 100n, miningTarget: filled(24, 0) },
    }),
  });
  assert.deepEqual(session.job(TEMPLATE).send, []);
  assert.deepEqual(session.reset().send, []);
  session.handleLine(auth(1));
  assert.deepEqual(commands(session.handleLine(subscribe(2)).send), [
    "MINING_SUBSCRIBE_SUCCESS",
  ]);
  const job = session.job({ ...TEMPLATE, poolAddress: "Vpool" }).send[0]!;
  assert.ok(job.command === "MINING_JOB");
  assert.equal(job.poolAddress, "Vpool");
  assert.deepEqual(job.merkleRoot, ucpMerkleRoot(TEMPLATE, -1n));
  const updated = { ...TEMPLATE, jobId: 101, normalTransactionMerkleRoot: filled(32, 0x44) };
  const upd = session.mempoolUpdate(updated).send[0]!;
  assert.ok(upd.command === "MINING_MEMPOOL_UPDATE");
  assert.equal(upd.jobId, 101);
  assert.notDeepEqual(upd.newMerkleRoot, job.merkleRoot);
  assert.deepEqual(upd.newMerkleRoot, ucpMerkleRoot(updated, -1n));
  assert.equal(session.lastJobId, 101);
  assert.equal(session.reset().send[0]!.command, "MINING_RESET");
  session.setMiningTarget(filled(24, 0x0f));
  const job2 = session.job(TEMPLATE).send[0]!;
  assert.ok(job2.command === "MINING_JOB");
  assert.deepEqual(job2.miningTarget, filled(24, 0x0f));
  assert.throws(() => session.setMiningTarget(filled(3, 0)), RangeError);
});

Deno.test("UcpServerSession unsubscribe stops jobs", () => {
  const { session } = makeSession();
  session.handleLine(auth(1));
  session.handleLine(subscribe(2));
  const out = session.handleLine(encodeUcp({ command: "MINING_UNSUBSCRIBE", requestId: 3 }));
  assert.deepEqual(out.send, [{ command: "MINING_UNSUBSCRIBE_SUCCESS", requestId: 3 }]);
  assert.equal(session.state, "authorized");
  assert.deepEqual(session.job(TEMPLATE).send, []);
  const again = session.handleLine(encodeUcp({ command: "MINING_UNSUBSCRIBE", requestId: 4 }));
  assert.equal(again.send[0]!.command, "MINING_UNSUBSCRIBE_FAILURE");
});

Deno.test("UcpServerSession request ids of server messages increase and wrap", () => {
  const session = new UcpServerSession({
    authorize: () => ({ ok: true }),
    subscribe: () => ({ ok: false, reason: "full" }),
    submit: () => ({ ok: true }),
  }, { firstRequestId: 0x7fffffff });
  assert.equal(session.start().send[0]!.requestId, 0x7fffffff);
  session.handleLine(auth(1));
  const sub = session.handleLine(subscribe(2)).send[0]!;
  assert.deepEqual(sub, { command: "MINING_SUBSCRIBE_FAILURE", requestId: 2, reason: "full" });
});
