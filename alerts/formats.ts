/**
 * Webhook bodies: vbkpool's generic JSON, a Discord message and a Telegram `sendMessage` call.
 * Chat bodies are plain text with mentions and markup off: a worker name is chosen by a miner,
 * and must not ping a channel or inject a link.
 *
 * @module
 */
import type { AlertEvent } from "../log/mod.ts";
import type { WebhookTarget } from "./webhook_spec.ts";

/** Discord's limit on `content`. */
const DISCORD_MAX = 2000;
/** Telegram's limit on `text`. */
const TELEGRAM_MAX = 4096;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What every body is built from. */
export interface DeliveryContext {
  /** Delivery id (the same across retries, so a receiver can drop a repeat). */
  id: string;
  /** The pool's name (`[alerts] name`). */
  pool: string;
}

/**
 * The JSON body of one delivery.
 *
 * @example Usage
 * ```ts
 * import { webhookBody } from "./formats.ts";
 * import assert from "node:assert/strict";
 *
 * const event = {
 *   type: "upstream_up" as const,
 *   at: 0,
 *   summary: "NodeCore is ready again",
 *   details: { endpoint: "127.0.0.1:8501" },
 * };
 * const body = JSON.parse(
 *   webhookBody({ url: "https://x/", format: "discord" }, event, { id: "1", pool: "p" }),
 * );
 * assert.equal(body.content, "[p] upstream_up: NodeCore is ready again");
 * assert.deepEqual(body.allowed_mentions, { parse: [] });
 * ```
 *
 * @param target The webhook (its format; Telegram's chat).
 * @param event The event.
 * @param ctx Delivery id and pool name.
 * @returns The body.
 */
export function webhookBody(
  target: WebhookTarget,
  event: AlertEvent,
  ctx: DeliveryContext,
): string {
  const line = `[${ctx.pool}] ${event.type}: ${event.summary}`;
  switch (target.format) {
    case "discord":
      return JSON.stringify({
        content: clip(line, DISCORD_MAX),
        username: "vbkpool",
        allowed_mentions: { parse: [] },
      });
    case "telegram":
      return JSON.stringify({
        chat_id: target.chat,
        text: clip(line, TELEGRAM_MAX),
        disable_web_page_preview: true,
      });
    default:
      return JSON.stringify({
        id: ctx.id,
        type: event.type,
        at: new Date(event.at).toISOString(),
        pool: ctx.pool,
        summary: clip(event.summary, 4096),
        details: event.details,
      });
  }
}
