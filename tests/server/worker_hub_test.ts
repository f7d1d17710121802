/**
 * The supervisor's hub and the workers' links over a real Unix socket, in one process: bans and
 * lifted bans reach every worker, a worker that links later gets the bans in force, per-IP
 * counts come back as the other workers' sum, and a bad link is closed without harm to the
 * hub or the other links. The worker side is also run against a scripted supervisor: a bad
 * line closes the link and it reconnects, what happened while it was down is sent again, and
 * bans lifted meanwhile are dropped.
 */
import assert from "node:assert/strict";
import { resetSync } from "@logtape/logtape";
import { setupLogging } from "../../cli/log.ts";
import { LineConnection } from "../../net/line_connection.ts";
import { encodeLinkMessage, type LinkBan } from "../../protocol/worker_link.ts";
import type { BanInfo } from "../../server/bans.ts";
import { SupervisorLink } from "../../server/supervisor_link.ts";
import { WorkerHub } from "../../server/worker_hub.ts";
import { waitUntil } from "../_wait.ts";

const PORT = "0.0.0.0:3333";
const FAR = 2 ** 50;

function ban(ip: string, until = FAR): BanInfo {
  return { ip, since: 1, until, reason: "flood", offences: 3, refused: 0 };
}

/** A worker's link with everything relayed to it recorded. */
class Worker {
  readonly bans = new Map<string, LinkBan>();
  readonly log: string[] = [];
  readonly link: SupervisorLink;

  constructor(hub: { path: string; token: string }, worker: number) {
    this.link = new SupervisorLink({
      path: hub.path,
      token: hub.token,
      worker,
      flushMs: 5,
      reconnectMinMs: 20,
      onBan: (b) => {
        this.bans.set(b.ip, b);
        this.log.push(`ban ${b.ip}`);
      },
      onUnban: (ip) => {
        this.bans.delete(ip);
        this.log.push(`unban ${ip}`);
      },
    });
  }

  async start(): Promise<this> {
    this.link.start();
    assert.equal(await this.link.ready(10_000), true);
    return this;
  }
}

/** A raw client of the hub's socket: what it sends, and whether the hub closed it. */
async function rawLink(
  path: string,
): Promise<{ send(text: string): Promise<void>; closed: Promise<void> }> {
  const conn = await Deno.connect({ transport: "unix", path });
  const closed = (async () => {
    const buf = new Uint8Array(4096);
    try {
      while ((await conn.read(buf)) !== null) { /* the hub sends nothing before hello */ }
    } catch {
      // Reset: closed too.
    }
    conn.close();
  })();
  return {
    send: async (text) => {
      const bytes = new TextEncoder().encode(text);
      for (let off = 0; off < bytes.length;) {
        try {
          off += await conn.write(bytes.subarray(off));
        } catch {
          return; // closed by the hub mid-write
        }
      }
    },
    closed,
  };
}

Deno.test("WorkerHub relays a ban to every worker and an unban lifts it everywhere", async () => {
  const hub = await WorkerHub.listen({ workers: 2, flushMs: 5 });
  const [a, b] = await Promise.all([new Worker(hub, 0).start(), new Worker(hub, 1).start()]);
  try {
    a.link.banned(ban("10.0.0.1"));
    await waitUntil(() => b.bans.has("10.0.0.1"), "worker 1 has the ban");
    assert.deepEqual(b.bans.get("10.0.0.1"), {
      ip: "10.0.0.1",
      since: 1,
      until: FAR,
      reason: "flood",
      offences: 3,
    });
    // The sender gets it back too (the hub's order is everyone's); it changes nothing there.
    await waitUntil(() => a.bans.has("10.0.0.1"), "worker 0 has it back");
    assert.deepEqual(hub.bans().map((x) => x.ip), ["10.0.0.1"]);

    // A shorter ban of the same IP elsewhere does not shorten it.
    b.link.banned(ban("10.0.0.1", FAR - 1000));
    b.link.unbanned("10.0.0.1");
    await waitUntil(() => !a.bans.has("10.0.0.1"), "worker 0 lifted it");
    assert.deepEqual(a.log, ["ban 10.0.0.1", "ban 10.0.0.1", "unban 10.0.0.1"]);
    assert.equal(a.log.filter((l) => l === "ban 10.0.0.1").length, 2);
    assert.deepEqual(hub.bans(), []);
  } finally {
    await a.link.close();
    await b.link.close();
    await hub.close();
  }
});

