import assert from "node:assert/strict";
import type { PoolEvent } from "../../server/events.ts";
import type { MemoryShareRecorder } from "../../server/share_recorder.ts";
import { difficultyToTarget, hashToBigInt } from "../../hash/difficulty.ts";
import {
  ADDRESSES,
  BAD_ADDRESS,
  freshTemplate,
  hashHeader,
  headerFromNotify,
  hex16,
  hex8,
  mine,
  SHARE_VECTOR,
  startPool,
  testPort,
  vectorTemplate,
} from "./_pool.ts";
import { type ServerLine, subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { waitUntil } from "../_wait.ts";

const ADDRESS = ADDRESSES[0]!;
const [, , EXTRANONCE, NTIME, NONCE] = SHARE_VECTOR.submit as [
  string,
  string,
  string,
  string,
  string,
];
const VECTOR_HASH = SHARE_VECTOR.work[2]!.hash;

async function vectorSession(difficulty: bigint) {
  const started = startPool({
    ports: [testPort({ difficulty, minDifficulty: 1n, vardiff: false })],
  });
  const events: PoolEvent[] = [];
  started.pool.events.subscribe((e) => events.push(e));
  const client = await TestClient.connect(started.port());
  const subscribed = await client.call("mining.subscribe", [], "1");
  assert.equal(
    subscribed.raw,
    `{"id":"1","result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"],"${EXTRANONCE}",8],"error":null}`,
  );
  const setDiff = await client.notification("mining.set_difficulty");
  assert.deepEqual(setDiff.json.params, [String(difficulty)]);
  const authorized = await client.call("mining.authorize", [ADDRESS, ""], "2");
  assert.equal(authorized.raw, `{"id":"2","result":true,"error":null}`);
  started.pool.addTemplate(vectorTemplate());
  const notify = await client.notification("mining.notify");
  return { ...started, client, events, jobId: notify.json.params[0] as string, notify };
}

Deno.test("the stratum_share vector is accepted at difficulty 65536 with the right hash", async () => {
  const { pool, client, events, jobId, notify } = await vectorSession(65536n);
  try {
    const expected = SHARE_VECTOR.notify.slice(1, 10);
    assert.deepEqual(notify.json.params.slice(1), expected);
    const reply = await client.call(
      "mining.submit",
      [ADDRESS, jobId, EXTRANONCE, NTIME, NONCE],
      "3",
    );
    assert.equal(reply.raw, `{"id":"3","result":true,"error":null}`);
    const accepted = events.find((e) => e.type === "share_accepted");
    assert.ok(accepted?.type === "share_accepted");
    assert.equal(accepted.share.hash, VECTOR_HASH);
    assert.equal(accepted.share.difficulty, 65536n);
    assert.equal(accepted.share.block, false);
    assert.equal(accepted.share.extranonce, 0x7c000000000f4240n);
    const recorder = pool.recorder as MemoryShareRecorder;
    assert.deepEqual(recorder.totals(ADDRESS)?.work, 65536n);
  } finally {
    await client.close();
    await pool.stop();
  }
});

Deno.test("the stratum_share vector is rejected at difficulty 1048576", async () => {
  const { pool, client, events, jobId } = await vectorSession(1048576n);
  try {
    const reply = await client.call(
      "mining.submit",
      [ADDRESS, jobId, EXTRANONCE.toUpperCase(), NTIME.toUpperCase(), NONCE.toUpperCase()],
      7,
    );
    assert.equal(reply.raw, `{"id":7,"result":null,"error":[23,"Share is above target",null]}`);
    const rejected = events.find((e) => e.type === "share_rejected");
    assert.ok(rejected?.type === "share_rejected");
    assert.equal(rejected.reason, "low_difficulty");
    assert.equal((pool.recorder as MemoryShareRecorder).shares, 0);
  } finally {
    await client.close();
    await pool.stop();
  }
});

async function withPool(
  options: Parameters<typeof startPool>[0],
  body: (ctx: ReturnType<typeof startPool> & { events: PoolEvent[] }) => Promise<void>,
): Promise<void> {
  const started = startPool(options);
  const events: PoolEvent[] = [];
  started.pool.events.subscribe((e) => events.push(e));
  try {
    await body({ ...started, events });
  } finally {
    await started.pool.stop();
  }
}

const LOW = { ports: [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })] };

