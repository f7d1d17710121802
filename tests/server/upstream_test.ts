import assert from "node:assert/strict";
import { type Devnet, type DevnetOptions, startDevnet } from "../../devnet/mod.ts";
import { type LineConnection, LineServer } from "../../net/mod.ts";
import {
  decodeUcp,
  encodeUcp,
  type UcpMessage,
  type UcpMiningJob,
  type UcpMiningSubmit,
} from "../../protocol/mod.ts";
import {
  type Template,
  Upstream,
  type UpstreamOptions,
  type UpstreamStatus,
} from "../../server/upstream.ts";
import { ADDRESS, solve } from "../devnet/_ucp_client.ts";
import { TcpProxy } from "../store/_tcp_proxy.ts";
import { waitUntil } from "../_wait.ts";
import { alertEvents } from "../../log/mod.ts";

const DEVNET: DevnetOptions = { port: 0, minDifficulty: 20_000n, mempoolIntervalMs: 0 };

/** An Upstream with fast timers that records what it reports. */
function harness(endpoints: string[], options: Partial<UpstreamOptions> = {}) {
  const templates: Template[] = [];
  const statuses: UpstreamStatus[] = [];
  let resets = 0;
  const upstream = new Upstream({
    endpoints,
    address: ADDRESS,
    connectTimeoutMs: 1000,
    handshakeTimeoutMs: 2000,
    backoffMinMs: 50,
    backoffMaxMs: 200,
    failbackIntervalMs: 200,
    submitTimeoutMs: 2000,
    onTemplate: (t) => {
      templates.push(t);
    },
    onReset: () => {
      resets++;
    },
    onStatus: (s) => {
      statuses.push(s);
    },
    ...options,
  });
  const until = (pred: () => boolean, what: string, ms = 60_000) => waitUntil(pred, what, ms);
  return {
    upstream,
    templates,
    statuses,
    resets: () => resets,
    until,
    last: () => templates[templates.length - 1]!,
  };
}

function endpointOf(devnet: Devnet): string {
  return `127.0.0.1:${devnet.addr.port}`;
}

/** Solve a template as the pool would (merkle root from the intermediate roots). */
function solveTemplate(t: Template, extraNonce: bigint) {
  return solve({
    blockIndex: t.height,
    blockVersion: t.version,
    previousBlockHash: t.previousBlockHash,
    secondPreviousBlockHash: t.previousKeystoneHash,
    thirdPreviousBlockHash: t.secondKeystoneHash,
    merkleRoot: new Uint8Array(24),
    timestamp: t.timestamp,
    difficulty: t.bits,
    popTransactionMerkleRoot: t.popRoot,
    normalTransactionMerkleRoot: t.normalRoot,
    intermediateMetapackageHash: t.metapackageHash,
    extraNonceStart: t.extraNonceStart,
  }, extraNonce);
}

Deno.test("Upstream turns devnet jobs into templates and submits blocks", async () => {
  const devnet = await startDevnet(DEVNET);
  const h = harness([endpointOf(devnet)]);
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    const first = h.last();
    assert.equal(first.kind, "job");
    assert.equal(first.height, 1);
    assert.equal(first.endpoint, endpointOf(devnet));
    assert.equal(first.upstreamJobId, devnet.currentJob.jobId);
    assert.equal(first.poolAddress, ADDRESS);
    assert.deepEqual(first.previousBlockHash, devnet.chain.tip.hash);
    assert.equal(h.upstream.status.state, "ready");

    devnet.mempoolUpdate();
    await h.until(() => h.templates.length === 2, "mempool template");
    const update = h.last();
    assert.equal(update.kind, "mempool_update");
    assert.notEqual(update.upstreamJobId, first.upstreamJobId);
    assert.equal(update.height, 1);
    assert.deepEqual(update.previousBlockHash, first.previousBlockHash);

    // A proxy-style submit with the pool's own 64-bit extranonce.
    const extraNonce = 8935141660704064064n;
    const solution = solveTemplate(update, extraNonce);
    const result = await h.upstream.submitBlock({
      upstreamJobId: update.upstreamJobId,
      ...solution,
    });
    assert.deepEqual(result, {
      accepted: true,
      outcome: "accepted",
      endpoint: endpointOf(devnet),
    });
    assert.equal(devnet.chain.height, 1);
    await h.until(() => h.last().height === 2, "next template");

    const again = await h.upstream.submitBlock({
      upstreamJobId: update.upstreamJobId,
      ...solution,
    });
    assert.equal(again.accepted, false);
    assert.match(again.reason ?? "", /duplicate block/);
    const foreign = await h.upstream.submitBlock({
      upstreamJobId: 1,
      ...solution,
      endpoint: "10.0.0.1:8501",
    });
    assert.match(foreign.reason ?? "", /now connected to/);
  } finally {
    await h.upstream.stop();
    await devnet.stop();
  }
});

