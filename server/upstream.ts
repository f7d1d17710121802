/**
 * The pool's NodeCore client (UCP, spec §2): it keeps one working connection to the most
 * preferred healthy NodeCore of a list, turns its MINING_JOB and MINING_MEMPOOL_UPDATE messages
 * into {@linkcode Template}s for the job manager, forwards MINING_RESET, and submits block
 * candidates.
 *
 * Failover: endpoints are tried in order of preference. A connection counts as healthy once
 * NodeCore has sent its first job; a connection that fails before that, an AUTH or SUBSCRIBE
 * failure, a dropped connection or a NodeCore that stays silent for `jobTimeoutMs` moves on to
 * the next endpoint after an exponential backoff with jitter (no wait after losing a healthy
 * connection). While on a fallback, the preferred endpoints are probed every
 * `failbackIntervalMs`; a probe that reaches its first job takes over, and the fallback
 * connection closes once its pending submits are answered. Every switch and every loss calls
 * `onReset()` first, because NodeCore job ids belong to one connection.
 *
 * Nothing here throws into the caller or stops the process: `submitBlock` always resolves.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { alertEvents, EpisodeLog } from "../log/mod.ts";
import { parseHostPort } from "../net/mod.ts";
import { UpstreamLink } from "./_upstream_link.ts";
import type { BlockSubmission, BlockSubmitResult, Template } from "./_upstream_template.ts";

export type { BlockSubmission, BlockSubmitResult, Template } from "./_upstream_template.ts";

const log = getLogger(["vbkpool", "server", "upstream"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** The connection state reported by {@linkcode Upstream.status}. */
export interface UpstreamStatus {
  /** `idle` before start, `connecting`, `ready` (jobs flowing), `backoff`, `stopped`. */
  state: "idle" | "connecting" | "ready" | "backoff" | "stopped";
  /** The endpoint in use or being tried. */
  endpoint: string | undefined;
  /** When the state began (ms). */
  since: number;
  /** Connections lost or failed since start. */
  reconnects: number;
  /** The last failure, if any. */
  lastError?: string;
}

/** Options for {@linkcode Upstream}. */
export interface UpstreamOptions {
  /** NodeCore UCP endpoints "host:port", most preferred first (at least one). */
  endpoints: readonly string[];
  /** The pool's VBK address (MINING_AUTH username). */
  address: string;
  /** MINING_AUTH password. @default "" */
  password?: string;
  /** MINING_SUBSCRIBE update_frequency_ms. @default 5000 */
  updateFrequencyMs?: number;
  /** TCP connect timeout in ms. @default 5000 */
  connectTimeoutMs?: number;
  /** Time from connect to the first job in ms. @default 15000 */
  handshakeTimeoutMs?: number;
  /** A connection without a job or mempool update for this long is dead, ms. @default 300000 */
  jobTimeoutMs?: number;
  /** How long a block submit waits for NodeCore's answer, ms. @default 15000 */
  submitTimeoutMs?: number;
  /** First reconnect delay, ms. @default 500 */
  backoffMinMs?: number;
  /** Longest reconnect delay, ms. @default 30000 */
  backoffMaxMs?: number;
  /** How often preferred endpoints are probed while on a fallback, ms. @default 30000 */
  failbackIntervalMs?: number;
  /** Longest UCP line accepted from NodeCore. @default 65536 */
  maxLineBytes?: number;
  /** Random numbers in [0, 1) for the jitter. @default Math.random */
  random?: () => number;
  /** A new template from the active NodeCore. */
  onTemplate(template: Template): void;
  /** Drop all current work (MINING_RESET, a lost connection or an endpoint switch). */
  onReset(): void;
  /** The connection state changed. */
  onStatus?(status: UpstreamStatus): void;
}

interface Endpoint {
  hostname: string;
  port: number;
  label: string;
}

