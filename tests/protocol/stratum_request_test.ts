import assert from "node:assert/strict";
import {
  parseStratumRequest,
  type ParseStratumRequestResult,
} from "../../protocol/stratum_request.ts";

Deno.test("parseStratumRequest() reads the Java reference miner's lines", async (t) => {
  const rows: [string, unknown][] = [
    [
      '{"method":"mining.subscribe","params":[],"id":"1"}',
      { id: "1", method: "mining.subscribe", params: [] },
    ],
    [
      '{"method":"mining.authorize","params":["VxxxUser",""],"id":"2"}',
      { id: "2", method: "mining.authorize", params: ["VxxxUser", ""] },
    ],
    [
      '{"method":"mining.submit","params":["VxxxUser","3","7C000000000F4240","5CFBB600",' +
      '"0000430B"],"id":"3"}',
      {
        id: "3",
        method: "mining.submit",
        params: ["VxxxUser", "3", "7C000000000F4240", "5CFBB600", "0000430B"],
      },
    ],
    [
      '{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5"]}',
      { id: 1, method: "mining.subscribe", params: ["cpuminer/2.5"] },
    ],
  ];
  for (const [line, request] of rows) {
    await t.step(line.slice(0, 40), () => {
      assert.deepEqual(parseStratumRequest(line), { ok: true, request });
    });
  }
});

Deno.test("parseStratumRequest() echoes ids verbatim", async (t) => {
  const rows: [string, string | number | null][] = [
    ['"1"', "1"],
    ['""', ""],
    ['"x\\"y"', 'x"y'],
    ['"' + "z".repeat(1000) + '"', "z".repeat(1000)],
    ["0", 0],
    ["-7", -7],
    ["9007199254740991", 9007199254740991],
    ["1.5", 1.5],
    ["null", null],
  ];
  for (const [text, id] of rows) {
    await t.step(text.slice(0, 20), () => {
      const result = parseStratumRequest(`{"id":${text},"method":"m.x","params":[]}`);
      assert.deepEqual(result, { ok: true, request: { id, method: "m.x", params: [] } });
    });
  }
  await t.step("missing id means null (a notification)", () => {
    assert.deepEqual(parseStratumRequest('{"method":"m.x"}'), {
      ok: true,
      request: { id: null, method: "m.x", params: [] },
    });
  });
});

Deno.test("parseStratumRequest() refuses ids that cannot be echoed", async (t) => {
  for (
    const text of ["{}", "[1]", "true", "false", "9007199254740993", "1e300", "1e400", "-1e400"]
  ) {
    await t.step(text, () => {
      assert.deepEqual(parseStratumRequest(`{"id":${text},"method":"mining.submit","params":[]}`), {
        ok: false,
        id: null,
        code: "invalid_request",
        fatal: false,
      });
    });
  }
});

Deno.test("parseStratumRequest() reports bad lines", async (t) => {
  const rows: [string, ParseStratumRequestResult][] = [
    ["", { ok: false, id: null, code: "malformed_request", fatal: true }],
    ["{", { ok: false, id: null, code: "malformed_request", fatal: true }],
    ['{"id":1,"method":"a.b"}x', { ok: false, id: null, code: "malformed_request", fatal: true }],
    ["[]", { ok: false, id: null, code: "malformed_request", fatal: true }],
    ['[{"id":1,"method":"a.b"}]', { ok: false, id: null, code: "malformed_request", fatal: true }],
    ["null", { ok: false, id: null, code: "malformed_request", fatal: true }],
    ["42", { ok: false, id: null, code: "malformed_request", fatal: true }],
    ['"mining.subscribe"', { ok: false, id: null, code: "malformed_request", fatal: true }],
    ["[".repeat(100000), { ok: false, id: null, code: "malformed_request", fatal: true }],
    ['{"id":"1"}', { ok: false, id: "1", code: "invalid_request", fatal: false }],
    ['{"id":5,"result":true,"error":null}', {
      ok: false,
      id: 5,
      code: "invalid_request",
      fatal: false,
    }],
    ['{"id":5,"error":[20,"x",null]}', { ok: false, id: 5, code: "invalid_request", fatal: false }],
    ['{"id":6,"method":7}', { ok: false, id: 6, code: "invalid_request", fatal: false }],
    ['{"id":6,"method":null}', { ok: false, id: 6, code: "invalid_request", fatal: false }],
    ['{"id":7,"method":"mining.submit","params":{"a":1}}', {
      ok: false,
      id: 7,
      code: "bad_params",
      fatal: false,
    }],
    ['{"id":7,"method":"mining.submit","params":"w"}', {
      ok: false,
      id: 7,
      code: "bad_params",
      fatal: false,
    }],
    [
      '{"command":"MINING_AUTH","request_id":{"type":"REQUEST_ID","data":1}}',
      { ok: false, id: null, code: "invalid_request", fatal: false },
    ],
  ];
  for (const [line, expected] of rows) {
    await t.step(line.slice(0, 40) || "(empty)", () => {
      assert.deepEqual(parseStratumRequest(line), expected);
    });
  }
});

Deno.test("parseStratumRequest() treats null params as []", () => {
  assert.deepEqual(parseStratumRequest('{"id":1,"method":"mining.subscribe","params":null}'), {
    ok: true,
    request: { id: 1, method: "mining.subscribe", params: [] },
  });
});

Deno.test("parseStratumRequest() ignores a __proto__ key and extra keys", () => {
  const line = '{"__proto__":{"method":"evil"},"jsonrpc":"2.0","id":1,"method":"a.b","params":[1]}';
  assert.deepEqual(parseStratumRequest(line), {
    ok: true,
    request: { id: 1, method: "a.b", params: [1] },
  });
  assert.deepEqual(parseStratumRequest('{"__proto__":{"method":"evil"},"id":1}'), {
    ok: false,
    id: 1,
    code: "invalid_request",
    fatal: false,
  });
});
