import assert from "node:assert/strict";
import { decodeUcp } from "../../protocol/ucp_decode.ts";
import { encodeUcp } from "../../protocol/ucp_encode.ts";
import { UCP_CAPABILITIES, UCP_COMMANDS, type UcpMessage } from "../../protocol/ucp_types.ts";
import { CAPTURED_JOB_LINE, filled, JOB, SAMPLES } from "./_ucp_samples.ts";

Deno.test("encodeUcp() and decodeUcp() round-trip every command", async (t) => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), [...UCP_COMMANDS].sort());
  for (const command of UCP_COMMANDS) {
    await t.step(command, () => {
      const line = encodeUcp(SAMPLES[command]);
      assert.ok(line.startsWith(`{"command":"${command}","request_id":{"type":"REQUEST_ID",`));
      assert.equal(line.includes("\n"), false);
      assert.deepEqual(decodeUcp(line), { ok: true, message: SAMPLES[command] });
    });
  }
});

Deno.test("encodeUcp() writes the synthesised Gson lines of §2.7 byte for byte", async (t) => {
  const rows: [UcpMessage, string][] = [
    [
      { command: "CAPABILITIES", requestId: 0, capabilities: UCP_CAPABILITIES },
      '{"command":"CAPABILITIES","request_id":{"type":"REQUEST_ID","data":0},' +
      '"capabilities":{"type":"BITFLAG","data":"10011111111"}}',
    ],
    [
      {
        command: "MINING_AUTH",
        requestId: 1,
        username: "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d",
        password: "",
      },
      '{"command":"MINING_AUTH","request_id":{"type":"REQUEST_ID","data":1},' +
      '"username":{"type":"USERNAME","data":"VFFDWUMLJwLRuNzH4NX8Rm32E59n6d"},' +
      '"password":{"type":"PASSWORD","data":""}}',
    ],
    [
      { command: "MINING_AUTH_SUCCESS", requestId: 1 },
      '{"command":"MINING_AUTH_SUCCESS","request_id":{"type":"REQUEST_ID","data":1}}',
    ],
    [
      { command: "MINING_SUBSCRIBE", requestId: 2, updateFrequencyMs: 500 },
      '{"command":"MINING_SUBSCRIBE","request_id":{"type":"REQUEST_ID","data":2},' +
      '"update_frequency_ms":{"type":"FREQUENCY_MS","data":500}}',
    ],
    [
      { command: "MINING_SUBSCRIBE_SUCCESS", requestId: 2 },
      '{"command":"MINING_SUBSCRIBE_SUCCESS","request_id":{"type":"REQUEST_ID","data":2}}',
    ],
    [
      {
        command: "MINING_SUBMIT",
        requestId: 3,
        jobId: 377,
        nTime: 1531939610,
        nonce: 3976219408,
        extraNonce: 1000000n,
      },
      '{"command":"MINING_SUBMIT","request_id":{"type":"REQUEST_ID","data":3},' +
      '"job_id":{"type":"JOB_ID","data":377},"nTime":{"type":"TIMESTAMP","data":1531939610},' +
      '"nonce":{"type":"NONCE","data":-318747888},' +
      '"extra_nonce":{"type":"EXTRA_NONCE","data":1000000}}',
    ],
    [
      { command: "MINING_SUBMIT_FAILURE", requestId: 3, reason: "<free text>" },
      '{"command":"MINING_SUBMIT_FAILURE","request_id":{"type":"REQUEST_ID","data":3},' +
      '"reason":{"type":"MESSAGE","data":"<free text>"}}',
    ],
    [
      { command: "MINING_MEMPOOL_UPDATE_ACK", requestId: 4 },
      '{"command":"MINING_MEMPOOL_UPDATE_ACK","request_id":{"type":"REQUEST_ID","data":4}}',
    ],
  ];
  for (const [message, line] of rows) {
    await t.step(message.command, () => assert.equal(encodeUcp(message), line));
  }
});

Deno.test("encodeUcp() writes MINING_JOB in NodeCore's field order with upper-case hex", () => {
  // The capture with its target in NodeCore's usual upper case.
  const expected = CAPTURED_JOB_LINE.replace(
    "000000ffffffffffffffffffffffffffffffffffffffffff",
    "000000FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
  );
  assert.equal(encodeUcp(JOB), expected);
});

