import assert from "node:assert/strict";
import { decodeUcp } from "../../protocol/ucp_decode.ts";
import { encodeUcp } from "../../protocol/ucp_encode.ts";
import type { UcpDecodeResult } from "../../protocol/ucp_types.ts";
import { CAPTURED_JOB_LINE, JOB } from "./_ucp_samples.ts";

function arg(type: string, data: string): string {
  return `{"type":"${type}","data":${data}}`;
}

function submitLine(fields: Record<string, string>): string {
  const all: Record<string, string> = {
    request_id: arg("REQUEST_ID", "3"),
    job_id: arg("JOB_ID", "377"),
    nTime: arg("TIMESTAMP", "1531939610"),
    nonce: arg("NONCE", "-318747888"),
    extra_nonce: arg("EXTRA_NONCE", "1000000"),
    ...fields,
  };
  const body = Object.entries(all).filter(([, v]) => v !== "").map(([k, v]) => `"${k}":${v}`);
  return `{"command":"MINING_SUBMIT",${body.join(",")}}`;
}

function decodeOk(line: string) {
  const result = decodeUcp(line);
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.message;
}

function decodeErr(line: string): Exclude<UcpDecodeResult, { ok: true }> {
  const result = decodeUcp(line);
  if (result.ok) throw new Error(`expected an error, got ${result.message.command}`);
  return result;
}

Deno.test("decodeUcp() reads the real NodeCore MINING_JOB capture (lower-case target)", () => {
  assert.deepEqual(decodeOk(CAPTURED_JOB_LINE), JOB);
});

Deno.test("decodeUcp() does not depend on key order", () => {
  const line = encodeUcp(JOB);
  const parts = line.slice(1, -1).match(/"[^"]+":(?:\{[^}]*\}|"[^"]*")/g) ?? [];
  assert.equal(parts.length, 22);
  parts.reverse();
  const shuffled = `{${parts.join(",")}}`;
  assert.ok(shuffled.startsWith('{"extra_nonce_end"'));
  assert.ok(shuffled.endsWith('"command":"MINING_JOB"}'));
  assert.deepEqual(decodeOk(shuffled), JOB);
});

Deno.test("decodeUcp() upper-cases the command and ignores type and extra keys", () => {
  const line = '{"extra":[1,2],"command":"mining_auth_success",' +
    '"request_id":{"data":7,"type":"WRONG","more":{}}}';
  assert.deepEqual(decodeOk(line), { command: "MINING_AUTH_SUCCESS", requestId: 7 });
  assert.deepEqual(decodeOk('{"command":"Mining_Reset","request_id":{"data":0}}'), {
    command: "MINING_RESET",
    requestId: 0,
  });
});

Deno.test("decodeUcp() reads the synthesised Gson lines of §2.7", async (t) => {
  const rows: [string, unknown][] = [
    [
      '{"command":"CAPABILITIES","request_id":{"type":"REQUEST_ID","data":0},' +
      '"capabilities":{"type":"BITFLAG","data":"10011111111"}}',
      { command: "CAPABILITIES", requestId: 0, capabilities: "10011111111" },
    ],
    [
      '{"command":"MINING_AUTH","request_id":{"type":"REQUEST_ID","data":1},' +
      '"username":{"type":"USERNAME","data":"VFFDWUMLJwLRuNzH4NX8Rm32E59n6d"},' +
      '"password":{"type":"PASSWORD","data":""}}',
      {
        command: "MINING_AUTH",
        requestId: 1,
        username: "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d",
        password: "",
      },
    ],
    [
      '{"command":"MINING_SUBSCRIBE","request_id":{"type":"REQUEST_ID","data":2},' +
      '"update_frequency_ms":{"type":"FREQUENCY_MS","data":500}}',
      { command: "MINING_SUBSCRIBE", requestId: 2, updateFrequencyMs: 500 },
    ],
    [
      submitLine({}),
      {
        command: "MINING_SUBMIT",
        requestId: 3,
        jobId: 377,
        nTime: 1531939610,
        nonce: 3976219408,
        extraNonce: 1000000n,
      },
    ],
    [
      '{"command":"MINING_SUBMIT_FAILURE","request_id":{"type":"REQUEST_ID","data":3},' +
      '"reason":{"type":"MESSAGE","data":"<free text>"}}',
      { command: "MINING_SUBMIT_FAILURE", requestId: 3, reason: "<free text>" },
    ],
    [
      '{"command":"MINING_MEMPOOL_UPDATE_ACK","request_id":{"type":"REQUEST_ID","data":4}}',
      { command: "MINING_MEMPOOL_UPDATE_ACK", requestId: 4 },
    ],
    // The Python proxy's spaced output.
    [
      '{"command": "MINING_AUTH", "request_id": {"type": "REQUEST_ID", "data": 1}, ' +
      '"username": {"type": "USERNAME", "data": "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C"}, ' +
      '"password": {"type": "PASSWORD", "data": ""}}',
      {
        command: "MINING_AUTH",
        requestId: 1,
        username: "VFMJSUgJCy9QRa1RjXNmJ5kLy5D35C",
        password: "",
      },
    ],
  ];
  for (const [line, expected] of rows) {
    await t.step(line.slice(0, 48), () => assert.deepEqual(decodeOk(line), expected));
  }
});

