import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import { isValidAddress, validateAddress } from "../../hash/address.ts";
import { encodeBase58 } from "../../hash/base58.ts";
import { vectors } from "./_vectors.ts";

const addresses = vectors.addresses;

/** Build a multisig address with a correct checksum for the given m/n digits. */
function multisig(mDigit: string, nDigit: string): string {
  const head = `V${mDigit}${nDigit}${"2".repeat(22)}`;
  const sum = encodeBase58(sha256(new TextEncoder().encode(head))).slice(0, 4);
  return `${head}${sum}0`;
}

Deno.test("validateAddress() accepts the standard vectors", async (t) => {
  for (const address of addresses.valid_standard) {
    await t.step(address, () => {
      assert.deepEqual(validateAddress(address), { valid: true, kind: "standard" });
      assert.equal(isValidAddress(address), true);
    });
  }
});

Deno.test("validateAddress() accepts the multisig vectors", async (t) => {
  for (const address of [...addresses.valid_multisig, addresses.edge_valid_multisig.address]) {
    await t.step(address, () => {
      assert.deepEqual(validateAddress(address), { valid: true, kind: "multisig" });
      assert.equal(isValidAddress(address), true);
    });
  }
});

Deno.test("validateAddress() rejects the invalid vectors with a reason", async (t) => {
  const reasons = [
    /checksum/,
    /length/,
    /start with 'V'/,
    /invalid character "O" at 29/,
    /'V'/,
    /length/,
  ];
  for (const [i, address] of addresses.invalid.entries()) {
    await t.step(address || "(empty)", () => {
      const result = validateAddress(address);
      assert.equal(result.valid, false);
      assert.match((result as { reason: string }).reason, reasons[i]!);
      assert.equal(isValidAddress(address), false);
    });
  }
});

Deno.test("validateAddress() enforces multisig m and n", async (t) => {
  await t.step("2-of-3 built here is valid", () => {
    assert.deepEqual(validateAddress(multisig("2", "3")), { valid: true, kind: "multisig" });
  });
  await t.step("1-of-58 is valid", () => {
    assert.deepEqual(validateAddress(multisig("1", "z")), { valid: true, kind: "multisig" });
  });
  await t.step("n = 1 is invalid", () => {
    const result = validateAddress(multisig("1", "1"));
    assert.equal(result.valid, false);
    assert.match((result as { reason: string }).reason, /n must be 2\.\.58/);
  });
  await t.step("m > n is invalid", () => {
    const result = validateAddress(multisig("4", "3"));
    assert.equal(result.valid, false);
    assert.match((result as { reason: string }).reason, /exceeds n/);
  });
  await t.step("a bad checksum is invalid", () => {
    const good = multisig("2", "3");
    const bad = good.slice(0, 25) + (good[25] === "a" ? "b" : "a") + good.slice(26);
    assert.equal(isValidAddress(bad), false);
  });
  await t.step("a multisig without the leading V is invalid", () => {
    assert.equal(isValidAddress("W" + multisig("2", "3").slice(1)), false);
  });
  await t.step("a '0' inside the body is invalid", () => {
    const good = multisig("2", "3");
    assert.equal(isValidAddress(good.slice(0, 5) + "0" + good.slice(6)), false);
  });
});

Deno.test("validateAddress() never throws on garbage", () => {
  const garbage: unknown[] = [null, undefined, 42, {}, [], "V".repeat(30), "\u0000".repeat(30)];
  garbage.push("V" + "é".repeat(29), "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d\n");
  for (const value of garbage) {
    const result = validateAddress(value as string);
    assert.equal(result.valid, false, String(value));
  }
});
