import assert from "node:assert/strict";
import {
  parseWebhookSpec,
  signWebhook,
  verifyWebhook,
  type WebhookConfig,
  Webhooks,
} from "../../alerts/mod.ts";
import { AlertEvents } from "../../log/mod.ts";
import { waitUntil } from "../_process.ts";
import { startReceiver, startSilentReceiver } from "./_receiver.ts";

const SECRET = "test-secret";

function config(urls: string[], extra: Partial<WebhookConfig> = {}): WebhookConfig {
  return {
    targets: urls.map((u) => parseWebhookSpec(u)),
    secret: SECRET,
    pool: "pool-t",
    backoffMs: 10,
    backoffMaxMs: 50,
    timeoutMs: 2000,
    ...extra,
  };
}

Deno.test("webhooks: a json delivery is signed; the signature verifies, a replay or a change does not", async () => {
  const receiver = startReceiver();
  const bus = new AlertEvents();
  const webhooks = new Webhooks(config([receiver.url]), { bus });
  try {
    bus.emit("block_found", "Block candidate 12 ab found by rig", { height: 12, hash: "ab" });
    await waitUntil(() => webhooks.stats().sent === 1, "the delivery");
    const got = receiver.received[0]!;
    assert.equal(got.headers.get("content-type"), "application/json");
    assert.equal(got.headers.get("x-vbkpool-event"), "block_found");
    const timestamp = got.headers.get("x-vbkpool-timestamp");
    const signature = got.headers.get("x-vbkpool-signature");
    assert.equal(await verifyWebhook(SECRET, { timestamp, signature, body: got.body }), true);
    // The wrong secret, a changed body, an old timestamp, a missing header: refused.
    assert.equal(await verifyWebhook("other", { timestamp, signature, body: got.body }), false);
    assert.equal(
      await verifyWebhook(SECRET, { timestamp, signature, body: got.body.replace("12", "13") }),
      false,
    );
    const later = Number(timestamp) + 301;
    assert.equal(
      await verifyWebhook(SECRET, { timestamp, signature, body: got.body, now: later }),
      false,
    );
    assert.equal(
      await verifyWebhook(SECRET, { timestamp: null, signature, body: got.body }),
      false,
    );
    assert.equal(
      await verifyWebhook(SECRET, { timestamp: "1e3", signature, body: got.body }),
      false,
    );
    // A signature made for another timestamp does not pass with a fresh one.
    const now = String(Math.floor(Date.now() / 1000));
    const old = await signWebhook(SECRET, { timestamp: Number(timestamp) - 1, body: got.body });
    assert.equal(
      await verifyWebhook(SECRET, { timestamp: now, signature: old, body: got.body }),
      false,
    );
    const body = JSON.parse(got.body);
    assert.equal(body.type, "block_found");
    assert.equal(body.pool, "pool-t");
    assert.equal(body.summary, "Block candidate 12 ab found by rig");
    assert.deepEqual(body.details, { height: 12, hash: "ab" });
    assert.equal(body.id, got.headers.get("x-vbkpool-delivery"));
    assert.match(body.at, /^\d{4}-\d\d-\d\dT/);
  } finally {
    await webhooks.close();
    await receiver.close();
  }
});

Deno.test("webhooks: Discord and Telegram bodies, unsigned, mentions off, clipped", async () => {
  const receiver = startReceiver();
  const bus = new AlertEvents();
  const webhooks = new Webhooks({
    targets: [
      parseWebhookSpec(`${receiver.url}/discord format=discord`),
      parseWebhookSpec(`${receiver.url}/telegram format=telegram chat=-1001234`),
    ],
    secret: "",
    pool: "pool-t",
  }, { bus });
  try {
    // A worker name is chosen by a miner: it must not ping anyone, and is clipped.
    const worker = `@everyone ${"x".repeat(5000)}`;
    bus.emit("block_found", `Block candidate 1 00 found by ${worker}`, { worker });
    await waitUntil(() => webhooks.stats().sent === 2, "both deliveries");
    const byPath = new Map(receiver.received.map((r) => [r.path, r]));
    const discord = byPath.get("/hook/discord")!;
    assert.equal(discord.headers.get("x-vbkpool-signature"), null);
    const d = JSON.parse(discord.body);
    assert.deepEqual(Object.keys(d).sort(), ["allowed_mentions", "content", "username"]);
    assert.deepEqual(d.allowed_mentions, { parse: [] });
    assert.equal(d.content.length, 2000);
    assert.ok(
      d.content.startsWith("[pool-t] block_found: Block candidate 1 00 found by @everyone"),
    );
    const t = JSON.parse(byPath.get("/hook/telegram")!.body);
    assert.deepEqual(Object.keys(t).sort(), ["chat_id", "disable_web_page_preview", "text"]);
    assert.equal(t.chat_id, "-1001234");
    assert.equal(t.text.length, 4096);
    assert.equal(t.parse_mode, undefined); // plain text: no markup injection
  } finally {
    await webhooks.close();
    await receiver.close();
  }
});

