import assert from "node:assert/strict";
import { AddressList, checkAddressList } from "../../net/address_list.ts";

Deno.test("AddressList.has() matches addresses and CIDR blocks, IPv4-mapped peers included", () => {
  const list = AddressList.parse(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "172.16.0.0/12"]);
  for (
    const ip of ["10.255.1.2", "192.0.2.7", "::ffff:10.0.0.1", "2001:db8:ffff::1", "172.31.9.9"]
  ) {
    assert.equal(list.has(ip), true, ip);
  }
  for (const ip of ["11.0.0.1", "192.0.2.8", "2001:db9::1", "172.32.0.1", "::1", "", "host"]) {
    assert.equal(list.has(ip), false, ip);
  }
  assert.equal(AddressList.parse(["0.0.0.0/0"]).has("203.0.113.1"), true);
  assert.equal(AddressList.parse(["0.0.0.0/0"]).has("2001:db8::1"), false);
  assert.equal(AddressList.parse(["::/0"]).has("2001:db8::1"), true);
  assert.equal(AddressList.parse(["10.0.0.0/31"]).has("10.0.0.1"), true);
  assert.equal(AddressList.parse(["10.0.0.0/31"]).has("10.0.0.2"), false);
  assert.equal(AddressList.parse([]).empty, true);
  // Peers are keyed as IPv4 (`peerIp`): IPv4-mapped entries and blocks still match them, so a
  // trusted proxy listed as the logs of a dual-stack port once showed it stays trusted.
  assert.equal(AddressList.parse(["::ffff:127.0.0.2"]).has("127.0.0.2"), true);
  assert.equal(AddressList.parse(["::ffff:10.0.0.0/104"]).has("10.1.2.3"), true);
  assert.equal(AddressList.parse(["::ffff:10.0.0.0/104"]).has("11.1.2.3"), false);
  assert.equal(AddressList.parse(["::/0"]).has("203.0.113.1"), true);
  assert.equal(AddressList.parse(["2001:db8::/32"]).has("203.0.113.1"), false);
});

Deno.test("AddressList.parse() refuses what is not an address or a block", () => {
  for (
    const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "proxy.example", "10.0.0/8"]
  ) {
    assert.throws(() => AddressList.parse([bad]), SyntaxError, bad);
    assert.match(
      checkAddressList([bad])!,
      new RegExp(`CIDR blocks .*not "${bad.replaceAll(".", "\\.")}"`),
    );
  }
});