Deno.test("WorkerHub gives a worker that links later the bans in force", async () => {
  const hub = await WorkerHub.listen({ workers: 3, flushMs: 5 });
  const a = await new Worker(hub, 0).start();
  try {
    a.link.banned(ban("10.0.0.1"));
    a.link.banned(ban("10.0.0.2"));
    a.link.banned(ban("10.0.0.3", Date.now() + 1)); // over before the next worker comes
    a.link.unbanned("10.0.0.2");
    await waitUntil(() => hub.bans().length === 1, "the hub has one ban in force");
    const b = await new Worker(hub, 2).start(); // ready() waits for the bans in force
    assert.deepEqual([...b.bans.keys()], ["10.0.0.1"]);
    await b.link.close();
  } finally {
    await a.link.close();
    await hub.close();
  }
});

Deno.test("WorkerHub tells each worker the other workers' per-IP counts and rises; a closed link's go", async () => {
  const hub = await WorkerHub.listen({ workers: 3, flushMs: 5 });
  const workers = await Promise.all([0, 1, 2].map((i) => new Worker(hub, i).start()));
  const [a, b, c] = workers.map((w) => w.link) as [SupervisorLink, SupervisorLink, SupervisorLink];
  const raised: string[][] = [];
  c.watchElsewhere(PORT, (ips) => raised.push(ips));
  try {
    a.connectionsHere(PORT, "10.0.0.1", 3);
    b.connectionsHere(PORT, "10.0.0.1", 2);
    b.connectionsHere("0.0.0.0:3334", "10.0.0.1", 9);
    await waitUntil(() => c.connectionsElsewhere(PORT, "10.0.0.1") === 5, "c sees 3 + 2");
    await waitUntil(() => a.connectionsElsewhere(PORT, "10.0.0.1") === 2, "a sees b's 2");
    await waitUntil(() => b.connectionsElsewhere(PORT, "10.0.0.1") === 3, "b sees a's 3");
    assert.equal(a.connectionsElsewhere("0.0.0.0:3334", "10.0.0.1"), 9);
    assert.equal(a.connectionsElsewhere(PORT, "10.0.0.2"), 0);
    // c's port hears of each rise elsewhere (to close its share of a burst over the cap).
    assert.ok(raised.length >= 1 && raised.every((ips) => ips.join() === "10.0.0.1"), `${raised}`);
    const rises = raised.length;
    a.connectionsHere(PORT, "10.0.0.1", 0);
    await waitUntil(() => c.connectionsElsewhere(PORT, "10.0.0.1") === 2, "c sees 2");
    assert.equal(raised.length, rises, "a fall is not a rise");
    // A worker gone (its process died with its connections): its counts go.
    await b.close();
    await waitUntil(() => c.connectionsElsewhere(PORT, "10.0.0.1") === 0, "c sees none");
    assert.equal(c.connectionsElsewhere("0.0.0.0:3334", "10.0.0.1"), 0);
  } finally {
    for (const link of [a, b, c]) await link.close();
    await hub.close();
  }
});

Deno.test("WorkerHub closes a link on a garbage line, a huge line, a wrong token or no hello, and goes on", async () => {
  const lines: string[] = [];
  setupLogging({ level: "debug", write: (line) => lines.push(line) });
  const hub = await WorkerHub.listen({ workers: 2, flushMs: 5, helloTimeoutMs: 200 });
  const a = await new Worker(hub, 0).start();
  try {
    const garbage = await rawLink(hub.path);
    await garbage.send("garbage\n");
    await garbage.closed;
    const huge = await rawLink(hub.path);
    await huge.send("x".repeat(2 << 20)); // no newline: past the 1 MiB line limit
    await huge.closed;
    const wrong = await rawLink(hub.path);
    await wrong.send(
      encodeLinkMessage({ type: "hello", version: 1, worker: 1, token: "0".repeat(32) }) + "\n",
    );
    await wrong.closed;
    const foreign = await rawLink(hub.path);
    await foreign.send(
      encodeLinkMessage({ type: "hello", version: 1, worker: 5, token: hub.token }) + "\n",
    );
    await foreign.closed;
    const early = await rawLink(hub.path);
    await early.send('{"t":"sync"}\n');
    await early.closed;
    const silent = await rawLink(hub.path);
    await silent.closed; // no hello within 200 ms
    // A worker whose good hello is followed by a bad line loses its link, not the others.
    const badWorker = await rawLink(hub.path);
    await badWorker.send(
      encodeLinkMessage({ type: "hello", version: 1, worker: 1, token: hub.token }) +
        '\n{"t":"counts","c":[["a:1","10.0.0.1",-1]]}\n',
    );
    await badWorker.closed;

    const b = await new Worker(hub, 1).start();
    a.link.banned(ban("10.0.0.9"));
    await waitUntil(() => b.bans.has("10.0.0.9"), "the hub still relays");
    await b.link.close();
    const text = lines.join("");
    assert.match(text, /worker link closed: bad message: not JSON/);
    assert.match(text, /worker link closed: line too long/);
    assert.match(text, /worker link closed: bad message: wrong token/);
    assert.match(text, /worker link closed: bad message: no worker 5/);
    assert.match(text, /worker link closed: bad message: hello first/);
    assert.match(text, /worker link closed: no hello in time/);
    assert.match(text, /worker link closed: bad message: n must be an integer/);
  } finally {
    await a.link.close();
    await hub.close();
    resetSync();
  }
});

