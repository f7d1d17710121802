/**
 * Webhook delivery. Each webhook has its own bounded queue and sends one request at a time, in
 * order; an event is queued synchronously (an array push) and never awaited by the code that
 * emitted it, so a webhook that is slow, fails or never answers delays only its own queue.
 * A failed attempt (network error, timeout, 408, 429, 5xx) is retried with exponential backoff
 * and jitter up to `maxAttempts`; other answers are final. When a queue is full the oldest
 * waiting event is dropped, logged once per episode and counted. Timers never keep the
 * process alive.
 *
 * The configuration is one object ({@linkcode WebhookConfig}); {@linkcode Webhooks.setWebhooks}
 * replaces it at runtime (a configuration reload): a webhook whose URL and format stay keeps
 * its queue; a removed one is abandoned (its request in flight is aborted).
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type AlertEvent, type AlertEvents, alertEvents, EpisodeLog } from "../log/mod.ts";
import { webhookBody } from "./formats.ts";
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "./signature.ts";
import { webhookLabel, type WebhookTarget } from "./webhook_spec.ts";

const log = getLogger(["vbkpool", "alerts"]);
const episodes = new EpisodeLog(log);

/** Every setting of the webhooks (what `[alerts]` configures). */
export interface WebhookConfig {
  /** The webhooks. */
  targets: readonly WebhookTarget[];
  /** HMAC key of the generic JSON format (required when a JSON webhook is listed). */
  secret: string;
  /** The pool's name in every message. */
  pool: string;
  /** Time allowed for one request, ms. @default 5000 */
  timeoutMs?: number;
  /** Attempts per event at most. @default 8 */
  maxAttempts?: number;
  /** Delay before the first retry, ms (doubles each time). @default 1000 */
  backoffMs?: number;
  /** Largest delay between attempts, ms. @default 300000 */
  backoffMaxMs?: number;
  /** Events waiting per webhook at most (the oldest is dropped beyond). @default 1000 */
  queueSize?: number;
  /** The program version, for the `User-Agent`. @default "0" */
  version?: string;
}

/** Delivery counts since start. */
export interface WebhookStats {
  /** Events delivered (a 2xx answer). */
  sent: number;
  /** Events given up (a final answer, or `maxAttempts` failed attempts). */
  failed: number;
  /** Attempts that failed and were retried. */
  retried: number;
  /** Events dropped from a full queue (or with a removed webhook). */
  dropped: number;
  /** Events waiting now (every queue, including those in flight). */
  queued: number;
}

/** Options for {@linkcode Webhooks}. */
export interface WebhooksOptions {
  /** The bus to listen to. @default the process's `alertEvents` */
  bus?: AlertEvents;
  /** Random numbers in [0, 1), for jitter. @default Math.random */
  random?: () => number;
}

type Settings = Required<Omit<WebhookConfig, "targets">>;

function settingsOf(config: WebhookConfig): Settings {
  const s: Settings = {
    secret: config.secret,
    pool: config.pool,
    timeoutMs: config.timeoutMs ?? 5000,
    maxAttempts: config.maxAttempts ?? 8,
    backoffMs: config.backoffMs ?? 1000,
    backoffMaxMs: config.backoffMaxMs ?? 300_000,
    queueSize: config.queueSize ?? 1000,
    version: config.version ?? "0",
  };
  for (const [key, min] of [["timeoutMs", 1], ["maxAttempts", 1], ["queueSize", 1]] as const) {
    if (!(Number.isInteger(s[key]) && s[key] >= min)) {
      throw new RangeError(`Cannot configure webhooks: ${key} must be an integer >= ${min}`);
    }
  }
  if (!(s.backoffMs >= 0 && s.backoffMaxMs >= s.backoffMs)) {
    throw new RangeError("Cannot configure webhooks: need 0 <= backoffMs <= backoffMaxMs");
  }
  if (s.secret === "" && config.targets.some((t) => t.format === "json")) {
    throw new RangeError("Cannot configure webhooks: a JSON webhook needs a secret to sign with");
  }
  return s;
}

interface Pending {
  event: AlertEvent;
  id: string;
  attempts: number;
}

type Outcome = { ok: true } | { ok: false; retry: boolean; why: string; afterMs?: number };