Deno.test("encodeUcp() writes MINING_MEMPOOL_UPDATE with coinbase_txid in place or absent", () => {
  const message = SAMPLES.MINING_MEMPOOL_UPDATE;
  const keys = [...encodeUcp(message).matchAll(/"([a-z_]+)":\{/g)].map((m) => m[1]);
  assert.deepEqual(keys, [
    "request_id",
    "job_id",
    "pop_transaction_merkle_root",
    "normal_transaction_merkle_root",
    "coinbase_txid",
    "intermediate_metapackage_hash",
    "new_merkle_root",
  ]);
  const { coinbaseTxid: _, ...without } = message as UcpMessage & { coinbaseTxid?: Uint8Array };
  const line = encodeUcp(without as UcpMessage);
  assert.equal(line.includes("coinbase_txid"), false);
  assert.deepEqual(decodeUcp(line), { ok: true, message: without });
});

Deno.test("encodeUcp() writes NONCE and TIMESTAMP as signed 32-bit and EXTRA_NONCE exactly", async (t) => {
  const rows: [number, string][] = [
    [0, "0"],
    [0x7fffffff, "2147483647"],
    [0x80000000, "-2147483648"],
    [0xffffffff, "-1"],
    [-1, "-1"],
  ];
  for (const [value, text] of rows) {
    await t.step(String(value), () => {
      const line = encodeUcp(
        { ...SAMPLES.MINING_SUBMIT, nonce: value, nTime: value } as UcpMessage,
      );
      assert.ok(line.includes(`"nTime":{"type":"TIMESTAMP","data":${text}}`));
      assert.ok(line.includes(`"nonce":{"type":"NONCE","data":${text}}`));
    });
  }
  for (const extra of [8935141660704064064n, -1n, -9223372036854775808n, 9223372036854775807n]) {
    await t.step(String(extra), () => {
      const line = encodeUcp({ ...SAMPLES.MINING_SUBMIT, extraNonce: extra } as UcpMessage);
      assert.ok(line.endsWith(`"extra_nonce":{"type":"EXTRA_NONCE","data":${extra}}}`));
    });
  }
});

Deno.test("encodeUcp() escapes free text", () => {
  const line = encodeUcp({
    command: "MINING_AUTH_FAILURE",
    requestId: 1,
    reason: 'a"b\\c\n\u0000',
  });
  assert.ok(line.endsWith('"data":"a\\"b\\\\c\\n\\u0000"}}'));
  assert.deepEqual(decodeUcp(line), {
    ok: true,
    message: { command: "MINING_AUTH_FAILURE", requestId: 1, reason: 'a"b\\c\n\u0000' },
  });
});

Deno.test("encodeUcp() rejects values it cannot encode", async (t) => {
  const submit = SAMPLES.MINING_SUBMIT;
  const rows: [string, unknown, typeof TypeError | typeof RangeError, string][] = [
    [
      "unknown command",
      { command: "NOPE", requestId: 1 },
      TypeError,
      'Cannot encode UCP message: unknown command "NOPE"',
    ],
    [
      "lower-case command",
      { command: "mining_reset", requestId: 1 },
      TypeError,
      'Cannot encode UCP message: unknown command "mining_reset"',
    ],
    ["no command", {}, TypeError, 'Cannot encode UCP message: unknown command "undefined"'],
    [
      "request id too big",
      { ...submit, requestId: 2 ** 31 },
      RangeError,
      "Cannot encode MINING_SUBMIT: requestId must be an integer in 0..2147483647",
    ],
    [
      "request id negative",
      { ...submit, requestId: -1 },
      RangeError,
      "Cannot encode MINING_SUBMIT: requestId must be an integer in 0..2147483647",
    ],
    [
      "request id fractional",
      { ...submit, requestId: 1.5 },
      RangeError,
      "Cannot encode MINING_SUBMIT: requestId must be an integer in 0..2147483647",
    ],
    [
      "job id missing",
      { ...submit, jobId: undefined },
      RangeError,
      "Cannot encode MINING_SUBMIT: jobId must be an integer in 0..2147483647",
    ],
    [
      "nonce too big",
      { ...submit, nonce: 2 ** 32 },
      RangeError,
      "Cannot encode MINING_SUBMIT: nonce must be a 32-bit integer",
    ],
    [
      "extra nonce as number",
      { ...submit, extraNonce: 1 },
      TypeError,
      "Cannot encode MINING_SUBMIT: extraNonce must be a bigint",
    ],
    [
      "extra nonce too big",
      { ...submit, extraNonce: 1n << 63n },
      RangeError,
      "Cannot encode MINING_SUBMIT: extraNonce must be in the signed 64-bit range",
    ],
    [
      "short hash",
      { ...JOB, previousBlockHash: filled(23, 0) },
      RangeError,
      "Cannot encode MINING_JOB: previousBlockHash must be 24 bytes, got 23",
    ],
    [
      "hash as hex",
      { ...JOB, ledgerHash: "00".repeat(24) },
      TypeError,
      "Cannot encode MINING_JOB: ledgerHash must be a Uint8Array",
    ],
    [
      "version out of int32",
      { ...JOB, blockVersion: 2 ** 31 },
      RangeError,
      "Cannot encode MINING_JOB: blockVersion must be a signed 32-bit integer",
    ],
    [
      "empty address",
      { ...JOB, poolAddress: "" },
      RangeError,
      "Cannot encode MINING_JOB: poolAddress must not be empty",
    ],
    [
      "comment not a string",
      { ...JOB, minerComment: 5 },
      TypeError,
      "Cannot encode MINING_JOB: minerComment must be a string",
    ],
    [
      "bad bitflag",
      { command: "CAPABILITIES", requestId: 0, capabilities: "12" },
      RangeError,
      "Cannot encode CAPABILITIES: capabilities must contain only '0' and '1'",
    ],
  ];
  for (const [name, message, ErrorClass, text] of rows) {
    await t.step(name, () => {
      assert.throws(() => encodeUcp(message as UcpMessage), (e: unknown) => {
        assert.ok(e instanceof ErrorClass);
        assert.equal((e as Error).message, text);
        return true;
      });
    });
  }
});
