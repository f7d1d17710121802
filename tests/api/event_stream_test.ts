import assert from "node:assert/strict";
import { EventStream } from "../../api/event_stream.ts";

async function read(response: Response, until: RegExp): Promise<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!until.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  return text;
}

Deno.test("EventStream sends named JSON events to every client", async () => {
  const hub = new EventStream({ retryMs: 1234 });
  const a = hub.open()!;
  const b = hub.open(undefined, { "access-control-allow-origin": "*" })!;
  assert.equal(hub.clients, 2);
  assert.equal(b.headers.get("access-control-allow-origin"), "*");
  assert.equal(a.headers.get("cache-control"), "no-store");
  hub.send("pool", { n: 1 });
  hub.send("block", { hash: "ab" });
  const text = await read(a, /event: block/);
  assert.equal(
    text,
    'retry: 1234\n\nevent: pool\ndata: {"n":1}\n\nevent: block\ndata: {"hash":"ab"}\n\n',
  );
  assert.match(await read(b, /event: block/), /event: pool/);
  assert.equal(hub.clients, 0);
  hub.close();
});

Deno.test("EventStream refuses clients beyond maxClients and after close", () => {
  const hub = new EventStream({ maxClients: 1 });
  const first = hub.open();
  assert.ok(first !== undefined);
  assert.equal(hub.open(), undefined);
  hub.close();
  assert.equal(hub.clients, 0);
  assert.equal(hub.open(), undefined);
  void first.body?.cancel();
});

Deno.test("EventStream drops a client whose signal aborts, and a client that does not read", async () => {
  const hub = new EventStream({ maxQueuedBytes: 1000 });
  const controller = new AbortController();
  const gone = hub.open(controller.signal)!;
  const slow = hub.open()!;
  controller.abort();
  assert.equal(hub.clients, 1);
  assert.equal(await gone.text(), "retry: 5000\n\n");
  for (let i = 0; i < 1000; i++) hub.send("pool", { padding: "x".repeat(100) });
  assert.equal(hub.clients, 0);
  const text = await slow.text();
  assert.ok(text.length < 70_000 + 2000, `${text.length} bytes were kept`);
  hub.close();
});
