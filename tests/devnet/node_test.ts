import assert from "node:assert/strict";
import { startDevnet } from "../../devnet/mod.ts";
import type { DevnetOptions } from "../../devnet/mod.ts";
import {
  bytesToTarget,
  createWasmKernel,
  decodeBits,
  decodeHeader,
  difficultyToTarget,
  headerMerkleRoot,
  merkle16,
  parseChainText,
  verifyChain,
} from "../../hash/mod.ts";
import { ucpMerkleRoot } from "../../protocol/mod.ts";
import { ADDRESS, ADDRESS2, solve, UcpTestClient } from "./_ucp_client.ts";

const TEST_OPTIONS: DevnetOptions = { port: 0, minDifficulty: 20_000n, mempoolIntervalMs: 0 };

async function withDevnet(
  fn: (devnet: Awaited<ReturnType<typeof startDevnet>>) => Promise<void>,
  options: DevnetOptions = {},
) {
  const devnet = await startDevnet({ ...TEST_OPTIONS, ...options });
  try {
    await fn(devnet);
  } finally {
    await devnet.stop();
  }
}

Deno.test("devnet: a UCP client mines blocks and the exported chain verifies", async () => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      let job = await client.login();
      assert.equal(job.blockIndex, 1);
      assert.equal(job.poolAddress, ADDRESS);
      assert.deepEqual(job.merkleRoot, ucpMerkleRoot(job, job.extraNonceStart));
      const started = performance.now();
      for (let i = 0; i < 8; i++) {
        const reply = await client.mine(job);
        assert.equal(reply.command, "MINING_SUBMIT_SUCCESS", JSON.stringify(reply));
        job = await client.next("MINING_JOB");
        assert.equal(job.blockIndex, i + 2);
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`devnet: 8 blocks mined by a UCP client in ${seconds.toFixed(2)} s`);
      assert.equal(devnet.chain.height, 8);
      assert.equal(devnet.chain.tip.finder, ADDRESS);
      assert.equal(devnet.stats.accepted, 8);
      const report = verifyChain(parseChainText(devnet.chain.exportText()), {
        kernel: createWasmKernel(),
      });
      assert.equal(report.ok, true);
      assert.equal(report.count, 9);
    } finally {
      await client.close();
    }
  });
});

Deno.test("devnet: auth requires a valid VBK address; subscribe needs auth, submit needs auth and subscribe", async () => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      const caps = await client.next("CAPABILITIES");
      assert.equal(caps.capabilities, "10011111111");
      client.send({ command: "MINING_SUBSCRIBE", requestId: 5, updateFrequencyMs: 500 });
      assert.equal((await client.reply(5)).command, "MINING_SUBSCRIBE_FAILURE");
      client.send({
        command: "MINING_SUBMIT",
        requestId: 6,
        jobId: devnet.currentJob.jobId,
        nTime: 1,
        nonce: 1,
        extraNonce: 0n,
      });
      const early = await client.reply(6);
      assert.ok(early.command === "MINING_SUBMIT_FAILURE");
      assert.match(early.reason, /not authorized/);
      client.send({
        command: "MINING_AUTH",
        requestId: 7,
        username: "VFFDWUMLJwLRuNzH4NX8Rm32E59n6e",
        password: "",
      });
      const denied = await client.reply(7);
      assert.ok(denied.command === "MINING_AUTH_FAILURE");
      assert.match(denied.reason, /valid VBK address/);
      client.send({ command: "MINING_AUTH", requestId: 8, username: ADDRESS2, password: "x" });
      assert.equal((await client.reply(8)).command, "MINING_AUTH_SUCCESS");
      // Authorized but not subscribed: a submit still fails, and the connection stays open.
      client.send({
        command: "MINING_SUBMIT",
        requestId: 9,
        jobId: devnet.currentJob.jobId,
        nTime: 1,
        nonce: 1,
        extraNonce: 0n,
      });
      const unsubscribed = await client.reply(9);
      assert.ok(unsubscribed.command === "MINING_SUBMIT_FAILURE");
      assert.match(unsubscribed.reason, /not subscribed/);
      assert.equal(client.closedReason, undefined);
      assert.equal(devnet.stats.accepted, 0);
    } finally {
      await client.close();
    }
  });
});

