/**
 * The admin listener of `vbkpool server`: the operator's HTTP endpoints, on a port of their own
 * (loopback by default), never on the public API port. Every request carries
 * `Authorization: Bearer TOKEN`, compared in constant time; bodies are small JSON objects
 * checked field by field. It runs on the project's strict HTTP server (bounded heads and
 * bodies, deadlines, connection caps). `vbkpool admin` is its client.
 *
 * Routes (JSON unless noted):
 *
 * - `GET /admin/bans`, `POST /admin/bans {"ip", "seconds"?}`, `DELETE /admin/bans/IP`
 * - `GET /admin/connections`, `DELETE /admin/connections/ID`
 * - `POST /admin/difficulty {"worker", "difficulty"}` (a decimal integer string or number)
 * - `POST /admin/reload` (the SIGHUP reload), `POST /admin/handover` (the SIGUSR2 hand-over)
 * - `GET /admin/upstream`, `GET /admin/store`
 * - `GET /admin/payments` (payments whose outcome is unknown),
 *   `POST /admin/payments/ID/settle {"sent": TXID} | {"not_sent": true}`, with `"force"`
 * - `GET /metrics` (Prometheus text), when the pool's metrics are kept
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import { HttpServer } from "../net/http_server.ts";
import { parseIpv6, peerIp } from "../protocol/ip_address.ts";
import type { Pool } from "../server/pool.ts";
import type { UpstreamStatus } from "../server/upstream.ts";
import type { Store } from "../store/mod.ts";
import { METRICS_CONTENT_TYPE } from "./metrics_registry.ts";

const log = getLogger(["vbkpool", "api", "admin"]);
const episodes = new EpisodeLog(log);

/** Largest request body, bytes: every admin body is a few fields. */
const MAX_BODY_BYTES = 4096;

/** How a payment whose outcome is unknown is settled. */
export interface AdminSettle {
  /** Sent in this transaction, or not sent. */
  outcome: { sent: string } | "not-sent";
  /** Settle even when NodeCore cannot confirm it. */
  force: boolean;
}

/** What the admin listener can do besides the pool's own handles (wired by `cli/`). */
export interface AdminActions {
  /** Read the configuration again and apply it; resolves to the report (`ok` false: refused). */
  reload(): Promise<{ ok: boolean } & Record<string, unknown>>;
  /** Start the hand-over to the next process (returns at once). */
  handOver(): { windowSeconds: number };
  /** Payments whose outcome is unknown (`{ unknown, summary }`, JSON-ready). */
  unknownPayments?(): Promise<Record<string, unknown>>;
  /** Settle one; resolves to `{ ok, … }`. */
  settlePayment?(id: bigint, how: AdminSettle): Promise<{ ok: boolean } & Record<string, unknown>>;
  /** The Prometheus text, when the metrics are kept. */
  metrics?(): string | undefined;
}

/** Options for {@linkcode AdminServer.start}. */
export interface AdminServerOptions {
  /** Address to bind. @default "127.0.0.1" */
  hostname?: string;
  /** Port (0: any free one). */
  port: number;
  /** The bearer token. */
  token: string;
  /** The running pool. */
  pool: Pool;
  /** The pool's store. */
  store: Store;
  /** The upstream's status. */
  upstream: () => UpstreamStatus;
  /** Reload, hand-over, payments, metrics. */
  actions: AdminActions;
  /** Connections at once. @default 16 */
  maxConnections?: number;
}

