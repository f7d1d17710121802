import assert from "node:assert/strict";
import { formatIp, parseIp, parseIpv4, parseIpv6 } from "../../protocol/ip_address.ts";

Deno.test("parseIpv4() takes canonical dotted quads only", () => {
  assert.deepEqual(parseIpv4("0.0.0.0"), new Uint8Array(4));
  for (const bad of ["1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1.2.3.-1", "a.b.c.d", ""]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

Deno.test("parseIpv6() and formatIp() follow RFC 4291 text and RFC 5952 output", () => {
  const cases: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
  ];
  for (const [text, canonical] of cases) assert.equal(formatIp(parseIpv6(text)!), canonical, text);
  for (
    const bad of [
      "1::2::3",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      ":1",
      "g::",
      "1.2.3.4::",
    ]
  ) {
    assert.equal(parseIpv6(bad), undefined, bad);
  }
  assert.equal(parseIp("[::1]")?.length, 16);
  assert.throws(() => formatIp(new Uint8Array(5)), RangeError);
});
