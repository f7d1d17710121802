import assert from "node:assert/strict";
import { LineConnection } from "../../net/mod.ts";

/** A connected pair: the server side wrapped in a LineConnection, the client side raw. */
async function pair(options: ConstructorParameters<typeof LineConnection>[1] = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = new LineConnection(await listener.accept(), options);
  listener.close();
  return { server, client };
}

/** Read from `conn` until `bytes` bytes came in (or the peer closed). */
async function readBytes(conn: Deno.Conn, bytes: number): Promise<string> {
  const out = new Uint8Array(bytes);
  let n = 0;
  while (n < bytes) {
    const got = await conn.read(out.subarray(n));
    if (got === null) break;
    n += got;
  }
  return new TextDecoder().decode(out.subarray(0, n));
}

Deno.test("LineConnection.sendBytes() writes shared buffers as they are", async () => {
  const { server, client } = await pair();
  const line = new TextEncoder().encode('{"id":null,"method":"mining.notify"}\n');
  assert.equal(server.sendBytes(line), true);
  assert.equal(server.send("second"), true);
  assert.equal(server.sendBytes(line), true);
  const expected =
    '{"id":null,"method":"mining.notify"}\nsecond\n{"id":null,"method":"mining.notify"}\n';
  assert.equal(await readBytes(client, expected.length), expected);
  assert.equal(line[0], "{".charCodeAt(0)); // untouched
  server.close("done");
  client.close();
  await server.done;
});

Deno.test("LineConnection.sendBytes() refuses after close and closes a slow reader", async () => {
  const { server, client } = await pair({ maxSendQueueBytes: 100 });
  assert.equal(server.sendBytes(new Uint8Array(150)), false);
  assert.equal(server.closed, true);
  assert.equal(server.closeReason, "send queue full (slow reader)");
  assert.equal(server.sendBytes(new TextEncoder().encode("x\n")), false);
  client.close();
});

Deno.test("LineConnection with coalesceWrites sends every queued line, in order", async () => {
  const { server, client } = await pair({ coalesceWrites: true });
  let expected = "";
  for (let i = 0; i < 200; i++) {
    const line = `{"id":${i},"result":true,"error":null}`;
    expected += line + "\n";
    assert.equal(server.send(line), true);
  }
  assert.equal(await readBytes(client, expected.length), expected);
  assert.equal(server.bytesOut, expected.length);
  assert.equal(server.queuedBytes, 0);
  server.close("done");
  client.close();
});

Deno.test("LineConnection with coalesceWrites writes what one task sends in one write", async () => {
  // A real socket whose write calls are counted: a set_difficulty and its job, or the replies of
  // one commit, must cost one write (each is ~20 µs of the pool's thread), not one plus the rest.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const raw = await listener.accept();
  listener.close();
  let writes = 0;
  const counted = new Proxy(raw, {
    get(target, prop) {
      if (prop === "write") {
        return (bytes: Uint8Array) => {
          writes++;
          return target.write(bytes);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const server = new LineConnection(counted, { coalesceWrites: true });
  const expected = "one\ntwo\nthree\n";
  for (const line of ["one", "two", "three"]) assert.equal(server.send(line), true);
  assert.equal(writes, 0, "nothing written before the task ends");
  assert.equal(await readBytes(client, expected.length), expected);
  assert.equal(writes, 1);
  // The next task's lines: one more write.
  server.send("four");
  server.send("five");
  assert.equal(await readBytes(client, 10), "four\nfive\n");
  assert.equal(writes, 2);
  server.close("done");
  client.close();
  await server.done;
});

Deno.test("LineConnection.closeAfterFlush() with coalesceWrites writes everything first", async () => {
  const { server, client } = await pair({ coalesceWrites: true });
  server.start({ onLine() {} });
  let expected = "";
  for (let i = 0; i < 50; i++) {
    expected += `line ${i}\n`;
    server.send(`line ${i}`);
  }
  server.closeAfterFlush("bye");
  const text = await readBytes(client, expected.length + 1);
  assert.equal(text, expected);
  await server.done;
  assert.equal(server.closeReason, "bye");
  client.close();
});

Deno.test("LineConnection reads lines longer than its first read buffer", async () => {
  const { server, client } = await pair({ readBufferBytes: 4096, maxLineBytes: 16384 });
  const lines: string[] = [];
  let got!: () => void;
  const all = new Promise<void>((r) => got = r);
  server.start({
    onLine(line) {
      lines.push(line);
      if (lines.length === 3) got();
    },
  });
  const long = "x".repeat(10_000);
  await client.write(new TextEncoder().encode(`short\n${long}\n${"y".repeat(3000)}\n`));
  await all;
  assert.deepEqual(lines.map((l) => l.length), [5, 10_000, 3000]);
  assert.equal(lines[1], long);
  server.close("done");
  client.close();
  await server.done;
});

/** Write `bytes` to `conn` until done or the peer closes; returns how much was taken. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<number> {
  let off = 0;
  try {
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  } catch {
    // Closed by the peer.
  }
  return off;
}

/** Read from `conn` until the peer closes (or resets). */
async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: string[] = [];
  const buf = new Uint8Array(65536);
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(decoder.decode(buf.subarray(0, n), { stream: true }));
    }
  } catch {
    // Reset: the peer closed with our data unread.
  }
  return chunks.join("");
}

Deno.test("LineConnection.closeAfterFlush() delivers no further line and stops reading", async () => {
  const { server, client } = await pair();
  const lines: string[] = [];
  server.start({
    onLine(line) {
      lines.push(line);
      server.send(`answer ${lines.length}`);
      if (lines.length === 3) server.closeAfterFlush("limit");
    },
  });
  const writing = writeAll(client, new TextEncoder().encode("x\n".repeat(2 * 1024 * 1024)));
  const text = await readAll(client);
  await server.done;
  await writing;
  assert.deepEqual(lines, ["x", "x", "x"]);
  assert.equal(text, "answer 1\nanswer 2\nanswer 3\n");
  assert.equal(server.closeReason, "limit");
  assert.equal(server.reading, false);
  assert.ok(server.bytesIn <= 4096, `read ${server.bytesIn} bytes of 4 MiB`);
  client.close();
});

Deno.test("LineConnection.stopReading() ends delivery while writes go on", async () => {
  const { server, client } = await pair();
  const lines: string[] = [];
  let stopped!: () => void;
  const stop = new Promise<void>((r) => stopped = r);
  server.start({
    onLine(line) {
      lines.push(line);
      server.stopReading();
      stopped();
    },
  });
  const writing = writeAll(client, new TextEncoder().encode("y\n".repeat(1024 * 1024)));
  await stop;
  // Still writable: the owner sends, then closes when it is done.
  for (let i = 0; i < 3; i++) assert.equal(server.send(`later ${i}`), true);
  server.closeAfterFlush("done");
  assert.equal(await readAll(client), "later 0\nlater 1\nlater 2\n");
  await server.done;
  await writing;
  assert.deepEqual(lines, ["y"]);
  assert.equal(server.closeReason, "done");
  assert.ok(server.bytesIn <= 4096, `read ${server.bytesIn} bytes of 2 MiB`);
  client.close();
});
