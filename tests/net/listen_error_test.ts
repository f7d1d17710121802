import assert from "node:assert/strict";
import { ListenError, listenOn } from "../../net/listen_error.ts";
import { LineServer } from "../../net/line_server.ts";

Deno.test("LineServer.listen() on a taken port throws a ListenError naming the address", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = taken.addr as Deno.NetAddr;
  try {
    assert.throws(
      () => LineServer.listen({ port, onConnection: () => ({ onLine() {} }) }),
      (e: unknown) =>
        e instanceof ListenError && e.hostname === "127.0.0.1" && e.port === port &&
        e.reason === "address in use" &&
        e.message === `Cannot listen on 127.0.0.1:${port}: address in use` &&
        e.cause instanceof Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
});

Deno.test("listenOn() names other failures in a few words, and brackets IPv6 hosts", () => {
  const cases: [unknown, string][] = [
    [new Deno.errors.AddrNotAvailable("x"), "address not available"],
    [new Deno.errors.PermissionDenied("x"), "permission denied"],
    [new Error("something else"), "something else"],
  ];
  for (const [cause, reason] of cases) {
    assert.throws(
      () =>
        listenOn("::1", 80, () => {
          throw cause;
        }),
      (e: unknown) =>
        e instanceof ListenError && e.message === `Cannot listen on [::1]:80: ${reason}`,
    );
  }
  assert.equal(listenOn("127.0.0.1", 1, () => 5), 5);
});