Deno.test("Upstream answers MINING_RESET and reports reorganisations", async () => {
  const devnet = await startDevnet(DEVNET);
  const h = harness([endpointOf(devnet)]);
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    devnet.reset();
    await h.until(() => h.resets() === 1 && h.templates.length === 2, "reset and new job");
    await devnet.rival.mineBlock();
    await h.until(() => h.last().height === 2, "rival block template");
    await devnet.rival.reorg(1);
    await h.until(() => h.resets() === 2 && h.last().height === 3, "reorg reset");
    assert.deepEqual(h.last().previousBlockHash, devnet.chain.tip.hash);
  } finally {
    await h.upstream.stop();
    await devnet.stop();
  }
});

Deno.test("Upstream reconnects when its devnet is stopped and restarted", async () => {
  const dir = await Deno.makeTempDir();
  const chainFile = `${dir}/chain.jsonl`;
  let devnet = await startDevnet({ ...DEVNET, chainFile });
  // The upstream's one endpoint: a proxy whose port stays bound while the devnet is away.
  const proxy = new TcpProxy({ hostname: "127.0.0.1", port: devnet.addr.port });
  const h = harness([`127.0.0.1:${proxy.port}`]);
  const alerts: string[] = [];
  const unsubscribe = alertEvents.subscribe((e) => {
    if (e.type.startsWith("upstream_")) alerts.push(`${e.type} ${e.details.endpoint}`);
  });
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    assert.deepEqual(alerts, [], "no alert for the first connection");
    await devnet.rival.mineBlock();
    await h.until(() => h.last().height === 2, "height 2");
    proxy.cut();
    await devnet.stop();
    await h.until(() => h.upstream.status.state !== "ready", "loss noticed");
    assert.equal(h.resets(), 1);
    const lost = await h.upstream.submitBlock({
      upstreamJobId: 1,
      nTime: 0,
      nonce: 0,
      extraNonce: 0n,
    });
    assert.equal(lost.accepted, false);
    // The loss itself counts one reconnect (and reports "backoff" with no wait); a second one
    // is an attempt that failed while the devnet was away.
    await h.until(() => h.upstream.status.reconnects >= 2, "a failed attempt");
    devnet = await startDevnet({ ...DEVNET, chainFile });
    proxy.retarget({ hostname: "127.0.0.1", port: devnet.addr.port });
    proxy.restore();
    await h.until(() => h.templates.length >= 3 && h.upstream.status.state === "ready", "resume");
    assert.equal(h.last().height, 2);
    assert.ok(h.upstream.status.reconnects >= 2);
    assert.ok(h.statuses.some((s) => s.state === "backoff"));
    // One alert for the outage (however many attempts failed), one when it is over.
    assert.deepEqual(alerts, [
      `upstream_down 127.0.0.1:${proxy.port}`,
      `upstream_up 127.0.0.1:${proxy.port}`,
    ]);
  } finally {
    unsubscribe();
    await h.upstream.stop();
    await devnet.stop();
    await proxy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Upstream fails over to the next NodeCore and fails back", async () => {
  let a = await startDevnet(DEVNET);
  const b = await startDevnet(DEVNET);
  // a's endpoint: a proxy whose port stays bound while a is away.
  const proxyA = new TcpProxy({ hostname: "127.0.0.1", port: a.addr.port });
  const endpointA = `127.0.0.1:${proxyA.port}`;
  const h = harness([endpointA, endpointOf(b)]);
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    assert.equal(h.last().endpoint, endpointA);
    proxyA.cut();
    await a.stop();
    await h.until(() => h.last().endpoint === endpointOf(b), "failover to b");
    assert.equal(h.upstream.status.endpoint, endpointOf(b));
    const resetsOnB = h.resets();
    assert.ok(resetsOnB >= 1);
    // A block submitted while on b goes to b.
    const t = h.last();
    const r = await h.upstream.submitBlock({
      upstreamJobId: t.upstreamJobId,
      ...solveTemplate(t, 5n),
    });
    assert.deepEqual(r, { accepted: true, outcome: "accepted", endpoint: endpointOf(b) });
    a = await startDevnet(DEVNET);
    proxyA.retarget({ hostname: "127.0.0.1", port: a.addr.port });
    proxyA.restore();
    await h.until(() => h.last().endpoint === endpointA, "failback to a");
    assert.ok(h.resets() > resetsOnB);
    assert.equal(h.upstream.status.state, "ready");
    await h.until(() => b.connections === 0, "fallback connection closed");
  } finally {
    await h.upstream.stop();
    await a.stop();
    await b.stop();
    await proxyA.close();
  }
});