/**
 * Parse and check a list of "host:port" endpoints.
 *
 * @example Usage
 * ```ts
 * import { parseEndpoints } from "./upstream.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseEndpoints(["127.0.0.1:8501"]), [
 *   { hostname: "127.0.0.1", port: 8501, label: "127.0.0.1:8501" },
 * ]);
 * assert.throws(() => parseEndpoints([]), RangeError);
 * ```
 *
 * @param endpoints Text such as "127.0.0.1:8501" or "[::1]:8501".
 * @returns Parsed endpoints.
 * @throws {RangeError} When the list is empty.
 * @throws {SyntaxError} When an entry is not host:port.
 */
export function parseEndpoints(endpoints: readonly string[]): Endpoint[] {
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw new RangeError("Cannot use NodeCore endpoints: the list is empty");
  }
  return endpoints.map((text) => {
    const { hostname, port } = parseHostPort(text);
    const label = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
    return { hostname, port, label };
  });
}

/**
 * The NodeCore client with failover.
 *
 * @example Usage
 * ```ts
 * import { Upstream } from "./upstream.ts";
 * import assert from "node:assert/strict";
 *
 * const upstream = new Upstream({
 *   endpoints: ["127.0.0.1:1"],
 *   address: "VFFDWUMLJwLRuNzH4NX8Rm32E59n6d",
 *   onTemplate: () => {},
 *   onReset: () => {},
 * });
 * upstream.start();
 * const result = await upstream.submitBlock({ upstreamJobId: 1, nTime: 0, nonce: 0, extraNonce: 0n });
 * assert.equal(result.accepted, false);
 * await upstream.stop();
 * assert.equal(upstream.status.state, "stopped");
 * ```
 */
export class Upstream {
  #o: UpstreamOptions;
  #endpoints: Endpoint[];
  #random: () => number;
  #status: UpstreamStatus;
  /** Whether NodeCore was reachable when last known (undefined before the first attempt). */
  #up: boolean | undefined;
  #active: UpstreamLink | undefined;
  #activeIndex = -1;
  #attempt: { link: UpstreamLink; index: number } | undefined;
  #probe: { link: UpstreamLink; index: number } | undefined;
  #retired = new Set<UpstreamLink>();
  #open = new Set<UpstreamLink>();
  #nextIndex = 0;
  #failures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #failbackTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #stopped = false;
  #delivered = false;

  /**
   * @param options Endpoints, credentials, timeouts and callbacks.
   * @throws {RangeError} When the endpoint list is empty.
   * @throws {SyntaxError} When an endpoint is not host:port.
   */
  constructor(options: UpstreamOptions) {
    this.#o = options;
    this.#endpoints = parseEndpoints(options.endpoints);
    this.#random = options.random ?? Math.random;
    this.#status = { state: "idle", endpoint: undefined, since: Date.now(), reconnects: 0 };
  }

  /** The current connection state. */
  get status(): Readonly<UpstreamStatus> {
    return { ...this.#status };
  }

  /** The newest template of the active NodeCore, if any. */
  get template(): Template | undefined {
    return this.#active?.template;
  }

  /** Start connecting (to the most preferred endpoint first). */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#connect(0);
  }

  /**
   * Submit a block candidate to the active NodeCore.
   *
   * @param submission Job id, nTime, nonce, extranonce (and optionally the template's endpoint).
   * @returns NodeCore's verdict; never rejects (timeouts and lost connections are failures).
   */
  submitBlock(submission: BlockSubmission): Promise<BlockSubmitResult> {
    const active = this.#active;
    if (this.#stopped) {
      return Promise.resolve({ accepted: false, outcome: "not_sent", reason: "upstream stopped" });
    }
    if (active === undefined) {
      return Promise.resolve({
        accepted: false,
        outcome: "not_sent",
        reason: "no NodeCore connection",
      });
    }
    if (submission.endpoint !== undefined && submission.endpoint !== active.endpoint) {
      return Promise.resolve({
        accepted: false,
        outcome: "not_sent",
        reason: `job from ${submission.endpoint}, but now connected to ${active.endpoint}`,
        endpoint: active.endpoint,
      });
    }
    const timeoutMs = this.#o.submitTimeoutMs ?? 15000;
    return active.submit(submission, timeoutMs).then((result) => {
      if (result.accepted) {
        log.info("NodeCore {endpoint} accepted block (job {job})", {
          endpoint: result.endpoint,
          job: submission.upstreamJobId,
        });
      } else {
        log.warn("NodeCore {endpoint} rejected block (job {job}): {reason}", {
          endpoint: result.endpoint ?? active.endpoint,
          job: submission.upstreamJobId,
          reason: result.reason ?? "",
        });
      }
      return result;
    }, (err) => ({
      accepted: false,
      outcome: "unknown",
      reason: String(err),
      endpoint: active.endpoint,
    }));
  }

