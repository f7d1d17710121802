import assert from "node:assert/strict";
import { lwmaNextDifficulty } from "../../devnet/difficulty.ts";
import { decodeBits, encodeBits } from "../../hash/difficulty.ts";

// NodeCore's DifficultyCalculatorTests build blocks with encodeCompactBits(D), so the inputs
// are the decoded (lossy) values.
const BIG = decodeBits(encodeBits(374138710165940323220619084031490655051373200015360n));
const E13 = decodeBits(encodeBits(10_000_000_000_000n));
const MAINNET = { window: 100, blockTime: 30, minimum: 90_000_000_000n };

function spaced(count: number, step: number, difficulty: bigint, firstHeight = 0) {
  let time = 1_700_000_000;
  return Array.from({ length: count }, (_, i) => {
    time += step;
    return { height: firstHeight + i, timestamp: time, difficulty };
  });
}

function stepped(start: number, delta: number) {
  let time = 1_700_000_000;
  let interval = start;
  return Array.from({ length: 100 }, (_, i) => {
    if (i > 0 && i % 40 === 0) interval += delta;
    time += interval;
    return { height: i + 1, timestamp: time, difficulty: E13 };
  });
}

Deno.test("lwmaNextDifficulty() reproduces NodeCore's retarget vectors", async (t) => {
  const cases: [string, Parameters<typeof lwmaNextDifficulty>[0], bigint][] = [
    [
      "constant 30 s keeps D",
      spaced(101, 30, BIG),
      374138710165940323220619084031490655051373200015360n,
    ],
    ["60 s halves D", spaced(101, 60, BIG), 187069355082970161610309542015745327525686600007680n],
    [
      "15 s doubles D",
      spaced(101, 15, BIG, 1000),
      748277420331880646441238168062981310102746400030720n,
    ],
    ["10 s triples D", spaced(101, 10, BIG), 1122416130497820969661857252094471965154119600046080n],
    [
      "equal timestamps give 10 D",
      spaced(101, 0, BIG),
      3741387101659403232206190840314906550513732000153600n,
    ],
    [
      "negative solve times give 10 D",
      spaced(101, -10, BIG),
      3741387101659403232206190840314906550513732000153600n,
    ],
    ["rising 20→30→40 s", stepped(20, 10), 9363170766320n],
    ["falling 40→30→20 s", stepped(40, -10), 10729760739729n],
  ];
  for (const [name, blocks, expected] of cases) {
    await t.step(name, () => assert.equal(lwmaNextDifficulty(blocks, MAINNET), expected));
  }
  await t.step("solve times above 6T are clamped", () => {
    let time = 1_700_000_000;
    const blocks = Array.from({ length: 100 }, (_, i) => {
      time += i >= 60 ? 300 : 30;
      return { height: i + 1, timestamp: time, difficulty: E13 };
    });
    assert.equal(lwmaNextDifficulty(blocks, MAINNET), 2374098916560n);
  });
});

Deno.test("lwmaNextDifficulty() keeps the difficulty below height N", () => {
  const blocks = spaced(99, 100, 5_000_000n);
  assert.equal(lwmaNextDifficulty(blocks, MAINNET), 5_000_000n);
  assert.equal(lwmaNextDifficulty([{ height: 0, timestamp: 1, difficulty: 7n }]), 7n);
});

Deno.test("lwmaNextDifficulty() applies the floor and devnet parameters", () => {
  const slow = spaced(101, 60, 4_000_000n);
  assert.equal(
    lwmaNextDifficulty(slow, { window: 100, blockTime: 10, minimum: 3_000_000n }),
    3_000_000n,
  );
  const fast = spaced(21, 5, 4_000_000n);
  assert.equal(lwmaNextDifficulty(fast, { window: 20, blockTime: 10 }), 8_000_000n);
});

Deno.test("lwmaNextDifficulty() rejects bad arguments", () => {
  assert.throws(() => lwmaNextDifficulty([]), RangeError);
  assert.throws(() => lwmaNextDifficulty(spaced(3, 1, 1n), { window: 1 }), RangeError);
  assert.throws(() => lwmaNextDifficulty(spaced(3, 1, 1n), { blockTime: 1.5 }), TypeError);
  // @ts-expect-error: wrong type on purpose
  assert.throws(() => lwmaNextDifficulty("x"), TypeError);
});
