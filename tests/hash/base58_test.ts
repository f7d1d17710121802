import assert from "node:assert/strict";
import { BASE58_ALPHABET, base58Digit, decodeBase58, encodeBase58 } from "../../hash/base58.ts";
import { bytesToHex, hexToBytes } from "../../hash/hex.ts";
import { prng, randomBytes } from "./_vectors.ts";

Deno.test("encodeBase58() and decodeBase58() match known encodings", async (t) => {
  const rows: [string, string][] = [
    ["", ""],
    ["00", "1"],
    ["0000", "11"],
    ["01", "2"],
    ["39", "z"],
    ["3a", "21"],
    ["000001", "112"],
    ["68656c6c6f20776f726c64", "StV1DL6CwTryKyV"],
  ];
  for (const [hex, text] of rows) {
    await t.step(text || "(empty)", () => {
      assert.equal(encodeBase58(hexToBytes(hex)), text);
      assert.equal(bytesToHex(decodeBase58(text)), hex);
    });
  }
});

Deno.test("decodeBase58() gives the VBK binary form and PoP-miner id (spec §7)", () => {
  assert.equal(
    bytesToHex(decodeBase58("V5Ujv72h4jEBcKnALGc4fKqs6CDAPX"), { upper: true }),
    "6772F51AB208D32771AB1506970EEB664462730B838E",
  );
  assert.equal(
    bytesToHex(decodeBase58("6P56zKcXNexRSeWcrtX8vpoJEZJRy").subarray(0, 16), { upper: true }),
    "57801424B0F5DE63992A016F5F38FEB4",
  );
});

Deno.test("encodeBase58() round-trips random bytes with leading zeros", () => {
  const next = prng(58);
  for (let i = 0; i < 200; i++) {
    const bytes = randomBytes(next, next() % 40);
    bytes.fill(0, 0, next() % 4);
    assert.deepEqual(decodeBase58(encodeBase58(bytes)), bytes);
  }
});

Deno.test("base58Digit() maps the alphabet and rejects others", () => {
  [...BASE58_ALPHABET].forEach((c, i) => assert.equal(base58Digit(c), i));
  for (const c of ["0", "O", "I", "l", "+", "", "VV"]) assert.equal(base58Digit(c), -1);
});

Deno.test("decodeBase58() rejects characters outside the alphabet and non-strings", () => {
  assert.throws(() => decodeBase58("abc0"), SyntaxError);
  assert.throws(() => decodeBase58("O"), SyntaxError);
  assert.throws(() => decodeBase58(5 as unknown as string), TypeError);
  assert.throws(() => encodeBase58("ab" as unknown as Uint8Array), TypeError);
});
