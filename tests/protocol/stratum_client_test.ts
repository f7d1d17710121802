import assert from "node:assert/strict";
import { parseServerMessage, parseSubscribeResult } from "../../protocol/stratum_client.ts";
import {
  encodeError,
  encodeNotify,
  encodeResult,
  encodeSetDifficulty,
  encodeSubscribeResult,
} from "../../protocol/stratum_encode.ts";
import { NOTIFY, vectorJob } from "./_stratum_samples.ts";

function notifyLine(params: unknown[]): string {
  return JSON.stringify({ id: null, method: "mining.notify", params });
}

Deno.test("parseServerMessage() round-trips the stratum_share notify through encodeNotify()", () => {
  const job = vectorJob();
  assert.deepEqual(parseServerMessage(encodeNotify(job)), { kind: "notify", job });
  assert.deepEqual(parseServerMessage(notifyLine(NOTIFY)), { kind: "notify", job });
});

Deno.test("parseServerMessage() reads the original server's spaced notify line", () => {
  const line = '{"id": null, "method": "mining.notify", "params": ["3", "000f4240", "0002", ' +
    '"aabbccddeeff001122334455", "112233445566778899", "9988776655443322ff", ' +
    '["1111111111111111111111111111111111111111111111111111111111111111", ' +
    '"2222222222222222222222222222222222222222222222222222222222222222", ' +
    '"3333333333333333333333333333333333333333333333333333333333333333"], ' +
    '"5cfbb600", "0600e8d4", true]}';
  assert.deepEqual(parseServerMessage(line), { kind: "notify", job: vectorJob() });
});

Deno.test("parseServerMessage() accepts upper-case hex, a numeric job id and extra params", () => {
  const params = NOTIFY.map((p) =>
    typeof p === "string" ? p.toUpperCase() : Array.isArray(p) ? p.map((m) => m.toUpperCase()) : p
  );
  params[0] = 3;
  params.push("extra");
  assert.deepEqual(parseServerMessage(notifyLine(params)), { kind: "notify", job: vectorJob() });
});

Deno.test("parseServerMessage() reads the full field ranges of notify", () => {
  const params = [...NOTIFY];
  params[1] = "ffffffff";
  params[2] = "ffff";
  params[7] = "80000000";
  params[8] = "FFFFFFFF";
  params[9] = false;
  const message = parseServerMessage(notifyLine(params));
  assert.ok(message.kind === "notify");
  assert.equal(message.job.height, 0xffffffff);
  assert.equal(message.job.version, 0xffff);
  assert.equal(message.job.timestamp, 0x80000000);
  assert.equal(message.job.bits, 0xffffffff);
  assert.equal(message.job.cleanJobs, false);
});

Deno.test("parseServerMessage() refuses bad notify shapes", async (t) => {
  function with_(index: number, value: unknown): unknown[] {
    const params = [...NOTIFY];
    params[index] = value;
    return params;
  }
  const merkles = NOTIFY[6] as string[];
  const rows: [string, unknown, string][] = [
    ["nine params", NOTIFY.slice(0, 9), "notify needs 10 params, got 9"],
    ["params not an array", { a: 1 }, "mining.notify params must be an array"],
    ["empty job id", with_(0, ""), "notify job id must be a non-empty string"],
    ["negative job id", with_(0, -1), "notify job id must be a non-empty string"],
    ["null job id", with_(0, null), "notify job id must be a non-empty string"],
    ["short height", with_(1, "0f4240"), "notify height must be 8 hex chars"],
    ["numeric height", with_(1, 1000000), "notify height must be 8 hex chars"],
    ["non-hex height", with_(1, "000f424g"), "notify height must be 8 hex chars"],
    ["long version", with_(2, "00002"), "notify version must be 4 hex chars"],
    ["non-hex version", with_(2, "00x2"), "notify version must be 4 hex chars"],
    ["full previous hash", with_(3, "00".repeat(24)), "notify previous hash must be 24 hex chars"],
    [
      "short keystone",
      with_(4, "1122334455667788"),
      "notify previous keystone must be 18 hex chars",
    ],
    [
      "bad second keystone",
      with_(5, "9988776655443322fz"),
      "notify second keystone must be 18 hex chars",
    ],
    ["two merkles", with_(6, merkles.slice(0, 2)), "notify merkles must be 3 × 64 hex chars"],
    ["four merkles", with_(6, [...merkles, merkles[0]]), "notify merkles must be 3 × 64 hex chars"],
    [
      "short merkle",
      with_(6, [merkles[0], merkles[1], "33"]),
      "notify merkles must be 3 × 64 hex chars",
    ],
    ["merkles as string", with_(6, merkles.join("")), "notify merkles must be 3 × 64 hex chars"],
    ["short time", with_(7, "5cfbb6"), "notify time must be 8 hex chars"],
    ["bad bits", with_(8, "0600e8dx"), "notify bits must be 8 hex chars"],
    ["clean_jobs as string", with_(9, "true"), "notify clean_jobs must be a boolean"],
    ["clean_jobs as number", with_(9, 1), "notify clean_jobs must be a boolean"],
  ];
  for (const [name, params, reason] of rows) {
    await t.step(name, () => {
      const line = JSON.stringify({ id: null, method: "mining.notify", params });
      assert.deepEqual(parseServerMessage(line), { kind: "invalid", reason });
    });
  }
});

