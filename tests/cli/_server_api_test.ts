import assert from "node:assert/strict";
import { startServerApi } from "../../cli/_server_api.ts";
import { ConfigError, loadConfig } from "../../cli/config.ts";
import { SCHEMA } from "../../cli/config_schema.ts";
import { startFixture } from "../api/_fixture.ts";

function apiConfig(env: Record<string, string> = {}) {
  return loadConfig(SCHEMA, { env, defaultPath: "/nonexistent", sections: ["api"] }).values.api!;
}

Deno.test("[api] defaults: enabled on 127.0.0.1:8080 with dashboard, metrics and a rate limit", () => {
  const a = apiConfig();
  assert.deepEqual(
    [a.enabled, a.listen, a.dashboard, a.metrics, a.cors_origins, a.rate_limit_per_second],
    [true, "127.0.0.1:8080", true, true, [], 20],
  );
});

Deno.test("[api] refuses a malformed listen address and CORS origin", () => {
  for (const listen of ["nowhere", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:"]) {
    assert.throws(
      () => apiConfig({ VBKPOOL_API_LISTEN: listen }),
      (e: unknown) => e instanceof ConfigError && e.key === "api.listen",
      listen,
    );
  }
  // Port 0: any free port (the server logs the bound address).
  assert.equal(apiConfig({ VBKPOOL_API_LISTEN: "127.0.0.1:0" }).listen, "127.0.0.1:0");
  assert.throws(
    () => apiConfig({ VBKPOOL_API_CORS_ORIGINS: "https://ok.example,pool.example/x" }),
    (e: unknown) => e instanceof ConfigError && e.key === "api.cors_origins",
  );
  assert.deepEqual(apiConfig({ VBKPOOL_API_CORS_ORIGINS: "*" }).cors_origins, ["*"]);
});

Deno.test("startServerApi() starts nothing when disabled or when api.listen is taken, and binds port 0", async () => {
  const f = await startFixture();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const sources = { pool: f.pool, store: f.store, upstream: () => f.upstream };
    assert.equal(startServerApi(apiConfig({ VBKPOOL_API_ENABLED: "false" }), sources), undefined);
    const listen = `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`;
    // The pool runs on without its API (the error is logged).
    assert.equal(startServerApi(apiConfig({ VBKPOOL_API_LISTEN: listen }), sources), undefined);
    const api = startServerApi(apiConfig({ VBKPOOL_API_LISTEN: "127.0.0.1:0" }), sources)!;
    assert.notEqual(api.addr.port, 0);
    const health = await fetch(`${api.url}/api/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    await api.close();
  } finally {
    taken.close();
    await f.close();
  }
});
