/**
 * The devnet's HTTP JSON-RPC API: the subset of NodeCore's Admin API the payout service uses
 * (`getinfo`, `getstateinfo`, `getlastblock`, `getblocks`, `getbalance`, `sendcoins`,
 * `gettransactions`, `getpendingtransactions`, `getsignatureindex`) on `POST /api`, JSON-RPC
 * 2.0, with NodeCore's optional `X-VBK-RPC-PASSWORD` header (HTTP 401 without it). The payout
 * service talks to the devnet through exactly the client it uses for NodeCore. Tests can make
 * `sendcoins` misbehave through {@linkcode DevnetFaults} (test-only).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { EpisodeLog } from "../log/mod.ts";
import type { DevnetChain } from "./chain.ts";
import type { DevnetLedger } from "./ledger.ts";
import { callMethod, type Json, RpcParamsError } from "./_rpc_methods.ts";
import type { DevnetFaults } from "./fault_injection.ts";
import { formatHostPort } from "../net/mod.ts";

const log = getLogger(["vbkpool", "devnet", "rpc"]);
/** Lines a client or NodeCore can repeat at will: once, then counted (see log/). */
const episodes = new EpisodeLog(log);

/** Largest request body accepted. */
const MAX_BODY = 1 << 20;

/** Options for {@linkcode DevnetRpcServer.start}. */
export interface DevnetRpcServerOptions {
  /** The chain. */
  chain: DevnetChain;
  /** The ledger. */
  ledger: DevnetLedger;
  /** Interface. @default "127.0.0.1" */
  hostname?: string;
  /** Port (0 picks a free one). @default 10600 */
  port?: number;
  /** Required `X-VBK-RPC-PASSWORD`; none when empty or absent. */
  password?: string;
  /** Test-only: faults armed for `sendcoins`. */
  faults?: DevnetFaults;
}

function reply(id: unknown, body: Json): Response {
  const text = JSON.stringify(
    { jsonrpc: "2.0", id: id ?? null, ...body },
    (_k, v) => typeof v === "bigint" ? v.toString() : v,
  );
  return new Response(text, { headers: { "content-type": "application/json" } });
}

function rpcError(id: unknown, code: number, message: string): Response {
  return reply(id, { error: { code, message } });
}

/**
 * A running devnet HTTP API.
 *
 * @example Usage
 * ```ts
 * import { DevnetRpcServer } from "./rpc_server.ts";
 * import { startDevnet } from "./node.ts";
 * import assert from "node:assert/strict";
 *
 * const devnet = await startDevnet({ port: 0, minDifficulty: 1000n, mempoolIntervalMs: 0 });
 * const api = DevnetRpcServer.start({ chain: devnet.chain, ledger: devnet.ledger, port: 0 });
 * const res = await fetch(`http://127.0.0.1:${api.addr.port}/api`, {
 *   method: "POST",
 *   body: JSON.stringify({ jsonrpc: "2.0", method: "getinfo", params: {}, id: 1 }),
 * });
 * const { result } = await res.json();
 * assert.equal(result.numberOfBlocks, 1);
 * await api.close();
 * await devnet.stop();
 * ```
 */
export class DevnetRpcServer {
  /** Where it listens. */
  readonly addr: { hostname: string; port: number };
  #server: Deno.HttpServer<Deno.NetAddr>;
  #closing: Promise<void> | undefined;

  private constructor(server: Deno.HttpServer<Deno.NetAddr>) {
    this.#server = server;
    this.addr = { hostname: server.addr.hostname, port: server.addr.port };
  }

  /**
   * Listen and serve.
   *
   * @param options Chain, ledger, address, password.
   * @returns The server.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   */
  static start(options: DevnetRpcServerOptions): DevnetRpcServer {
    const ctx = { chain: options.chain, ledger: options.ledger };
    const password = options.password ?? "";
    const server = Deno.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 10600,
      onListen() {},
    }, async (req) => {
      const path = new URL(req.url).pathname;
      if (path !== "/api") return new Response("not found\n", { status: 404 });
      if (req.method !== "POST") {
        return new Response("use POST\n", { status: 405, headers: { allow: "POST" } });
      }
      if (password !== "" && req.headers.get("x-vbk-rpc-password") !== password) {
        return new Response(null, { status: 401 });
      }
      const length = Number(req.headers.get("content-length") ?? "0");
      if (length > MAX_BODY) return new Response("request too large\n", { status: 413 });
      let text: string;
      try {
        text = await req.text();
      } catch {
        return new Response("bad request\n", { status: 400 });
      }
      if (text.length > MAX_BODY) return new Response("request too large\n", { status: 413 });
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return rpcError(null, -32700, "Parse error");
      }
      if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        return rpcError(null, -32600, "Invalid Request");
      }
      const { id, method, params } = doc as Json;
      if (typeof method !== "string") return rpcError(id, -32600, "Invalid Request");
      if (params !== undefined && (typeof params !== "object" || params === null)) {
        return rpcError(id, -32602, "Invalid params: params must be an object");
      }
      try {
        const call = () => callMethod(ctx, method, (params ?? {}) as Json);
        const faults = options.faults;
        if (method === "sendcoins" && faults?.armed) {
          const result = await faults.sendcoins(() => call()!);
          if (result === undefined) return new Response("internal error\n", { status: 500 });
          return reply(id, { result });
        }
        const result = call();
        if (result === undefined) return rpcError(id, -32601, `Method not found: ${method}`);
        return reply(id, { result });
      } catch (err) {
        if (err instanceof RpcParamsError) {
          return rpcError(id, -32602, `Invalid params: ${err.message}`);
        }
        episodes.error("failed", "Devnet API {method} failed: {error}", {
          method,
          error: String(err),
        });
        return new Response("internal error\n", { status: 500 });
      }
    });
    const api = new DevnetRpcServer(server);
    const url = `http://${formatHostPort(api.addr.hostname, api.addr.port)}/api`;
    if (password === "") log.info("Devnet NodeCore HTTP API on {url}", { url });
    else log.info("Devnet NodeCore HTTP API on {url} (X-VBK-RPC-PASSWORD required)", { url });
    return api;
  }

  /** Stop listening and close open connections. */
  close(): Promise<void> {
    this.#closing ??= this.#server.shutdown();
    return this.#closing;
  }
}