Deno.test("decodeUcp() reads EXTRA_NONCE exactly", async (t) => {
  const rows: [string, bigint][] = [
    ["8935141660704064064", 8935141660704064064n],
    ["-1", -1n],
    ["0", 0n],
    ["-0", 0n],
    ["-9223372036854775808", -9223372036854775808n],
    ["9223372036854775807", 9223372036854775807n],
    ["9007199254740993", 9007199254740993n],
    ["1000000.0", 1000000n],
    ["8.935141660704064064e18", 8935141660704064064n],
    ["89351416607040640640E-1", 8935141660704064064n],
    ["1e3", 1000n],
  ];
  for (const [text, expected] of rows) {
    await t.step(text, () => {
      const message = decodeOk(submitLine({ extra_nonce: arg("EXTRA_NONCE", text) }));
      assert.ok(message.command === "MINING_SUBMIT");
      assert.equal(message.extraNonce, expected);
    });
  }
});

Deno.test("decodeUcp() rejects bad EXTRA_NONCE values", async (t) => {
  const rows: [string, string][] = [
    ["9223372036854775808", "is out of the signed 64-bit range"],
    ["-9223372036854775809", "is out of the signed 64-bit range"],
    ["18446744073709551615", "is out of the signed 64-bit range"],
    ["1e400", "must be an integer"],
    ["1.5", "must be an integer"],
    ["1e-3", "must be an integer"],
    ['"1000000"', "must be a number"],
    ["null", "must be a number"],
    ["true", "must be a number"],
  ];
  for (const [text, reason] of rows) {
    await t.step(text, () => {
      assert.deepEqual(decodeErr(submitLine({ extra_nonce: arg("EXTRA_NONCE", text) })), {
        ok: false,
        kind: "invalid",
        command: "MINING_SUBMIT",
        requestId: 3,
        error: `Cannot decode MINING_SUBMIT: extra_nonce ${reason}`,
      });
    });
  }
});

Deno.test("decodeUcp() normalises signed and unsigned NONCE and TIMESTAMP", async (t) => {
  const rows: [string, number][] = [
    ["-1", 0xffffffff],
    ["4294967295", 0xffffffff],
    ["-2147483648", 0x80000000],
    ["2147483648", 0x80000000],
    ["2147483647", 0x7fffffff],
    ["0", 0],
    ["17163.0", 17163],
  ];
  for (const [text, expected] of rows) {
    await t.step(text, () => {
      const message = decodeOk(
        submitLine({ nonce: arg("NONCE", text), nTime: arg("TIMESTAMP", text) }),
      );
      assert.ok(message.command === "MINING_SUBMIT");
      assert.equal(message.nonce, expected);
      assert.equal(message.nTime, expected);
    });
  }
  for (const text of ["4294967296", "-2147483649", "1.5", '"5"']) {
    await t.step(`rejects ${text}`, () => {
      const result = decodeErr(submitLine({ nonce: arg("NONCE", text) }));
      assert.equal(result.kind, "invalid");
      assert.match(result.error, /^Cannot decode MINING_SUBMIT: nonce /);
    });
  }
});