/**
 * A scripted NodeCore: answers the handshake and sends one job, then behaves as `behaviour`
 * says. It records every message it receives and can send more on the newest connection.
 */
function fakeNodeCore(behaviour: {
  authFailure?: boolean;
  garbage?: boolean;
  answerSubmits?: boolean;
}) {
  const job: UcpMiningJob = {
    command: "MINING_JOB",
    requestId: 9,
    jobId: 77,
    blockIndex: 5,
    blockVersion: 2,
    previousBlockHash: new Uint8Array(24),
    secondPreviousBlockHash: new Uint8Array(24),
    thirdPreviousBlockHash: new Uint8Array(24),
    poolAddress: ADDRESS,
    merkleRoot: new Uint8Array(24),
    timestamp: 1_700_000_000,
    difficulty: 0x04010000,
    miningTarget: new Uint8Array(24),
    ledgerHash: new Uint8Array(24),
    coinbaseTxid: new Uint8Array(32),
    popDatastoreHash: new Uint8Array(32),
    minerComment: "",
    popTransactionMerkleRoot: new Uint8Array(32),
    normalTransactionMerkleRoot: new Uint8Array(32),
    intermediateMetapackageHash: new Uint8Array(32),
    extraNonceStart: 0n,
    extraNonceEnd: 10n,
  };
  let connections = 0;
  let current: LineConnection | undefined;
  const received: UcpMessage[] = [];
  const server = LineServer.listen({
    port: 0,
    onConnection: (conn) => {
      connections++;
      current = conn;
      return {
        onLine: (line) => {
          const d = decodeUcp(line);
          if (!d.ok) return;
          const m = d.message;
          received.push(m);
          if (m.command === "MINING_AUTH") {
            conn.send(
              encodeUcp(
                behaviour.authFailure
                  ? { command: "MINING_AUTH_FAILURE", requestId: m.requestId, reason: "no" }
                  : { command: "MINING_AUTH_SUCCESS", requestId: m.requestId },
              ),
            );
          } else if (m.command === "MINING_SUBSCRIBE") {
            if (behaviour.garbage) {
              conn.send("{garbage");
              conn.send('{"command":"MINING_JOB","request_id":{"data":"x"}}');
              conn.send('{"command":"WHAT","request_id":{"data":1}}');
            }
            conn.send(encodeUcp({ command: "MINING_SUBSCRIBE_SUCCESS", requestId: m.requestId }));
            conn.send(encodeUcp(job));
          } else if (m.command === "MINING_SUBMIT" && behaviour.answerSubmits) {
            conn.send(encodeUcp({ command: "MINING_SUBMIT_SUCCESS", requestId: m.requestId }));
          }
        },
      };
    },
  });
  return {
    server,
    endpoint: `127.0.0.1:${server.addr.port}`,
    connections: () => connections,
    received,
    send: (message: UcpMessage) => current?.send(encodeUcp(message)) ?? false,
  };
}

Deno.test("Upstream treats a silent NodeCore as dead and times out submits", async () => {
  const fake = fakeNodeCore({ garbage: true });
  const h = harness([fake.endpoint], { jobTimeoutMs: 400, submitTimeoutMs: 100 });
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    assert.equal(h.last().upstreamJobId, 77);
    const r = await h.upstream.submitBlock({
      upstreamJobId: 77,
      nTime: 1,
      nonce: 2,
      extraNonce: -3n,
    });
    assert.equal(r.accepted, false);
    assert.match(r.reason ?? "", /no answer within 100 ms/);
    await h.until(() => fake.connections() >= 2, "reconnect after silence");
    assert.ok(h.statuses.some((s) => /no job for/.test(s.lastError ?? "")));
  } finally {
    await h.upstream.stop();
    await fake.server.close();
  }
});