Deno.test("devnet: subscribe success and the first job arrive as separate lines", async () => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    const other = await UcpTestClient.connect(devnet.addr.port);
    try {
      const job = await client.login();
      const job2 = await other.login(ADDRESS2);
      const i = client.raw.findIndex((l) => l.includes("MINING_SUBSCRIBE_SUCCESS"));
      assert.match(client.raw[i + 1]!, /^\{"command":"MINING_JOB"/);
      assert.equal(client.raw.every((l) => !l.includes("\n")), true);
      // Each connection has its own range and a merkle root for its own extra_nonce_start.
      assert.notEqual(job.extraNonceStart, job2.extraNonceStart);
      assert.notDeepEqual(job.merkleRoot, job2.merkleRoot);
      assert.equal(job.jobId, job2.jobId);
      assert.deepEqual(job2.merkleRoot, ucpMerkleRoot(job2, job2.extraNonceStart));
      // The share target is never harder than the block (difficulty 20,000 < 2^24 here).
      assert.equal(
        bytesToTarget(job.miningTarget),
        difficultyToTarget(decodeBits(job.difficulty)),
      );
    } finally {
      await client.close();
      await other.close();
    }
  });
});

Deno.test("devnet: any extranonce is accepted, 64-bit values exact end to end", async (t) => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      let job = await client.login();
      for (const extraNonce of [8935141660704064064n, -1234567890123456789n, -1n]) {
        await t.step(`extra_nonce ${extraNonce}`, async () => {
          const reply = await client.mine(job, extraNonce);
          assert.equal(reply.command, "MINING_SUBMIT_SUCCESS", JSON.stringify(reply));
          const header = decodeHeader(devnet.chain.tip.header);
          const expected = merkle16(headerMerkleRoot({
            popRoot: job.popTransactionMerkleRoot,
            normalRoot: job.normalTransactionMerkleRoot,
            metapackageHash: job.intermediateMetapackageHash,
          }, extraNonce));
          assert.deepEqual(header.merkleRoot, expected);
          job = await client.next("MINING_JOB");
        });
      }
      assert.ok(client.raw.some((l) => l.includes('"data":') && l.includes("MINING_JOB")));
    } finally {
      await client.close();
    }
  });
});

