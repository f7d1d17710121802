import assert from "node:assert/strict";
import {
  encodeError,
  encodeNotify,
  encodeReconnect,
  encodeRequest,
  encodeResult,
  encodeSetDifficulty,
  encodeSubscribeResult,
} from "../../protocol/stratum_encode.ts";
import { parseServerMessage } from "../../protocol/stratum_client.ts";
import { STRATUM_ERRORS, type StratumErrorCode } from "../../protocol/stratum_errors.ts";
import type { NotifyJob, StratumId } from "../../protocol/stratum_types.ts";
import { NOTIFY, vectorJob } from "./_stratum_samples.ts";

Deno.test("encodeNotify() writes the stratum_share vector's params exactly", () => {
  const line = encodeNotify(vectorJob());
  assert.equal(
    line,
    JSON.stringify({ id: null, method: "mining.notify", params: NOTIFY }),
  );
});

Deno.test("encodeNotify() pads every field to its width", () => {
  const job: NotifyJob = {
    jobId: 'a"b',
    height: 0,
    version: 0,
    previousHash: new Uint8Array(12),
    previousKeystone: new Uint8Array(9),
    secondKeystone: new Uint8Array(9),
    popRoot: new Uint8Array(32),
    normalRoot: new Uint8Array(32),
    metapackageHash: new Uint8Array(32),
    timestamp: 0xffffffff,
    bits: 1,
    cleanJobs: false,
  };
  const params = JSON.parse(encodeNotify(job)).params;
  assert.deepEqual(params, [
    'a"b',
    "00000000",
    "0000",
    "0".repeat(24),
    "0".repeat(18),
    "0".repeat(18),
    ["0".repeat(64), "0".repeat(64), "0".repeat(64)],
    "ffffffff",
    "00000001",
    false,
  ]);
});

Deno.test("encodeNotify() rejects bad fields", async (t) => {
  const job = vectorJob();
  const rows: [string, Partial<Record<keyof NotifyJob, unknown>>, typeof Error, string][] = [
    ["numeric job id", { jobId: 3 }, TypeError, "Cannot encode notify: jobId must be a string"],
    [
      "clean_jobs missing",
      { cleanJobs: undefined },
      TypeError,
      "Cannot encode notify: cleanJobs must be a boolean",
    ],
    [
      "height too big",
      { height: 2 ** 32 },
      RangeError,
      "Cannot encode notify: height must be an integer in 0..4294967295",
    ],
    [
      "negative height",
      { height: -1 },
      RangeError,
      "Cannot encode notify: height must be an integer in 0..4294967295",
    ],
    [
      "version too big",
      { version: 0x10000 },
      RangeError,
      "Cannot encode notify: version must be an integer in 0..65535",
    ],
    [
      "fractional time",
      { timestamp: 1.5 },
      RangeError,
      "Cannot encode notify: timestamp must be an integer in 0..4294967295",
    ],
    [
      "bits as string",
      { bits: "0600e8d4" },
      RangeError,
      "Cannot encode notify: bits must be an integer in 0..4294967295",
    ],
    [
      "full previous hash",
      { previousHash: new Uint8Array(24) },
      RangeError,
      "Cannot encode notify: previousHash must be 12 bytes, got 24",
    ],
    [
      "short keystone",
      { secondKeystone: new Uint8Array(8) },
      RangeError,
      "Cannot encode notify: secondKeystone must be 9 bytes, got 8",
    ],
    [
      "hex root",
      { popRoot: "11".repeat(32) },
      TypeError,
      "Cannot encode notify: popRoot must be a Uint8Array",
    ],
  ];
  for (const [name, change, ErrorClass, message] of rows) {
    await t.step(name, () => {
      assert.throws(() => encodeNotify({ ...job, ...change } as NotifyJob), (e: unknown) => {
        assert.ok(e instanceof ErrorClass);
        assert.equal((e as Error).message, message);
        return true;
      });
    });
  }
});

Deno.test("encodeSubscribeResult() writes VeriBlock's single-pair result", async (t) => {
  const rows: [StratumId, bigint, string][] = [
    [
      "1",
      0x7c000000000f4240n,
      '{"id":"1","result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"],"7c000000000f4240",8],"error":null}',
    ],
    [
      1,
      0n,
      '{"id":1,"result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"],"0000000000000000",8],"error":null}',
    ],
    [
      null,
      (1n << 64n) - 1n,
      '{"id":null,"result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f"],"ffffffffffffffff",8],"error":null}',
    ],
  ];
  for (const [id, extranonce, line] of rows) {
    await t.step(
      String(extranonce),
      () => assert.equal(encodeSubscribeResult(id, extranonce), line),
    );
  }
  await t.step("out of range", () => {
    assert.throws(() => encodeSubscribeResult(1, -1n), RangeError);
    assert.throws(() => encodeSubscribeResult(1, 1n << 64n), RangeError);
    assert.throws(() => encodeSubscribeResult(1, 5 as unknown as bigint), TypeError);
  });
});

