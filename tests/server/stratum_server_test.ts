import assert from "node:assert/strict";
import type { PoolEvent } from "../../server/events.ts";
import { ADDRESSES, freshTemplate, hex16, hex8, startPool, testPort } from "./_pool.ts";
import { subscribeAndAuthorize, TestClient } from "./_stratum_client.ts";
import { floodLines } from "./_flood.ts";
import { waitUntil } from "../_wait.ts";

const ADDRESS = ADDRESSES[0]!;

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

function closeReason(events: PoolEvent[]): string | undefined {
  const closed = events.find((e) => e.type === "connection_close");
  return closed?.type === "connection_close" ? closed.reason : undefined;
}

Deno.test("a line longer than the limit closes the connection", async () => {
  await withPool({ connections: { maxLineBytes: 1024 } }, async ({ port, events }) => {
    const client = await TestClient.connect(port());
    try {
      const ok = await client.call("mining.extranonce.subscribe", ["x".repeat(900)]);
      assert.equal(ok.json.result, true);
      client.sendRaw(`{"id":1,"method":"mining.subscribe","params":["${"x".repeat(2000)}"]}`);
      await client.closed;
      await waitUntil(() => closeReason(events), "the connection_close event");
      assert.equal(closeReason(events), "line too long");
    } finally {
      await client.close();
    }
  });
});

Deno.test("the default line limit is 16 KiB", async () => {
  await withPool({}, async ({ port }) => {
    const client = await TestClient.connect(port());
    try {
      client.sendRaw("x".repeat(16 * 1024 + 10) + "\n");
      await client.closed;
    } finally {
      await client.close();
    }
  });
});

Deno.test("a connection that never subscribes is closed at the subscribe deadline", async () => {
  await withPool({ limits: { subscribeTimeoutMs: 50 } }, async ({ port, events }) => {
    const client = await TestClient.connect(port());
    try {
      await client.closed;
      await waitUntil(() => closeReason(events), "the connection_close event");
      assert.equal(closeReason(events), "subscribe timeout");
    } finally {
      await client.close();
    }
  });
});

Deno.test("a subscribed connection that never authorizes is closed at the authorize deadline", async () => {
  await withPool({ limits: { authorizeTimeoutMs: 300 } }, async ({ port, events }) => {
    const client = await TestClient.connect(port());
    try {
      await client.call("mining.subscribe", []);
      await client.closed;
      await waitUntil(() => closeReason(events), "the connection_close event");
      assert.equal(closeReason(events), "authorize timeout");
    } finally {
      await client.close();
    }
  });
});

Deno.test("an idle miner is closed at the idle timeout", async () => {
  await withPool({ limits: { idleTimeoutMs: 50 } }, async ({ port, events }) => {
    const client = await TestClient.connect(port());
    try {
      await subscribeAndAuthorize(client, ADDRESS);
      await client.closed;
      await waitUntil(() => closeReason(events), "the connection_close event");
      assert.equal(closeReason(events), "idle timeout");
    } finally {
      await client.close();
    }
  });
});

