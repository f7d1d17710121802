import assert from "node:assert/strict";
import { parseAuthorizeParams, parseSubmitParams } from "../../protocol/stratum_params.ts";
import type { StratumErrorCode } from "../../protocol/stratum_errors.ts";
import { SHARE } from "./_stratum_samples.ts";

Deno.test("parseSubmitParams() reads the stratum_share vector", () => {
  assert.deepEqual(SHARE.submit, ["w", "3", "7c000000000f4240", "5cfbb600", "0000430b"]);
  assert.deepEqual(parseSubmitParams(SHARE.submit), {
    ok: true,
    submit: {
      worker: "w",
      jobId: "3",
      extranonce: BigInt("0x" + SHARE.extranonce),
      ntime: 0x5cfbb600,
      nonce: 0x430b,
    },
  });
});

Deno.test("parseSubmitParams() reads the Java miner's upper-case hex", () => {
  const params = ["VxxxUser", "3", "7C000000000F4240", "5CFBB600", "0000430B"];
  assert.deepEqual(parseSubmitParams(params), {
    ok: true,
    submit: {
      worker: "VxxxUser",
      jobId: "3",
      extranonce: 0x7c000000000f4240n,
      ntime: 0x5cfbb600,
      nonce: 0x430b,
    },
  });
});

Deno.test("parseSubmitParams() reads the full unsigned ranges", () => {
  const result = parseSubmitParams(["w", "j", "FFFFFFFFFFFFFFFF", "ffffffff", "80000000", "x", 1]);
  assert.deepEqual(result, {
    ok: true,
    submit: {
      worker: "w",
      jobId: "j",
      extranonce: 0xffffffffffffffffn,
      ntime: 0xffffffff,
      nonce: 0x80000000,
    },
  });
  const zero = parseSubmitParams(["", "", "0000000000000000", "00000000", "00000000"]);
  assert.deepEqual(zero, {
    ok: true,
    submit: { worker: "", jobId: "", extranonce: 0n, ntime: 0, nonce: 0 },
  });
});

Deno.test("parseSubmitParams() refuses bad params", async (t) => {
  const good = ["w", "3", "7c000000000f4240", "5cfbb600", "0000430b"];
  function with_(index: number, value: unknown): unknown[] {
    const params: unknown[] = [...good];
    params[index] = value;
    return params;
  }
  const rows: [string, unknown, StratumErrorCode][] = [
    ["no params", [], "bad_params"],
    ["four params", good.slice(0, 4), "bad_params"],
    ["not an array", "w,3" as unknown, "bad_params"],
    ["numeric worker", with_(0, 1), "bad_params"],
    ["null worker", with_(0, null), "bad_params"],
    ["numeric job id", with_(1, 3), "bad_params"],
    ["numeric extranonce", with_(2, 0x7c000000000f4240), "bad_params"],
    ["array nonce", with_(4, ["0000430b"]), "bad_params"],
    ["short extranonce", with_(2, "7c000000000f424"), "bad_extranonce_size"],
    ["long extranonce", with_(2, "7c000000000f42400"), "bad_extranonce_size"],
    ["0x extranonce", with_(2, "0x7c000000000f42"), "bad_hex"],
    ["signed extranonce", with_(2, "-7c000000000f424"), "bad_hex"],
    ["non-hex extranonce", with_(2, "7c000000000f424g"), "bad_hex"],
    ["space in extranonce", with_(2, "7c00000 000f4240"), "bad_hex"],
    ["non-ASCII extranonce", with_(2, "7c000000000f424é"), "bad_hex"],
    ["short ntime", with_(3, "5cfbb60"), "bad_ntime_size"],
    ["empty ntime", with_(3, ""), "bad_ntime_size"],
    ["non-hex ntime", with_(3, "5cfbb60z"), "bad_hex"],
    ["long nonce", with_(4, "0000430b0"), "bad_nonce_size"],
    ["non-hex nonce", with_(4, "+000430b"), "bad_hex"],
    ["size checked before hex", ["w", "3", "zz", "zz", "zz"], "bad_extranonce_size"],
    ["ntime size before nonce size", ["w", "3", "7c000000000f4240", "1", "1"], "bad_ntime_size"],
  ];
  for (const [name, params, code] of rows) {
    await t.step(name, () => {
      assert.deepEqual(parseSubmitParams(params as unknown[]), { ok: false, code });
    });
  }
});

Deno.test("parseAuthorizeParams() reads worker and optional password", async (t) => {
  const rows: [unknown[], string, string][] = [
    [["VxxxUser", ""], "VxxxUser", ""],
    [["VxxxUser", "x"], "VxxxUser", "x"],
    [["VxxxUser"], "VxxxUser", ""],
    [["VxxxUser", null], "VxxxUser", ""],
    [["VxxxUser", "p", "extra"], "VxxxUser", "p"],
  ];
  for (const [params, worker, password] of rows) {
    await t.step(JSON.stringify(params), () => {
      assert.deepEqual(parseAuthorizeParams(params), {
        ok: true,
        authorize: { worker, password },
      });
    });
  }
});

Deno.test("parseAuthorizeParams() refuses bad params", async (t) => {
  for (const params of [[], [null], [1], [["w"]], ["w", 1], ["w", {}], ["w", false]]) {
    await t.step(JSON.stringify(params), () => {
      assert.deepEqual(parseAuthorizeParams(params), { ok: false, code: "bad_params" });
    });
  }
  assert.deepEqual(parseAuthorizeParams("w" as unknown as unknown[]), {
    ok: false,
    code: "bad_params",
  });
});