Deno.test("decodeUcp() range-checks ids and indexes", async (t) => {
  const ok: [string, number][] = [["0", 0], ["2147483647", 2147483647], ["1.0", 1], ["2e3", 2000]];
  for (const [text, expected] of ok) {
    await t.step(`accepts ${text}`, () => {
      const message = decodeOk(submitLine({ job_id: arg("JOB_ID", text) }));
      assert.ok(message.command === "MINING_SUBMIT");
      assert.equal(message.jobId, expected);
    });
  }
  const bad: [string, string][] = [
    ["2147483648", "is out of range 0..2147483647"],
    ["-1", "is out of range 0..2147483647"],
    ["4294967295", "is out of range 0..2147483647"],
    ["1.5", "must be an integer"],
    ['"377"', "must be a number"],
  ];
  for (const [text, reason] of bad) {
    await t.step(`rejects ${text}`, () => {
      assert.deepEqual(decodeErr(submitLine({ job_id: arg("JOB_ID", text) })), {
        ok: false,
        kind: "invalid",
        command: "MINING_SUBMIT",
        requestId: 3,
        error: `Cannot decode MINING_SUBMIT: job_id ${reason}`,
      });
    });
  }
  await t.step("an oversize request_id is invalid and not echoed", () => {
    assert.deepEqual(decodeErr(submitLine({ request_id: arg("REQUEST_ID", "2147483648") })), {
      ok: false,
      kind: "invalid",
      command: "MINING_SUBMIT",
      error: "Cannot decode MINING_SUBMIT: request_id is out of range 0..2147483647",
    });
  });
  await t.step("BLOCK_VERSION is a signed 32-bit int", () => {
    const line = CAPTURED_JOB_LINE.replace(
      '"block_version":{"type":"BLOCK_VERSION","data":1}',
      '"block_version":{"type":"BLOCK_VERSION","data":-2147483648}',
    );
    const message = decodeOk(line);
    assert.ok(message.command === "MINING_JOB");
    assert.equal(message.blockVersion, -2147483648);
    const over = line.replace("-2147483648", "2147483648");
    assert.equal(decodeErr(over).kind, "invalid");
  });
});

Deno.test("decodeUcp() rejects each missing MINING_JOB argument", async (t) => {
  const root = JSON.parse(CAPTURED_JOB_LINE.replace(/"data":(\d{16,})/g, '"data":"$1"'));
  for (const key of Object.keys(root)) {
    if (key === "command") continue;
    await t.step(key, () => {
      const pattern = new RegExp(`,"${key}":\\{[^}]*\\}`);
      const line = CAPTURED_JOB_LINE.replace(pattern, "");
      assert.notEqual(line, CAPTURED_JOB_LINE);
      assert.deepEqual(decodeErr(line), {
        ok: false,
        kind: "invalid",
        command: "MINING_JOB",
        ...(key === "request_id" ? {} : { requestId: 1423328386 }),
        error: `Cannot decode MINING_JOB: ${key} is missing`,
      });
    });
  }
});

