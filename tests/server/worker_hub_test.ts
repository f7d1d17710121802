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
import {
  encodeLinkMessage,
  type LinkBan,
  type LinkOffence,
  WORKER_LINK_VERSION,
} from "../../protocol/worker_link.ts";
import type { BanInfo } from "../../server/bans.ts";
import { MAX_PENDING_OFFENCES, SupervisorLink } from "../../server/supervisor_link.ts";
import { WorkerHub } from "../../server/worker_hub.ts";
import { waitUntil } from "../_wait.ts";

const PORT = "0.0.0.0:3333";
const FAR = 2 ** 50;

function ban(ip: string, until = FAR): BanInfo {
  return { ip, since: 1, until, reason: "flood", offences: 3, refused: 0 };
}

function offence(ip: string, at: number): LinkOffence {
  return { ip, kind: "flood", at };
}

/** A worker's link with everything relayed to it recorded. */
class Worker {
  readonly bans = new Map<string, LinkBan>();
  readonly offences: LinkOffence[] = [];
  readonly log: string[] = [];
  readonly link: SupervisorLink;

  constructor(
    hub: { path: string; token: string },
    worker: number,
    options: { offenceBacklogBytes?: number } = {},
  ) {
    this.link = new SupervisorLink({
      path: hub.path,
      token: hub.token,
      worker,
      flushMs: 5,
      reconnectMinMs: 20,
      ...options,
      onOffence: (o) => this.offences.push(o),
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

Deno.test("WorkerHub relays an offence to every other worker, never back to its sender", async () => {
  const hub = await WorkerHub.listen({ workers: 3, flushMs: 5 });
  const [a, b, c] = await Promise.all([0, 1, 2].map((i) => new Worker(hub, i).start()));
  try {
    const o1 = offence("10.0.0.1", 1000);
    a!.link.offended(o1);
    await waitUntil(() => b!.offences.length === 1 && c!.offences.length === 1, "b and c have it");
    assert.deepEqual(b!.offences, [o1]);
    assert.deepEqual(c!.offences, [o1]);
    // b's offence went through the hub after a's: had a's come back to a, it would be first.
    const o2 = { ip: "2001:db8::2", kind: "auth_failures", at: 2000 } as const;
    b!.link.offended(o2);
    await waitUntil(() => a!.offences.length === 1, "a has b's");
    assert.deepEqual(a!.offences, [o2]);
    // Likewise b did not get its own back.
    const o3 = offence("10.0.0.3", 3000);
    c!.link.offended(o3);
    await waitUntil(() => b!.offences.length === 2, "b has c's");
    assert.deepEqual(b!.offences, [o1, o3]);
    await waitUntil(() => a!.offences.length === 2, "a has c's");
    assert.deepEqual(c!.offences, [o1, o2]);
    // Offences are passed on, not kept: nothing of them in the bans in force.
    assert.deepEqual(hub.bans(), []);
  } finally {
    for (const w of [a, b, c]) await w!.link.close();
    await hub.close();
  }
});

/** A link to the hub said hello as `worker` and reads nothing until `read()`. */
async function stalledWorker(hub: WorkerHub, worker: number) {
  const conn = new LineConnection(await Deno.connect({ transport: "unix", path: hub.path }));
  conn.send(
    encodeLinkMessage({ type: "hello", version: WORKER_LINK_VERSION, worker, token: hub.token }),
  );
  const lines: string[] = [];
  return {
    conn,
    lines,
    read: () => void conn.start({ onLine: (line) => lines.push(line) }),
  };
}

Deno.test("WorkerHub drops offences for a worker that reads nothing rather than queue them; bans still go", async () => {
  const lines: string[] = [];
  setupLogging({ level: "debug", write: (line) => lines.push(line) });
  const hub = await WorkerHub.listen({ workers: 2, flushMs: 5, offenceBacklogBytes: 4096 });
  // a may queue all it sends: only the hub's side is under test here.
  const a = await new Worker(hub, 0, { offenceBacklogBytes: 1 << 30 }).start();
  const b = await stalledWorker(hub, 1);
  try {
    await waitUntil(() => hub.linked === 2, "b linked");
    // An attacker's worth of offences (~1.5 MB of lines), then a ban.
    const n = 20_000;
    for (let i = 0; i < n; i++) a.link.offended(offence("10.0.0.1", i));
    a.link.banned(ban("10.0.0.9"));
    // a gets its ban back after the hub handled every offence before it.
    await waitUntil(() => a.bans.has("10.0.0.9"), "the hub handled them all");
    b.read();
    const banLine = encodeLinkMessage({ type: "ban", ban: ban("10.0.0.9") });
    await waitUntil(() => b.lines.includes(banLine), "b gets the ban");
    const relayed = b.lines.filter((l) => l.startsWith('{"t":"offence"')).length;
    // What the socket's buffers and 4 KiB of queue held went; the rest was dropped.
    assert.ok(relayed > 0 && relayed < n / 2, `${relayed} of ${n} relayed`);
    assert.equal(b.conn.closed, false, "the link stays up");
    assert.doesNotMatch(lines.join(""), /send queue full/);
    // Once b reads again, offences reach it again.
    a.link.offended(offence("10.0.0.2", 1));
    await waitUntil(() => b.lines.at(-1)?.includes('"10.0.0.2"'), "a later offence arrives");
  } finally {
    b.conn.close("done");
    await a.link.close();
    await hub.close();
    resetSync();
  }
});

Deno.test("SupervisorLink drops offences behind a backlog the supervisor is not reading; bans still go", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/link.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const w = new Worker({ path, token: "a".repeat(32) }, 0, { offenceBacklogBytes: 4096 });
  let supervisor: LineConnection | undefined;
  try {
    w.link.start();
    supervisor = new LineConnection(await listener.accept());
    // Answer the sync without reading anything.
    supervisor.send(encodeLinkMessage({ type: "bans", bans: [], done: true }));
    assert.equal(await w.link.ready(10_000), true);
    const n = 20_000;
    for (let i = 0; i < n; i++) w.link.offended(offence("10.0.0.1", i));
    w.link.banned(ban("10.0.0.9"));
    const got: string[] = [];
    void supervisor.start({ onLine: (line) => got.push(line) });
    const banLine = encodeLinkMessage({ type: "ban", ban: ban("10.0.0.9") });
    await waitUntil(() => got.includes(banLine), "the ban arrives");
    const sent = got.filter((l) => l.startsWith('{"t":"offence"')).length;
    assert.ok(sent > 0 && sent < n / 2, `${sent} of ${n} sent`);
    assert.equal(got.at(-1), banLine, "the ban after them");
  } finally {
    await w.link.close();
    supervisor?.close("done");
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WorkerHub lets the workers of a hand-over ask their miners only once every linked one stopped accepting", async () => {
  const hub = await WorkerHub.listen({ workers: 3, flushMs: 5 });
  const workers = await Promise.all([0, 1, 2].map((i) => new Worker(hub, i).start()));
  const [a, b, c] = workers as [Worker, Worker, Worker];
  try {
    const goes: string[] = [];
    const waitA = a.link.handOverReady(10_000).then((go) => goes.push(`a ${go}`));
    const waitB = b.link.handOverReady(10_000).then((go) => goes.push(`b ${go}`));
    // Two of three said so: neither goes on yet.
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(goes, []);
    // The third leaves instead (it exited): the others do not wait for it.
    await c.link.close();
    await Promise.all([waitA, waitB]);
    assert.deepEqual(goes.sort(), ["a true", "b true"]);

    // Alone (a SIGUSR2 to this worker only): the wait runs out; a stop (abort) ends it at once.
    const d = await new Worker(hub, 2).start();
    assert.equal(await a.link.handOverReady(150), false);
    const stop = new AbortController();
    const waiting = a.link.handOverReady(10_000, stop.signal);
    stop.abort();
    assert.equal(await waiting, false);
    // Everyone again: all go on.
    const all = await Promise.all([a, b, d].map((w) => w.link.handOverReady(10_000)));
    assert.deepEqual(all, [true, true, true]);
    await d.link.close();
  } finally {
    for (const w of workers) await w.link.close();
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
    // The port totals (against max_connections): every IP of the others, per port.
    c.connectionsHere(PORT, "10.0.0.9", 4);
    await waitUntil(() => a.totalElsewhere(PORT) === 2 + 4, "a's total: b's 2 and c's 4");
    assert.equal(c.totalElsewhere(PORT), 5);
    assert.equal(c.totalElsewhere("0.0.0.0:3334"), 9);
    assert.equal(b.totalElsewhere("0.0.0.0:3334"), 0, "its own do not count");
    // c's port hears of each rise elsewhere (to close its share of a burst over the cap).
    assert.ok(raised.length >= 1 && raised.every((ips) => ips.join() === "10.0.0.1"), `${raised}`);
    const rises = raised.length;
    a.connectionsHere(PORT, "10.0.0.1", 0);
    await waitUntil(() => c.connectionsElsewhere(PORT, "10.0.0.1") === 2, "c sees 2");
    assert.equal(c.totalElsewhere(PORT), 2);
    assert.equal(raised.length, rises, "a fall is not a rise");
    // A worker gone (its process died with its connections): its counts go.
    await b.close();
    await waitUntil(() => c.connectionsElsewhere(PORT, "10.0.0.1") === 0, "c sees none");
    assert.equal(c.connectionsElsewhere("0.0.0.0:3334", "10.0.0.1"), 0);
    assert.equal(c.totalElsewhere(PORT), 0);
    assert.equal(c.totalElsewhere("0.0.0.0:3334"), 0);
    assert.equal(a.totalElsewhere(PORT), 4, "c's 4 stay");
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
      encodeLinkMessage({
        type: "hello",
        version: WORKER_LINK_VERSION,
        worker: 1,
        token: "0".repeat(32),
      }) + "\n",
    );
    await wrong.closed;
    const foreign = await rawLink(hub.path);
    await foreign.send(
      encodeLinkMessage({
        type: "hello",
        version: WORKER_LINK_VERSION,
        worker: 5,
        token: hub.token,
      }) + "\n",
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
      encodeLinkMessage({
        type: "hello",
        version: WORKER_LINK_VERSION,
        worker: 1,
        token: hub.token,
      }) +
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
    // Its offences are counted by its own pool (not here), and the last ones kept for later.
    for (let i = 0; i <= MAX_PENDING_OFFENCES; i++) {
      w.link.offended({ ip: "10.0.0.6", kind: "flood", at: i });
    }
    w.link.offended({ ip: "fe80::1%eth0", kind: "flood", at: 7 }); // cannot travel: dropped
    w.link.connectionsHere(PORT, "10.0.0.4", 2);
    assert.equal(w.link.connectionsElsewhere(PORT, "10.0.0.4"), 0);
    await waitUntil(() => /link to the supervisor lost/.test(lines.join("")), "the loss logged");

    fake = fakeSupervisor(path);
    const first = await waitUntil(() => fake!.links[0], "the link");
    await waitUntil(() => first.lines.at(-1) === '{"t":"sync"}', "hello, the backlog, sync");
    assert.deepEqual(first.lines, [
      `{"t":"hello","v":${WORKER_LINK_VERSION},"worker":1,"token":"${"a".repeat(32)}"}`,
      encodeLinkMessage({ type: "ban", ban: ban("10.0.0.1") }),
      '{"t":"unban","ip":"10.0.0.2"}',
      '{"t":"unban","ip":"10.0.0.3"}',
      // The last MAX_PENDING_OFFENCES, after the bans: the oldest (at 0) gave way.
      ...Array.from(
        { length: MAX_PENDING_OFFENCES },
        (_, i) => encodeLinkMessage({ type: "offence", offence: offence("10.0.0.6", i + 1) }),
      ),
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
    assert.equal(w.link.totalElsewhere(PORT), 0);
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
