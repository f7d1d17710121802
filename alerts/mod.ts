/**
 * Alerts for operators: webhooks (generic JSON signed with HMAC-SHA256, Discord, Telegram) fed by
 * the process's alert bus (`log/alert_events.ts`), with bounded queues and retries that never
 * slow the pool, and the hash-rate drop watch. `cli/` configures them from `[alerts]`.
 *
 * @example Usage
 * ```ts
 * import { parseWebhookSpec, Webhooks } from "./mod.ts";
 * import { AlertEvents } from "../log/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const bus = new AlertEvents();
 * const target = parseWebhookSpec("https://discord.com/api/webhooks/1/x format=discord");
 * const webhooks = new Webhooks({ targets: [target], secret: "", pool: "pool-a" }, { bus });
 * assert.equal(webhooks.targets.length, 1);
 * await webhooks.close();
 * ```
 *
 * @module
 */
export * from "./formats.ts";
export * from "./hashrate_watch.ts";
export * from "./signature.ts";
export * from "./webhook_spec.ts";
export * from "./webhooks.ts";