Deno.test("connections beyond the per-IP cap are refused", async () => {
  const connections = { maxConnectionsPerIp: 2, exemptLoopback: false };
  await withPool({ connections }, async ({ pool, port }) => {
    const a = await TestClient.connect(port());
    const b = await TestClient.connect(port());
    const c = await TestClient.connect(port());
    try {
      await c.closed;
      assert.equal((await a.call("mining.extranonce.subscribe", [])).json.result, true);
      assert.equal(pool.sessionCount, 2);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
  // Loopback can be exempt.
  await withPool(
    { connections: { maxConnectionsPerIp: 1, exemptLoopback: true } },
    async ({ port }) => {
      const a = await TestClient.connect(port());
      const b = await TestClient.connect(port());
      try {
        assert.equal((await b.call("mining.extranonce.subscribe", [])).json.result, true);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  );
});

Deno.test("with ban_offences = 1 one offending connection bans its IP and closes its connections", async () => {
  const options = {
    bans: {
      checkThreshold: 4,
      invalidPercent: 50,
      offences: 1,
      banSeconds: 60,
      exemptLoopback: false,
    },
  };
  await withPool(options, async ({ pool, port, events }) => {
    const other = await TestClient.connect(port());
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(1));
      const notify = await client.notification("mining.notify");
      const ntime = hex8(Math.floor(Date.now() / 1000));
      for (let nonce = 0; nonce < 4; nonce++) {
        client.send("mining.submit", [
          ADDRESS,
          notify.json.params[0],
          hex16(extranonce),
          ntime,
          hex8(nonce),
        ]);
      }
      await client.closed;
      await other.closed;
      assert.ok(events.some((e) => e.type === "banned" && e.ip === "127.0.0.1"));
      const again = await TestClient.connect(port());
      await again.closed; // refused while banned
      await again.close();
    } finally {
      await client.close();
      await other.close();
    }
  });
});

Deno.test("a request flood is refused and then closed", async () => {
  const limits = { requestsPerSecond: 1, requestBurst: 2, maxProtocolErrors: 3 };
  await withPool({ limits }, async ({ port }) => {
    const client = await TestClient.connect(port());
    try {
      for (let i = 0; i < 6; i++) client.send("mining.extranonce.subscribe", [], i);
      const limited = await client.waitFor((l) => l.json?.error?.[0] === 20);
      assert.deepEqual(limited.json.error, [20, "Too many requests", null]);
      await client.closed;
    } finally {
      await client.close();
    }
  });
});

Deno.test("submits beyond the pending limit are refused while records are slow", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const recorder = { record: () => gate };
  const ports = [testPort({ difficulty: 1n, minDifficulty: 1n, vardiff: false })];
  await withPool({ ports, recorder, limits: { maxPendingSubmits: 1 } }, async ({ pool, port }) => {
    const client = await TestClient.connect(port());
    try {
      const { extranonce } = await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(2));
      const notify = await client.notification("mining.notify");
      const ntime = hex8(Math.floor(Date.now() / 1000));
      const job = notify.json.params[0];
      client.send("mining.submit", [ADDRESS, job, hex16(extranonce), ntime, hex8(1)], "a");
      client.send("mining.submit", [ADDRESS, job, hex16(extranonce), ntime, hex8(2)], "b");
      // "b" is refused while "a" is still being recorded (its reply waits behind "a"'s).
      const session = [...pool.servers[0]!.sessions.values()][0]!;
      await waitUntil(() => session.counts.rejected === 1, "the refusal of b");
      assert.equal(session.pendingSubmits, 1);
      release(); // replies keep request order: "a" first, then the refusal of "b"
      const first = await client.waitFor((l) => l.json?.id !== null);
      assert.equal(first.raw, '{"id":"a","result":true,"error":null}');
      const second = await client.waitFor((l) => l.json?.id !== null);
      assert.deepEqual(second.json.error, [20, "Too many requests", null]);
    } finally {
      await client.close();
    }
  });
});

Deno.test("a reader too slow for its send queue is disconnected", async () => {
  await withPool({ connections: { maxSendQueueBytes: 300 } }, async ({ pool, port, events }) => {
    const client = await TestClient.connect(port());
    try {
      await subscribeAndAuthorize(client, ADDRESS);
      pool.addTemplate(freshTemplate(3)); // one notify (~500 bytes) exceeds the queue
      await client.closed;
      await waitUntil(() => closeReason(events), "the connection_close event");
      assert.match(closeReason(events)!, /send queue full/);
    } finally {
      await client.close();
    }
  });
});

/** The first connection_close event (the well-behaved miner of these tests stays open). */
function firstClose(events: PoolEvent[]) {
  return events.find((e) => e.type === "connection_close") as
    | Extract<PoolEvent, { type: "connection_close" }>
    | undefined;
}

Deno.test("past the protocol-error limit a connection is neither read nor answered; others mine on", async () => {
  await withPool({}, async ({ pool, port, events }) => {
    const good = await TestClient.connect(port());
    try {
      await subscribeAndAuthorize(good, ADDRESS);
      // 4.5 MB of junk lines: the third is the limit (max_protocol_errors = 3).
      const flood = await floodLines(port(), "not json", { count: 500_000 });
      assert.deepEqual(
        flood.lines,
        Array(3).fill('{"id":null,"result":null,"error":[20,"Malformed request",null]}'),
      );
      await waitUntil(() => firstClose(events), "the connection_close event");
      const closed = firstClose(events)!;
      assert.equal(closed.reason, "too many malformed requests");
      assert.equal(closed.bytesOut, flood.received.length);
      // Reading stopped within the chunk that held the limit (the first read is 1 KiB).
      assert.ok(closed.bytesIn! <= 4096, `the pool read ${closed.bytesIn} bytes`);
      // The well-behaved miner still gets jobs and answers.
      pool.addTemplate(freshTemplate(5));
      await good.notification("mining.notify");
      assert.equal((await good.call("mining.extranonce.subscribe", [])).json.result, true);
    } finally {
      await good.close();
    }
  });
});

Deno.test("a request flood is answered up to its burst and the limit, then nothing more", async () => {
  const limits = { requestsPerSecond: 0.001, requestBurst: 10, maxProtocolErrors: 3 };
  await withPool({ limits }, async ({ pool, port, events }) => {
    const good = await TestClient.connect(port());
    try {
      await subscribeAndAuthorize(good, ADDRESS);
      const line = '{"id":7,"method":"mining.extranonce.subscribe","params":[]}';
      const flood = await floodLines(port(), line, { count: 100_000 });
      // 10 answered from the burst, 3 refused (the third is the limit), then nothing.
      const answered = '{"id":7,"result":true,"error":null}';
      const refused = '{"id":null,"result":null,"error":[20,"Too many requests",null]}';
      assert.deepEqual(flood.lines, [...Array(10).fill(answered), ...Array(3).fill(refused)]);
      await waitUntil(() => firstClose(events), "the connection_close event");
      const closed = firstClose(events)!;
      assert.equal(closed.reason, "too many request flood");
      assert.ok(closed.bytesIn! <= 4096, `the pool read ${closed.bytesIn} bytes`);
      pool.addTemplate(freshTemplate(6));
      await good.notification("mining.notify");
    } finally {
      await good.close();
    }
  });
});

Deno.test("a silent authorized miner is closed at its share deadline; an active one is not", async () => {
  // Vardiff expects a share every 50 ms: the deadline is 18 share times (0.9 s), not 600 s.
  const ports = [testPort({ difficulty: 1n, minDifficulty: 1n, targetShareSeconds: 0.05 })];
  const limits = { silentShareTimes: 18, silentMinMs: 100 };
  await withPool({ ports, limits }, async ({ pool, port, events }) => {
    const silent = await TestClient.connect(port());
    const active = await TestClient.connect(port());
    try {
      const worker = `${ADDRESS}.active`;
      const { extranonce } = await subscribeAndAuthorize(active, worker);
      await subscribeAndAuthorize(silent, `${ADDRESS}.silent`);
      const quietFrom = Date.now();
      pool.addTemplate(freshTemplate(7));
      const job = (await active.notification("mining.notify")).json.params[0];
      // The active miner submits a share (any hash meets difficulty 1) every 150 ms.
      let nonce = 0;
      let stop = false;
      const mining = (async () => {
        while (!stop) {
          const ntime = hex8(Math.floor(Date.now() / 1000));
          const reply = await active.call(
            "mining.submit",
            [worker, job, hex16(extranonce), ntime, hex8(nonce++)],
          );
          assert.equal(reply.json.result, true, reply.raw);
          await new Promise((r) => setTimeout(r, 150)); // pacing: a share every 150 ms
        }
      })();
      // The event that proves the deadline has passed: the silent miner's close.
      await silent.closed;
      await waitUntil(() => firstClose(events), "the connection_close event");
      const closed = firstClose(events)!;
      assert.equal(closed.reason, "silent: no share or request for 0.9 s");
      assert.ok(Date.now() - quietFrom >= 900);
      // The active miner, connected as long, is still open and answered.
      stop = true;
      await mining;
      assert.equal(active.closedReason, undefined);
      assert.ok(nonce >= 5, `${nonce} shares`);
      assert.equal(events.filter((e) => e.type === "connection_close").length, 1);
    } finally {
      await silent.close();
      await active.close();
    }
  });
});

Deno.test("vardiff lowers a silent miner's difficulty first; each step restarts its deadline", async () => {
  // 1 share per 50 ms wanted; vardiff's timer lowers after ~11 silent share times (0.55 s), by
  // up to 16 per step, from 2^20 to the minimum of 256 (three steps); the deadline is 0.9 s.
  const ports = [testPort({
    difficulty: 1n << 20n,
    minDifficulty: 256n,
    targetShareSeconds: 0.05,
    retargetSeconds: 0.05,
  })];
  const limits = { silentShareTimes: 18, silentMinMs: 100 };
  await withPool({ ports, limits, vardiffTickMs: 50 }, async ({ pool, port, events }) => {
    const silent = await TestClient.connect(port());
    try {
      await subscribeAndAuthorize(silent, `${ADDRESS}.slow`);
      const quietFrom = Date.now();
      pool.addTemplate(freshTemplate(8));
      await silent.closed;
      const lasted = Date.now() - quietFrom;
      const sent = silent.lines
        .filter((l) => l.json?.method === "mining.set_difficulty")
        .map((l) => BigInt(l.json.params[0]));
      // The start difficulty, then the steps down to the minimum, all before the close.
      assert.equal(sent[0], 1n << 20n);
      assert.equal(sent.at(-1), 256n);
      assert.ok(sent.length >= 4, `difficulties ${sent}`);
      // Closed only once the lowest difficulty had its full 0.9 s.
      assert.ok(lasted >= 3 * 500 + 900, `closed after ${lasted} ms`);
      await waitUntil(() => firstClose(events), "the connection_close event");
      assert.match(firstClose(events)!.reason, /^silent: no share or request/);
    } finally {
      await silent.close();
    }
  });
});
