/**
 * Why the pool's sockets stay on `Deno.listen` although `node:net` writes are cheaper
 * (`bench/socket_write.ts`): does a `node:net` server go on accepting after it ran out of
 * descriptors? The server runs with a small descriptor limit (`prlimit`), a client opens more
 * connections than it may hold, the server then frees some (on a timer) and the client opens
 * one more.
 * A listener facing the Internet must accept again once descriptors are free (the pool's own
 * accept loop does: `net/accept_loop.ts`, tested in `tests/net/`).
 *
 * ```sh
 * for kind in node deno; do
 *   prlimit --nofile=100:100 deno run -A bench/node_net_emfile.ts --server $kind > /tmp/s.out &
 *   deno run -A bench/node_net_emfile.ts --client /tmp/s.out; wait
 * done
 * ```
 *
 * (The client waits 1.5 s before its flood: a Deno 2.9.5 process that runs out of descriptors in
 * its first second or so panics in `ext/signals`, whichever listener it uses. The pool's
 * descriptor budget keeps descriptors free from its first accept on.)
 *
 * @module
 */
import * as net from "node:net";

const LIMIT = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLIENTS = 200;
const FREE = 50;

if (Deno.args[0] === "--server") {
  // The server side, under `prlimit --nofile=LIMIT`: reports accepted counts on stdout.
  const kind = Deno.args[1];
  let accepted = 0;
  const held: { close(): void }[] = [];
  const report = (what: string) => console.log(JSON.stringify({ what, accepted }));
  let port: number;
  if (kind === "node") {
    const server = net.createServer((s) => {
      accepted++;
      s.on("error", () => {});
      held.push({ close: () => s.destroy() });
    });
    await new Promise<void>((r) => server.listen({ port: 0, host: "127.0.0.1" }, r));
    port = (server.address() as net.AddressInfo).port;
  } else {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    port = listener.addr.port;
    (async () => {
      for (;;) {
        try {
          const c = await listener.accept();
          accepted++;
          held.push(c);
        } catch {
          // EMFILE: back off and try again, as net/accept_loop.ts does.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
  }
  console.log(JSON.stringify({ port }));
  // On timers (reading stdin here made Deno 2.9.5 panic once out of descriptors): report when
  // full, free FREE sockets, report, then report again after the client's one more connection.
  await sleep(2000);
  report("full");
  for (const c of held.splice(0, FREE)) c.close();
  await sleep(1500);
  report("freed");
  await sleep(2000);
  report("one more");
  await sleep(500);
  Deno.exit(0);
}

if (Deno.args[0] !== "--client") {
  console.error("usage: see the module's documentation (--server node|deno, --client FILE)");
  Deno.exit(2);
}
// The client: reads the server's lines from the file its stdout goes to.
const file = Deno.args[1]!;
let seen = 0;
async function next(): Promise<Record<string, number>> {
  for (let i = 0; i < 200; i++) {
    const lines = (await Deno.readTextFile(file)).split("\n").filter((l) => l !== "");
    if (lines.length > seen) return JSON.parse(lines[seen++]!);
    await sleep(50);
  }
  throw new Error(`Cannot read the server's line ${seen + 1} in ${file}: did it end?`);
}
const { port } = await next();
// Out of descriptors in its first second or so, Deno 2.9.5 panicked (ext/signals): wait.
await sleep(1500);
const clients: Deno.Conn[] = [];
for (let i = 0; i < CLIENTS; i++) {
  clients.push(await Deno.connect({ hostname: "127.0.0.1", port: port! }));
}
const full = (await next()).accepted!;
const afterFree = (await next()).accepted!;
clients.push(await Deno.connect({ hostname: "127.0.0.1", port: port! }));
const afterNew = (await next()).accepted!;
for (const c of clients) c.close();
console.log(
  `Deno ${Deno.version.deno}; server limit ${LIMIT} descriptors: accepted ${full} of ${CLIENTS} ` +
    `when full, ${afterFree} after freeing ${FREE}, ${afterNew} after one more client ` +
    `(${afterNew > full ? "accepts again" : "NEVER ACCEPTS AGAIN"})`,
);
