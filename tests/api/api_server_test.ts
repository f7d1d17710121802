import assert from "node:assert/strict";
import { ApiServer, type ApiServerOptions } from "../../api/api_server.ts";
import { type ApiFixture, startFixture } from "./_fixture.ts";

async function withServer(
  options: Partial<ApiServerOptions>,
  fn: (api: ApiServer, f: ApiFixture) => Promise<void>,
): Promise<void> {
  const f = await startFixture();
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
    let text = "";
    while (!/event: pool\ndata: .*\n\n/.test(text)) text += (await reader.read()).value ?? "";
    const pool = JSON.parse(/event: pool\ndata: (.*)\n/.exec(text)![1]!);
    assert.equal(pool.upstream.state, "ready");
    assert.equal(api.eventClients, 1);
    f.pool.events.emit({
      type: "block_result",
      at: 5,
      hash: "ab".repeat(24),
      height: 9,
      accepted: true,
      endpoint: "x",
    });
    while (!/event: block\n/.test(text)) text += (await reader.read()).value ?? "";
    const block = JSON.parse(/event: block\ndata: (.*)\n/.exec(text)![1]!);
    assert.deepEqual(block, {
      hash: "ab".repeat(24),
      height: 9,
      accepted: true,
      reason: null,
      time: 5,
    });
    // A client that goes away is forgotten.
    await reader.cancel();
    const deadline = Date.now() + 5000;
    while (api.eventClients > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(api.eventClients, 0);
    // close() ends the streams still open.
    const second = await fetch(`${api.url}/api/events`);
    const reader2 = second.body!.getReader();
    await reader2.read();
    await api.close();
    while (!(await reader2.read()).done) { /* drain */ }
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