Deno.test("devnet: stale, duplicate, early and future submits fail with reasons", async () => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      const job = await client.login();
      const reasonOf = async (fields: { jobId: number; nTime: number; nonce: number }) => {
        const requestId = client.requestId();
        client.send({
          command: "MINING_SUBMIT",
          requestId,
          extraNonce: job.extraNonceStart,
          ...fields,
        });
        const reply = await client.reply(requestId);
        assert.ok(reply.command === "MINING_SUBMIT_FAILURE", JSON.stringify(reply));
        return reply.reason;
      };
      assert.match(
        await reasonOf({ jobId: job.jobId, nTime: job.timestamp - 1, nonce: 0 }),
        /bad timestamp .* below/,
      );
      const future = Math.floor(Date.now() / 1000) + 1000;
      assert.match(
        await reasonOf({ jobId: job.jobId, nTime: future, nonce: 0 }),
        /bad timestamp .* future/,
      );
      assert.match(await reasonOf({ jobId: 999999, nTime: job.timestamp, nonce: 0 }), /stale/);
      // A header above the network target: search for a nonce that fails (most do).
      assert.match(
        await reasonOf({ jobId: job.jobId, nTime: job.timestamp, nonce: 12345 }),
        /above network target|duplicate/,
      );
      const solved = await client.mine(job);
      assert.equal(solved.command, "MINING_SUBMIT_SUCCESS");
      await client.next("MINING_JOB");
      // The same solution again: a duplicate block.
      const again = await client.mine(job);
      assert.ok(again.command === "MINING_SUBMIT_FAILURE");
      assert.match(again.reason, /duplicate block/);
      // A different (new) solution for the old job: stale.
      const stale = await client.mine(job, 77n);
      assert.ok(stale.command === "MINING_SUBMIT_FAILURE");
      assert.match(stale.reason, /stale job/);
      assert.equal(devnet.chain.height, 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("devnet: MINING_MEMPOOL_UPDATE brings a new job id and merkle root", async () => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      const job = await client.login();
      devnet.mempoolUpdate();
      const update = await client.next("MINING_MEMPOOL_UPDATE");
      assert.notEqual(update.jobId, job.jobId);
      assert.notDeepEqual(update.newMerkleRoot, job.merkleRoot);
      const merged = {
        ...job,
        jobId: update.jobId,
        popTransactionMerkleRoot: update.popTransactionMerkleRoot,
        normalTransactionMerkleRoot: update.normalTransactionMerkleRoot,
        intermediateMetapackageHash: update.intermediateMetapackageHash,
        merkleRoot: update.newMerkleRoot,
      };
      assert.deepEqual(update.newMerkleRoot, ucpMerkleRoot(merged, job.extraNonceStart));
      client.send({ command: "MINING_MEMPOOL_UPDATE_ACK", requestId: update.requestId });
      const reply = await client.mine(merged);
      assert.equal(reply.command, "MINING_SUBMIT_SUCCESS");
      const header = decodeHeader(devnet.chain.tip.header);
      assert.deepEqual(header.merkleRoot, update.newMerkleRoot.slice(0, 16));
    } finally {
      await client.close();
    }
  });
});