class AdminError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function json(status: number, body: unknown): Response {
  const text = JSON.stringify(body, (_k, v) => typeof v === "bigint" ? v.toString() : v);
  return new Response(text + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

/** Constant-time equality of two strings (their SHA-256 digests, so lengths do not leak). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(given)),
    crypto.subtle.digest("SHA-256", enc.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function ipParam(value: unknown): string {
  // Only text a peer can have: a zone id or a malformed IPv6 would be accepted and ban nobody.
  const v6 = (text: string) => text.includes(":") && parseIpv6(text.toLowerCase()) !== undefined;
  if (typeof value !== "string" || value.length > 64 || !(IPV4.test(value) || v6(value))) {
    throw new AdminError(400, "ip must be an IPv4 or IPv6 address");
  }
  // As the pool keys its peers: `::ffff:192.0.2.7` is 192.0.2.7, IPv6 in its canonical text.
  return peerIp(value.toLowerCase());
}

async function body(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AdminError(400, "the body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AdminError(400, "the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function onlyKeys(b: Record<string, unknown>, keys: readonly string[]): void {
  const extra = Object.keys(b).filter((k) => !keys.includes(k));
  if (extra.length > 0) {
    throw new AdminError(
      400,
      `unknown field ${JSON.stringify(extra[0])} (expected ${keys.join(", ")})`,
    );
  }
}

function positiveInteger(value: unknown, name: string, max: bigint): bigint {
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== "string" || !/^[1-9]\d{0,77}$/.test(text) || BigInt(text) > max) {
    throw new AdminError(400, `${name} must be a positive integer (at most ${max})`);
  }
  return BigInt(text);
}

/** The running admin listener. */
export class AdminServer {
  #server: HttpServer;
  #o: AdminServerOptions;
  #token: string;

  private constructor(options: AdminServerOptions) {
    this.#o = options;
    this.#token = options.token;
    this.#server = HttpServer.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port,
      name: "admin",
      methods: ["GET", "POST", "DELETE"],
      maxBodyBytes: MAX_BODY_BYTES,
      maxHeadBytes: 8192,
      maxConnections: options.maxConnections ?? 16,
      maxConnectionsPerIp: 0,
      headerTimeoutMs: 5000,
      idleTimeoutMs: 5000,
      responseTimeoutMs: 120_000,
      handler: (request, info) => this.#handle(request, info.remoteAddr.hostname),
    });
  }

  /**
   * Bind and serve.
   *
   * @param options Address, token, the pool and the actions.
   * @returns The running listener.
   * @throws {Deno.errors.AddrInUse} When the address is taken.
   */
  static start(options: AdminServerOptions): AdminServer {
    return new AdminServer(options);
  }

  /** The bound address. */
  get addr(): Deno.NetAddr {
    return this.#server.addr;
  }

  /** `http://host:port` of the bound address. */
  get url(): string {
    const { hostname, port } = this.addr;
    return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  }

  /**
   * Replace the bearer token (a configuration reload); the next request needs the new one.
   *
   * @param token The new token.
   */
  setToken(token: string): void {
    this.#token = token;
  }

  /** Stop serving (requests under way finish first, for a short while). */
  close(): Promise<void> {
    return this.#server.close(2000);
  }

  async #handle(request: Request, ip: string): Promise<Response> {
    const auth = request.headers.get("authorization") ?? "";
    const m = /^Bearer (.+)$/.exec(auth);
    if (m === null || !await sameSecret(m[1]!, this.#token)) {
      episodes.warn("auth", "admin request without a valid token from {ip}", { ip });
      const response = json(401, { error: "a valid bearer token is required", status: 401 });
      response.headers.set("www-authenticate", 'Bearer realm="vbkpool admin"');
      return response;
    }
    const url = new URL(request.url);
    try {
      return await this.#route(request, url.pathname);
    } catch (err) {
      if (err instanceof AdminError) {
        return json(err.status, { error: err.message, status: err.status });
      }
      log.error("admin {method} {path} failed: {error}", {
        method: request.method,
        path: url.pathname,
        error: err instanceof Error ? err.message : String(err),
      });
      return json(500, { error: "internal error (see the pool's log)", status: 500 });
    }
  }