/** One webhook's queue and its delivery loop. */
class WebhookQueue {
  readonly key: string;
  target: WebhookTarget;
  label: string;
  #owner: Webhooks;
  #queue: Pending[] = [];
  #current: Pending | undefined;
  #running = false;
  #closed = false;
  #abort = new AbortController();
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(owner: Webhooks, target: WebhookTarget, index: number) {
    this.#owner = owner;
    this.target = target;
    this.key = `${target.format} ${target.url} ${target.chat ?? ""}`;
    this.label = webhookLabel(target, index);
  }

  get size(): number {
    return this.#queue.length + (this.#current === undefined ? 0 : 1);
  }

  wants(event: AlertEvent): boolean {
    return this.target.events === undefined || this.target.events.includes(event.type);
  }

  push(event: AlertEvent): void {
    const s = this.#owner.settings;
    if (this.#queue.length >= s.queueSize) {
      const dropped = this.#queue.shift()!;
      this.#owner.count("dropped");
      episodes.warn(
        `dropped:${this.key}`,
        "{webhook}: queue full ({size}), dropped the oldest " +
          "event ({type})",
        { webhook: this.label, size: s.queueSize, type: dropped.event.type },
      );
    }
    this.#queue.push({ event, id: crypto.randomUUID(), attempts: 0 });
    if (!this.#running) void this.#run();
  }

  /** Abandon the queue: waiting events are dropped, a request in flight aborted. */
  close(): void {
    this.#closed = true;
    this.#owner.count("dropped", this.size);
    this.#queue = [];
    this.#abort.abort();
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#closed && (this.#current ?? this.#queue[0]) !== undefined) {
        this.#current ??= this.#queue.shift();
        const item = this.#current!;
        item.attempts++;
        const outcome = await this.#attempt(item);
        if (this.#closed) break;
        if (outcome.ok) {
          this.#current = undefined;
          this.#owner.count("sent");
          episodes.end(`retry:${this.key}`);
          continue;
        }
        const s = this.#owner.settings;
        if (!outcome.retry || item.attempts >= s.maxAttempts) {
          this.#current = undefined;
          this.#owner.count("failed");
          episodes.error(
            `failed:${this.key}`,
            "{webhook}: gave up on {type} after {attempts} " +
              "attempt(s): {why}",
            {
              webhook: this.label,
              type: item.event.type,
              attempts: item.attempts,
              why: outcome.why,
            },
          );
          continue;
        }
        this.#owner.count("retried");
        episodes.warn(`retry:${this.key}`, "{webhook}: {type} not delivered ({why}), retrying", {
          webhook: this.label,
          type: item.event.type,
          why: outcome.why,
        });
        await this.#sleep(this.#delay(item.attempts, outcome.afterMs));
      }
    } finally {
      this.#running = false;
    }
  }

  /** Exponential backoff with ±25 % jitter, or the receiver's Retry-After, both capped. */
  #delay(attempts: number, afterMs: number | undefined): number {
    const s = this.#owner.settings;
    const base = afterMs ?? s.backoffMs * 2 ** Math.min(attempts - 1, 30);
    const jittered = base * (0.75 + 0.5 * this.#owner.random());
    return Math.min(s.backoffMaxMs, Math.round(jittered));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      const timer = setTimeout(resolve, ms);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    });
  }

  async #attempt(item: Pending): Promise<Outcome> {
    const s = this.#owner.settings;
    const body = webhookBody(this.target, item.event, { id: item.id, pool: s.pool });
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": `vbkpool/${s.version}`,
      "x-vbkpool-event": item.event.type,
      "x-vbkpool-delivery": item.id,
    };
    if (this.target.format === "json") {
      const timestamp = Math.floor(Date.now() / 1000);
      headers[TIMESTAMP_HEADER] = String(timestamp);
      headers[SIGNATURE_HEADER] = await signWebhook(s.secret, { timestamp, body });
    }
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(s.timeoutMs)]);
    let response: Response;
    try {
      response = await fetch(this.target.url, {
        method: "POST",
        headers,
        body,
        signal,
        redirect: "manual",
      });
    } catch (err) {
      const why = signal.aborted && !this.#abort.signal.aborted
        ? `no answer within ${s.timeoutMs} ms`
        : (err instanceof Error ? err.message : String(err));
      return { ok: false, retry: true, why };
    }
    // Only the status matters; the body is not read (a receiver cannot make us buffer it).
    await response.body?.cancel().catch(() => {});
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true };
    const retry = status === 408 || status === 429 || status >= 500;
    const after = Number(response.headers.get("retry-after"));
    return {
      ok: false,
      retry,
      why: `HTTP ${status}`,
      ...(retry && after > 0 && after < 86_400 ? { afterMs: after * 1000 } : {}),
    };
  }
}

