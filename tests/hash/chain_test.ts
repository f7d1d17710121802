import assert from "node:assert/strict";
import { parseChainText, verifyChain } from "../../hash/chain.ts";
import { createWasmKernel } from "../../hash/kernel.ts";
import { vblake } from "../../hash/vblake.ts";
import { readChainFixture } from "./_vectors.ts";

const mainnet = parseChainText(await readChainFixture("mainnet-headers-200001.txt"));
const testnet = parseChainText(await readChainFixture("testnet-headers-0.txt"));

Deno.test("verifyChain() verifies the whole mainnet file (PoW and links)", async (t) => {
  for (const [name, kernel] of [["reference", undefined], ["wasm", createWasmKernel()]] as const) {
    await t.step(name, () => {
      const report = verifyChain(mainnet, { kernel });
      assert.equal(report.count, 2000);
      assert.deepEqual(report.powFailures, []);
      assert.deepEqual(report.linkFailures, []);
      assert.equal(report.powOk, true);
      assert.equal(report.linksOk, true);
      assert.equal(report.ok, true);
      assert.equal(report.firstHeight, 200001);
      assert.equal(report.lastHeight, 201926);
      assert.equal(report.forkHeights, 71);
      assert.equal(report.linksChecked, 1999);
    });
  }
});

Deno.test("verifyChain() verifies the whole testnet file (PoW and links)", async (t) => {
  for (const [name, kernel] of [["reference", undefined], ["wasm", createWasmKernel()]] as const) {
    await t.step(name, () => {
      const report = verifyChain(testnet, { kernel });
      assert.equal(report.count, 1000);
      assert.equal(report.ok, true, JSON.stringify(report).slice(0, 500));
      assert.equal(report.firstHeight, 0);
      assert.equal(report.lastHeight, 999);
      assert.equal(report.forkHeights, 0);
      assert.equal(report.linksChecked, 999);
    });
  }
});

Deno.test("verifyChain() reports a header whose hash is above its target", () => {
  const headers = testnet.slice(0, 5).map((h) => h.slice());
  headers[3]![63]! ^= 0x01; // another nonce: its hash is far above the 1e8 target
  assert.notEqual(vblake(headers[3]!)[0], 0);
  const report = verifyChain(headers);
  assert.equal(report.powOk, false);
  assert.equal(report.powFailures.length, 1);
  assert.equal(report.powFailures[0]!.index, 3);
  assert.equal(report.powFailures[0]!.height, 3);
  assert.match(report.powFailures[0]!.reason, /not below target/);
  // Header 4 pointed at the original header 3, which is gone.
  assert.equal(report.linksOk, false);
  assert.deepEqual(report.linkFailures.map((f) => f.index), [4]);
  assert.match(report.linkFailures[0]!.reason, /matches no header at height 3/);
  assert.equal(report.ok, false);
});

Deno.test("verifyChain() reports gaps, bad lengths and invalid bits", () => {
  const negativeBits = testnet[2]!.slice();
  negativeBits[57] = 0x80; // sign bit
  const report = verifyChain([
    testnet[0]!,
    testnet[1]!,
    new Uint8Array(63),
    negativeBits,
    testnet[5]!,
  ]);
  assert.deepEqual(
    report.powFailures.map((f) => [f.index, f.height]),
    [[2, null], [3, 2]],
  );
  assert.match(report.powFailures[0]!.reason, /not a 64-byte header \(63 bytes\)/);
  assert.match(report.powFailures[1]!.reason, /invalid bits: .*negative/);
  // Heights 2 (the modified header still links to 1) and 5 (no header at 4).
  assert.deepEqual(report.linkFailures.map((f) => [f.index, f.height]), [[4, 5]]);
  assert.match(report.linkFailures[0]!.reason, /no header at height 4/);
  assert.equal(report.linksChecked, 3);
});

Deno.test("verifyChain() accepts forks: a parent may be any header one height lower", () => {
  // Two siblings at one height, and a child of the second one.
  const a = mainnet[10]!, child = mainnet[11]!;
  const sibling = a.slice();
  sibling[40]! ^= 0xFF; // a different header at the same height (fails PoW, but is a parent)
  const report = verifyChain([mainnet[9]!, sibling, a, child]);
  assert.equal(report.forkHeights, 1);
  assert.equal(report.linksOk, true);
  assert.deepEqual(report.powFailures.map((f) => f.index), [1]);
});

Deno.test("verifyChain() handles empty and non-array input", () => {
  const report = verifyChain([]);
  assert.equal(report.count, 0);
  assert.equal(report.ok, true);
  assert.equal(report.firstHeight, null);
  assert.throws(() => verifyChain("x" as unknown as Uint8Array[]), TypeError);
  const junk = verifyChain([null as unknown as Uint8Array]);
  assert.match(junk.powFailures[0]!.reason, /not a Uint8Array/);
});

Deno.test("parseChainText() ignores blank lines, whitespace and CRLF", () => {
  const line = "00".repeat(64);
  const headers = parseChainText(`\n${line}\r\n  \r\n\t${line.toUpperCase()}  \n\n`);
  assert.equal(headers.length, 2);
  assert.deepEqual(headers[0], new Uint8Array(64));
  assert.equal(parseChainText("").length, 0);
});

Deno.test("parseChainText() names the first bad line", async (t) => {
  const good = "ab".repeat(64);
  const rows: [string, number][] = [
    [`${good}\n${good}\nzz${good.slice(2)}\n`, 3],
    [`${good}\n\n${good}0\n`, 3],
    [`${good.slice(2)}`, 1],
    [`${good}\n${good} ${good}\n`, 2],
  ];
  for (const [text, line] of rows) {
    await t.step(`line ${line}`, () => {
      assert.throws(() => parseChainText(text), {
        name: "SyntaxError",
        message: `Cannot parse chain text: line ${line} is not a 128-digit hex header`,
      });
    });
  }
  await t.step("not a string", () => {
    assert.throws(() => parseChainText(1 as unknown as string), TypeError);
  });
});
