import assert from "node:assert/strict";
import { BanList } from "../../server/bans.ts";

Deno.test("BanList.countShare() judges one connection at its threshold and restarts", () => {
  const bans = new BanList({ checkThreshold: 10, invalidPercent: 50 });
  const counts = bans.shareCounts("10.0.0.1", 0);
  for (let i = 0; i < 5; i++) assert.equal(bans.countShare(counts, true, i), false);
  for (let i = 0; i < 4; i++) assert.equal(bans.countShare(counts, false, 10 + i), false);
  assert.equal(bans.countShare(counts, false, 20), true); // 5 of 10 invalid
  assert.deepEqual([counts.valid, counts.invalid], [0, 0]);
  // Another connection from the same IP has its own counts, and nobody is banned.
  const other = bans.shareCounts("10.0.0.1", 0);
  assert.equal(bans.countShare(other, true, 21), false);
  assert.equal(bans.isBanned("10.0.0.1", 21), false);
});

Deno.test("BanList.countShare() spares a connection below the ratio and forgets old counts", () => {
  const bans = new BanList({ checkThreshold: 4, invalidPercent: 75, windowSeconds: 1 });
  const counts = bans.shareCounts("10.0.0.1", 0);
  for (let round = 0; round < 3; round++) {
    bans.countShare(counts, true, round);
    bans.countShare(counts, false, round);
    bans.countShare(counts, false, round);
    assert.equal(bans.countShare(counts, true, round), false); // 2 of 4 < 75 %
  }
  const slow = new BanList({ checkThreshold: 2, invalidPercent: 100, windowSeconds: 1 });
  const c = slow.shareCounts("10.0.0.1", 0);
  slow.countShare(c, false, 0);
  assert.equal(slow.countShare(c, false, 1001), false); // the first one expired
  assert.equal(slow.countShare(c, false, 1002), true);
});

Deno.test("BanList.offence() bans an IP only after several offending connections in the window", () => {
  const bans = new BanList({ offences: 3, offenceWindowSeconds: 10, banSeconds: 60 });
  assert.equal(bans.offence("10.0.0.1", 0, "invalid_shares"), undefined);
  assert.equal(bans.offence("10.0.0.1", 5_000, "flood"), undefined);
  // The first offence is out of the window by now: still two.
  assert.equal(bans.offence("10.0.0.1", 10_001, "protocol_errors"), undefined);
  assert.equal(bans.isBanned("10.0.0.1", 10_001), false);
  const ban = bans.offence("10.0.0.1", 12_000, "invalid_shares");
  assert.deepEqual(ban, {
    ip: "10.0.0.1",
    since: 12_000,
    until: 72_000,
    reason: "invalid_shares",
    offences: 3,
    refused: 0,
  });
  assert.equal(bans.isBanned("10.0.0.1", 71_999), true);
  assert.equal(bans.isBanned("10.0.0.2", 12_000), false);
  // Offences while banned do not extend the ban.
  assert.equal(bans.offence("10.0.0.1", 13_000, "flood"), undefined);
  assert.equal(bans.isBanned("10.0.0.1", 72_000), false);
});

Deno.test("BanList counts refusals, lists, lifts and expires bans", () => {
  const bans = new BanList({ offences: 1, banSeconds: 10 });
  bans.offence("10.0.0.1", 0, "invalid_shares");
  bans.ban("10.0.0.2", 1_000);
  assert.equal(bans.refused("10.0.0.1", 2_000), 1);
  assert.equal(bans.refused("10.0.0.1", 2_001), 2);
  assert.equal(bans.refused("10.0.0.3", 2_001), 0);
  assert.deepEqual(bans.list(2_002).map((b) => [b.ip, b.reason, b.refused]), [
    ["10.0.0.1", "invalid_shares", 2],
    ["10.0.0.2", "manual", 0],
  ]);
  assert.equal(bans.active(2_002), 2);
  assert.equal(bans.unban("10.0.0.2")?.ip, "10.0.0.2");
  assert.equal(bans.unban("10.0.0.2"), undefined);
  assert.equal(bans.isBanned("10.0.0.2", 2_003), false);
  assert.deepEqual(bans.expire(9_999), []);
  assert.equal(bans.active(10_000), 0);
  assert.deepEqual(bans.expire(10_000).map((b) => [b.ip, b.refused]), [["10.0.0.1", 2]]);
  assert.deepEqual(bans.list(10_000), []);
});