Deno.test("decodeUcp() rejects wrong argument types and lengths", async (t) => {
  const rows: [string, string, string][] = [
    [
      '"pool_address":{"type":"ADDRESS","data":"V2C86eV6xi1uPykYPNnP8nWwu9GJxf"}',
      '"pool_address":{"type":"ADDRESS","data":""}',
      "pool_address must not be empty",
    ],
    [
      '"pool_address":{"type":"ADDRESS","data":"V2C86eV6xi1uPykYPNnP8nWwu9GJxf"}',
      '"pool_address":{"type":"ADDRESS","data":42}',
      "pool_address must be a string",
    ],
    [
      '"difficulty":{"type":"DIFFICULTY","data":84702804}',
      '"difficulty":{"type":"DIFFICULTY","data":"84702804"}',
      "difficulty must be a number",
    ],
    [
      '"difficulty":{"type":"DIFFICULTY","data":84702804}',
      '"difficulty":{"type":"DIFFICULTY","data":-1}',
      "difficulty is out of range 0..2147483647",
    ],
    [
      '"merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":"87F4B394E79F8FB47E7D743232FC1F6AE3BAAD026CC9F1CA"}',
      '"merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":"87F4B394E79F8FB47E7D743232FC1F6AE3BAAD026CC9F1"}',
      "merkle_root must be 48 hex chars",
    ],
    [
      '"merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":"87F4B394E79F8FB47E7D743232FC1F6AE3BAAD026CC9F1CA"}',
      '"merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":"87F4B394E79F8FB47E7D743232FC1F6AE3BAAD026CC9F1CG"}',
      "merkle_root must be 48 hex chars",
    ],
    [
      '"merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":"87F4B394E79F8FB47E7D743232FC1F6AE3BAAD026CC9F1CA"}',
      '"merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":null}',
      "merkle_root must be a string",
    ],
    [
      '"miner_comment":{"type":"MINER_COMMENT","data":"pool \\"comment\\" \\\\ é"}',
      '"miner_comment":{"type":"MINER_COMMENT","data":["x"]}',
      "miner_comment must be a string",
    ],
    [
      '"miner_comment":{"type":"MINER_COMMENT","data":"pool \\"comment\\" \\\\ é"}',
      '"miner_comment":"plain"',
      'miner_comment is not a {"data": ...} object',
    ],
    [
      '"miner_comment":{"type":"MINER_COMMENT","data":"pool \\"comment\\" \\\\ é"}',
      '"miner_comment":{"type":"MINER_COMMENT"}',
      'miner_comment is not a {"data": ...} object',
    ],
    [
      '"miner_comment":{"type":"MINER_COMMENT","data":"pool \\"comment\\" \\\\ é"}',
      '"miner_comment":[{"data":"x"}]',
      'miner_comment is not a {"data": ...} object',
    ],
    [
      '"coinbase_txid":{"type":"TRANSACTION_ID","data":"' + "CD".repeat(32) + '"}',
      '"coinbase_txid":{"type":"TRANSACTION_ID","data":"' + "CD".repeat(24) + '"}',
      "coinbase_txid must be 64 hex chars",
    ],
  ];
  for (const [from, to, reason] of rows) {
    await t.step(reason, () => {
      const line = CAPTURED_JOB_LINE.replace(from, to);
      assert.notEqual(line, CAPTURED_JOB_LINE);
      const result = decodeErr(line);
      assert.equal(result.kind, "invalid");
      assert.equal(result.requestId, 1423328386);
      assert.equal(result.error, `Cannot decode MINING_JOB: ${reason}`);
    });
  }
  await t.step("bitflag with other characters", () => {
    const line =
      '{"command":"CAPABILITIES","request_id":{"data":0},"capabilities":{"data":"1012"}}';
    assert.equal(
      decodeErr(line).error,
      "Cannot decode CAPABILITIES: capabilities must contain only '0' and '1'",
    );
  });
});

Deno.test("decodeUcp() accepts MINING_MEMPOOL_UPDATE with or without coinbase_txid", () => {
  const with_ = '{"command":"MINING_MEMPOOL_UPDATE","request_id":{"type":"REQUEST_ID","data":9},' +
    '"job_id":{"type":"JOB_ID","data":378},' +
    '"pop_transaction_merkle_root":{"type":"INTERMEDIATE_LEVEL_MERKLE_ROOT","data":"' +
    "44".repeat(32) + '"},' +
    '"normal_transaction_merkle_root":{"type":"INTERMEDIATE_LEVEL_MERKLE_ROOT","data":"' +
    "55".repeat(32) + '"},' +
    '"coinbase_txid":{"type":"TRANSACTION_ID","data":"' + "66".repeat(32) + '"},' +
    '"intermediate_metapackage_hash":{"type":"INTERMEDIATE_METAPACKAGE_HASH","data":"' +
    "77".repeat(32) + '"},' +
    '"new_merkle_root":{"type":"TOP_LEVEL_MERKLE_ROOT","data":"' + "88".repeat(24) + '"}}';
  const message = decodeOk(with_);
  assert.ok(message.command === "MINING_MEMPOOL_UPDATE");
  assert.deepEqual(message.coinbaseTxid, new Uint8Array(32).fill(0x66));
  const without = with_.replace(/,"coinbase_txid":\{[^}]*\}/, "");
  const message2 = decodeOk(without);
  assert.ok(message2.command === "MINING_MEMPOOL_UPDATE");
  assert.equal("coinbaseTxid" in message2, false);
  assert.deepEqual(message2.newMerkleRoot, new Uint8Array(24).fill(0x88));
  const bad = with_.replace('"' + "66".repeat(32) + '"', '"66"');
  assert.equal(decodeErr(bad).kind, "invalid");
});

