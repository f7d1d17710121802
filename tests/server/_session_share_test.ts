import assert from "node:assert/strict";
import { clamp, passwordDifficulty } from "../../server/_session_share.ts";

Deno.test("passwordDifficulty() reads d=N as the password or one of its words", async (t) => {
  const cases: [string, bigint | undefined][] = [
    ["d=1024", 1024n],
    ["x,d=65536", 65536n],
    ["d=5;foo", 5n],
    ["worker d=7", 7n],
    ["", undefined],
    ["x", undefined],
    ["d=", undefined],
    ["d=0", undefined],
    ["d=-5", undefined],
    ["d=1.5", undefined],
    ["dd=5", undefined],
    ["d=5x", undefined],
  ];
  for (const [password, want] of cases) {
    await t.step(JSON.stringify(password), () => assert.equal(passwordDifficulty(password), want));
  }
});

Deno.test("clamp() keeps a value within bounds", () => {
  assert.equal(clamp(5n, 10n, 20n), 10n);
  assert.equal(clamp(15n, 10n, 20n), 15n);
  assert.equal(clamp(25n, 10n, 20n), 20n);
});
