import assert from "node:assert/strict";
import { BanList } from "../../server/bans.ts";

Deno.test("BanList bans at the invalid ratio once the threshold is reached", () => {
  const bans = new BanList({ checkThreshold: 10, invalidPercent: 50, banSeconds: 60 });
  for (let i = 0; i < 5; i++) assert.equal(bans.record("10.0.0.1", true, i), false);
  for (let i = 0; i < 4; i++) assert.equal(bans.record("10.0.0.1", false, 10 + i), false);
  assert.equal(bans.record("10.0.0.1", false, 20), true); // 5 of 10 invalid
  assert.equal(bans.isBanned("10.0.0.1", 20), true);
  assert.equal(bans.isBanned("10.0.0.2", 20), false);
  assert.equal(bans.isBanned("10.0.0.1", 60_020), false);
});

Deno.test("BanList does not ban below the ratio and restarts the counts", () => {
  const bans = new BanList({ checkThreshold: 4, invalidPercent: 75 });
  for (let round = 0; round < 3; round++) {
    bans.record("10.0.0.1", true, round);
    bans.record("10.0.0.1", false, round);
    bans.record("10.0.0.1", false, round);
    assert.equal(bans.record("10.0.0.1", true, round), false);
  }
  assert.equal(bans.isBanned("10.0.0.1", 3), false);
});

Deno.test("BanList forgets counts older than the window", () => {
  const bans = new BanList({ checkThreshold: 2, invalidPercent: 100, windowSeconds: 1 });
  bans.record("10.0.0.1", false, 0);
  assert.equal(bans.record("10.0.0.1", false, 1001), false); // the first one expired
  assert.equal(bans.record("10.0.0.1", false, 1002), true);
});

Deno.test("BanList exempts loopback unless told not to, and can be disabled", () => {
  const exempt = new BanList({ checkThreshold: 1 });
  assert.equal(exempt.record("127.0.0.1", false, 0), false);
  exempt.ban("::1", 0);
  assert.equal(exempt.isBanned("::1", 0), false);
  const strict = new BanList({ checkThreshold: 1, exemptLoopback: false });
  assert.equal(strict.record("127.0.0.1", false, 0), true);
  const off = new BanList({ enabled: false, checkThreshold: 1 });
  assert.equal(off.record("10.0.0.1", false, 0), false);
});