Deno.test("decodeUcp() reports malformed input without throwing", async (t) => {
  const rows: [string, string][] = [
    ["", "not JSON"],
    ["{", "not JSON"],
    ["garbage", "not JSON"],
    ['{"command":"MINING_RESET","request_id":{"data":1}} trailing', "not JSON"],
    ["[]", "not a JSON object"],
    ['[{"command":"MINING_RESET"}]', "not a JSON object"],
    ["1", "not a JSON object"],
    ["null", "not a JSON object"],
    ['"MINING_RESET"', "not a JSON object"],
    ["{}", 'no string "command"'],
    ['{"command":7}', 'no string "command"'],
    ['{"command":null}', 'no string "command"'],
    ['{"command":["MINING_RESET"]}', 'no string "command"'],
    ['{"method":"mining.subscribe","params":[],"id":"1"}', 'no string "command"'],
    [
      '{"id":1,"method":"mining.submit","params":["w","3","7C000000000F4240","5CFBB600","0000430B"]}',
      'no string "command"',
    ],
    ["[".repeat(100000) + "]".repeat(100000), "not JSON"],
  ];
  for (const [line, reason] of rows) {
    await t.step(line.slice(0, 40) || "(empty)", () => {
      assert.deepEqual(decodeUcp(line), {
        ok: false,
        kind: "malformed",
        error: `Cannot decode UCP message: ${reason}`,
      });
    });
  }
});

Deno.test("decodeUcp() reports unknown commands with their request id", async (t) => {
  await t.step("with a valid request id", () => {
    assert.deepEqual(decodeUcp('{"command":"get_status","request_id":{"data":12}}'), {
      ok: false,
      kind: "unknown_command",
      command: "GET_STATUS",
      requestId: 12,
      error: 'Cannot decode UCP message: unknown command "GET_STATUS"',
    });
  });
  await t.step("without one", () => {
    assert.deepEqual(decodeUcp('{"command":"NOPE","request_id":{"data":-5}}'), {
      ok: false,
      kind: "unknown_command",
      command: "NOPE",
      error: 'Cannot decode UCP message: unknown command "NOPE"',
    });
  });
  await t.step("inherited names are not commands", () => {
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", ""]) {
      const result = decodeErr(`{"command":"${name}","request_id":{"data":1}}`);
      assert.equal(result.kind, "unknown_command");
    }
  });
  await t.step("a long name is clipped in the error", () => {
    const result = decodeErr(`{"command":"${"X".repeat(500)}"}`);
    assert.equal(result.command, "X".repeat(500));
    assert.equal(result.error, `Cannot decode UCP message: unknown command "${"X".repeat(64)}..."`);
  });
});

Deno.test("decodeUcp() ignores a __proto__ key", () => {
  const line = '{"__proto__":{"command":"x"},"command":"MINING_RESET","request_id":' +
    '{"__proto__":{"data":5},"data":6}}';
  assert.deepEqual(decodeOk(line), { command: "MINING_RESET", requestId: 6 });
  assert.equal(
    decodeErr('{"command":"MINING_RESET","request_id":{"__proto__":{"data":5}}}').kind,
    "invalid",
  );
});
