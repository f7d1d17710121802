import assert from "node:assert/strict";
import {
  chainFileHeader,
  ChainFileWriter,
  createGenesis,
  DevnetChain,
  loadChainFile,
  RivalMiner,
} from "../../devnet/mod.ts";
import {
  assembleHeader,
  bytesToHex,
  createWasmKernel,
  decodeBits,
  decodeHeader,
  encodeBits,
  keystoneHeights,
  parseChainText,
  verifyChain,
} from "../../hash/mod.ts";

const kernel = createWasmKernel();
const PARAMS = { blockTime: 10, window: 100, minDifficulty: 200n };

async function makeChain(params = PARAMS) {
  const chain = new DevnetChain(
    await createGenesis(params, { kernel, timestamp: 1_700_000_000 }),
    params,
    { kernel },
  );
  const rival = new RivalMiner({
    chain,
    kernel,
    submit: (header) => chain.addBlock(header, { finder: "miner", source: "pool" }),
  });
  return { chain, rival };
}

Deno.test("DevnetChain blocks carry correct keystone fields and links", async () => {
  const { chain, rival } = await makeChain();
  for (let i = 0; i < 45; i++) await rival.mineBlock();
  assert.equal(chain.height, 45);
  for (let h = 1; h <= 45; h++) {
    const header = decodeHeader(chain.blockAt(h)!.header);
    const ks = keystoneHeights(h);
    const hex = (b: Uint8Array) => bytesToHex(b);
    const tail = (height: number | null) =>
      height === null ? "00".repeat(9) : hex(chain.blockAt(height)!.hash.subarray(15));
    assert.equal(hex(header.previousKeystone), tail(ks.first), `ks1 at ${h}`);
    assert.equal(hex(header.secondKeystone), tail(ks.second), `ks2 at ${h}`);
    assert.equal(hex(header.previousHash), hex(chain.blockAt(h - 1)!.hash.subarray(12)));
  }
  // Spot checks from spec §3.3.
  const ks1 = (h: number) => bytesToHex(decodeHeader(chain.blockAt(h)!.header).previousKeystone);
  assert.equal(ks1(21), bytesToHex(chain.blockAt(0)!.hash.subarray(15)));
  assert.equal(ks1(22), bytesToHex(chain.blockAt(20)!.hash.subarray(15)));
  assert.equal(ks1(42), bytesToHex(chain.blockAt(40)!.hash.subarray(15)));
  const report = verifyChain(parseChainText(chain.exportText()), { kernel });
  assert.equal(report.ok, true);
  assert.equal(report.count, 46);
});

Deno.test("DevnetChain retargets with the LWMA after N blocks", async () => {
  const params = { blockTime: 10, window: 10, minDifficulty: 100n };
  const { chain, rival } = await makeChain(params);
  for (let i = 0; i < 12; i++) await rival.mineBlock();
  // Below height N the floor is kept; blocks seconds apart (T = 10 s) then raise it.
  assert.equal(chain.blockAt(10)!.difficulty, 100n);
  assert.ok(chain.blockAt(11)!.difficulty > 100n);
  assert.equal(chain.blockAt(11)!.bits, encodeBits(chain.blockAt(11)!.difficulty));
  assert.equal(decodeBits(chain.childTemplate().bits), chain.childTemplate().difficulty);
});

Deno.test("DevnetChain.addBlock() rejects invalid headers with reasons", async () => {
  const { chain, rival } = await makeChain();
  await rival.mineBlock();
  const child = chain.childTemplate();
  const base = {
    height: child.height,
    version: 2,
    previousBlockHash: child.previousBlockHash,
    previousKeystoneHash: child.previousKeystoneHash,
    secondKeystoneHash: child.secondKeystoneHash,
    merkleRoot: new Uint8Array(16),
    timestamp: 1_700_000_100,
    bits: child.bits,
    nonce: 0,
  };
  const origin = { finder: "x", source: "pool" as const };
  const reason = (fields: Partial<typeof base>) => {
    const r = chain.addBlock(assembleHeader({ ...base, ...fields }), origin);
    return r.ok ? "accepted" : r.reason;
  };
  assert.match(reason({ height: 5 }), /wrong height/);
  assert.match(reason({ bits: encodeBits(201n) }), /wrong difficulty bits/);
  assert.match(reason({ previousBlockHash: new Uint8Array(24).fill(9) }), /unknown previous/);
  // Find a nonce that fails the target (most do at difficulty 200).
  let nonce = 0;
  while (reason({ nonce }) !== "share above network target") nonce++;
  const r = chain.addBlock(new Uint8Array(10), origin);
  assert.deepEqual(r, { ok: false, reason: "not a 64-byte header" });
  assert.deepEqual(chain.addBlock(chain.tip.header, origin), {
    ok: false,
    reason: "duplicate block",
  });
  assert.equal(chain.blockAt(-1), undefined);
  assert.equal(chain.blockByHash("zz"), undefined);
  assert.equal(chain.confirmations(chain.genesis.hash), 2);
});

Deno.test("DevnetChain keeps the most-work branch and the orphans", async () => {
  const { chain, rival } = await makeChain();
  for (let i = 0; i < 3; i++) await rival.mineBlock();
  const old = chain.tip;
  const side = await rival.mineBlock({ parent: chain.blockAt(2)! });
  assert.equal(chain.tip, old); // a tie keeps the first-seen tip
  assert.equal(chain.isMainChain(side.hash), false);
  const longer = await rival.mineBlock({ parent: side });
  assert.equal(chain.tip, longer);
  assert.equal(chain.isMainChain(old.hash), false);
  assert.deepEqual(chain.orphans(), [old]);
  const branch = await rival.reorg(2);
  assert.equal(branch.length, 3);
  assert.equal(chain.height, 5);
  assert.equal(chain.orphans().length, 3);
  const all = verifyChain(parseChainText(chain.exportText({ includeOrphans: true })), { kernel });
  assert.equal(all.ok, true);
  await assert.rejects(() => rival.reorg(99), RangeError);
});

Deno.test("loadChainFile() replays a chain and names bad lines", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/c.jsonl`;
    assert.equal(await loadChainFile(path, { kernel }), undefined);
    const { chain, rival } = await makeChain();
    const writer = new ChainFileWriter(path, PARAMS);
    writer.append(chain.genesis);
    for (let i = 0; i < 3; i++) writer.append(await rival.mineBlock());
    const loaded = await loadChainFile(path, { kernel });
    assert.equal(loaded?.tip.hashHex, chain.tip.hashHex);
    assert.equal(loaded?.tip.finder, "miner");

    const text = await Deno.readTextFile(path);
    const lines = text.trim().split("\n");
    const broken = [...lines];
    broken[3] = broken[3]!.replace(/"header":"(..)/, '"header":"FF');
    await Deno.writeTextFile(path, broken.join("\n"));
    await assert.rejects(() => loadChainFile(path, { kernel }), /line 4/);
    await Deno.writeTextFile(path, "garbage\n");
    await assert.rejects(() => loadChainFile(path, { kernel }), SyntaxError);
    await Deno.writeTextFile(path, chainFileHeader(PARAMS) + "\n");
    await assert.rejects(() => loadChainFile(path, { kernel }), /no genesis/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