  async #route(request: Request, path: string): Promise<Response> {
    const { pool, actions } = this.#o;
    const method = request.method;
    const parts = path.split("/").filter((p) => p !== "");
    const route = `${method} /${parts.slice(0, 2).join("/")}`;
    let arg: string | undefined;
    try {
      arg = parts[2] === undefined ? undefined : decodeURIComponent(parts[2]);
    } catch {
      throw new AdminError(400, "malformed path");
    }
    switch (parts.length <= 2 ? route : `${route}/:${parts.slice(3).join("/")}`) {
      case "GET /admin/bans":
        return json(200, { bans: pool.listBans() });
      case "POST /admin/bans": {
        const b = await body(request);
        onlyKeys(b, ["ip", "seconds"]);
        const ip = ipParam(b.ip);
        const seconds = b.seconds === undefined
          ? undefined
          : Number(positiveInteger(b.seconds, "seconds", 10n ** 9n));
        const ban = pool.ban(ip, seconds === undefined ? {} : { seconds });
        if (ban === undefined) {
          throw new AdminError(
            409,
            `${ip} cannot be banned: stratum.ban_enabled is false, or it is loopback with stratum.exempt_loopback`,
          );
        }
        log.info("admin: banned {ip}", { ip });
        return json(201, { ban });
      }
      case "DELETE /admin/bans/:": {
        const ip = ipParam(arg);
        if (!pool.unban(ip)) throw new AdminError(404, `${ip} is not banned`);
        return json(200, { unbanned: ip });
      }
      case "GET /admin/connections":
        return json(200, { connections: pool.connections() });
      case "DELETE /admin/connections/:": {
        const id = Number(positiveInteger(arg, "the connection id", 2n ** 52n));
        if (!pool.dropConnection(id)) throw new AdminError(404, `no connection ${id}`);
        log.info("admin: dropped connection {id}", { id });
        return json(200, { dropped: id });
      }
      case "POST /admin/difficulty": {
        const b = await body(request);
        onlyKeys(b, ["worker", "difficulty"]);
        if (typeof b.worker !== "string" || b.worker === "" || b.worker.length > 256) {
          throw new AdminError(400, "worker must be ADDRESS.WORKER or ADDRESS");
        }
        const difficulty = positiveInteger(b.difficulty, "difficulty", 1n << 64n);
        const n = pool.setWorkerDifficulty(b.worker, difficulty);
        if (n === 0) throw new AdminError(404, `no connection of ${b.worker}`);
        log.info("admin: difficulty of {worker} set to {difficulty} on {n} connections", {
          worker: b.worker,
          difficulty: difficulty.toString(),
          n,
        });
        return json(200, { worker: b.worker, difficulty, connections: n });
      }
      case "POST /admin/reload": {
        const report = await actions.reload();
        return json(report.ok ? 200 : 422, report);
      }
      case "POST /admin/handover":
        return json(202, actions.handOver());
      case "GET /admin/upstream":
        return json(200, this.#o.upstream());
      case "GET /admin/store":
        return json(200, { ...this.#o.store.stats(), readOnly: this.#o.store.readOnly });
      case "GET /admin/payments": {
        if (actions.unknownPayments === undefined) {
          throw new AdminError(404, "payouts are not set up");
        }
        return json(200, await actions.unknownPayments());
      }
      case "POST /admin/payments/:settle": {
        if (actions.settlePayment === undefined) {
          throw new AdminError(404, "payouts are not set up");
        }
        const id = positiveInteger(arg, "the payment id", (1n << 63n) - 1n);
        const b = await body(request);
        onlyKeys(b, ["sent", "not_sent", "force"]);
        const sent = b.sent;
        if ((sent === undefined) === (b.not_sent !== true)) {
          throw new AdminError(400, 'give exactly one of "sent": TXID and "not_sent": true');
        }
        if (sent !== undefined && (typeof sent !== "string" || !/^[0-9a-fA-F]{64}$/.test(sent))) {
          throw new AdminError(400, "sent must be a transaction id (64 hex digits)");
        }
        if (b.force !== undefined && typeof b.force !== "boolean") {
          throw new AdminError(400, "force must be true or false");
        }
        const result = await actions.settlePayment(id, {
          outcome: sent === undefined ? "not-sent" : { sent: sent as string },
          force: b.force === true,
        });
        return json(result.ok ? 200 : 409, result);
      }
      case "GET /metrics": {
        const text = actions.metrics?.();
        if (text === undefined) {
          throw new AdminError(404, "metrics are not kept ([api] enabled and metrics)");
        }
        return new Response(text, {
          headers: { "content-type": METRICS_CONTENT_TYPE, "cache-control": "no-store" },
        });
      }
      default:
        throw new AdminError(404, `no route ${method} ${path.slice(0, 200)}`);
    }
  }
}
