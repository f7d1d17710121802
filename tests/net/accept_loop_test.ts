/**
 * Accept errors for real: a child process under `ulimit -n 64` runs a line server and an HTTP
 * server without a descriptor budget; a flood of connections exhausts its descriptors, so both
 * accept loops fail with EMFILE. The child stays up, keeps answering a connection made before
 * the flood, logs one line when the errors start and one counted summary when they stop (per
 * listener, not one per failure), and accepts and answers new connections afterwards.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { waitUntil } from "../_wait.ts";
import { connectLines, type LineConnection } from "../../net/mod.ts";

const CHILD = fileURLToPath(new URL("./_accept_child.ts", import.meta.url));

/** A line client that records the lines it gets. */
async function lineClient(port: number): Promise<{ conn: LineConnection; lines: string[] }> {
  const conn = await connectLines({ hostname: "127.0.0.1", port });
  const lines: string[] = [];
  conn.start({ onLine: (line) => lines.push(line) });
  return { conn, lines };
}

Deno.test("accept loops survive EMFILE: one log line per episode, old connections served, new ones accepted after", async () => {
  const child = new Deno.Command("sh", {
    args: ["-c", 'ulimit -n 64 && exec "$0" run -A "$1"', Deno.execPath(), CHILD],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  const reading = Promise.all([
    (async () => {
      for await (const t of child.stdout.pipeThrough(new TextDecoderStream())) out += t;
    })(),
    (async () => {
      for await (const t of child.stderr.pipeThrough(new TextDecoderStream())) err += t;
    })(),
  ]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  const flood: Deno.Conn[] = [];
  let miner: Awaited<ReturnType<typeof lineClient>> | undefined;
  try {
    await waitUntil(() => out.includes("\n") || exited !== undefined, "the child's ports", 120_000);
    const ports = JSON.parse(out.split("\n")[0]!) as { line: number; http: number };
    const log = () => `${err}\nexit: ${JSON.stringify(exited)}`;

    // A well-behaved client connected before the flood.
    miner = await lineClient(ports.line);
    miner.conn.send("before");
    await waitUntil(() => miner!.lines.includes("echo before"), "the first echo");

    // The flood: far more connections than the child has descriptors.
    for (let i = 0; i < 60; i++) {
      for (const port of [ports.line, ports.http]) {
        flood.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
    }
    const start = (name: string, port: number) =>
      new RegExp(`Cannot accept connections on "?${name} 127\\.0\\.0\\.1:${port}"?: "?EMFILE`, "g");
    await waitUntil(() => start("echo", ports.line).test(err), log, 60_000);
    await waitUntil(() => start("http", ports.http).test(err), log, 60_000);

    // Out of descriptors, the child still serves the connection it has.
    miner.conn.send("during");
    await waitUntil(() => miner!.lines.includes("echo during"), "the echo during the flood");
    assert.equal(exited, undefined, log());
    // Keep the descriptors exhausted for several failed accepts (the back-off doubles from
    // 10 ms), all in one episode: ask the child for its count until there are 10.
    let asked = 0;
    const emfileErrors = async () => {
      miner!.conn.send("errors");
      asked++;
      const replies = () => miner!.lines.filter((l) => l.startsWith("errors "));
      await waitUntil(() => replies().length === asked, "the child's accept errors", 60_000);
      return (JSON.parse(replies().at(-1)!.slice(7)) as Record<string, number>).EMFILE ?? 0;
    };
    await waitUntil(async () => (await emfileErrors()) >= 10, "10 failed accepts", {
      timeoutMs: 60_000,
      intervalMs: 100,
    });

    // The flood ends: both listeners log a counted end of the episode and accept again.
    for (const conn of flood.splice(0)) conn.close();
    const end = (name: string, port: number) =>
      new RegExp(
        `Accepting connections on "?${name} 127\\.0\\.0\\.1:${port}"? again: (\\d+) accept errors`,
      );
    await waitUntil(() => end("echo", ports.line).test(err), log, 60_000);
    await waitUntil(() => end("http", ports.http).test(err), log, 60_000);
    let total = 0;
    for (const [name, port] of [["echo", ports.line], ["http", ports.http]] as const) {
      assert.equal(err.match(start(name, port))?.length, 1, log());
      const errors = Number(end(name, port).exec(err)![1]);
      assert.ok(errors >= 2, `${name}: ${errors} errors in one episode, logged once`);
      total += errors;
    }
    assert.ok(total >= 10, `${total} accept errors in all`);
    assert.doesNotMatch(err, /Uncaught|panicked/);

    const fresh = await lineClient(ports.line);
    fresh.conn.send("after");
    await waitUntil(() => fresh.lines.includes("echo after"), "an echo on a new connection");
    fresh.conn.close("done");
    const response = await fetch(`http://127.0.0.1:${ports.http}/`);
    assert.equal(await response.text(), "ok");
    miner.conn.send("still");
    await waitUntil(() => miner!.lines.includes("echo still"), "the old connection still served");

    child.kill("SIGTERM");
    assert.equal((await status).code, 0, log());
  } finally {
    for (const conn of flood) conn.close();
    miner?.conn.close("done");
    if (exited === undefined) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await status;
    await reading;
  }
});
