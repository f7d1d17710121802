import assert from "node:assert/strict";
import {
  benchAddress,
  minerIdentity,
  nextShareSeconds,
  sourceAddress,
} from "../../bench/_load_spread.ts";
import { isValidAddress } from "../../hash/mod.ts";

Deno.test("benchAddress makes thousands of distinct valid addresses", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const a = benchAddress(i);
    assert.ok(isValidAddress(a), a);
    seen.add(a);
  }
  assert.equal(seen.size, 3000);
});

Deno.test("sourceAddress stays in 127.0.0.0/8 and skips .0 and .255 hosts", () => {
  const seen = new Set<string>();
  for (const i of [0, 1, 253, 254, 255, 65_000, 254 * 256 - 1, 254 * 256, 254 * 256 * 254 - 1]) {
    const ip = sourceAddress(i);
    const parts = ip.split(".").map(Number);
    assert.equal(parts[0], 127);
    assert.ok(parts[3]! >= 1 && parts[3]! <= 254, ip);
    assert.ok(parts.every((p) => p >= 0 && p <= 255), ip);
    seen.add(ip);
  }
  assert.equal(seen.size, 9);
  assert.equal(sourceAddress(254 * 256), "127.2.0.1");
  assert.throws(() => sourceAddress(-1), RangeError);
  assert.throws(() => sourceAddress(1.5), RangeError);
  assert.throws(() => sourceAddress(254 * 256 * 254), RangeError);
});

Deno.test("minerIdentity keeps an address's workers on one source and caps miners per source", () => {
  const spread = { workersPerAddress: 4, minersPerSource: 100 };
  const perSource = new Map<number, number>();
  const sourceOfAddress = new Map<number, Set<number>>();
  for (let i = 0; i < 10_000; i++) {
    const id = minerIdentity(i, spread);
    perSource.set(id.source, (perSource.get(id.source) ?? 0) + 1);
    const set = sourceOfAddress.get(id.address) ?? new Set();
    set.add(id.source);
    sourceOfAddress.set(id.address, set);
  }
  assert.equal(perSource.size, 100);
  assert.ok([...perSource.values()].every((n) => n === 100));
  assert.equal(sourceOfAddress.size, 2500);
  assert.ok([...sourceOfAddress.values()].every((s) => s.size === 1));
  assert.throws(() => minerIdentity(0, { workersPerAddress: 0, minersPerSource: 1 }), RangeError);
  assert.throws(() => minerIdentity(0, { workersPerAddress: 1, minersPerSource: 0.5 }), RangeError);
});

Deno.test("nextShareSeconds has the mean difficulty / hashrate", () => {
  let seed = 1;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  let sum = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) sum += nextShareSeconds(64, 8, random);
  assert.ok(Math.abs(sum / n - 8) < 0.3, String(sum / n));
});