Deno.test("encodeSetDifficulty() writes a decimal integer string", async (t) => {
  const rows: [bigint, string][] = [
    [1n, "1"],
    [1048576n, "1048576"],
    [524288n, "524288"],
    [(1n << 192n) - 1n, ((1n << 192n) - 1n).toString()],
  ];
  for (const [difficulty, text] of rows) {
    await t.step(text, () => {
      assert.equal(
        encodeSetDifficulty(difficulty),
        `{"id":null,"method":"mining.set_difficulty","params":["${text}"]}`,
      );
    });
  }
  await t.step("out of range", () => {
    assert.throws(() => encodeSetDifficulty(0n), RangeError);
    assert.throws(() => encodeSetDifficulty(-5n), RangeError);
    assert.throws(() => encodeSetDifficulty(1n << 192n), RangeError);
    assert.throws(() => encodeSetDifficulty(1048576 as unknown as bigint), TypeError);
  });
});

Deno.test("encodeError() writes every row of the error table", async (t) => {
  for (const reason of Object.keys(STRATUM_ERRORS) as StratumErrorCode[]) {
    await t.step(reason, () => {
      const { code, message } = STRATUM_ERRORS[reason];
      const line = encodeError("9", reason);
      assert.equal(
        line,
        `{"id":"9","result":null,"error":[${code},${JSON.stringify(message)},null]}`,
      );
      assert.deepEqual(JSON.parse(line), { id: "9", result: null, error: [code, message, null] });
    });
  }
  await t.step("with a detail", () => {
    assert.equal(
      encodeError(4, "unknown_method", { detail: "mining.configure" }),
      `{"id":4,"result":null,"error":[-3,"Method 'configure' not found for service 'mining'",null]}`,
    );
    assert.equal(
      JSON.parse(encodeError(4, "stale_job", { detail: 'x"\n' })).error[1],
      "Job 'x\"?' not found",
    );
  });
  await t.step("unknown reason", () => {
    assert.throws(() => encodeError(1, "nope" as StratumErrorCode), TypeError);
    assert.throws(
      () => encodeError(1, "toString" as StratumErrorCode, { detail: "x" }),
      TypeError,
    );
  });
});

Deno.test("encodeResult() echoes ids and encodes results", async (t) => {
  const rows: [StratumId, unknown, string][] = [
    ["3", true, '{"id":"3","result":true,"error":null}'],
    [3, false, '{"id":3,"result":false,"error":null}'],
    [null, null, '{"id":null,"result":null,"error":null}'],
    ["", [1, "a"], '{"id":"","result":[1,"a"],"error":null}'],
    [-1.5, { a: 1 }, '{"id":-1.5,"result":{"a":1},"error":null}'],
    ['a"\u2028', true, '{"id":"a\\"\u2028","result":true,"error":null}'],
    [9007199254740991, true, '{"id":9007199254740991,"result":true,"error":null}'],
  ];
  for (const [id, result, line] of rows) {
    await t.step(line, () => {
      assert.equal(encodeResult(id, result), line);
      assert.deepEqual(JSON.parse(line), { id, result, error: null });
    });
  }
  await t.step("things that are not JSON", () => {
    assert.throws(() => encodeResult(1, undefined), TypeError);
    assert.throws(() => encodeResult(1, 1n), TypeError);
    assert.throws(() => encodeResult(NaN, true), TypeError);
    assert.throws(() => encodeResult({} as unknown as StratumId, true), TypeError);
  });
});

Deno.test("encodeRequest() writes a client request", async (t) => {
  const rows: [Parameters<typeof encodeRequest>[0], string][] = [
    [
      { id: "1", method: "mining.subscribe", params: [] },
      '{"id":"1","method":"mining.subscribe","params":[]}',
    ],
    [
      {
        id: 3,
        method: "mining.submit",
        params: ["w", "3", "7c000000000f4240", "5cfbb600", "0000430b"],
      },
      '{"id":3,"method":"mining.submit","params":["w","3","7c000000000f4240","5cfbb600","0000430b"]}',
    ],
  ];
  for (const [request, line] of rows) {
    await t.step(request.method, () => assert.equal(encodeRequest(request), line));
  }
  await t.step("bad requests", () => {
    assert.throws(
      () => encodeRequest({ id: 1, method: 5 as unknown as string, params: [] }),
      TypeError,
    );
    assert.throws(
      () => encodeRequest({ id: 1, method: "a.b", params: {} as unknown[] }),
      TypeError,
    );
    assert.throws(() => encodeRequest({ id: 1, method: "a.b", params: [1n] }), TypeError);
  });
});

Deno.test("encodeReconnect() asks to reconnect to the same server, as the miner parses it", () => {
  const line = encodeReconnect();
  assert.equal(line, '{"id":null,"method":"client.reconnect","params":[]}');
  assert.deepEqual(parseServerMessage(line), { kind: "reconnect" });
});
