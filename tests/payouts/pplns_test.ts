import assert from "node:assert/strict";
import { type PplnsShare, PplnsWindow, type RewardSplit } from "../../payouts/pplns.ts";

function share(address: string, difficulty: bigint, networkDifficulty: bigint): PplnsShare {
  return { address, difficulty, networkDifficulty };
}

function window(x: number | string, shares: PplnsShare[]): PplnsWindow {
  const w = new PplnsWindow(x);
  for (const s of shares) if (!w.add(s)) break;
  return w;
}

function amounts(split: RewardSplit): [string, bigint, string][] {
  return split.credits.map((c) => [c.address, c.amount, c.reason]);
}

function total(split: RewardSplit): bigint {
  return split.credits.reduce((s, c) => s + c.amount, 0n);
}

Deno.test("PplnsWindow truncates the oldest share so the window is exactly X", () => {
  // X = 1 at network difficulty 100: 30 + 50 + (40 of which 20 count) = 100.
  const w = window(1, [share("VA", 30n, 100n), share("VB", 50n, 100n), share("VA", 40n, 100n)]);
  assert.equal(w.full, true);
  assert.equal(w.shares, 3);
  assert.equal(w.add(share("VC", 1000n, 100n)), false, "shares past the window are ignored");
  const split = w.split(1000n);
  assert.deepEqual(amounts(split), [["VA", 500n, "share"], ["VB", 500n, "share"]]);
  assert.equal(split.filled, true);
  assert.equal(split.score.num * 1n, split.score.den * 1n);
});

Deno.test("PplnsWindow weighs each share by the network difficulty of its time, after the fee", () => {
  // Scores: 100/100 = 1, 50/200 = 0.25, 300/400 = 0.75; X = 2.
  const w = window("2.0", [
    share("VA", 100n, 100n),
    share("VB", 50n, 200n),
    share("VC", 300n, 400n),
  ]);
  assert.equal(w.full, true);
  // Reward 8000, fee 2.5 % = 200, net 7800: A 7800·1/2, B 7800·0.25/2, C 7800·0.75/2.
  const split = w.split(8000n, { fees: [{ address: "VF", percent: "2.5" }] });
  assert.deepEqual(amounts(split), [
    ["VF", 200n, "fee"],
    ["VA", 3900n, "share"],
    ["VB", 975n, "share"],
    ["VC", 2925n, "share"],
  ]);
  assert.equal(total(split), 8000n);
});

Deno.test("PplnsWindow distributes the whole reward when the shares do not fill the window", () => {
  // 0.1 + 0.3 = 0.4 of X = 2: MiningCore would credit only 20 %; we credit all of it.
  const w = window(2, [share("VA", 10n, 100n), share("VB", 30n, 100n)]);
  assert.equal(w.full, false);
  const split = w.split(100n);
  assert.equal(split.filled, false);
  assert.deepEqual(amounts(split), [["VA", 25n, "share"], ["VB", 75n, "share"]]);
  assert.deepEqual(split.score, { num: 2n, den: 5n });
});

Deno.test("PplnsWindow sends the rounding remainder to one defined address", async (t) => {
  const thirds = () => window(1, [share("VC", 1n, 3n), share("VB", 1n, 3n), share("VA", 1n, 3n)]);
  await t.step("the largest score, ties to the smallest address, without fees", () => {
    assert.deepEqual(amounts(thirds().split(100n)), [
      ["VA", 33n, "share"],
      ["VB", 33n, "share"],
      ["VC", 33n, "share"],
      ["VA", 1n, "rounding"],
    ]);
  });
  await t.step("the first fee address, even when its fee rounds to 0", () => {
    const split = thirds().split(100n, {
      fees: [{ address: "VF", percent: 0.5 }, { address: "VG", percent: "0.25" }],
    });
    assert.deepEqual(amounts(split), [
      ["VA", 33n, "share"],
      ["VB", 33n, "share"],
      ["VC", 33n, "share"],
      ["VF", 1n, "rounding"],
    ]);
  });
  await t.step("an explicit remainder address", () => {
    const split = thirds().split(200n, { remainderAddress: "VR" });
    assert.deepEqual(amounts(split).at(-1), ["VR", 2n, "rounding"]);
    assert.equal(total(split), 200n);
  });
});

