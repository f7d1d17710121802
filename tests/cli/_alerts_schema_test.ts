import assert from "node:assert/strict";
import { ALERTS_SCHEMA, startAlerts, webhookConfig } from "../../cli/_alerts_schema.ts";
import { ConfigError } from "../../cli/config.ts";

const DEFAULTS = Object.fromEntries(
  Object.entries(ALERTS_SCHEMA).map(([key, spec]) => [key, spec.default]),
);

Deno.test("webhookConfig() builds the webhook settings from [alerts]", () => {
  const config = webhookConfig({
    ...DEFAULTS,
    webhooks: [
      "https://ops.example/hook",
      "https://discord.com/api/webhooks/1/t format=discord events=block_found+block_orphaned",
    ],
    secret: "k",
    name: "pool-a",
    backoff_seconds: 2,
    backoff_max_seconds: 1,
  });
  assert.equal(config.pool, "pool-a");
  assert.deepEqual(config.targets.map((t) => t.format), ["json", "discord"]);
  assert.deepEqual(config.targets[1]!.events, ["block_found", "block_orphaned"]);
  assert.equal(config.timeoutMs, 5000);
  assert.equal(config.backoffMs, 2000);
  assert.equal(config.backoffMaxMs, 2000, "never below the first delay");
  assert.equal(webhookConfig({ ...DEFAULTS }).pool, Deno.hostname());
});

Deno.test("webhookConfig() names a malformed entry and a json webhook without a secret", () => {
  assert.throws(
    () => webhookConfig({ ...DEFAULTS, webhooks: ["https://a/", "ftp://b/"], secret: "k" }),
    (e: Error) =>
      e instanceof ConfigError && e.key === "alerts.webhooks" &&
      /alerts\.webhooks \(entry 2\): "ftp:" URL/.test(e.message),
  );
  assert.throws(
    () => webhookConfig({ ...DEFAULTS, webhooks: ["https://a/"] }),
    (e: Error) =>
      e instanceof ConfigError && e.key === "alerts.secret" &&
      /VBKPOOL_ALERTS_SECRET/.test(e.message),
  );
  // Chat formats need no secret.
  assert.equal(
    webhookConfig({ ...DEFAULTS, webhooks: ["https://a/ format=discord"] }).targets.length,
    1,
  );
});

Deno.test("startAlerts() runs the hash-rate watch only when asked and not turned off", async () => {
  const on = startAlerts({ ...DEFAULTS }, { hashrate: true });
  const payouts = startAlerts({ ...DEFAULTS }, { hashrate: false });
  const off = startAlerts({ ...DEFAULTS, hashrate_drop_percent: 0 }, { hashrate: true });
  try {
    assert.ok(on.hashrate !== undefined);
    assert.equal(payouts.hashrate, undefined);
    assert.equal(off.hashrate, undefined);
  } finally {
    await Promise.all([on.stop(), payouts.stop(), off.stop()]);
  }
});
