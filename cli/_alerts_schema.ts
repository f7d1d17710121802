/**
 * The `[alerts]` configuration section: webhooks for the events an operator is paged for, and
 * the hash-rate drop threshold; {@linkcode webhookConfig} and {@linkcode startAlerts} apply it
 * (`vbkpool server` and `vbkpool payouts`).
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { ConfigError } from "./config.ts";
import { logger } from "./log.ts";
import { VERSION } from "./version.ts";
import {
  HashrateWatch,
  parseWebhookSpec,
  type WebhookConfig,
  Webhooks,
  type WebhookTarget,
} from "../alerts/mod.ts";

type Values = Record<string, unknown>;

/** Keys of `[alerts]`. */
export const ALERTS_SCHEMA: SectionSpec = {
  webhooks: {
    kind: "string_list",
    default: [],
    doc: 'Webhooks: "URL [format=json|discord|telegram] [chat=ID] [events=TYPE,...]". json ' +
      "(default) is signed with secret; discord takes a Discord webhook URL; telegram takes " +
      "https://api.telegram.org/botTOKEN/sendMessage and chat=ID. Events: block_found, " +
      "block_confirmed, block_orphaned, payment_sent, payment_failed, upstream_down, " +
      "upstream_up, store_failing, store_recovered, hashrate_drop (default: all).",
  },
  secret: {
    kind: "string",
    default: "",
    doc: "HMAC-SHA256 key signing json webhooks (X-Vbkpool-Signature over " +
      "TIMESTAMP.BODY); required with a json webhook. Prefer VBKPOOL_ALERTS_SECRET.",
  },
  name: {
    kind: "string",
    default: "",
    doc: "The pool's name in every message; empty = the host name.",
  },
  timeout_seconds: {
    kind: "number",
    default: 5,
    min: 0.1,
    max: 300,
    doc: "Time allowed for one webhook request.",
  },
  max_attempts: {
    kind: "integer",
    default: 8,
    min: 1,
    max: 100,
    doc: "Attempts per event (network errors, timeouts, 408, 429 and 5xx are retried).",
  },
  backoff_seconds: {
    kind: "number",
    default: 1,
    min: 0,
    max: 3600,
    doc: "Delay before the first retry; it doubles per attempt (with jitter).",
  },
  backoff_max_seconds: {
    kind: "number",
    default: 300,
    min: 0,
    max: 86400,
    doc: "Largest delay between two attempts.",
  },
  queue_size: {
    kind: "integer",
    default: 1000,
    min: 1,
    max: 1_000_000,
    doc: "Events waiting per webhook; beyond it the oldest is dropped (logged and counted).",
  },
  hashrate_drop_percent: {
    kind: "number",
    default: 50,
    min: 0,
    max: 100,
    doc: "hashrate_drop when a window's hash rate is this many percent below the mean of the " +
      "windows before it; 0 = off.",
  },
  hashrate_window_seconds: {
    kind: "number",
    default: 600,
    min: 1,
    max: 86400,
    doc: "The hash-rate window; the baseline is the mean of the 6 windows before.",
  },
};

/**
 * The webhook configuration of an `[alerts]` section (what `Webhooks.setWebhooks` takes, so a
 * reload can build it again).
 *
 * @example Usage
 * ```ts
 * import { webhookConfig } from "./_alerts_schema.ts";
 * import assert from "node:assert/strict";
 *
 * const config = webhookConfig({
 *   webhooks: ["https://ops.example/hook"], secret: "k", name: "pool-a", timeout_seconds: 5,
 *   max_attempts: 8, backoff_seconds: 1, backoff_max_seconds: 300, queue_size: 1000,
 * });
 * assert.equal(config.targets[0]!.format, "json");
 * assert.equal(config.pool, "pool-a");
 * ```
 *
 * @param a The `[alerts]` values.
 * @returns The configuration.
 * @throws {ConfigError} When an entry is malformed or a json webhook has no secret.
 */
export function webhookConfig(a: Values): WebhookConfig {
  const targets: WebhookTarget[] = (a.webhooks as string[]).map((spec, i) => {
    try {
      return parseWebhookSpec(spec);
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration value for alerts.webhooks (entry ${i + 1}): ${
          (err as Error).message
        }`,
        "alerts.webhooks",
      );
    }
  });
  if (a.secret === "" && targets.some((t) => t.format === "json")) {
    throw new ConfigError(
      "Invalid configuration: alerts.secret is required to sign json webhooks (set " +
        "VBKPOOL_ALERTS_SECRET or alerts.secret)",
      "alerts.secret",
    );
  }
  const ms = (key: string) => Math.round((a[key] as number) * 1000);
  return {
    targets,
    secret: a.secret as string,
    pool: (a.name as string) || Deno.hostname(),
    timeoutMs: ms("timeout_seconds"),
    maxAttempts: a.max_attempts as number,
    backoffMs: ms("backoff_seconds"),
    backoffMaxMs: Math.max(ms("backoff_max_seconds"), ms("backoff_seconds")),
    queueSize: a.queue_size as number,
    version: VERSION,
  };
}

/** The running alerts of a process. */
export interface RunningAlerts {
  /** The webhooks (`setWebhooks` replaces their configuration). */
  webhooks: Webhooks;
  /** The hash-rate watch, when on (`vbkpool server` feeds it accepted work). */
  hashrate: HashrateWatch | undefined;
  /** Stop the watch's timer and the webhooks. */
  stop(): Promise<void>;
}

/**
 * Start the webhooks (and, with `hashrate`, the hash-rate watch) from `[alerts]`.
 *
 * @param a The `[alerts]` values.
 * @param options Whether this process watches the hash rate.
 * @returns The running alerts.
 * @throws {ConfigError} When the configuration is invalid.
 */
export function startAlerts(a: Values, options: { hashrate: boolean }): RunningAlerts {
  const webhooks = new Webhooks(webhookConfig(a));
  const percent = a.hashrate_drop_percent as number;
  const windowMs = Math.round((a.hashrate_window_seconds as number) * 1000);
  const hashrate = options.hashrate && percent > 0
    ? new HashrateWatch({ windowMs, dropPercent: percent })
    : undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  if (hashrate !== undefined) {
    // Checked a few times per window: a window closes within 1/10 of its length.
    timer = setInterval(() => hashrate.check(), Math.max(100, Math.round(windowMs / 10)));
    Deno.unrefTimer(timer);
  }
  const n = webhooks.targets.length;
  if (n > 0) {
    logger("alerts").info("alerts: {n} webhook(s): {list}", {
      n,
      list: webhooks.targets.map((t) => `${new URL(t.url).origin} (${t.format})`).join(", "),
    });
  }
  return {
    webhooks,
    hashrate,
    stop: () => {
      clearInterval(timer);
      return webhooks.close();
    },
  };
}
