import assert from "node:assert/strict";
import { nameListenError, reachableHost } from "../../cli/_listen.ts";
import { ListenError } from "../../net/mod.ts";

Deno.test("nameListenError() adds the key of the address that cannot be bound", () => {
  const settings = [
    { key: "stratum.listen", hostname: "0.0.0.0", port: 3333 },
    { key: "ucp.listen", hostname: "::1", port: 8501 },
  ];
  const inUse = new Deno.errors.AddrInUse("Address already in use (os error 98)");
  const named = (host: string, port: number) =>
    (nameListenError(new ListenError(host, port, inUse), settings) as Error).message;
  assert.equal(
    named("0.0.0.0", 3333),
    "Cannot listen on 0.0.0.0:3333 (stratum.listen): address in use",
  );
  assert.equal(named("::1", 8501), "Cannot listen on [::1]:8501 (ucp.listen): address in use");
  // An address no setting holds, or another error, goes through unchanged.
  assert.equal(named("127.0.0.1", 1), "Cannot listen on 127.0.0.1:1: address in use");
  const other = new Error("boom");
  assert.equal(nameListenError(other, settings), other);
});

Deno.test("reachableHost() turns a wildcard into loopback", () => {
  assert.deepEqual(
    ["0.0.0.0", "::", "127.0.0.1", "::1", "pool.example"].map(reachableHost),
    ["127.0.0.1", "::1", "127.0.0.1", "::1", "pool.example"],
  );
});