Deno.test("BanList exempts loopback unless told not to, and can be disabled", () => {
  const exempt = new BanList({ checkThreshold: 1, offences: 1 });
  assert.equal(exempt.countShare(exempt.shareCounts("127.0.0.1", 0), false, 0), false);
  assert.equal(exempt.offence("::1", 0, "flood"), undefined);
  assert.equal(exempt.ban("::1", 0), undefined);
  assert.equal(exempt.isBanned("::1", 0), false);
  const strict = new BanList({ checkThreshold: 1, offences: 1, exemptLoopback: false });
  assert.equal(strict.countShare(strict.shareCounts("127.0.0.1", 0), false, 0), true);
  assert.equal(strict.offence("127.0.0.1", 0, "invalid_shares")?.ip, "127.0.0.1");
  const off = new BanList({ enabled: false, checkThreshold: 1, offences: 1 });
  assert.equal(off.countShare(off.shareCounts("10.0.0.1", 0), false, 0), false);
  assert.equal(off.offence("10.0.0.1", 0, "flood"), undefined);
});

Deno.test("BanList.configure changes thresholds of a running list; bans keep their end", () => {
  const bans = new BanList({ offences: 3, banSeconds: 10 });
  assert.equal(bans.offence("10.0.0.1", 0, "flood"), undefined);
  bans.ban("10.0.0.9", 0, { seconds: 100 });
  bans.configure({ offences: 2, banSeconds: 60 });
  // The second offence now bans, for the new length; the manual ban keeps its own end.
  assert.equal(bans.offence("10.0.0.1", 1_000, "flood")?.until, 61_000);
  assert.equal(bans.isBanned("10.0.0.9", 99_999), true);
  assert.equal(bans.isBanned("10.0.0.9", 100_000), false);
  assert.equal(bans.ban("10.0.0.8", 0, { reason: "abuse" })?.until, 60_000);
  bans.configure({ enabled: false });
  assert.equal(bans.offence("10.0.0.2", 0, "flood"), undefined);
  assert.equal(bans.offence("10.0.0.2", 1, "flood"), undefined);
});

Deno.test("BanList.adopt() takes another worker's ban, keeps the later end and its own count", () => {
  const bans = new BanList({ offences: 2 });
  const ban = { ip: "10.0.0.1", since: 0, until: 10_000, reason: "flood", offences: 3 };
  assert.equal(bans.offence("10.0.0.1", 0, "flood"), undefined);
  assert.deepEqual(bans.adopt(ban, 100), { ...ban, refused: 0 });
  assert.equal(bans.isBanned("10.0.0.1", 9_999), true);
  assert.equal(bans.refused("10.0.0.1", 200), 1);
  // The same ban again, or one that ends sooner: nothing changes.
  assert.equal(bans.adopt(ban, 300), undefined);
  assert.equal(bans.adopt({ ...ban, until: 5_000 }, 300), undefined);
  // One that ends later replaces it; the refusals counted here stay.
  assert.deepEqual(bans.adopt({ ...ban, until: 20_000, reason: "manual" }, 300), {
    ...ban,
    until: 20_000,
    reason: "manual",
    refused: 1,
  });
  // The offence counted here before was forgotten: once the ban ends, one more does not ban.
  assert.equal(bans.offence("10.0.0.1", 20_001, "flood"), undefined);
  // Ended, or an exempt address: not taken.
  assert.equal(bans.adopt({ ...ban, ip: "10.0.0.2" }, 10_000), undefined);
  assert.equal(bans.adopt({ ...ban, ip: "127.0.0.1" }, 0), undefined);
  assert.deepEqual(bans.list(20_001).map((b) => b.ip), []);
});

