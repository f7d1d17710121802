import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "@logtape/logtape";
import { ApiServer, type ApiServerOptions } from "../../api/api_server.ts";
import { PUBLIC_CODES } from "../../api/public_codes.ts";
import { encodeBits } from "../../hash/difficulty.ts";
import { hexToBytes } from "../../hash/hex.ts";
import { freshTemplate } from "../server/_pool.ts";
import {
  ADDRESS,
  type ApiFixture,
  breakStore,
  connectMiner,
  type FixtureOptions,
  startFixture,
} from "./_fixture.ts";
import { RawHttpClient } from "../net/_http_client.ts";
import { waitUntil } from "../_wait.ts";
import { readEvents } from "./_sse.ts";

async function withServer(
  options: Partial<ApiServerOptions>,
  fn: (api: ApiServer, f: ApiFixture) => Promise<void>,
  fixture: FixtureOptions = {},
): Promise<void> {
  const f = await startFixture(fixture);
  const api = ApiServer.start({
    port: 0,
    pool: f.pool,
    store: f.store,
    upstream: () => f.upstream,
    ...options,
  });
  try {
    await fn(api, f);
  } finally {
    await api.close();
    await f.close();
  }
}

Deno.test("ApiServer streams pool snapshots and block results as server-sent events", async () => {
  await withServer({ eventIntervalMs: 50 }, async (api, f) => {
    const response = await fetch(`${api.url}/api/events`);
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = await readEvents(reader, "", (t) => /event: pool\ndata: .*\n\n/.test(t));
    const pool = JSON.parse(/event: pool\ndata: (.*)\n/.exec(text)![1]!);
    assert.equal(pool.upstream.state, "ready");
    assert.equal(api.eventClients, 1);
    f.pool.events.emit({
      type: "block_result",
      at: 5,
      hash: "ab".repeat(24),
      height: 9,
      accepted: true,
      outcome: "accepted",
      endpoint: "x",
    });
    text = await readEvents(reader, text, (t) => /event: block\n/.test(t));
    const block = JSON.parse(/event: block\ndata: (.*)\n/.exec(text)![1]!);
    assert.deepEqual(block, {
      hash: "ab".repeat(24),
      height: 9,
      accepted: true,
      code: "accepted",
      time: 5,
    });
    // A client that goes away is forgotten.
    await reader.cancel();
    await waitUntil(() => api.eventClients === 0, "the client forgotten", 10_000);
    // close() ends the streams still open.
    const second = await fetch(`${api.url}/api/events`);
    const reader2 = second.body!.getReader();
    await reader2.read();
    await api.close();
    await readEvents(reader2, "", () => false, { untilEnd: true });
  });
});

Deno.test("ApiServer serves every route over HTTP and can leave out metrics and the dashboard", async () => {
  await withServer({ metrics: false, dashboard: false }, async (api) => {
    const health = await fetch(`${api.url}/api/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    for (const path of ["/metrics", "/"]) {
      const r = await fetch(`${api.url}${path}`);
      assert.equal(r.status, 404, path);
      await r.body?.cancel();
    }
    assert.equal(api.metrics, undefined);
  });
});

Deno.test("ApiServer rate-limits by X-Forwarded-For only when it trusts a proxy", async () => {
  for (const trustProxy of [true, false]) {
    await withServer({ trustProxy, rateLimitPerSecond: 0.001, rateLimitBurst: 2 }, async (api) => {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${api.url}/api/health`, {
          headers: { "x-forwarded-for": `203.0.113.${i}` },
        });
        codes.push(r.status);
        await r.body?.cancel();
      }
      assert.deepEqual(codes, trustProxy ? [200, 200, 200] : [200, 200, 429], String(trustProxy));
    });
  }
});

Deno.test("ApiServer.start() throws AddrInUse for a taken port", async () => {
  await withServer({}, (api, f) => {
    assert.throws(
      () =>
        ApiServer.start({
          port: api.addr.port,
          pool: f.pool,
          store: f.store,
          upstream: () => f.upstream,
        }),
      Deno.errors.AddrInUse,
    );
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    return Promise.resolve();
  });
});

