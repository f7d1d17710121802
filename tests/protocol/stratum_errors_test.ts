import assert from "node:assert/strict";
import {
  STRATUM_ERRORS,
  stratumError,
  type StratumErrorCode,
} from "../../protocol/stratum_errors.ts";

Deno.test("stratumError() returns every row of the table", async (t) => {
  const rows: [StratumErrorCode, number, string][] = [
    ["malformed_request", 20, "Malformed request"],
    ["invalid_request", 20, "Invalid request"],
    ["unknown_method", -3, "Method not found"],
    ["bad_params", -2, "Invalid parameters"],
    ["bad_hex", -2, "Non-hexadecimal digit found"],
    ["bad_extranonce_size", -2, "Incorrect size of extranonce. Expected 16 chars"],
    ["bad_ntime_size", -2, "Incorrect size of ntime. Expected 8 chars"],
    ["bad_nonce_size", -2, "Incorrect size of nonce. Expected 8 chars"],
    ["ntime_out_of_range", -2, "Ntime out of range"],
    ["extranonce_not_owned", -2, "Extranonce is not owned by this connection"],
    ["already_subscribed", -2, "This connection is already subscribed for such event."],
    ["internal", 20, "Internal error"],
    ["stale_job", 21, "Job not found"],
    ["duplicate_share", 22, "Duplicate share"],
    ["low_difficulty", 23, "Share is above target"],
    ["unauthorized", 24, "Worker is not authorized"],
    ["not_subscribed", 25, "Connection is not subscribed for mining"],
    ["invalid_address", 24, "Worker name is not a valid VeriBlock address"],
    ["banned", 24, "Banned"],
    ["rate_limited", 20, "Too many requests"],
    ["no_work", 20, "No work available: the pool has no job from its node"],
  ];
  assert.deepEqual(rows.map(([r]) => r).sort(), Object.keys(STRATUM_ERRORS).sort());
  for (const [reason, code, message] of rows) {
    await t.step(reason, () => {
      assert.deepEqual(stratumError(reason), [code, message]);
      assert.deepEqual(STRATUM_ERRORS[reason], { code, message });
    });
  }
});

Deno.test("stratumError() quotes the job id of a stale job", () => {
  assert.deepEqual(stratumError("stale_job", "3"), [21, "Job '3' not found"]);
  assert.deepEqual(stratumError("stale_job", ""), [21, "Job '' not found"]);
});

Deno.test("stratumError() formats unknown methods like the original server", async (t) => {
  const rows: [string, string][] = [
    ["mining.extranonce.subscribe", "Method 'subscribe' not found for service 'mining.extranonce'"],
    ["client.reconnect", "Method 'reconnect' not found for service 'client'"],
    ["mining.suggest_difficulty", "Method 'suggest_difficulty' not found for service 'mining'"],
  ];
  for (const [method, message] of rows) {
    await t.step(
      method,
      () => assert.deepEqual(stratumError("unknown_method", method), [-3, message]),
    );
  }
  const parsing =
    "Method name parsing failed. You *must* use format <service name>.<method name>, " +
    "e.g. 'example.ping'";
  for (const method of ["ping", "", ".x", "x."]) {
    await t.step(JSON.stringify(method), () => {
      assert.deepEqual(stratumError("unknown_method", method), [-3, parsing]);
    });
  }
});

Deno.test("stratumError() keeps quoted details short and printable", () => {
  assert.deepEqual(stratumError("stale_job", "a\nb\u0000é'"), [21, "Job 'a?b??'' not found"]);
  const [, message] = stratumError("stale_job", "9".repeat(10000));
  assert.equal(message, `Job '${"9".repeat(64)}...' not found`);
});

Deno.test("stratumError() ignores a detail for other reasons", () => {
  assert.deepEqual(stratumError("duplicate_share", "x"), [22, "Duplicate share"]);
});
