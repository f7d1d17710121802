import assert from "node:assert/strict";
import { branchChild, privateBlock } from "../../devnet/_rival_branch.ts";
import { createGenesis, DevnetChain } from "../../devnet/mod.ts";
import { assembleHeader, bytesToHex, createWasmKernel } from "../../hash/mod.ts";

const kernel = createWasmKernel();

Deno.test("branchChild() computes what the chain would require: bits, links, keystones", async () => {
  // A short window so the difficulty retargets; 45 blocks cross the keystones at 20 and 40.
  const params = { blockTime: 10, window: 5, minDifficulty: 200n };
  const chain = new DevnetChain(
    await createGenesis(params, { kernel, timestamp: 1_700_000_000 }),
    params,
    { kernel },
  );
  // Blocks 5 or 20 s apart (T = 10 s): the LWMA moves the difficulty up and down.
  for (let i = 0; i < 45; i++) {
    const child = chain.childTemplate();
    const header = assembleHeader({
      ...child,
      version: 2,
      merkleRoot: new Uint8Array(16).fill(i),
      timestamp: chain.tip.timestamp + (i % 3 === 0 ? 20 : 5),
      nonce: 0,
    });
    const nonce = kernel.scan(header, {
      startNonce: 0,
      count: 2 ** 32,
      target: child.target,
      maxResults: 1,
    }).nonces[0]!;
    new DataView(header.buffer).setUint32(60, nonce);
    assert.equal(chain.addBlock(header, { finder: "test", source: "rival" }).ok, true);
  }
  const hex = (b: Uint8Array) => bytesToHex(b);
  let retargets = 0;
  // Treat the main chain above each fork point as a withheld branch and compare.
  for (const forkHeight of [0, 3, 17, 19, 30]) {
    const fork = chain.blockAt(forkHeight)!;
    const blocks = [];
    for (let h = forkHeight + 1; h <= chain.height; h++) {
      const expected = chain.childTemplate(chain.blockAt(h - 1)!);
      const got = branchChild(chain, { fork, blocks });
      const at = `fork ${forkHeight}, height ${h}`;
      assert.equal(got.height, expected.height, at);
      assert.equal(hex(got.previousBlockHash), hex(expected.previousBlockHash), at);
      assert.equal(hex(got.previousKeystoneHash), hex(expected.previousKeystoneHash), at);
      assert.equal(hex(got.secondKeystoneHash), hex(expected.secondKeystoneHash), at);
      assert.equal(got.bits, expected.bits, at);
      assert.equal(got.difficulty, expected.difficulty, at);
      assert.equal(got.target, expected.target, at);
      assert.equal(got.parentTimestamp, chain.blockAt(h - 1)!.timestamp, at);
      if (expected.difficulty !== chain.blockAt(h - 1)!.difficulty) retargets++;
      blocks.push(privateBlock(chain.blockAt(h)!.header, kernel));
    }
  }
  assert.ok(retargets > 0, "the difficulty changed somewhere");
});

Deno.test("privateBlock() reads height, time, bits and hash from a header", async () => {
  const params = { blockTime: 10, window: 100, minDifficulty: 300n };
  const genesis = await createGenesis(params, { kernel, timestamp: 1_700_000_123 });
  const block = privateBlock(genesis, kernel);
  assert.equal(block.height, 0);
  assert.equal(block.timestamp, 1_700_000_123);
  assert.equal(block.difficulty, 300n);
  assert.deepEqual(block.hash, kernel.hash(genesis));
  assert.throws(() => privateBlock(new Uint8Array(10), kernel), RangeError);
});
