/**
 * Alert events: the few things an operator is paged for (a block found, confirmed or orphaned;
 * a payment sent or failed; the upstream down or back; the store failing or recovered; the hash
 * rate dropping). The code where each happens emits it on the process-wide
 * {@linkcode alertEvents} bus, as it writes its log line; whoever cares (the webhooks of
 * `alerts/`) subscribes. Emitting is synchronous and cheap, and a failing subscriber never
 * reaches the emitter. It lives in `log/` because every folder that has such an event may
 * import `log/` and nothing else in common.
 *
 * @module
 */

/** The kinds of alert event, in the order they are documented. */
export const ALERT_EVENT_TYPES = [
  "block_found",
  "block_confirmed",
  "block_orphaned",
  "payment_sent",
  "payment_failed",
  "upstream_down",
  "upstream_up",
  "store_failing",
  "store_recovered",
  "hashrate_drop",
] as const;

/** One kind of alert event. */
export type AlertEventType = typeof ALERT_EVENT_TYPES[number];

/** A value of an alert event's details (JSON-friendly: amounts are decimal strings). */
export type AlertValue = string | number | boolean;

/** An alert event. */
export interface AlertEvent {
  /** What happened. */
  type: AlertEventType;
  /** When (ms since epoch). */
  at: number;
  /** One line for humans (chat messages use it). */
  summary: string;
  /** The facts, by name (`height`, `hash`, `endpoint`, `error`, ...). */
  details: Readonly<Record<string, AlertValue>>;
}

/** A subscriber. */
export type AlertListener = (event: AlertEvent) => void;

/**
 * A synchronous bus of alert events. Listeners run in subscription order; an exception in one
 * is caught and ignored.
 *
 * @example Usage
 * ```ts
 * import { AlertEvents } from "./alert_events.ts";
 * import assert from "node:assert/strict";
 *
 * const bus = new AlertEvents();
 * const seen: string[] = [];
 * const stop = bus.subscribe((e) => seen.push(`${e.type}: ${e.summary}`));
 * bus.emit("upstream_down", "NodeCore 10.0.0.2:8501 is down", { endpoint: "10.0.0.2:8501" });
 * stop();
 * bus.emit("upstream_up", "NodeCore is back", {});
 * assert.deepEqual(seen, ["upstream_down: NodeCore 10.0.0.2:8501 is down"]);
 * ```
 */
export class AlertEvents {
  #listeners = new Set<AlertListener>();

  /** Whether anyone listens. */
  get active(): boolean {
    return this.#listeners.size > 0;
  }

  /**
   * Add a listener.
   *
   * @param listener Called with every event.
   * @returns A function that removes it.
   */
  subscribe(listener: AlertListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Deliver an event to every listener (nothing is built when nobody listens).
   *
   * @param type What happened.
   * @param summary One line for humans.
   * @param details The facts.
   */
  emit(type: AlertEventType, summary: string, details: Record<string, AlertValue>): void {
    if (this.#listeners.size === 0) return;
    const event: AlertEvent = { type, at: Date.now(), summary, details };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own problem.
      }
    }
  }
}

/** The process's alert bus: emitters and subscribers meet here. */
export const alertEvents: AlertEvents = new AlertEvents();
