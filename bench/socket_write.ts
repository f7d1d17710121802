/**
 * What one notify write costs the pool's thread: `Deno.Conn.write` (what `net/line_connection.ts`
 * uses) against `node:net`'s `socket.write`, each writing one 340-byte line to every one of
 * `--sockets` loopback connections whose reader is another process, `--rounds` times. Reported:
 * CPU of the writing process per round (user + system, /proc/self/stat, 10 ms ticks) and the
 * wall time of a round. On loopback the sender's system call also runs the receiver's TCP input,
 * so part of this is the reader's cost.
 *
 * ```sh
 * sh -c 'ulimit -n "$(ulimit -Hn)"; deno run -A bench/socket_write.ts --sockets 5000'
 * ```
 *
 * @module
 */
import * as net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sockets: { type: "string", default: "5000" },
    rounds: { type: "string", default: "20" },
    reader: { type: "string" },
  },
});
const N = Number(values.sockets);
const ROUNDS = Number(values.rounds);

if (values.reader !== undefined) {
  // The reading side: connect N sockets to the port and read until they close.
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < N; i++) {
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port: Number(values.reader) }));
  }
  await Promise.all(conns.map(async (c) => {
    const b = new Uint8Array(65536);
    try {
      while ((await c.read(b)) !== null) { /* discard */ }
    } catch {
      // Closed by the writer.
    }
  }));
  Deno.exit(0);
}

const LINE = new TextEncoder().encode(
  JSON.stringify({ id: null, method: "mining.notify", params: ["1a", "ab".repeat(150), true] }) +
    "\n",
);

function cpuMs(): number {
  const st = Deno.readTextFileSync("/proc/self/stat");
  const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

function reader(port: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--sockets",
      String(N),
      "--reader",
      String(port),
    ],
  }).spawn();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rounds(write: () => Promise<void>): Promise<{ cpu: number; wall: number }> {
  const walls: number[] = [];
  const c0 = cpuMs();
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    await write();
    walls.push(performance.now() - t);
    await sleep(100);
  }
  walls.sort((a, b) => a - b);
  return { cpu: (cpuMs() - c0) / ROUNDS, wall: walls[ROUNDS >> 1]! };
}

async function denoConn(): Promise<{ cpu: number; wall: number }> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const child = reader(l.addr.port);
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < N; i++) {
    const c = await l.accept();
    c.setNoDelay(true);
    conns.push(c);
  }
  await sleep(500);
  const result = await rounds(async () => {
    await Promise.all(conns.map((c) => c.write(LINE)));
  });
  for (const c of conns) c.close();
  l.close();
  await child.status;
  return result;
}

async function nodeNet(): Promise<{ cpu: number; wall: number }> {
  const socks: net.Socket[] = [];
  let all!: () => void;
  const connected = new Promise<void>((r) => all = r);
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    socks.push(s);
    if (socks.length === N) all();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const child = reader((server.address() as net.AddressInfo).port);
  await connected;
  await sleep(500);
  const result = await rounds(async () => {
    await Promise.all(socks.map((s) => new Promise((r) => s.write(LINE, r))));
  });
  for (const s of socks) s.destroy();
  server.close();
  await child.status;
  return result;
}

for (let i = 0; i < 2; i++) {
  for (const [name, run] of [["Deno.Conn.write", denoConn], ["node:net write", nodeNet]] as const) {
    const r = await run();
    console.log(
      `${name}: ${N} sockets, CPU ${r.cpu.toFixed(1)} ms per round (${
        (r.cpu * 1000 / N).toFixed(1)
      } µs per socket), wall p50 ${r.wall.toFixed(1)} ms`,
    );
  }
}