Deno.test("parseServerMessage() reads set_difficulty leniently", async (t) => {
  const rows: [unknown, bigint, boolean][] = [
    ["1048576", 1048576n, false],
    ["524288.0", 524288n, false],
    [524288, 524288n, false],
    ["1234.7", 1235n, true],
    [0.5, 1n, true],
  ];
  for (const [param, difficulty, rounded] of rows) {
    await t.step(JSON.stringify(param), () => {
      const line = JSON.stringify({ id: null, method: "mining.set_difficulty", params: [param] });
      assert.deepEqual(parseServerMessage(line), { kind: "set_difficulty", difficulty, rounded });
    });
  }
  await t.step("our own encoder's output", () => {
    assert.deepEqual(parseServerMessage(encodeSetDifficulty(2097152n)), {
      kind: "set_difficulty",
      difficulty: 2097152n,
      rounded: false,
    });
  });
  for (const param of [0, "0", -1, "-5", "abc", null, "1e60", []]) {
    await t.step(`refuses ${JSON.stringify(param)}`, () => {
      const line = JSON.stringify({ id: null, method: "mining.set_difficulty", params: [param] });
      assert.equal(parseServerMessage(line).kind, "invalid");
    });
  }
  await t.step("refuses missing params", () => {
    const message = parseServerMessage('{"id":null,"method":"mining.set_difficulty"}');
    assert.equal(message.kind, "invalid");
  });
});