Deno.test("PplnsWindow stays exact with coprime 64-bit network difficulties", () => {
  const nets = [9_223_372_036_854_775_783n, 9_223_372_036_854_775_643n, 1_000_003n, 999_983n];
  const shares: PplnsShare[] = [];
  for (let i = 0; i < 400; i++) {
    const n = nets[i % nets.length]!;
    shares.push(share(`V${i % 7}`, n / BigInt(37 + (i % 11)), n));
  }
  const w = window("1.75", shares);
  assert.equal(w.full, true);
  const reward = (1n << 62n) + 12345n;
  const split = w.split(reward, { fees: [{ address: "VF", percent: "1.337" }] });
  assert.equal(total(split), reward, "credits add up to the reward exactly");
  assert.deepEqual(split.score, { num: 7n, den: 4n });
  // Re-derive one miner's credit independently with plain fractions.
  const fee = reward * 1337n / 100_000n;
  const net = reward - fee;
  let num = 0n;
  let den = 1n;
  let counted = 0n;
  let countedDen = 1n;
  for (const s of shares) {
    // remaining = 7/4 - counted
    const remNum = 7n * countedDen - 4n * counted;
    const remDen = 4n * countedDen;
    if (remNum <= 0n) break;
    let sn = s.difficulty;
    let sd = s.networkDifficulty;
    if (sn * remDen > remNum * sd) {
      sn = remNum;
      sd = remDen;
    }
    counted = counted * sd + sn * countedDen;
    countedDen = countedDen * sd;
    if (s.address === "V3") {
      num = num * sd + sn * den;
      den = den * sd;
    }
  }
  const expected = net * num * 4n / (den * 7n);
  assert.equal(
    split.credits.find((c) => c.address === "V3" && c.reason === "share")!.amount,
    expected,
  );
});

Deno.test("PplnsWindow credits nothing for a zero reward and handles an empty window", () => {
  assert.deepEqual(window(2, [share("VA", 1n, 10n)]).split(0n).credits, []);
  const empty = new PplnsWindow(2);
  assert.deepEqual(amounts(empty.split(500n, { fees: [{ address: "VF", percent: 10 }] })), [
    ["VF", 50n, "fee"],
    ["VF", 450n, "rounding"],
  ]);
  assert.throws(() => empty.split(500n), /no shares, no fee and no remainder address/);
});

Deno.test("PplnsWindow rejects bad windows, shares, rewards and fees", () => {
  for (const x of [0, "0.0", -1, "abc", "1e3", Number.NaN, Infinity]) {
    assert.throws(() => new PplnsWindow(x), RangeError, String(x));
  }
  const w = new PplnsWindow(1);
  assert.throws(() => w.add(share("VA", 0n, 1n)), RangeError);
  assert.throws(() => w.add(share("VA", 1n, -1n)), RangeError);
  assert.throws(
    () => w.add({ address: "VA", difficulty: 1 as never, networkDifficulty: 1n }),
    RangeError,
  );
  w.add(share("VA", 1n, 2n));
  assert.throws(() => w.split(-1n), RangeError);
  assert.throws(() => w.split(1 as never), RangeError);
  assert.throws(
    () =>
      w.split(100n, { fees: [{ address: "VF", percent: 60 }, { address: "VG", percent: "40.5" }] }),
    /fees exceed 100 %/,
  );
  assert.throws(
    () => w.split(100n, { fees: [{ address: "VF", percent: 1 }, { address: "VF", percent: 1 }] }),
    /appears twice/,
  );
  assert.throws(() => w.split(100n, { fees: [{ address: "VF", percent: "-1" }] }), RangeError);
  const all = w.split(100n, { fees: [{ address: "VF", percent: 100 }] });
  assert.deepEqual(amounts(all), [["VF", 100n, "fee"]]);
});
