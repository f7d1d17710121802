import assert from "node:assert/strict";
import { unusedSettings } from "../../cli/_server_unused.ts";
import type { ConfigValues, ValueSource } from "../../cli/config.ts";

function values(
  o: { endpoints?: string[]; payouts?: boolean; track?: boolean; api?: boolean; ucp?: string[] },
) {
  return {
    nodecore: { endpoints: o.endpoints ?? [] },
    payouts: { enabled: o.payouts ?? false, track_blocks: o.track ?? false },
    api: { enabled: o.api ?? true },
    ucp: { listen: o.ucp ?? [] },
  } as ConfigValues;
}

Deno.test("unusedSettings() names flags and variables of parts that do not run", () => {
  const sources: Record<string, ValueSource> = {
    "devnet.listen": "flag",
    "devnet.block_time": "env",
    "devnet.window": "file",
    "payouts.enabled": "flag",
    "payouts.confirmations": "flag",
    "wallet.url": "env",
    "api.enabled": "env",
    "api.listen": "flag",
    "ucp.difficulty": "flag",
    "stratum.listen": "flag",
  };
  assert.deepEqual(unusedSettings(values({ endpoints: ["10.0.0.2:8501"] }), sources), [
    "devnet.listen (flag), devnet.block_time (environment) are not used: nodecore.endpoints is " +
    "set, so no embedded devnet runs",
    "payouts.confirmations (flag), wallet.url (environment) are not used: payouts.enabled and " +
    "payouts.track_blocks are false, so the server does not follow its blocks",
    "ucp.difficulty (flag) is not used: ucp.listen is empty, so no UCP port runs",
  ]);
  assert.deepEqual(unusedSettings(values({ payouts: true, api: false, ucp: ["x"] }), sources), [
    "wallet.url (environment) is not used: the server's payouts and block tracking use the " +
    "embedded devnet's NodeCore API, not [wallet]",
    "api.listen (flag) is not used: api.enabled is false",
  ]);
  assert.deepEqual(unusedSettings(values({ payouts: true, endpoints: ["x"], ucp: ["x"] }), {}), []);
  // Block tracking (the default) reads [payouts], and [wallet] against a real NodeCore.
  assert.deepEqual(
    unusedSettings(values({ track: true, endpoints: ["x"], ucp: ["x"] }), sources),
    [
      "devnet.listen (flag), devnet.block_time (environment) are not used: nodecore.endpoints " +
      "is set, so no embedded devnet runs",
    ],
  );
});
