import assert from "node:assert/strict";
import { ApiHandler, type ApiHandlerOptions } from "../../api/api_handler.ts";
import { EventStream } from "../../api/event_stream.ts";
import { MetricsRegistry } from "../../api/metrics_registry.ts";
import { PoolData } from "../../api/pool_data.ts";
import { type Store, StoreUnavailableError } from "../../store/mod.ts";
import { ADDRESS, type ApiFixture, startFixture } from "./_fixture.ts";
import { parsePrometheus, sampleValue } from "./_prometheus.ts";

async function withHandler(
  options: ApiHandlerOptions,
  fn: (
    get: (path: string, init?: RequestInit & { ip?: string }) => Promise<Response>,
    f: ApiFixture,
  ) => Promise<void>,
  data?: (f: ApiFixture) => PoolData,
): Promise<void> {
  const f = await startFixture();
  const handler = new ApiHandler(data?.(f) ?? f.data, options);
  try {
    await fn(
      (path, init = {}) =>
        handler.handle(new Request(`http://pool${path}`, init), init.ip ?? "127.0.0.1"),
      f,
    );
  } finally {
    await f.close();
  }
}

Deno.test("ApiHandler serves JSON endpoints with stable shapes", async () => {
  await withHandler({}, async (get) => {
    const pool = await get("/api/pool");
    assert.equal(pool.status, 200);
    assert.equal(pool.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(pool.headers.get("cache-control"), "no-store");
    assert.equal(pool.headers.get("x-content-type-options"), "nosniff");
    assert.deepEqual(Object.keys(await pool.json()).sort(), [
      "connections",
      "hashrate",
      "hashrateWindowSeconds",
      "lastBlock",
      "miners",
      "network",
      "poolWide",
      "roundEffort",
      "roundWork",
      "sharesAccepted",
      "sharesPerSecond",
      "sharesRejected",
      "subscribed",
      "time",
      "upstream",
      "workers",
    ]);
    const slash = await get("/api/pool/");
    assert.equal(slash.status, 200);
    await slash.body?.cancel();
    const miner = await (await get(`/api/miners/${ADDRESS}`)).json();
    assert.deepEqual(Object.keys(miner).sort(), [
      "address",
      "balance",
      "hashrate",
      "hashrateWindowSeconds",
      "online",
      "payments",
      "shares",
      "sharesPerSecond",
      "time",
      "workers",
    ]);
    const history = await (await get(`/api/miners/${ADDRESS}/hashrate?minutes=3&worker=rig1`))
      .json();
    assert.deepEqual([history.address, history.worker, history.minutes], [ADDRESS, "rig1", 3]);
    assert.equal(history.points.length, 3);
    const blocks = await (await get("/api/blocks?page=0&pageSize=5&status=pending&_=123")).json();
    assert.deepEqual(blocks, { page: 0, pageSize: 5, hasMore: false, blocks: [] });
    const payments = await (await get(`/api/payments?address=${ADDRESS}&status=sent`)).json();
    assert.deepEqual(payments, { page: 0, pageSize: 20, hasMore: false, payments: [] });
    const poolHistory = await (await get("/api/pool/hashrate")).json();
    assert.equal(poolHistory.minutes, 60);
    assert.equal(poolHistory.points.length, 60);
    const index = await (await get("/api")).json();
    assert.ok(index.routes.includes("GET /api/health"));
    const health = await get("/api/health");
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
  });
});

Deno.test("ApiHandler answers 404 for unknown paths and 400 for bad parameters, as JSON", async (t) => {
  await withHandler({}, async (get) => {
    const cases: [string, number, string][] = [
      ["/nothing", 404, 'Cannot find "/nothing": no such endpoint'],
      ["/api/pool/nothing", 404, 'Cannot find "/api/pool/nothing": no such endpoint'],
      ["/metrics", 404, 'Cannot find "/metrics": no such endpoint'],
      ["/api/events", 404, 'Cannot find "/api/events": no such endpoint'],
      ["/api/blocks?page=-1", 400, 'Cannot list blocks: "page" must be from 0 to 499, got -1'],
      ["/api/blocks?page=x", 400, 'Cannot list blocks: "page" must be one integer, got "x"'],
      ["/api/blocks?page=1&page=2", 400, 'Cannot list blocks: "page" must be one integer, got "1"'],
      [
        "/api/blocks?pageSize=0",
        400,
        'Cannot list blocks: "pageSize" must be from 1 to 100, got 0',
      ],
      [
        "/api/blocks?pageSize=101",
        400,
        'Cannot list blocks: "pageSize" must be from 1 to 100, got 101',
      ],
      [
        "/api/blocks?pageSize=100&page=100",
        400,
        'Cannot list blocks: "page" must be from 0 to 99, got 100',
      ],
      [
        "/api/blocks?status=lost",
        400,
        'Cannot list blocks: "status" must be one of submitted, pending, confirmed, orphaned, rejected, got "lost"',
      ],
      ["/api/blocks?sort=height", 400, 'Cannot list blocks: unknown parameter "sort"'],
      ["/api/pool?x=1", 400, 'Cannot show the pool: unknown parameter "x"'],
      [
        "/api/pool/hashrate?minutes=0",
        400,
        'Cannot show the pool hash rate: "minutes" must be from 1 to 10080, got 0',
      ],
      [
        "/api/pool/hashrate?minutes=1e3",
        400,
        'Cannot show the pool hash rate: "minutes" must be one integer, got "1e3"',
      ],
      ["/api/miners/nobody", 400, 'Cannot show the miner: "nobody" is not a VeriBlock address'],
      [
        "/api/miners/VFFDWUMLJwLRuNzH4NX8Rm32E59n6e",
        400,
        'Cannot show the miner: "VFFDWUMLJwLRuNzH4NX8Rm32E59n6e" is not a VeriBlock address',
      ],
      ["/api/miners/%E0%A4%A", 400, 'Cannot show the miner: "%E0%A4%A" is not a VeriBlock address'],
      [
        `/api/miners/${ADDRESS}/hashrate?worker=a%20b`,
        400,
        `Cannot show the miner's hash rate: "worker" must be a worker name (1-128 visible chars)`,
      ],
      [
        "/api/payments?status=lost",
        400,
        'Cannot list payments: "status" must be one of pending, sent, confirmed, failed, got "lost"',
      ],
      ["/api/payments?address=x", 400, 'Cannot list payments: "x" is not a VeriBlock address'],
    ];
    for (const [path, status, message] of cases) {
      await t.step(path, async () => {
        const response = await get(path);
        assert.equal(response.status, status);
        assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
        assert.deepEqual(await response.json(), { error: message, status });
      });
    }
  });
});

Deno.test("ApiHandler refuses other methods with 405, answers HEAD without a body", async () => {
  await withHandler({}, async (get) => {
    const post = await get("/api/pool", { method: "POST", body: "{}" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD, OPTIONS");
    assert.deepEqual(await post.json(), { error: "Cannot POST: only GET is served", status: 405 });
    const head = await get("/api/pool", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.equal(head.headers.get("content-type"), "application/json; charset=utf-8");
  });
});

Deno.test("ApiHandler limits requests per IP with a token bucket (429 with Retry-After)", async () => {
  let now = 1_000_000;
  await withHandler({ rateLimitPerSecond: 1, rateLimitBurst: 3, now: () => now }, async (get) => {
    const codes = [];
    for (let i = 0; i < 5; i++) {
      const r = await get("/api/health");
      codes.push(r.status);
      if (r.status === 429) {
        assert.equal(r.headers.get("retry-after"), "1");
        assert.deepEqual(await r.json(), {
          error: "Cannot answer: too many requests from this address",
          status: 429,
        });
      } else await r.body?.cancel();
    }
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    const other = await get("/api/health", { ip: "10.0.0.2" });
    assert.equal(other.status, 200);
    await other.body?.cancel();
    now += 1000;
    const later = await get("/api/health");
    assert.equal(later.status, 200);
    await later.body?.cancel();
  });
});

Deno.test("ApiHandler sends CORS headers for allowed origins only", async () => {
  await withHandler({ corsOrigins: ["https://pool.example"] }, async (get) => {
    const allowed = await get("/api/pool", { headers: { origin: "https://pool.example" } });
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://pool.example");
    assert.equal(allowed.headers.get("vary"), "origin");
    await allowed.body?.cancel();
    const other = await get("/api/pool", { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();
    const preflight = await get("/api/pool", {
      method: "OPTIONS",
      headers: {
        origin: "https://pool.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "content-type",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://pool.example");
    assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, HEAD, OPTIONS");
    assert.equal(preflight.headers.get("access-control-allow-headers"), "content-type");
    const errors = await get("/nothing", { headers: { origin: "https://pool.example" } });
    assert.equal(errors.headers.get("access-control-allow-origin"), "https://pool.example");
    await errors.body?.cancel();
  });
  await withHandler({ corsOrigins: ["*"] }, async (get) => {
    const any = await get("/api/health", { headers: { origin: "https://anyone.example" } });
    assert.equal(any.headers.get("access-control-allow-origin"), "*");
    await any.body?.cancel();
  });
  await withHandler({}, async (get) => {
    const none = await get("/api/health", { headers: { origin: "https://anyone.example" } });
    assert.equal(none.headers.get("access-control-allow-origin"), null);
    await none.body?.cancel();
  });
});

Deno.test("ApiHandler answers 503 when the store is unavailable and 500 without details otherwise", async () => {
  const failing = (error: Error) => (f: ApiFixture) => {
    const store = new Proxy(f.store, {
      get(target, key, receiver) {
        if (key === "listBlocks") return () => Promise.reject(error);
        return Reflect.get(target, key, receiver);
      },
    }) as Store;
    return new PoolData({ pool: f.pool, store, upstream: () => f.upstream, stats: f.stats });
  };
  await withHandler({}, async (get) => {
    const r = await get("/api/blocks");
    assert.equal(r.status, 503);
    assert.equal(r.headers.get("retry-after"), "5");
    assert.deepEqual(await r.json(), {
      error: "Cannot answer: the store is unavailable",
      status: 503,
    });
  }, failing(new StoreUnavailableError("Cannot commit: database is locked")));
  await withHandler({}, async (get) => {
    const r = await get("/api/pool");
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { error: "Cannot answer: internal error", status: 500 });
  }, failing(new Error("secret internal detail")));
});

Deno.test("ApiHandler serves the dashboard, metrics and events when configured", async () => {
  const registry = new MetricsRegistry();
  const events = new EventStream();
  await withHandler({ metrics: registry, events }, async (get) => {
    const page = await get("/");
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
    assert.match(await page.text(), /<title>vbkpool<\/title>/);
    const script = await get("/dashboard.js");
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    await script.body?.cancel();
    const stream = await get("/api/events");
    assert.equal(stream.headers.get("content-type"), "text/event-stream; charset=utf-8");
    events.close();
    assert.match(await stream.text(), /^retry: 5000/);
    const metrics = await get("/metrics");
    assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const families = parsePrometheus(await metrics.text());
    assert.equal(
      sampleValue(families, "vbkpool_api_requests_total", { route: "dashboard", code: "200" }),
      2,
    );
    assert.equal(
      sampleValue(families, "vbkpool_api_requests_total", { route: "events", code: "200" }),
      1,
    );
    assert.ok(
      sampleValue(families, "vbkpool_api_request_duration_seconds_count", {
        route: "dashboard",
      }) === 2,
    );
  });
  await withHandler({ dashboard: false }, async (get) => {
    const page = await get("/");
    assert.equal(page.status, 404);
    await page.body?.cancel();
  });
});

Deno.test("ApiHandler's metrics_allow matches peers as they are keyed (IPv4-mapped, IPv6 spellings)", async () => {
  const registry = new MetricsRegistry();
  const options = { metrics: registry, metricsAllow: ["::ffff:10.9.9.9", "2001:DB8:0:0::5"] };
  await withHandler(options, async (get) => {
    for (const ip of ["10.9.9.9", "2001:db8::5"]) {
      const allowed = await get("/metrics", { ip });
      assert.equal(allowed.status, 200, ip);
      await allowed.body?.cancel();
    }
    const other = await get("/metrics", { ip: "10.9.9.8" });
    assert.equal(other.status, 403);
    await other.body?.cancel();
  });
});