Deno.test("ApiServer closes the connection of a 429 and serves other clients", async () => {
  await withServer({ rateLimitPerSecond: 0.001, rateLimitBurst: 1 }, async (api) => {
    const client = await RawHttpClient.connect(api.addr.port);
    try {
      client.send("GET /api/health HTTP/1.1\r\nHost: pool\r\n\r\n");
      const [first] = await client.responses(1);
      assert.equal(first!.status, 200);
      assert.equal(first!.headers.connection, undefined, "kept alive");
      client.send("GET /api/health HTTP/1.1\r\nHost: pool\r\n\r\n");
      const second = (await client.responses(2))[1]!;
      assert.equal(second.status, 429);
      assert.equal(second.headers["retry-after"], "1000");
      assert.equal(second.headers.connection, "close");
      await client.ended();
      // Another client address is answered.
      const other = await RawHttpClient.connect(api.addr.port, { localAddress: "127.0.0.5" });
      other.send("GET /api/health HTTP/1.1\r\nHost: pool\r\n\r\n");
      assert.equal((await other.responses(1))[0]!.status, 200);
      await other.close();
    } finally {
      await client.close();
    }
  });
});

Deno.test("ApiServer closes a refused event stream while the served one keeps streaming", async () => {
  await withServer({ maxEventClients: 1, eventIntervalMs: 50 }, async (api) => {
    const served = await fetch(`${api.url}/api/events`);
    const reader = served.body!.pipeThrough(new TextDecoderStream()).getReader();
    const refused = await RawHttpClient.connect(api.addr.port);
    try {
      let text = await readEvents(reader, "", (t) => t.includes("retry:"));
      refused.send("GET /api/events HTTP/1.1\r\nHost: pool\r\nAccept: text/event-stream\r\n\r\n");
      const [response] = await refused.responses(1);
      assert.equal(response!.status, 503);
      assert.equal(response!.headers.connection, "close");
      await refused.ended();
      // The stream that was admitted still gets pool events after the refusal.
      const before = eventsOf(text, "pool").length;
      text = await readEvents(reader, text, (t) => eventsOf(t, "pool").length > before);
      assert.equal(api.eventClients, 1);
    } finally {
      await reader.cancel();
      await refused.close();
    }
  });
});

Deno.test("ApiServer reports its connections, refusals and the descriptor budget in /metrics", async () => {
  await withServer({ maxConnections: 2, headerTimeoutMs: 200 }, async (api) => {
    const held = [
      await RawHttpClient.connect(api.addr.port),
      await RawHttpClient.connect(api.addr.port),
    ];
    try {
      await waitUntil(() => api.httpStats.connections === 2, "two connections");
      const third = await RawHttpClient.connect(api.addr.port);
      await third.ended();
      await third.close();
      held[0]!.send("GET /metrics HT");
      await Promise.all(held.map((c) => c.ended()));
      await waitUntil(() => api.httpStats.connections === 0, "the held ones timed out");
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      assert.match(metrics, /^vbkpool_api_connections_refused_total\{reason="server_full"\} 1$/m);
      assert.match(metrics, /^vbkpool_api_timeouts_total\{phase="head"\} 2$/m);
      assert.match(metrics, /^vbkpool_api_connections 1$/m);
      assert.match(metrics, /^vbkpool_descriptor_sockets \d+$/m);
      assert.match(metrics, /^vbkpool_descriptor_refusals_total \d+$/m);
      if (Deno.build.os === "linux") {
        assert.match(metrics, /^process_open_fds \d+$/m);
        assert.match(metrics, /^process_max_fds \d+$/m);
      }
    } finally {
      await Promise.all(held.map((c) => c.close()));
    }
  });
});

/** Text an attacker must never see: error messages and the NodeCore and database addresses. */
const SECRETS = ["SECRET-TEXT", "10.9.8.7", "hunter2", "ECONNREFUSED"];

function assertNoSecrets(text: string, where: string): void {
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `${where} shows "${secret}": ${text.slice(0, 2000)}`);
  }
}

