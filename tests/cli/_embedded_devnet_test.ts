import assert from "node:assert/strict";
import { embeddedListen } from "../../cli/_embedded_devnet.ts";
import { ConfigError, loadConfig } from "../../cli/config.ts";
import { SCHEMA } from "../../cli/config_schema.ts";

function listen(flags: Record<string, string>, payouts: boolean) {
  const cfg = loadConfig(SCHEMA, {
    env: {},
    defaultPath: "/nonexistent",
    flags,
    sections: ["devnet"],
  });
  return embeddedListen(cfg.values.devnet!, { payouts, sources: cfg.sources });
}

Deno.test("embeddedListen() uses free loopback ports unless devnet.listen/api_listen are set", () => {
  const loopback = { hostname: "127.0.0.1", port: 0 };
  assert.deepEqual(listen({}, false), { ucp: loopback, api: undefined });
  assert.deepEqual(listen({}, true), { ucp: loopback, api: loopback });
  assert.deepEqual(listen({ "devnet.listen": "0.0.0.0:8501" }, false), {
    ucp: { hostname: "0.0.0.0", port: 8501 },
    api: undefined,
  });
  assert.deepEqual(listen({ "devnet.api_listen": "127.0.0.1:10600" }, false), {
    ucp: loopback,
    api: { hostname: "127.0.0.1", port: 10600 },
  });
  assert.deepEqual(listen({ "devnet.api_listen": "" }, false), { ucp: loopback, api: undefined });
  assert.throws(
    () => listen({ "devnet.api_listen": "" }, true),
    (e: unknown) => e instanceof ConfigError && e.key === "devnet.api_listen",
  );
});