  /** Close every connection and stop reconnecting; pending submits resolve as failures. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#failbackTimer);
    this.#active = undefined;
    this.#attempt = undefined;
    this.#probe = undefined;
    this.#retired.clear();
    this.#setStatus("stopped", undefined);
    for (const link of this.#open) link.close("upstream stopped");
    await Promise.allSettled([...this.#open].map((link) => link.done));
  }

  /**
   * Down on a failed attempt (backoff) unless already down, up on ready after that: one alert
   * per outage, and none for a switch between healthy endpoints.
   */
  #alert(state: UpstreamStatus["state"], endpoint: string | undefined, error?: string): void {
    if (state === "backoff" && this.#up !== false) {
      this.#up = false;
      const why = error ?? this.#status.lastError ?? "unknown";
      alertEvents.emit("upstream_down", `NodeCore is unreachable: ${why}`, {
        endpoint: endpoint ?? "",
        error: why,
      });
    } else if (state === "ready") {
      if (this.#up === false) {
        alertEvents.emit("upstream_up", `NodeCore ${endpoint ?? ""} is ready again`, {
          endpoint: endpoint ?? "",
        });
      }
      this.#up = true;
    }
  }

  #setStatus(state: UpstreamStatus["state"], endpoint: string | undefined, error?: string): void {
    this.#alert(state, endpoint, error);
    const lastError = error ?? this.#status.lastError;
    this.#status = {
      state,
      endpoint,
      since: Date.now(),
      reconnects: this.#status.reconnects,
      ...(lastError === undefined ? {} : { lastError }),
    };
    try {
      this.#o.onStatus?.({ ...this.#status });
    } catch (err) {
      episodes.error("status-handler", "Upstream status handler failed: {error}", {
        error: String(err),
      });
    }
  }

  #link(index: number): UpstreamLink {
    const ep = this.#endpoints[index]!;
    return new UpstreamLink({
      hostname: ep.hostname,
      port: ep.port,
      endpoint: ep.label,
      address: this.#o.address,
      password: this.#o.password ?? "",
      updateFrequencyMs: this.#o.updateFrequencyMs ?? 5000,
      connectTimeoutMs: this.#o.connectTimeoutMs ?? 5000,
      handshakeTimeoutMs: this.#o.handshakeTimeoutMs ?? 15000,
      jobTimeoutMs: this.#o.jobTimeoutMs ?? 300000,
      maxLineBytes: this.#o.maxLineBytes ?? 65536,
      onReady: (link) => this.#onReady(link),
      onTemplate: (link, template) => {
        if (link === this.#active) this.#deliver(template);
      },
      onReset: (link) => {
        if (link === this.#active) this.#reset(`MINING_RESET from ${link.endpoint}`);
      },
      onClosed: (link, reason) => this.#onClosed(link, reason),
    });
  }

  #track(link: UpstreamLink): void {
    this.#open.add(link);
    void link.open().then(() => link.done).finally(() => this.#open.delete(link));
  }

  #connect(index: number): void {
    if (this.#stopped) return;
    const link = this.#link(index);
    this.#attempt = { link, index };
    this.#setStatus("connecting", link.endpoint);
    episodes.info("connect", "Connecting to NodeCore {endpoint}", { endpoint: link.endpoint });
    this.#track(link);
  }

  #onReady(link: UpstreamLink): void {
    if (this.#stopped) return link.close("upstream stopped");
    let index: number;
    if (this.#attempt?.link === link) {
      index = this.#attempt.index;
      this.#attempt = undefined;
    } else if (this.#probe?.link === link) {
      index = this.#probe.index;
      this.#probe = undefined;
      log.info("NodeCore {endpoint} is healthy again: failing back from {old}", {
        endpoint: link.endpoint,
        old: this.#active?.endpoint ?? "-",
      });
    } else {
      return link.close("not needed");
    }
    const old = this.#active;
    if (old !== undefined) {
      this.#retired.add(old);
      old.retire(`replaced by ${link.endpoint}`);
    }
    this.#active = link;
    this.#activeIndex = index;
    this.#failures = 0;
    episodes.info("ready", "NodeCore {endpoint} ready (height {height})", {
      endpoint: link.endpoint,
      height: link.template?.height ?? -1,
    });
    this.#setStatus("ready", link.endpoint);
    if (this.#delivered) this.#reset(`now on ${link.endpoint}`);
    if (link.template !== undefined) this.#deliver(link.template);
    this.#scheduleFailback();
  }

  #deliver(template: Template): void {
    this.#delivered = true;
    try {
      this.#o.onTemplate(template);
    } catch (err) {
      episodes.error("template-handler", "Template handler failed: {error}", {
        error: String(err),
      });
    }
  }

  #reset(why: string): void {
    episodes.info("drop-work", "Dropping current work: {why}", { why });
    try {
      this.#o.onReset();
    } catch (err) {
      episodes.error("reset-handler", "Reset handler failed: {error}", { error: String(err) });
    }
  }

  #onClosed(link: UpstreamLink, reason: string): void {
    if (this.#retired.delete(link) || this.#stopped) return;
    if (this.#probe?.link === link) {
      episodes.debug("failback", "Failback probe of {endpoint} failed: {reason}", {
        endpoint: link.endpoint,
        reason,
      });
      const next = this.#probe.index + 1;
      this.#probe = undefined;
      if (next < this.#activeIndex) this.#startProbe(next);
      return;
    }
    let index: number;
    if (link === this.#active) {
      index = this.#activeIndex;
      this.#active = undefined;
      this.#activeIndex = -1;
      clearInterval(this.#failbackTimer);
      this.#probe?.link.close("active connection lost");
      this.#probe = undefined;
      episodes.warn("lost", "Lost NodeCore {endpoint}: {reason}", {
        endpoint: link.endpoint,
        reason,
      });
      if (this.#delivered) this.#reset(`lost ${link.endpoint}`);
    } else if (this.#attempt?.link === link) {
      index = this.#attempt.index;
      this.#attempt = undefined;
      this.#failures++;
      episodes.warn("cannot-use", "Cannot use NodeCore {endpoint}: {reason}", {
        endpoint: link.endpoint,
        reason,
      });
    } else {
      return;
    }
    this.#status = { ...this.#status, reconnects: this.#status.reconnects + 1 };
    this.#nextIndex = (index + 1) % this.#endpoints.length;
    const delay = this.#backoff();
    this.#setStatus("backoff", this.#endpoints[this.#nextIndex]!.label, reason);
    this.#retryTimer = setTimeout(() => this.#connect(this.#nextIndex), delay);
  }

  /** No wait after losing a healthy connection; then min·2^(k−1) capped, with ±25 % jitter. */
  #backoff(): number {
    if (this.#failures === 0) return 0;
    const min = this.#o.backoffMinMs ?? 500;
    const max = this.#o.backoffMaxMs ?? 30000;
    const base = Math.min(max, min * 2 ** Math.min(this.#failures - 1, 30));
    return Math.round(base * (0.75 + this.#random() * 0.5));
  }

  #scheduleFailback(): void {
    clearInterval(this.#failbackTimer);
    if (this.#activeIndex <= 0) return;
    const every = this.#o.failbackIntervalMs ?? 30000;
    this.#failbackTimer = setInterval(() => {
      if (this.#probe === undefined && this.#activeIndex > 0) this.#startProbe(0);
    }, every);
  }

  #startProbe(index: number): void {
    if (this.#stopped) return;
    const link = this.#link(index);
    this.#probe = { link, index };
    episodes.debug("probe", "Probing preferred NodeCore {endpoint}", { endpoint: link.endpoint });
    this.#track(link);
  }
}