function eventsOf(text: string, name: string): unknown[] {
  return [...text.matchAll(new RegExp(`event: ${name}\ndata: (.*)\n`, "g"))]
    .map((m) => JSON.parse(m[1]!));
}

Deno.test("ApiServer never shows store, upstream or payment error text, nor NodeCore addresses, on any endpoint or event", async () => {
  const logged: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (record) => logged.push(record) },
    loggers: [
      { category: ["vbkpool"], sinks: ["memory"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    await withServer({ eventIntervalMs: 20, corsOrigins: ["*"] }, async (api, f) => {
      // Blocks and payments whose stored text carries secrets.
      const hash = hexToBytes("ef".repeat(24));
      await f.store.recordBlock({
        instance: 0,
        height: 12,
        hash,
        address: ADDRESS,
        worker: "rig",
        networkDifficulty: 1000n,
        time: Date.now(),
      });
      await f.store.payouts.creditBlock(hash, {
        reward: 1000n,
        confirmations: 10,
        credits: [{ address: ADDRESS, amount: 1000n, reason: "share" }],
      });
      assert.ok(await f.store.payouts.acquireLock("test", { ttlMs: 60_000 }));
      const items = [{ address: ADDRESS, amount: 300n }];
      const failed = await f.store.payouts.createPayment("test", { items, startHeight: 12 });
      await f.store.payouts.failPayment(
        "test",
        failed.id,
        "SECRET-TEXT NodeCore 10.9.8.7:10600 refused sendcoins: wallet locked",
      );
      const open = await f.store.payouts.createPayment("test", { items, startHeight: 12 });
      await f.store.payouts.markPaymentSent("test", open.id, ["AA".repeat(32)]);
      await f.store.payouts.notePayment(open.id, "outcome unknown: SECRET-TEXT 10.9.8.7:10600");

      const stream = await fetch(`${api.url}/api/events`);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = await readEvents(reader, "", (t) => /event: pool\n/.test(t));

      // Now the upstream and the store fail, each with distinctive text.
      f.upstream = {
        state: "backoff",
        endpoint: "10.9.8.7:8501",
        since: Date.now(),
        reconnects: 4,
        lastError: "SECRET-TEXT Error: connect ECONNREFUSED 10.9.8.7:8501",
      };
      await breakStore(f, "SECRET-TEXT password=hunter2 for postgres://pool@10.9.8.7:5432/pool");
      // Events with free text inside the pool; only block results are public.
      f.pool.events.emit({
        type: "block_result",
        at: 7,
        hash: "ab".repeat(24),
        height: 11,
        accepted: false,
        outcome: "unknown",
        reason: "Error: connect ECONNREFUSED 10.9.8.7:8501 (SECRET-TEXT)",
        endpoint: "10.9.8.7:8501",
      });
      f.pool.events.emit({
        type: "banned",
        at: 8,
        ip: "10.9.8.7",
        until: 9,
        reason: "SECRET-TEXT invalid share ratio",
      });
      f.pool.events.emit({
        type: "connection_close",
        at: 8,
        connectionId: 99,
        ip: "10.9.8.7",
        port: 3333,
        reason: "SECRET-TEXT read ECONNRESET",
      });

      const paths = [
        "/",
        "/dashboard.js",
        "/dashboard.css",
        "/api",
        "/api/pool",
        "/api/pool/hashrate?minutes=5",
        `/api/miners/${ADDRESS}`,
        `/api/miners/${ADDRESS}/hashrate?minutes=5&worker=rig`,
        "/api/blocks",
        "/api/payments",
        `/api/payments?address=${ADDRESS}`,
        "/api/payments?status=failed",
        "/api/health",
        "/metrics",
        "/api/nothing",
      ];
      for (const path of paths) {
        const response = await fetch(`${api.url}${path}`);
        const body = await response.text();
        const expected = path === "/api/health" ? 503 : path === "/api/nothing" ? 404 : 200;
        assert.equal(response.status, expected, `${path}: ${body.slice(0, 500)}`);
        assertNoSecrets(body, path);
        assertNoSecrets(JSON.stringify([...response.headers]), `${path} headers`);
      }
      const health = await (await fetch(`${api.url}/api/health`)).json();
      assert.deepEqual(health, {
        status: "unavailable",
        reasons: ["upstream_unavailable", "store_failing"],
        upstream: { state: "backoff", connected: false, since: f.upstream.since, reconnects: 4 },
        store: { backend: "sqlite", healthy: false, queueDepth: 0 },
      });
      for (const code of health.reasons) assert.ok(code in PUBLIC_CODES, code);
      const payments = await (await fetch(`${api.url}/api/payments`)).json();
      assert.deepEqual(
        payments.payments.map((p: { status: string; error: string | null }) => [p.status, p.error]),
        [["sent", "payment_problem"], ["failed", "payment_failed"]],
      );

      // The stream: the refused block as a code, then a pool snapshot of the failing state.
      text = await readEvents(
        reader,
        text,
        (t) => /event: block\n/.test(t) && /"state":"backoff"/.test(t),
      );
      await reader.cancel();
      assertNoSecrets(text, "/api/events");
      assert.deepEqual(eventsOf(text, "block"), [
        { hash: "ab".repeat(24), height: 11, accepted: false, code: "unknown", time: 7 },
      ]);
      const pool = eventsOf(text, "pool").at(-1) as { upstream: unknown };
      assert.deepEqual(pool.upstream, {
        state: "backoff",
        connected: false,
        since: f.upstream.since,
        reconnects: 4,
      });
    }, { store: { probeIntervalMs: 600_000 } });
    // Nothing is lost: the operator's log has the store's error text.
    const log = logged.map((r) => `${r.category.join(".")} ${JSON.stringify(r.properties)}`);
    assert.ok(
      log.some((line) => line.startsWith("vbkpool.store ") && line.includes("hunter2")),
      log.join("\n"),
    );
  } finally {
    resetSync();
  }
});

for (const refusal of ["answer", "exception"] as const) {
  Deno.test(`ApiServer sends a block refused with ${refusal === "answer" ? "NodeCore's reason" : "a submit exception"} to event clients as a code only`, async () => {
    const logged: LogRecord[] = [];
    configureSync({
      reset: true,
      sinks: { memory: (record) => logged.push(record) },
      loggers: [
        { category: ["vbkpool"], sinks: ["memory"], lowestLevel: "debug" },
        { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
      ],
    });
    const upstream = {
      submitBlock: () =>
        refusal === "answer"
          ? Promise.resolve({
            accepted: false,
            outcome: "refused" as const,
            reason: "SECRET-TEXT bad block from 10.9.8.7:8501",
            endpoint: "10.9.8.7:8501",
          })
          : Promise.reject(new Error("connect ECONNREFUSED 10.9.8.7:8501")),
    };
    try {
      await withServer({}, async (api, f) => {
        const stream = await fetch(`${api.url}/api/events`);
        const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
        await readEvents(reader, "", (t) => t.startsWith("retry:"));
        // A job whose network difficulty is the share difficulty: every share is a block.
        f.pool.addTemplate(freshTemplate(2, { bits: encodeBits(16n) }));
        const miner = await connectMiner(f.port, `${ADDRESS}.rig`);
        try {
          assert.deepEqual(await miner.submit(1), [true]);
          const text = await readEvents(reader, "", (t) => /event: block\n/.test(t));
          await reader.cancel();
          assertNoSecrets(text, "/api/events");
          const [block] = eventsOf(text, "block") as Record<string, unknown>[];
          assert.deepEqual(Object.keys(block!).sort(), [
            "accepted",
            "code",
            "hash",
            "height",
            "time",
          ]);
          assert.deepEqual(
            [block!.accepted, block!.code],
            [false, refusal === "answer" ? "rejected" : "unknown"],
          );
          assert.match(block!.hash as string, /^[0-9a-f]{48}$/);
        } finally {
          await miner.close();
        }
      }, { upstream });
    } finally {
      resetSync();
    }
    // The reason is in the log.
    const log = logged.map((r) => JSON.stringify(r.properties));
    assert.ok(log.some((line) => line.includes("10.9.8.7:8501")), log.join("\n"));
  });
}