Deno.test("Upstream retries with backoff after MINING_AUTH_FAILURE", async () => {
  const fake = fakeNodeCore({ authFailure: true });
  const h = harness([fake.endpoint]);
  try {
    h.upstream.start();
    await h.until(() => fake.connections() >= 3, "retries");
    assert.equal(h.templates.length, 0);
    assert.match(h.upstream.status.lastError ?? "", /MINING_AUTH_FAILURE: no/);
    const r = await h.upstream.submitBlock({
      upstreamJobId: 1,
      nTime: 1,
      nonce: 1,
      extraNonce: 1n,
    });
    assert.deepEqual(r, {
      accepted: false,
      outcome: "not_sent",
      reason: "no NodeCore connection",
    });
  } finally {
    await h.upstream.stop();
    await fake.server.close();
  }
  assert.equal(h.upstream.status.state, "stopped");
  const after = await h.upstream.submitBlock({
    upstreamJobId: 1,
    nTime: 1,
    nonce: 1,
    extraNonce: 1n,
  });
  assert.equal(after.reason, "upstream stopped");
});

Deno.test("Upstream resolves pending submits when the connection drops", async () => {
  const fake = fakeNodeCore({});
  const h = harness([fake.endpoint], { submitTimeoutMs: 5000 });
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    const pending = h.upstream.submitBlock({
      upstreamJobId: 77,
      nTime: 1,
      nonce: 1,
      extraNonce: 1n,
    });
    await fake.server.close();
    const r = await pending;
    assert.equal(r.accepted, false);
    assert.match(r.reason ?? "", /upstream lost/);
  } finally {
    await h.upstream.stop();
  }
});

Deno.test("Upstream gives concurrent submits distinct request ids and matches each answer", async () => {
  const fake = fakeNodeCore({});
  const h = harness([fake.endpoint], { submitTimeoutMs: 10_000 });
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    const pending = [1, 2, 3].map((n) =>
      h.upstream.submitBlock({ upstreamJobId: 77, nTime: n, nonce: n, extraNonce: BigInt(-n) })
    );
    const sent = () =>
      fake.received.filter((m): m is UcpMiningSubmit => m.command === "MINING_SUBMIT");
    await h.until(() => sent().length === 3, "three submits");
    assert.equal(new Set(sent().map((m) => m.requestId)).size, 3);
    for (const m of sent()) assert.ok(m.requestId !== 1 && m.requestId !== 2, "not a handshake id");
    const idOf = (nonce: number) => sent().find((m) => m.nonce === nonce)!.requestId;
    // Answered out of order.
    fake.send({ command: "MINING_SUBMIT_FAILURE", requestId: idOf(3), reason: "third" });
    fake.send({ command: "MINING_SUBMIT_SUCCESS", requestId: idOf(2) });
    fake.send({ command: "MINING_SUBMIT_FAILURE", requestId: idOf(1), reason: "first" });
    const results = await Promise.all(pending);
    assert.deepEqual(results, [
      { accepted: false, outcome: "refused", reason: "first", endpoint: fake.endpoint },
      { accepted: true, outcome: "accepted", endpoint: fake.endpoint },
      { accepted: false, outcome: "refused", reason: "third", endpoint: fake.endpoint },
    ]);
    assert.deepEqual(sent().map((m) => m.extraNonce), [-1n, -2n, -3n]);
  } finally {
    await h.upstream.stop();
    await fake.server.close();
  }
});

Deno.test("Upstream answers MINING_RESET with MINING_RESET_ACK and reports the reset", async () => {
  const fake = fakeNodeCore({});
  const h = harness([fake.endpoint]);
  try {
    h.upstream.start();
    await h.until(() => h.templates.length === 1, "first template");
    const before = h.resets();
    assert.ok(fake.send({ command: "MINING_RESET", requestId: 4242 }));
    await h.until(
      () => fake.received.some((m) => m.command === "MINING_RESET_ACK") && h.resets() > before,
      "the reset acknowledged and reported",
    );
    const ack = fake.received.find((m) => m.command === "MINING_RESET_ACK")!;
    assert.equal(ack.requestId, 4242);
    assert.equal(h.resets(), before + 1);
  } finally {
    await h.upstream.stop();
    await fake.server.close();
  }
});

Deno.test("Upstream rejects an empty or malformed endpoint list", () => {
  const base = { address: ADDRESS, onTemplate() {}, onReset() {} };
  assert.throws(() => new Upstream({ ...base, endpoints: [] }), RangeError);
  assert.throws(() => new Upstream({ ...base, endpoints: ["nope"] }), SyntaxError);
});
