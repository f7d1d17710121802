import assert from "node:assert/strict";
import { MAX_STRATUM_DIFFICULTY, parseDifficulty } from "../../protocol/stratum_difficulty.ts";

Deno.test("parseDifficulty() reads integers in every form", async (t) => {
  const rows: [unknown, bigint][] = [
    [1048576, 1048576n],
    ["1048576", 1048576n],
    ["524288.0", 524288n],
    ["524288.000", 524288n],
    [" 524288 ", 524288n],
    ["1.5e3", 1500n],
    ["1E6", 1000000n],
    ["2e+1", 20n],
    ["000256", 256n],
    ["2560e-1", 256n],
    [1, 1n],
    [2 ** 60, 1n << 60n],
    [1e20, 100000000000000000000n],
    [MAX_STRATUM_DIFFICULTY.toString(), MAX_STRATUM_DIFFICULTY],
    ["6277101735386680763835789423207666416102355444464034512895", MAX_STRATUM_DIFFICULTY],
  ];
  for (const [value, difficulty] of rows) {
    await t.step(JSON.stringify(value), () => {
      assert.deepEqual(parseDifficulty(value), { ok: true, difficulty, rounded: false });
    });
  }
});

Deno.test("parseDifficulty() rounds fractional values up to an integer ≥ 1", async (t) => {
  const rows: [unknown, bigint][] = [
    ["0.5", 1n],
    [0.5, 1n],
    ["1234.7", 1235n],
    ["1234.1", 1235n],
    [1234.7, 1235n],
    ["1.0000000000000000000001", 2n],
    [".5", 1n],
    ["5.", 5n],
    ["1e-9", 1n],
    ["1e-999999", 1n],
    [Number.MIN_VALUE, 1n],
    ["0.001e3", 1n],
    ["1234.5e-1", 124n],
  ];
  for (const [value, difficulty] of rows) {
    await t.step(JSON.stringify(value), () => {
      const expected = { ok: true, difficulty, rounded: value !== "5." && value !== "0.001e3" };
      assert.deepEqual(parseDifficulty(value), expected);
    });
  }
});

Deno.test("parseDifficulty() refuses zero, negative, absurd and non-numeric values", async (t) => {
  const rows: unknown[] = [
    0,
    -1,
    -0.5,
    NaN,
    Infinity,
    -Infinity,
    "0",
    "0.0",
    "0e5",
    "-1",
    "-524288",
    "+5",
    "NaN",
    "Infinity",
    "",
    " ",
    ".",
    "e5",
    "0x100000",
    "1,000",
    "1 000",
    "5e",
    "1e9999999",
    "1e100",
    (MAX_STRATUM_DIFFICULTY + 1n).toString(),
    "1" + "0".repeat(60),
    2 ** 200,
    null,
    undefined,
    true,
    [],
    {},
    [1048576],
    1048576n,
  ];
  for (const value of rows) {
    await t.step(
      typeof value === "bigint" ? "bigint" : JSON.stringify(value) ?? "undefined",
      () => {
        const result = parseDifficulty(value);
        assert.equal(result.ok, false);
        assert.ok(!result.ok && result.reason.length > 0);
      },
    );
  }
});