Deno.test("webhooks: 503 and 429 are retried with backoff until delivered; 400 is final", async () => {
  const flaky = startReceiver((n) => (n === 0 ? 503 : n === 1 ? 429 : 204));
  const refusing = startReceiver(() => 400);
  const bus = new AlertEvents();
  const webhooks = new Webhooks(config([flaky.url, refusing.url]), { bus });
  try {
    bus.emit("payment_sent", "Payment 1: 1 VBK to 1 miner(s) in ab", { id: "1" });
    await waitUntil(() => webhooks.stats().queued === 0, "both queues to settle");
    assert.equal(flaky.received.length, 3);
    assert.equal(refusing.received.length, 1);
    // One delivery id across the retries (a receiver can drop a repeat); each retry re-signed.
    const ids = new Set(flaky.received.map((r) => r.headers.get("x-vbkpool-delivery")));
    assert.equal(ids.size, 1);
    for (const r of flaky.received) {
      assert.ok(
        await verifyWebhook(SECRET, {
          timestamp: r.headers.get("x-vbkpool-timestamp"),
          signature: r.headers.get("x-vbkpool-signature"),
          body: r.body,
        }),
      );
    }
    const s = webhooks.stats();
    assert.deepEqual({ sent: s.sent, failed: s.failed, retried: s.retried }, {
      sent: 1,
      failed: 1,
      retried: 2,
    });
  } finally {
    await webhooks.close();
    await flaky.close();
    await refusing.close();
  }
});

Deno.test("webhooks: gives up after maxAttempts; a redirect is not followed", async () => {
  const down = startReceiver(() => 500);
  const moved = startReceiver(() => 302);
  const bus = new AlertEvents();
  const webhooks = new Webhooks(config([down.url, moved.url], { maxAttempts: 3 }), { bus });
  try {
    bus.emit("store_failing", "Store x is failing: disk full", { where: "x" });
    await waitUntil(() => webhooks.stats().queued === 0, "both queues to settle");
    assert.equal(down.received.length, 3);
    assert.equal(moved.received.length, 1);
    assert.equal(webhooks.stats().failed, 2);
  } finally {
    await webhooks.close();
    await down.close();
    await moved.close();
  }
});

Deno.test("webhooks: a receiver that never answers does not hold back a good one; its full queue drops the oldest", async () => {
  const silent = startSilentReceiver();
  const good = startReceiver();
  const bus = new AlertEvents();
  const webhooks = new Webhooks(
    config([silent.url, good.url], { timeoutMs: 60_000, queueSize: 3 }),
    { bus },
  );
  try {
    let emitMs = 0;
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      bus.emit("upstream_down", `down ${i}`, { i });
      emitMs += performance.now() - started;
      // Each event reaches the good receiver while the silent one still holds its first.
      await waitUntil(() => good.received.length === i + 1, `delivery ${i} to the good receiver`);
    }
    await waitUntil(() => silent.accepted === 1, "the silent receiver's connection");
    assert.deepEqual(
      good.received.map((r) => JSON.parse(r.body).details.i),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    // The silent webhook: 1 in flight, 3 waiting, 6 dropped (oldest first).
    const s = webhooks.stats();
    assert.equal(s.dropped, 6);
    assert.equal(s.queued, 4);
    assert.equal(s.sent, 10);
    console.log(`10 emits with a silent webhook took ${emitMs.toFixed(2)} ms (not asserted)`);
  } finally {
    await webhooks.close();
    silent.close();
    await good.close();
  }
});

Deno.test("webhooks: a request that times out is retried", async () => {
  const silent = startSilentReceiver();
  const bus = new AlertEvents();
  const webhooks = new Webhooks(config([silent.url], { timeoutMs: 100, maxAttempts: 2 }), { bus });
  try {
    bus.emit("upstream_down", "down", {});
    await waitUntil(() => webhooks.stats().failed === 1, "the event to be given up");
    assert.equal(silent.accepted >= 2, true);
    assert.equal(webhooks.stats().retried, 1);
  } finally {
    await webhooks.close();
    silent.close();
  }
});

Deno.test("webhooks: events= filters; setWebhooks replaces the list at runtime", async () => {
  const a = startReceiver();
  const b = startReceiver();
  const bus = new AlertEvents();
  const webhooks = new Webhooks(config([`${a.url} events=block_orphaned`]), { bus });
  try {
    bus.emit("block_found", "found", {});
    bus.emit("block_orphaned", "orphaned", {});
    await waitUntil(() => webhooks.stats().sent === 1, "one delivery");
    assert.deepEqual(a.received.map((r) => JSON.parse(r.body).type), ["block_orphaned"]);
    webhooks.setWebhooks(config([b.url]));
    assert.equal(webhooks.targets.length, 1);
    bus.emit("block_found", "found", {});
    await waitUntil(() => webhooks.stats().sent === 2, "the second delivery");
    assert.equal(a.received.length, 1);
    assert.equal(b.received.length, 1);
    // An invalid replacement is refused and the old one stays.
    assert.throws(
      () => webhooks.setWebhooks({ targets: [parseWebhookSpec(a.url)], secret: "", pool: "p" }),
      /needs a secret/,
    );
    assert.equal(webhooks.targets[0]!.url, b.url);
  } finally {
    await webhooks.close();
    await a.close();
    await b.close();
  }
});

Deno.test("parseWebhookSpec: malformed entries are named", () => {
  const bad: [string, RegExp][] = [
    ["", /is not a URL/],
    ["not a url", /is not a URL/],
    ["file:///etc/passwd", /http or https/],
    ["https://x/ format=xml", /format "xml"/],
    ["https://x/ format=telegram", /needs chat=ID/],
    ["https://x/ format=telegram chat=abc", /chat "abc"/],
    ["https://x/ events=block_found,oops", /unknown event "oops"/],
    ["https://x/ events=", /names no event/],
    ["https://x/ colour=red", /unknown word "colour=red"/],
  ];
  for (const [spec, re] of bad) assert.throws(() => parseWebhookSpec(spec), re, spec);
  assert.deepEqual(
    parseWebhookSpec("https://api.telegram.org/botT/sendMessage format=telegram chat=@ops"),
    {
      url: "https://api.telegram.org/botT/sendMessage",
      format: "telegram",
      chat: "@ops",
    },
  );
});
