/**
 * What an alert costs the code that emits it: `AlertEvents.emit` with nobody listening, with
 * webhooks configured (a receiver that never answers and one that answers at once: each event is
 * queued for both), and with a full queue (the oldest dropped per event). The emitter never waits
 * for a delivery, so these are the whole cost on the pool's side.
 *
 * ```sh
 * deno bench -A bench/alerts_bench.ts
 * ```
 *
 * @module
 */
import { parseWebhookSpec, Webhooks } from "../alerts/mod.ts";
import { AlertEvents } from "../log/mod.ts";

const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const held: Deno.Conn[] = [];
(async () => {
  for await (const c of silent) held.push(c);
})().catch(() => {});
const good = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  await req.body?.cancel();
  return new Response(null, { status: 204 });
});

const none = new AlertEvents();
const bus = new AlertEvents();
const webhooks = new Webhooks({
  targets: [
    parseWebhookSpec(`http://127.0.0.1:${(silent.addr as Deno.NetAddr).port}/never`),
    parseWebhookSpec(`http://127.0.0.1:${good.addr.port}/ok`),
  ],
  secret: "bench",
  pool: "bench",
  timeoutMs: 600_000,
  queueSize: 100,
}, { bus });

const details = { height: 1000, hash: "00".repeat(24), worker: "rig1", solo: false };

Deno.bench({
  name: "emit, nobody listening",
  group: "emit",
  baseline: true,
  fn() {
    none.emit("block_found", "Block candidate 1000 found by rig1", details);
  },
});

Deno.bench({
  name: "emit to a silent and a good webhook (silent queue full)",
  group: "emit",
  fn() {
    bus.emit("block_found", "Block candidate 1000 found by rig1", details);
  },
});

addEventListener("unload", () => {
  void webhooks.close();
  silent.close();
  for (const c of held) c.close();
  void good.shutdown();
});
