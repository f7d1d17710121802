import assert from "node:assert/strict";
import { LineConnection, ReadGate } from "../../net/mod.ts";
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
    // The read already waiting when the gate shut still delivers what it brings.
    await gated.client.write(encoder.encode("b\n"));
    await waitUntil(() => seen.includes("b"), "the line of the waiting read");
    await gated.client.write(encoder.encode("c\n"));
    // The same event loop has read a later line of another connection: c was there to read.
    await control.client.write(encoder.encode("x\n"));
    await waitUntil(() => seen.includes("control x"), "the control connection's line");
    assert.equal(seen.includes("c"), false, "read while the gate was shut");
    seen.push("reopen");
    gate.reopen();
    await waitUntil(() => seen.includes("c"), "the held line after the gate reopened");
    assert.deepEqual(seen, ["a", "b", "control x", "reopen", "c"]);
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
  await waitUntil(() => seen.includes("b"), "the line of the waiting read");
  // Now the read loop waits for the gate; closing must not wait for it.
  server.close("shutting down");
  await server.done;
  assert.equal(reason, "shutting down");
  assert.equal(gate.open, false);
  client.close();
});