Deno.test("mining.subscribe sends set_difficulty before the current job, with clean_jobs", async () => {
  await withPool({}, async ({ pool, port }) => {
    pool.addTemplate(freshTemplate(1));
    pool.addTemplate(freshTemplate(1, { kind: "mempool_update" }));
    const client = await TestClient.connect(port());
    try {
      client.send("mining.subscribe", ["cpuminer/2.5"], 1);
      await client.waitFor((l) => l.json?.id === 1);
      const next = await client.waitFor(() => true);
      assert.equal(next.raw, '{"id":null,"method":"mining.set_difficulty","params":["1048576"]}');
      const notify = await client.waitFor(() => true);
      assert.equal(notify.json.method, "mining.notify");
      assert.equal(notify.json.params[0], pool.jobs.current!.id);
      assert.equal(notify.json.params[9], true); // clean for a new subscriber
      const again = await client.call("mining.subscribe", [], "x");
      assert.equal(
        again.raw,
        '{"id":"x","result":null,"error":[-2,"This connection is already subscribed for such event.",null]}',
      );
    } finally {
      await client.close();
    }
  });
});

Deno.test("a subscriber without a job gets one at the next broadcast", async () => {
  await withPool({}, async ({ pool, port, events }) => {
    const client = await TestClient.connect(port());
    try {
      await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(1));
      const notify = await client.notification("mining.notify");
      assert.equal(notify.json.params[9], true);
      const broadcast = events.find((e) => e.type === "job_broadcast");
      assert.ok(broadcast?.type === "job_broadcast" && broadcast.sessions === 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("mining.authorize requires a VeriBlock address and closes after 3 failures", async () => {
  await withPool({}, async ({ port }) => {
    const client = await TestClient.connect(port());
    try {
      await client.call("mining.subscribe", []);
      const bad = await client.call("mining.authorize", [BAD_ADDRESS, ""], 5);
      assert.equal(
        bad.raw,
        '{"id":5,"result":null,"error":[24,"Worker name is not a valid VeriBlock address",null]}',
      );
      const types = await client.call("mining.authorize", [42, ""], 6);
      assert.equal(types.json.error[0], -2);
      const ok = await client.call("mining.authorize", [`${ADDRESS}.rig-1`, "x"], 7);
      assert.equal(ok.json.result, true);
      await client.call("mining.authorize", ["worker1", ""]);
      await client.call("mining.authorize", [`${BAD_ADDRESS}.rig`, ""]);
      await client.closed;
    } finally {
      await client.close();
    }
  });
});

Deno.test("mining.submit is refused before authorize and before subscribe", async () => {
  await withPool({}, async ({ port }) => {
    const client = await TestClient.connect(port());
    try {
      const params = [ADDRESS, "1", EXTRANONCE, NTIME, NONCE];
      const first = await client.call("mining.submit", params, 1);
      assert.deepEqual(first.json.error, [24, "Worker is not authorized", null]);
      await client.call("mining.authorize", [ADDRESS, ""]);
      const second = await client.call("mining.submit", params, 2);
      assert.deepEqual(second.json.error, [25, "Connection is not subscribed for mining", null]);
      await client.call("mining.subscribe", []);
      const other = await client.call("mining.submit", [
        ADDRESSES[1],
        "1",
        EXTRANONCE,
        NTIME,
        NONCE,
      ], 3);
      assert.deepEqual(other.json.error, [24, "Worker is not authorized", null]);
      const bad = await client.call("mining.submit", [ADDRESS, "1", EXTRANONCE], 4);
      assert.deepEqual(bad.json.error, [-2, "Invalid parameters", null]);
      const size = await client.call("mining.submit", [ADDRESS, "1", "7c", NTIME, NONCE], 5);
      assert.deepEqual(size.json.error, [
        -2,
        "Incorrect size of extranonce. Expected 16 chars",
        null,
      ]);
    } finally {
      await client.close();
    }
  });
});

Deno.test("unknown methods get -3, notifications get no reply, ids are echoed verbatim", async () => {
  await withPool({}, async ({ port }) => {
    const client = await TestClient.connect(port());
    try {
      client.send("mining.configure", [], null);
      client.send("client.get_version", [], null);
      const unknown = await client.call("mining.get_transactions", [], 1.5);
      assert.equal(
        unknown.raw,
        `{"id":1.5,"result":null,"error":[-3,"Method 'get_transactions' not found for service 'mining'",null]}`,
      );
      assert.equal(client.lines.length, 1); // the two notifications were not answered
      const nodot = await client.call("ping", [], "p");
      assert.equal(nodot.json.error[0], -3);
      const ext = await client.call("mining.extranonce.subscribe", [], "e");
      assert.equal(ext.raw, '{"id":"e","result":true,"error":null}');
    } finally {
      await client.close();
    }
  });
});

Deno.test("malformed JSON is answered and the third offence closes the connection", async () => {
  await withPool({}, async ({ port, events }) => {
    const client = await TestClient.connect(port());
    try {
      client.sendRaw("{not json");
      const reply = await client.waitFor(() => true);
      assert.equal(reply.raw, '{"id":null,"result":null,"error":[20,"Malformed request",null]}');
      client.sendRaw('{"id":1,"result":true}');
      const invalid = await client.waitFor(() => true);
      assert.deepEqual(invalid.json.error, [20, "Invalid request", null]);
      client.sendRaw("[1,2,3]");
      await client.closed;
      await waitUntil(() => events.some((e) => e.type === "connection_close"), "the close event");
      const closed = events.find((e) => e.type === "connection_close");
      assert.ok(closed?.type === "connection_close");
      assert.match(closed.reason, /too many/);
    } finally {
      await client.close();
    }
  });
});

Deno.test("two miners cannot submit each other's extranonce", async () => {
  await withPool(LOW, async ({ pool, port }) => {
    const a = await TestClient.connect(port());
    const b = await TestClient.connect(port());
    try {
      const readyA = await subscribeAndAuthorize(a, ADDRESS);
      const readyB = await subscribeAndAuthorize(b, ADDRESSES[1]!);
      assert.equal(readyB.extranonce - readyA.extranonce, 1_000_000n);
      pool.addTemplate(freshTemplate(3));
      const notifyB = await b.notification("mining.notify");
      await a.notification("mining.notify");
      const jobId = notifyB.json.params[0];
      const ntime = Math.floor(Date.now() / 1000);
      const [nonce] = mine(notifyB.json.params, readyA.extranonce, { ntime, difficulty: 1n });
      // B submits work done with A's extranonce: refused.
      const stolen = await b.call(
        "mining.submit",
        [ADDRESSES[1], jobId, hex16(readyA.extranonce), hex8(ntime), hex8(nonce!)],
      );
      assert.deepEqual(stolen.json.error, [-2, "Extranonce is not owned by this connection", null]);
      // A itself may submit it, and anywhere in its own range.
      const own = await a.call(
        "mining.submit",
        [ADDRESS, jobId, hex16(readyA.extranonce), hex8(ntime), hex8(nonce!)],
      );
      assert.equal(own.json.result, true);
      const top = readyA.extranonce + 999_999n;
      const [n2] = mine(notifyB.json.params, top, { ntime, difficulty: 1n });
      const edge = await a.call("mining.submit", [
        ADDRESS,
        jobId,
        hex16(top),
        hex8(ntime),
        hex8(n2!),
      ]);
      assert.equal(edge.json.result, true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("a duplicate is refused, a mempool update keeps jobs, a new block makes them stale", async () => {
  await withPool(LOW, async ({ pool, port }) => {
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(4));
      const first = await client.notification("mining.notify");
      const ntime = Math.floor(Date.now() / 1000);
      const nonces = mine(first.json.params, extranonce, { ntime, difficulty: 1n });
      const submit = (jobId: string, nonce: number) =>
        client.call("mining.submit", [ADDRESS, jobId, hex16(extranonce), hex8(ntime), hex8(nonce)]);
      const jobId = first.json.params[0];
      assert.equal((await submit(jobId, nonces[0]!)).json.result, true);
      const dup = await submit(jobId, nonces[0]!);
      assert.deepEqual(dup.json.error, [22, "Duplicate share", null]);
      pool.addTemplate(freshTemplate(4, { kind: "mempool_update", upstreamJobId: 50 }));
      const update = await client.notification("mining.notify");
      assert.equal(update.json.params[9], false);
      assert.equal((await submit(jobId, nonces[1]!)).json.result, true); // old job still valid
      pool.addTemplate(freshTemplate(5));
      const block = await client.notification("mining.notify");
      assert.equal(block.json.params[9], true);
      const stale = await submit(jobId, nonces[2]!);
      assert.deepEqual(stale.json.error, [21, `Job '${jobId}' not found`, null]);
      const ntimeLow = await client.call(
        "mining.submit",
        [ADDRESS, block.json.params[0], hex16(extranonce), "00000001", hex8(0)],
      );
      assert.deepEqual(ntimeLow.json.error, [-2, "Ntime out of range", null]);
    } finally {
      await client.close();
    }
  });
});

Deno.test("every other submit rejection gets its table row over TCP, and mining goes on", async () => {
  await withPool(LOW, async ({ pool, port, events }) => {
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(11));
      const notify = await client.notification("mining.notify");
      const jobId = notify.json.params[0];
      const ntime = Math.floor(Date.now() / 1000);
      const [nonce] = mine(notify.json.params, extranonce, { ntime, difficulty: 1n });
      const good = [ADDRESS, jobId, hex16(extranonce), hex8(ntime), hex8(nonce!)];
      const cases: [string, unknown[], [number, string, null]][] = [
        ["short ntime", [ADDRESS, jobId, hex16(extranonce), "5cfbb6", hex8(0)], [
          -2,
          "Incorrect size of ntime. Expected 8 chars",
          null,
        ]],
        ["long nonce", [ADDRESS, jobId, hex16(extranonce), hex8(ntime), "0000430b0"], [
          -2,
          "Incorrect size of nonce. Expected 8 chars",
          null,
        ]],
        ["non-hex nonce", [ADDRESS, jobId, hex16(extranonce), hex8(ntime), "0000430g"], [
          -2,
          "Non-hexadecimal digit found",
          null,
        ]],
        ["non-hex extranonce", [ADDRESS, jobId, "7c00000000zz4240", hex8(ntime), hex8(0)], [
          -2,
          "Non-hexadecimal digit found",
          null,
        ]],
        ["a number for the nonce", [ADDRESS, jobId, hex16(extranonce), hex8(ntime), 17163], [
          -2,
          "Invalid parameters",
          null,
        ]],
        [
          "ntime past now + 300 s",
          [ADDRESS, jobId, hex16(extranonce), hex8(ntime + 400), hex8(0)],
          [
            -2,
            "Ntime out of range",
            null,
          ],
        ],
        ["a job never sent", [ADDRESS, "999999", hex16(extranonce), hex8(ntime), hex8(0)], [
          21,
          "Job '999999' not found",
          null,
        ]],
      ];
      for (const [name, params, error] of cases) {
        const reply = await client.call("mining.submit", params);
        assert.deepEqual(reply.json.error, error, name);
        assert.equal(reply.json.result, null, name);
      }
      // Params that are not an array: answered, not fatal.
      client.sendRaw('{"id":"p","method":"mining.submit","params":{"worker":"x"}}');
      const notArray = await client.waitFor((l) => l.json?.id === "p");
      assert.deepEqual(notArray.json.error, [-2, "Invalid parameters", null]);
      // None of them was recorded; the connection still mines.
      assert.equal((pool.recorder as MemoryShareRecorder).shares, 0);
      const ok = await client.call("mining.submit", good);
      assert.equal(ok.raw.endsWith(',"result":true,"error":null}'), true, ok.raw);
      const reasons = events.flatMap((e) => e.type === "share_rejected" ? [e.reason] : []);
      assert.deepEqual(reasons, [
        "bad_ntime_size",
        "bad_nonce_size",
        "bad_hex",
        "bad_hex",
        "bad_params",
        "ntime_out_of_range",
        "stale_job",
      ]);
    } finally {
      await client.close();
    }
  });
});

Deno.test("d=N in the password fixes the difficulty; older jobs keep their difficulty", async () => {
  await withPool({ ports: [testPort({ difficulty: 1n, minDifficulty: 1n })] }, async (ctx) => {
    const { pool, port } = ctx;
    pool.addTemplate(freshTemplate(6));
    const client = await TestClient.connect(port());
    try {
      const sub = await client.call("mining.subscribe", []);
      const extranonce = BigInt("0x" + sub.json.result[1]);
      assert.deepEqual((await client.notification("mining.set_difficulty")).json.params, ["1"]);
      const old = await client.notification("mining.notify");
      await client.call("mining.authorize", [ADDRESS, "x,d=1000000"]);
      const diff = await client.notification("mining.set_difficulty");
      assert.deepEqual(diff.json.params, ["1000000"]);
      const fresh = await client.notification("mining.notify");
      assert.notEqual(fresh.json.params[0], old.json.params[0]);
      assert.equal(fresh.json.params[9], false);
      assert.deepEqual(fresh.json.params.slice(1, 9), old.json.params.slice(1, 9));
      const ntime = Math.floor(Date.now() / 1000);
      const [nonce] = mine(old.json.params, extranonce, { ntime, difficulty: 1n });
      const onOld = await client.call(
        "mining.submit",
        [ADDRESS, old.json.params[0], hex16(extranonce), hex8(ntime), hex8(nonce!)],
      );
      assert.equal(onOld.json.result, true); // credited at difficulty 1
      const shares = ctx.events.filter((e) => e.type === "share_accepted");
      assert.ok(shares[0]?.type === "share_accepted" && shares[0].share.difficulty === 1n);
      // A share that meets difficulty 1 but not 10^6 is refused on the fresh job.
      const weak = mine(old.json.params, extranonce, { ntime, difficulty: 1n, count: 8 }).find((
        n,
      ) =>
        n !== nonce &&
        hashToBigInt(hashHeader(headerFromNotify(old.json.params, extranonce, ntime, n))) >=
          difficultyToTarget(1000000n)
      );
      const onFresh = await client.call(
        "mining.submit",
        [ADDRESS, fresh.json.params[0], hex16(extranonce), hex8(ntime), hex8(weak!)],
      );
      assert.deepEqual(onFresh.json.error, [23, "Share is above target", null]);
    } finally {
      await client.close();
    }
  });
});

Deno.test("mining.suggest_difficulty is honoured within the port's bounds", async () => {
  const ports = [testPort({ difficulty: 1024n, minDifficulty: 512n, maxDifficulty: 4096n })];
  await withPool({ ports }, async ({ port }) => {
    const client = await TestClient.connect(port());
    try {
      await subscribeAndAuthorize(client, ADDRESS);
      const ok = await client.call("mining.suggest_difficulty", [100000]);
      assert.equal(ok.json.result, true);
      assert.deepEqual((await client.notification("mining.set_difficulty")).json.params, ["4096"]);
      await client.call("mining.suggest_difficulty", ["600.5"]);
      assert.deepEqual((await client.notification("mining.set_difficulty")).json.params, ["601"]);
      const bad = await client.call("mining.suggest_difficulty", ["lots"]);
      assert.equal(bad.json.error[0], -2);
    } finally {
      await client.close();
    }
  });
});

Deno.test("a share is answered only after it is recorded, in request order", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const recorded: string[] = [];
  const recorder = {
    async record(share: { hash: string }) {
      await gate;
      recorded.push(share.hash);
    },
  };
  await withPool({ ...LOW, recorder }, async ({ pool, port, events }) => {
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(7));
      const notify = await client.notification("mining.notify");
      const ntime = Math.floor(Date.now() / 1000);
      const [nonce] = mine(notify.json.params, extranonce, { ntime, difficulty: 1n });
      client.send("mining.submit", [
        ADDRESS,
        notify.json.params[0],
        hex16(extranonce),
        hex8(ntime),
        hex8(nonce!),
      ], "s");
      // A later request the pool answers at once; its `authorized` event proves it was handled.
      const later = `${ADDRESS}.later`;
      client.send("mining.authorize", [later, "x"], "after");
      await waitUntil(
        () => events.some((e) => e.type === "authorized" && e.worker === later),
        "the later request handled",
      );
      assert.equal(client.lines.filter((l) => l.json?.id === "after").length, 0);
      release();
      const first = await client.waitFor((l) => l.json?.id !== null);
      assert.equal(first.raw, '{"id":"s","result":true,"error":null}');
      const second = await client.waitFor((l) => l.json?.id !== null);
      assert.equal(second.raw, '{"id":"after","result":true,"error":null}');
      assert.equal(recorded.length, 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("a share whose record fails gets an internal error, never exception text", async () => {
  const recorder = { record: () => Promise.reject(new Error("disk on fire: /var/db")) };
  await withPool({ ...LOW, recorder }, async ({ pool, port, events }) => {
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(8));
      const notify = await client.notification("mining.notify");
      const ntime = Math.floor(Date.now() / 1000);
      const [nonce] = mine(notify.json.params, extranonce, { ntime, difficulty: 1n });
      const reply = await client.call(
        "mining.submit",
        [ADDRESS, notify.json.params[0], hex16(extranonce), hex8(ntime), hex8(nonce!)],
      );
      assert.equal(reply.raw.includes("disk"), false);
      assert.deepEqual(reply.json.error, [20, "Internal error", null]);
      assert.ok(events.some((e) => e.type === "share_rejected" && e.reason === "internal"));
    } finally {
      await client.close();
    }
  });
});

Deno.test("vardiff raises a fast miner: set_difficulty, then a fresh job", async () => {
  const ports = [testPort({ difficulty: 1n, minDifficulty: 1n, targetShareSeconds: 10 })];
  await withPool({ ports }, async ({ pool, port }) => {
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(9));
      const notify = await client.notification("mining.notify");
      const ntime = Math.floor(Date.now() / 1000);
      const nonces = mine(notify.json.params, extranonce, { ntime, difficulty: 1n, count: 64 });
      let raised: ServerLine | undefined;
      for (const nonce of nonces) {
        const reply = await client.call(
          "mining.submit",
          [ADDRESS, notify.json.params[0], hex16(extranonce), hex8(ntime), hex8(nonce)],
        );
        assert.equal(reply.json.result, true);
        raised = client.lines.find((l) =>
          l.json?.method === "mining.set_difficulty" && l.json.params[0] !== "1"
        );
        if (raised) break;
      }
      assert.ok(raised, "vardiff never raised the difficulty");
      assert.ok(BigInt(raised.json.params[0]) > 1n);
      const index = client.lines.indexOf(raised);
      const after = client.lines[index + 1];
      assert.equal(after?.json.method, "mining.notify");
      assert.notEqual(after.json.params[0], notify.json.params[0]);
      assert.equal(after.json.params[9], false);
    } finally {
      await client.close();
    }
  });
});