Deno.test("devnet: a rival reorganisation orphans the pool's block and resets miners", async () => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      let job = await client.login();
      for (let i = 0; i < 2; i++) {
        assert.equal((await client.mine(job)).command, "MINING_SUBMIT_SUCCESS");
        job = await client.next("MINING_JOB");
      }
      const poolBlock = devnet.chain.tip;
      assert.equal(poolBlock.source, "pool");
      const branch = await devnet.rival.reorg(1);
      assert.equal(branch.length, 2);
      const reset = await client.next("MINING_RESET");
      assert.ok(reset.requestId >= 0);
      const fresh = await client.next("MINING_JOB");
      assert.equal(fresh.blockIndex, 4);
      assert.deepEqual(fresh.previousBlockHash, branch[1]!.hash);
      client.send({ command: "MINING_RESET_ACK", requestId: reset.requestId });
      assert.equal(devnet.chain.isMainChain(poolBlock.hash), false);
      assert.equal(devnet.chain.confirmations(poolBlock.hashHex), 0);
      assert.deepEqual(devnet.chain.orphans(), [poolBlock]);
      assert.equal(devnet.chain.blockByHash(poolBlock.hashHex), poolBlock);
      assert.equal(devnet.chain.blockAt(2), branch[0]);
      assert.equal(devnet.stats.reorgs, 1);
      // The old job is stale; the fresh one mines.
      const stale = await client.mine(job);
      assert.equal(stale.command, "MINING_SUBMIT_FAILURE");
      assert.equal((await client.mine(fresh)).command, "MINING_SUBMIT_SUCCESS");
      // The export with orphans still verifies (forks are allowed).
      const all = verifyChain(parseChainText(devnet.chain.exportText({ includeOrphans: true })));
      assert.equal(all.ok, true);
      assert.equal(all.forkHeights, 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("devnet: bad input gets a failure or a close, other clients keep working", async (t) => {
  await withDevnet(async (devnet) => {
    const good = await UcpTestClient.connect(devnet.addr.port);
    await good.login();
    const clients: UcpTestClient[] = [good];
    try {
      await t.step("malformed JSON three times closes the connection", async () => {
        const c = await UcpTestClient.connect(devnet.addr.port);
        clients.push(c);
        c.sendRaw("{not json");
        c.sendRaw("[]");
        c.sendRaw('{"method":"mining.subscribe","params":[],"id":1}');
        await c.until(() => c.closedReason !== undefined, "close");
      });
      await t.step("wrong types get failures naming the field", async () => {
        const c = await UcpTestClient.connect(devnet.addr.port);
        clients.push(c);
        c.sendRaw(
          '{"command":"MINING_AUTH","request_id":{"data":3},"username":{"data":7},"password":{"data":""}}',
        );
        const r = await c.reply(3);
        assert.ok(r.command === "MINING_AUTH_FAILURE");
        assert.match(r.reason, /username/);
      });
      await t.step("unknown commands get ERROR_UNKNOWN_COMMAND with the id", async () => {
        const c = await UcpTestClient.connect(devnet.addr.port);
        clients.push(c);
        c.sendRaw('{"command":"GET_BLOCK_HEADERS","request_id":{"data":41}}');
        c.sendRaw('{"command":"mining_job_nope","request_id":{"data":42}}');
        c.send({ command: "MINING_RESET", requestId: 43 });
        assert.equal((await c.reply(41)).command, "ERROR_UNKNOWN_COMMAND");
        assert.equal((await c.reply(42)).command, "ERROR_UNKNOWN_COMMAND");
        assert.equal((await c.reply(43)).command, "ERROR_UNKNOWN_COMMAND");
        assert.equal(c.closedReason, undefined);
      });
      await t.step("a 1 MiB line closes that connection", async () => {
        const c = await UcpTestClient.connect(devnet.addr.port);
        clients.push(c);
        c.sendRaw('{"command":"MINING_AUTH","x":"' + "A".repeat(1 << 20) + '"}');
        await c.until(() => c.closedReason !== undefined, "close");
      });
      await t.step("a flood of submits is answered and the devnet stays up", async () => {
        const c = await UcpTestClient.connect(devnet.addr.port);
        clients.push(c);
        const fj = await c.login(ADDRESS2);
        const started = performance.now();
        const n = 2000;
        for (let i = 0; i < n; i++) {
          c.send({
            command: "MINING_SUBMIT",
            requestId: 1000 + i,
            jobId: fj.jobId,
            nTime: fj.timestamp,
            nonce: i,
            extraNonce: fj.extraNonceStart,
          });
        }
        await c.until(
          () => c.messages.filter((m) => m.command.startsWith("MINING_SUBMIT_")).length >= n,
          "flood replies",
          60_000,
        );
        const rate = n / ((performance.now() - started) / 1000);
        console.log(`devnet: ${n} submits answered at ${rate.toFixed(0)} submits/s`);
      });
      await t.step("the well-behaved client still mines", async () => {
        const latest = good.messages.filter((m) => m.command === "MINING_JOB").at(-1);
        assert.ok(latest?.command === "MINING_JOB");
        assert.equal((await good.mine(latest)).command, "MINING_SUBMIT_SUCCESS");
        assert.equal(good.closedReason, undefined);
      });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

Deno.test("devnet: the chain file persists blocks and orphans across restarts", async () => {
  const dir = await Deno.makeTempDir();
  const chainFile = `${dir}/chain.jsonl`;
  try {
    let hashes: string[] = [];
    let orphan = "";
    await withDevnet(async (devnet) => {
      const client = await UcpTestClient.connect(devnet.addr.port);
      try {
        let job = await client.login();
        for (let i = 0; i < 3; i++) {
          assert.equal((await client.mine(job)).command, "MINING_SUBMIT_SUCCESS");
          job = await client.next("MINING_JOB");
        }
        orphan = devnet.chain.tip.hashHex;
        await devnet.rival.reorg(1);
        hashes = devnet.chain.mainChain().map((b) => b.hashHex);
      } finally {
        await client.close();
      }
    }, { chainFile });
    await withDevnet(async (devnet) => {
      assert.deepEqual(devnet.chain.mainChain().map((b) => b.hashHex), hashes);
      assert.equal(devnet.chain.blockByHash(orphan)?.finder, ADDRESS);
      assert.equal(devnet.chain.isMainChain(orphan), false);
      assert.equal(devnet.chain.params.minDifficulty, 20_000n);
      await devnet.rival.mineBlock();
    }, { chainFile, minDifficulty: 99_999n });
    const lines = (await Deno.readTextFile(chainFile)).trim().split("\n");
    assert.equal(lines.length, 1 + 1 + 3 + 2 + 1); // params, genesis, 3 pool, 2 rival, 1 rival
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("devnet: the automatic rival finds blocks and reorganises pool blocks", async () => {
  await withDevnet(async (devnet) => {
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      const job = await client.login();
      assert.equal((await client.mine(job)).command, "MINING_SUBMIT_SUCCESS");
      const poolBlock = devnet.chain.blockAt(1)!;
      // random() = 0.5: the first event comes after ln 2 / rate seconds and is a reorg.
      await client.next("MINING_RESET", 60_000);
      assert.equal(devnet.chain.isMainChain(poolBlock.hash), false);
      assert.equal(devnet.stats.reorgs, 1);
      assert.ok(devnet.rival.blocksFound >= 2);
      assert.equal(devnet.chain.tip.source, "rival");
    } finally {
      await client.close();
    }
  }, { blockTime: 1, rivalShare: 0.9, rivalReorgShare: 1, random: () => 0.5 });
});

Deno.test("devnet: loseSubmitReplies keeps accepted blocks but hides them from the submitter (refuse, silent, close)", async () => {
  await withDevnet(async (devnet) => {
    assert.throws(() => devnet.loseSubmitReplies(-1), RangeError);
    assert.throws(() => devnet.loseSubmitReplies(1, { mode: "lie" as never }), RangeError);
    const client = await UcpTestClient.connect(devnet.addr.port);
    try {
      let job = await client.login();
      devnet.loseSubmitReplies(1, { mode: "refuse" });
      const refused = await client.mine(job);
      assert.equal(refused.command, "MINING_SUBMIT_FAILURE", JSON.stringify(refused));
      assert.equal(devnet.chain.height, 1, "the refused block is on the chain");
      assert.equal(devnet.chain.tip.finder, ADDRESS);
      job = await client.next("MINING_JOB");
      assert.equal(job.blockIndex, 2);

      devnet.loseSubmitReplies(1); // silent
      const requestId = client.requestId();
      client.send({ command: "MINING_SUBMIT", requestId, jobId: job.jobId, ...solve(job) });
      // The next job goes out after the submit's reply would have: proof that none was sent.
      job = await client.next("MINING_JOB");
      assert.equal(job.blockIndex, 3);
      assert.equal(devnet.chain.height, 2);
      assert.equal(client.messages.some((m) => m.command.startsWith("MINING_SUBMIT")), true);
      assert.equal(
        client.messages.some((m) =>
          m.command.startsWith("MINING_SUBMIT") && m.requestId === requestId
        ),
        false,
      );

      const normal = await client.mine(job); // the fault is used up
      assert.equal(normal.command, "MINING_SUBMIT_SUCCESS");
      job = await client.next("MINING_JOB");

      devnet.loseSubmitReplies(1, { mode: "close" });
      const closedId = client.requestId();
      client.send({
        command: "MINING_SUBMIT",
        requestId: closedId,
        jobId: job.jobId,
        ...solve(job),
      });
      await client.until(() => client.closedReason !== undefined, "the devnet closing the link");
      assert.equal(devnet.chain.height, 4);
      assert.equal(devnet.chain.tip.finder, ADDRESS);
      assert.equal(
        client.messages.some((m) =>
          m.command.startsWith("MINING_SUBMIT") && m.requestId === closedId
        ),
        false,
      );
      assert.equal(devnet.stats.lostReplies, 3);
      assert.equal(devnet.stats.accepted, 4);
      assert.equal(devnet.stats.rejected, 0);
    } finally {
      await client.close();
    }
  });
});
