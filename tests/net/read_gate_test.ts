import assert from "node:assert/strict";
import { LineConnection, LineServer, ReadGate } from "../../net/mod.ts";
import { waitUntil } from "../_wait.ts";

/** A connected pair: the server side wrapped in a LineConnection, the client side raw. */
async function pair(options: ConstructorParameters<typeof LineConnection>[1] = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = new LineConnection(await listener.accept(), options);
  listener.close();
  return { server, client };
}

const encoder = new TextEncoder();

Deno.test("ReadGate: a shut gate holds a connection's lines until it reopens", async () => {
  const gate = new ReadGate();
  const gated = await pair({ readGate: gate });
  const control = await pair();
  const seen: string[] = [];
  void gated.server.start({ onLine: (line) => seen.push(line) });
  void control.server.start({ onLine: (line) => seen.push(`control ${line}`) });
  try {
    await gated.client.write(encoder.encode("a\n"));
    await waitUntil(() => seen.includes("a"), "the first line");
    gate.shut();
    // The read already waiting when the gate shut brings b, but holds it; c is not read.
    await gated.client.write(encoder.encode("b\n"));
    await gated.client.write(encoder.encode("c\n"));
    // The same event loop has read a later line of another connection: b and c were there.
    await control.client.write(encoder.encode("x\n"));
    await waitUntil(() => seen.includes("control x"), "the control connection's line");
    assert.equal(seen.includes("b"), false, "delivered while the gate was shut");
    assert.equal(seen.includes("c"), false, "delivered while the gate was shut");
    seen.push("reopen");
    gate.reopen();
    await waitUntil(() => seen.includes("c"), "the held lines after the gate reopened");
    assert.deepEqual(seen, ["a", "control x", "reopen", "b", "c"]);
  } finally {
    for (const p of [gated, control]) {
      p.server.close("done");
      p.client.close();
      await p.server.done;
    }
  }
});

Deno.test("ReadGate: a connection closed while its reads are paused ends cleanly", async () => {
  const gate = new ReadGate();
  const { server, client } = await pair({ readGate: gate });
  const seen: string[] = [];
  let reason = "";
  void server.start({ onLine: (line) => seen.push(line), onClose: (r) => reason = r });
  await client.write(encoder.encode("a\n"));
  await waitUntil(() => seen.includes("a"), "the first line");
  gate.shut();
  await client.write(encoder.encode("b\n"));
  // The waiting read takes b and holds it for the gate (the peer sees its bytes consumed).
  await waitUntil(() => server.bytesIn >= 4, "the waiting read's bytes");
  // Now the read loop waits for the gate; closing must not wait for it, and b is dropped.
  server.close("shutting down");
  await server.done;
  assert.equal(reason, "shutting down");
  assert.deepEqual(seen, ["a"]);
  assert.equal(gate.open, false);
  client.close();
});

Deno.test("ReadGate.shutMs() counts the time shut, the current pause included", () => {
  let now = 1000;
  const gate = new ReadGate({ clock: () => now });
  assert.equal(gate.shutMs(), 0);
  gate.shut();
  now = 1400;
  assert.equal(gate.shutMs(), 400);
  gate.shut(); // already shut: the pause goes on from 1000
  now = 1500;
  gate.reopen();
  gate.reopen(); // already open: nothing added
  now = 9000;
  assert.equal(gate.shutMs(), 500);
  gate.shut();
  now = 9250;
  assert.equal(gate.shutMs(), 750);
});

Deno.test("LineServer: no deadline runs while the read gate is shut (a paused pool closes nobody as silent)", async () => {
  // A connection with a 1 s deadline ("silent"); the store falls behind and reads pause for
  // far longer. Its lines are not read meanwhile, so it is neither closed during the pause nor
  // right after it: its deadline moved back by the pause. Sweeps are driven by hand.
  let clock = 0;
  const gate = new ReadGate({ clock: () => clock });
  const closes: string[] = [];
  const server = LineServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    sweepMs: 3_600_000,
    readGate: gate,
    onConnection: (conn: LineConnection) => {
      conn.setTimeout(1000, "silent");
      return { onLine() {}, onClose: (r) => closes.push(r) };
    },
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    await waitUntil(() => server.connections.size === 1, "the connection");
    const conn = [...server.connections.values()][0]!;
    const start = conn.deadline - 1000;
    gate.shut();
    clock += 60_000;
    server.sweep(start + 60_000); // long past the deadline, but nothing was read
    assert.equal(conn.closed, false, "closed while reads were paused");
    gate.reopen();
    server.sweep(start + 60_500); // the pause pushed the deadline to start + 61,000
    assert.equal(conn.closed, false, "closed right after the pause");
    assert.equal(conn.deadline, start + 61_000);
    server.sweep(start + 61_000); // silent for 1 s of open gate: closed
    assert.equal(conn.closed, true);
    await waitUntil(() => closes.length === 1, "the close");
    assert.deepEqual(closes, ["silent"]);
  } finally {
    client.close();
    await server.close();
  }
});