/** A scripted supervisor: the lines each link sent, and a way to answer. */
function fakeSupervisor(path: string) {
  const listener = Deno.listen({ transport: "unix", path });
  const links: { lines: string[]; conn: LineConnection }[] = [];
  const accepting = (async () => {
    for await (const socket of listener) {
      const conn = new LineConnection(socket);
      const link = { lines: [] as string[], conn };
      links.push(link);
      void conn.start({ onLine: (line) => link.lines.push(line) });
    }
  })().catch(() => {});
  return {
    links,
    async close() {
      listener.close();
      for (const l of links) l.conn.close("done");
      await accepting;
    },
  };
}

Deno.test("SupervisorLink works alone while its supervisor is away, then catches up", async () => {
  const lines: string[] = [];
  setupLogging({ level: "debug", write: (line) => lines.push(line) });
  const dir = await Deno.makeTempDir();
  const path = `${dir}/link.sock`;
  const w = new Worker({ path, token: "a".repeat(32) }, 1);
  let fake: ReturnType<typeof fakeSupervisor> | undefined;
  try {
    w.link.start();
    assert.equal(await w.link.ready(100), false);
    // Down: its own bans, unbans and counts are kept for later; the others count 0.
    w.link.banned(ban("10.0.0.1"));
    w.link.banned(ban("10.0.0.2"));
    w.link.unbanned("10.0.0.2");
    w.link.unbanned("10.0.0.3");
    w.link.connectionsHere(PORT, "10.0.0.4", 2);
    assert.equal(w.link.connectionsElsewhere(PORT, "10.0.0.4"), 0);
    await waitUntil(() => /link to the supervisor lost/.test(lines.join("")), "the loss logged");

    fake = fakeSupervisor(path);
    const first = await waitUntil(() => fake!.links[0], "the link");
    await waitUntil(() => first.lines.at(-1) === '{"t":"sync"}', "hello, the backlog, sync");
    assert.deepEqual(first.lines, [
      `{"t":"hello","v":1,"worker":1,"token":"${"a".repeat(32)}"}`,
      encodeLinkMessage({ type: "ban", ban: ban("10.0.0.1") }),
      '{"t":"unban","ip":"10.0.0.2"}',
      '{"t":"unban","ip":"10.0.0.3"}',
      `{"t":"counts","c":[["${PORT}","10.0.0.4",2]]}`,
      '{"t":"sync"}',
    ]);
    // The supervisor knows 10.0.0.1 and 10.0.0.5, and that another worker holds 10.0.0.4 twice.
    const b5 = { ip: "10.0.0.5", since: 1, until: FAR, reason: "manual", offences: 0 };
    const b1 = { ...b5, ip: "10.0.0.1" };
    first.conn.send(encodeLinkMessage({ type: "bans", bans: [b1, b5], done: true }));
    first.conn.send(encodeLinkMessage({ type: "counts", counts: [[PORT, "10.0.0.4", 2]] }));
    assert.equal(await w.link.ready(5000), true);
    await waitUntil(() => w.link.connectionsElsewhere(PORT, "10.0.0.4") === 2, "others' count");
    assert.ok(w.bans.has("10.0.0.5"));
    assert.match(lines.join(""), /link to the supervisor is back/);

    // A bad line from the supervisor: the link closes, the others' counts are forgotten, and it
    // links again; 10.0.0.5 was lifted meanwhile, so the next answer drops it here.
    first.conn.send('{"t":"bans","bans":"no","done":true}');
    const second = await waitUntil(() => fake!.links[1], "a new link");
    assert.equal(w.link.connectionsElsewhere(PORT, "10.0.0.4"), 0);
    await waitUntil(() => second.lines.at(-1) === '{"t":"sync"}', "sync again");
    second.conn.send(encodeLinkMessage({ type: "bans", bans: [b1], done: true }));
    await waitUntil(() => !w.bans.has("10.0.0.5"), "10.0.0.5 dropped");
    assert.ok(w.bans.has("10.0.0.1"));
    assert.equal(
      lines.join("").match(/link to the supervisor lost/g)?.length,
      2,
      "once per outage",
    );
  } finally {
    await w.link.close();
    await fake?.close();
    await Deno.remove(dir, { recursive: true });
    resetSync();
  }
});
