/**
 * A webhook as configured: one `[alerts] webhooks` entry, `URL` followed by optional words
 * `format=json|discord|telegram`, `chat=ID` (Telegram's chat id) and `events=TYPE,TYPE`.
 *
 * @module
 */
import { ALERT_EVENT_TYPES, type AlertEventType } from "../log/mod.ts";

/** The body formats. */
export const WEBHOOK_FORMATS = ["json", "discord", "telegram"] as const;

/** A body format. */
export type WebhookFormat = typeof WEBHOOK_FORMATS[number];

/** One webhook. */
export interface WebhookTarget {
  /** Where to POST (http or https). */
  url: string;
  /** The body format. */
  format: WebhookFormat;
  /** Telegram's `chat_id` (required with `format=telegram`). */
  chat?: string;
  /** The events sent; every event when absent. */
  events?: readonly AlertEventType[];
}

/**
 * A target's name for logs: scheme, host and the index, never the path (Discord and Telegram
 * keep their tokens there).
 *
 * @param target The webhook.
 * @param index Its position in the list.
 * @returns E.g. `webhook 2 (https://discord.com)`.
 */
export function webhookLabel(target: WebhookTarget, index: number): string {
  return `webhook ${index + 1} (${new URL(target.url).origin})`;
}

/**
 * Parse one `[alerts] webhooks` entry.
 *
 * @example Usage
 * ```ts
 * import { parseWebhookSpec } from "./webhook_spec.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   parseWebhookSpec("https://hooks.example/vbk events=block_found,block_orphaned"),
 *   { url: "https://hooks.example/vbk", format: "json", events: ["block_found", "block_orphaned"] },
 * );
 * assert.throws(() => parseWebhookSpec("ftp://x"), /http or https/);
 * ```
 *
 * @param spec The entry.
 * @returns The webhook.
 * @throws {TypeError} When the entry is malformed (the message names the part).
 */
export function parseWebhookSpec(spec: string): WebhookTarget {
  const [url, ...words] = spec.trim().split(/\s+/);
  let parsed: URL;
  try {
    parsed = new URL(url ?? "");
  } catch {
    throw new TypeError(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`"${parsed.protocol}" URL: a webhook is http or https`);
  }
  const target: WebhookTarget = { url: parsed.href, format: "json" };
  for (const word of words) {
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? "" : word.slice(eq + 1);
    if (key === "format" && (WEBHOOK_FORMATS as readonly string[]).includes(value)) {
      target.format = value as WebhookFormat;
    } else if (key === "format") {
      throw new TypeError(`format "${value}": expected ${WEBHOOK_FORMATS.join(", ")}`);
    } else if (key === "chat" && /^-?\d{1,20}$|^@\w{1,64}$/.test(value)) {
      target.chat = value;
    } else if (key === "chat") {
      throw new TypeError(`chat "${value}": expected a numeric chat id or @channel`);
    } else if (key === "events") {
      target.events = parseEvents(value);
    } else {
      throw new TypeError(`unknown word "${word}" (expected format=, chat= or events=)`);
    }
  }
  if (target.format === "telegram" && target.chat === undefined) {
    throw new TypeError("format=telegram needs chat=ID");
  }
  return target;
}

function parseEvents(value: string): AlertEventType[] {
  const events = value.split(/[,+]/).filter((e) => e !== "");
  if (events.length === 0) throw new TypeError("events= names no event");
  for (const e of events) {
    if (!(ALERT_EVENT_TYPES as readonly string[]).includes(e)) {
      throw new TypeError(`unknown event "${e}" (known: ${ALERT_EVENT_TYPES.join(", ")})`);
    }
  }
  return events as AlertEventType[];
}