Deno.test("BanList.adoptOffence() counts another worker's offences as its own: same window, same threshold", () => {
  const bans = new BanList({ offences: 3, offenceWindowSeconds: 10, banSeconds: 60 });
  // One here, one elsewhere: no ban yet; the third (elsewhere) bans, from now.
  assert.equal(bans.offence("10.0.0.1", 1000, "flood"), undefined);
  assert.equal(bans.adoptOffence("10.0.0.1", 2000, "protocol_errors", 2010), undefined);
  assert.equal(bans.isBanned("10.0.0.1", 2010), false);
  const ban = bans.adoptOffence("10.0.0.1", 3000, "auth_failures", 3005);
  assert.deepEqual(ban, {
    ip: "10.0.0.1",
    since: 3005,
    until: 63_005,
    reason: "auth_failures",
    offences: 3,
    refused: 0,
  });
  assert.equal(bans.isBanned("10.0.0.1", 3005), true);
  // While banned, neither kind counts (nor bans again).
  assert.equal(bans.adoptOffence("10.0.0.1", 4000, "flood", 4000), undefined);
  assert.equal(bans.offence("10.0.0.1", 4000, "flood"), undefined);
});

Deno.test("BanList.adoptOffence() keeps times in order and leaves out those past the window", () => {
  const bans = new BanList({ offences: 3, offenceWindowSeconds: 10 });
  // Heard late: an offence older than the window counts for nothing.
  assert.equal(bans.adoptOffence("10.0.0.2", 0, "flood", 10_001), undefined);
  assert.equal(bans.offence("10.0.0.2", 10_001, "flood"), undefined);
  assert.equal(bans.offence("10.0.0.2", 10_002, "flood"), undefined);
  assert.equal(bans.isBanned("10.0.0.2", 10_002), false, "only 2 within the window");

  // Heard out of order: 5000 (elsewhere) comes after 12_000 (here). At 15_500 the 5000 one is
  // past the window and 12_000 is not: in order, only the oldest goes, and 2 stay.
  const b = new BanList({ offences: 3, offenceWindowSeconds: 10 });
  assert.equal(b.offence("10.0.0.3", 12_000, "flood"), undefined);
  assert.equal(b.adoptOffence("10.0.0.3", 5000, "flood", 12_100), undefined);
  assert.equal(b.offence("10.0.0.3", 15_500, "flood"), undefined, "5000 left the window");
  assert.equal(b.offence("10.0.0.3", 16_000, "flood")?.offences, 3);

  // A time after now (another clock a little ahead) counts as now.
  const c = new BanList({ offences: 2, offenceWindowSeconds: 10 });
  assert.equal(c.adoptOffence("10.0.0.4", 99_000, "flood", 1000), undefined);
  assert.equal(c.offence("10.0.0.4", 11_001, "flood"), undefined, "counted at 1000, now gone");
  assert.equal(c.offence("10.0.0.4", 11_002, "flood")?.offences, 2);
});

Deno.test("BanList.adoptOffence() spares exempt addresses and keeps its tracked IPs bounded", () => {
  const bans = new BanList({ offences: 1 });
  assert.equal(bans.adoptOffence("127.0.0.1", 0, "flood", 0), undefined, "loopback exempt");
  assert.equal(new BanList({ enabled: false }).adoptOffence("10.0.0.1", 0, "flood", 0), undefined);
  const few = new BanList({ offences: 2, maxTracked: 2 });
  few.adoptOffence("10.0.0.1", 0, "flood", 0);
  few.adoptOffence("10.0.0.2", 0, "flood", 0);
  few.adoptOffence("10.0.0.3", 0, "flood", 0); // 10.0.0.1 is forgotten
  assert.equal(few.adoptOffence("10.0.0.1", 1, "flood", 1), undefined);
  assert.equal(few.adoptOffence("10.0.0.3", 1, "flood", 1)?.offences, 2);
});