/**
 * The webhooks: subscribe to the alert bus and deliver each event to every webhook that wants
 * it.
 *
 * @example Usage
 * ```ts
 * import { Webhooks } from "./webhooks.ts";
 * import { AlertEvents } from "../log/mod.ts";
 * import assert from "node:assert/strict";
 *
 * const bus = new AlertEvents();
 * const webhooks = new Webhooks({ targets: [], secret: "", pool: "test" }, { bus });
 * bus.emit("upstream_up", "NodeCore is ready again", {});
 * assert.equal(webhooks.stats().queued, 0); // no webhook configured
 * await webhooks.close();
 * ```
 */
export class Webhooks {
  /** The settings in force. */
  settings: Settings;
  /** Jitter source. */
  readonly random: () => number;
  #queues: WebhookQueue[] = [];
  #stats = { sent: 0, failed: 0, retried: 0, dropped: 0 };
  #unsubscribe: () => void;

  /**
   * @param config The webhooks and their settings.
   * @param options The bus, the jitter source.
   * @throws {RangeError} When a setting is out of range or a JSON webhook has no secret.
   */
  constructor(config: WebhookConfig, options: WebhooksOptions = {}) {
    this.settings = settingsOf(config);
    this.random = options.random ?? Math.random;
    this.#replace(config.targets);
    const bus = options.bus ?? alertEvents;
    this.#unsubscribe = bus.subscribe((event) => this.#dispatch(event));
  }

  /** The webhooks in force. */
  get targets(): readonly WebhookTarget[] {
    return this.#queues.map((q) => q.target);
  }

  /**
   * Replace the configuration at once (a reload). Webhooks whose format, URL and chat stay keep
   * their queues; removed ones are abandoned.
   *
   * @param config The new configuration.
   * @throws {RangeError} When it is invalid (the old one stays in force).
   */
  setWebhooks(config: WebhookConfig): void {
    const settings = settingsOf(config);
    this.settings = settings;
    this.#replace(config.targets);
  }

  /**
   * Delivery counts.
   *
   * @returns Sent, failed, retried, dropped, queued.
   */
  stats(): WebhookStats {
    const queued = this.#queues.reduce((n, q) => n + q.size, 0);
    return { ...this.#stats, queued };
  }

  /** @internal Count an outcome (used by the queues). */
  count(what: "sent" | "failed" | "retried" | "dropped", n = 1): void {
    this.#stats[what] += n;
  }

  /**
   * Wait until every queue is empty (events delivered or given up), at most `ms`.
   *
   * @param ms The longest wait.
   * @returns Whether every queue emptied in time.
   */
  async drain(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.stats().queued > 0) {
      if (Date.now() >= end) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, end - Date.now())));
    }
    return true;
  }

  /** Stop listening; abandon every queue (waiting events are dropped). */
  close(): Promise<void> {
    this.#unsubscribe();
    for (const q of this.#queues) q.close();
    this.#queues = [];
    return Promise.resolve();
  }

  #dispatch(event: AlertEvent): void {
    for (const q of this.#queues) if (q.wants(event)) q.push(event);
  }

  #replace(targets: readonly WebhookTarget[]): void {
    const old = new Map(this.#queues.map((q) => [q.key, q]));
    this.#queues = targets.map((target, i) => {
      const fresh = new WebhookQueue(this, target, i);
      const kept = old.get(fresh.key);
      if (kept === undefined) return fresh;
      old.delete(fresh.key);
      kept.target = target;
      kept.label = fresh.label;
      return kept;
    });
    for (const q of old.values()) q.close();
  }
}