Deno.test("parseServerMessage() reads responses", async (t) => {
  const rows: [string, unknown][] = [
    ['{"id": "1", "result": true, "error": null}', {
      kind: "response",
      id: "1",
      result: true,
      error: null,
    }],
    [encodeResult(7, [1]), { kind: "response", id: 7, result: [1], error: null }],
    [
      encodeSubscribeResult("1", 0x7c000000000f4240n),
      {
        kind: "response",
        id: "1",
        result: [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"], "7c000000000f4240", 8],
        error: null,
      },
    ],
    [encodeError("3", "duplicate_share"), {
      kind: "response",
      id: "3",
      result: null,
      error: [22, "Duplicate share"],
    }],
    [
      '{"id": "3", "result": null, "error": [-2, "Job \'3\' not found", "Traceback..."]}',
      { kind: "response", id: "3", result: null, error: [-2, "Job '3' not found"] },
    ],
    ['{"id":4,"error":{"code":21,"message":"Stale"}}', {
      kind: "response",
      id: 4,
      result: null,
      error: [21, "Stale"],
    }],
    ['{"id":4,"error":"boom"}', { kind: "response", id: 4, result: null, error: [-1, "boom"] }],
    ['{"id":4,"error":[]}', {
      kind: "response",
      id: 4,
      result: null,
      error: [-1, "Unknown error"],
    }],
    ['{"id":4,"error":7}', { kind: "response", id: 4, result: null, error: [-1, "Unknown error"] }],
    ['{"id":4,"result":true,"error":false}', {
      kind: "response",
      id: 4,
      result: true,
      error: null,
    }],
    ['{"result":true}', { kind: "response", id: null, result: true, error: null }],
  ];
  for (const [line, expected] of rows) {
    await t.step(line.slice(0, 40), () => assert.deepEqual(parseServerMessage(line), expected));
  }
});

Deno.test("parseServerMessage() reads client.reconnect", async (t) => {
  const rows: [unknown[] | undefined, unknown][] = [
    [[], { kind: "reconnect" }],
    [undefined, { kind: "reconnect" }],
    [["pool.example", 3333, 5], {
      kind: "reconnect",
      host: "pool.example",
      port: 3333,
      waitSeconds: 5,
    }],
    [["pool.example", "3334"], { kind: "reconnect", host: "pool.example", port: 3334 }],
    [[null, null, 0], { kind: "reconnect", waitSeconds: 0 }],
  ];
  for (const [params, expected] of rows) {
    await t.step(JSON.stringify(params) ?? "no params", () => {
      const line = JSON.stringify({ id: null, method: "client.reconnect", params });
      assert.deepEqual(parseServerMessage(line), expected);
    });
  }
  for (
    const params of [[""], [5], ["h", 0], ["h", 70000], ["h", "x"], ["h", 1.5], ["h", 1, -1], [
      "h",
      1,
      "5",
    ]]
  ) {
    await t.step(`refuses ${JSON.stringify(params)}`, () => {
      const line = JSON.stringify({ id: null, method: "client.reconnect", params });
      assert.equal(parseServerMessage(line).kind, "invalid");
    });
  }
});

Deno.test("parseServerMessage() reports unknown methods with their id", () => {
  assert.deepEqual(parseServerMessage('{"id":9,"method":"client.get_version","params":[]}'), {
    kind: "unknown_method",
    id: 9,
    method: "client.get_version",
    params: [],
  });
  assert.deepEqual(parseServerMessage('{"method":"client.show_message","params":["hi"]}'), {
    kind: "unknown_method",
    id: null,
    method: "client.show_message",
    params: ["hi"],
  });
});

Deno.test("parseServerMessage() reports malformed lines", async (t) => {
  const rows: [string, string][] = [
    ["", "not JSON"],
    ["{", "not JSON"],
    ["[1]", "not a JSON object"],
    ["null", "not a JSON object"],
    ['"x"', "not a JSON object"],
    ["{}", "neither a response nor a notification"],
    ['{"id":1}', "neither a response nor a notification"],
    ['{"id":{},"result":true}', "id must be a string, a number or null"],
    ['{"id":[1],"result":true}', "id must be a string, a number or null"],
    ['{"id":true,"result":true}', "id must be a string, a number or null"],
    ['{"id":null,"method":5,"params":[]}', "method must be a string"],
    ['{"id":null,"method":"mining.notify","params":"x"}', "mining.notify params must be an array"],
    [
      '{"command":"MINING_JOB","request_id":{"type":"REQUEST_ID","data":1}}',
      "neither a response nor a notification",
    ],
    ["[".repeat(100000), "not JSON"],
  ];
  for (const [line, reason] of rows) {
    await t.step(line.slice(0, 40) || "(empty)", () => {
      assert.deepEqual(parseServerMessage(line), { kind: "invalid", reason });
    });
  }
});

Deno.test("parseSubscribeResult() reads single pairs and lists of pairs", async (t) => {
  const rows: [unknown, bigint][] = [
    [
      [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f"], "7c000000000f4240", 8],
      0x7c000000000f4240n,
    ],
    [[["mining.notify", "k"], "7C000000000F4240", 8], 0x7c000000000f4240n],
    [
      [[["mining.notify", "k"], ["mining.set_difficulty", "k2"]], "ffffffffffffffff", 8],
      (1n << 64n) - 1n,
    ],
    [[[], "0000000000000001"], 1n],
  ];
  for (const [result, extranonce] of rows) {
    await t.step(JSON.stringify(result), () => {
      assert.deepEqual(parseSubscribeResult(result), { extranonce, extranonceSize: 8 });
    });
  }
});

Deno.test("parseSubscribeResult() refuses other shapes", async (t) => {
  const rows: [unknown, typeof Error][] = [
    [null, TypeError],
    [true, TypeError],
    [["7c000000000f4240"], TypeError],
    [["mining.notify", "7c000000000f4240", 8], TypeError],
    [[null, "7c000000000f4240", 8], TypeError],
    [[["mining.notify", ["x"]], "7c000000000f4240", 8], TypeError],
    [[["mining.notify", "k"], 0x7c000000, 8], TypeError],
    [[["mining.notify", "k"], "7c000000", 4], RangeError],
    [[["mining.notify", "k"], "7c000000000f42400", 8], RangeError],
    [[["mining.notify", "k"], "7c000000000f4240", 4], RangeError],
    [[["mining.notify", "k"], "7c000000000f4240", "8"], RangeError],
    [[["mining.notify", "k"], "7c000000000f424z", 8], SyntaxError],
  ];
  for (const [result, ErrorClass] of rows) {
    await t.step(JSON.stringify(result), () => {
      assert.throws(() => parseSubscribeResult(result), (e: unknown) => {
        assert.ok(e instanceof ErrorClass, String(e));
        assert.match((e as Error).message, /^Cannot parse subscribe result: /);
        return true;
      });
    });
  }
});
