/**
 * The `[admin]` configuration section: the operator's HTTP listener of `vbkpool server` (bans,
 * connections, difficulty, reload, upgrade hand-over, upstream and store state, payments whose
 * outcome is unknown), and its client `vbkpool admin`. Off unless enabled; loopback by default;
 * every request carries the bearer token (see `api/admin_server.ts`).
 *
 * @module
 */
import type { SectionSpec } from "./config.ts";
import { ConfigError } from "./config.ts";
import { parseListen } from "./_devnet_schema.ts";

/** Shortest token accepted: a guessable token is no protection. */
export const MIN_TOKEN_LENGTH = 16;

function checkListen(value: unknown): string | undefined {
  try {
    parseListen(String(value));
    return undefined;
  } catch {
    return 'HOST:PORT, e.g. "127.0.0.1:8081" or "[::1]:8081" (port 0: any free port)';
  }
}

function checkToken(value: unknown): string | undefined {
  const token = String(value);
  if (token === "" || token.length >= MIN_TOKEN_LENGTH) return undefined;
  return `a token of at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`;
}

/** Keys of `[admin]`. */
export const ADMIN_SCHEMA: SectionSpec = {
  enabled: {
    kind: "boolean",
    default: false,
    doc: "Serve the admin listener (vbkpool admin talks to it); needs token or token_file.",
  },
  listen: {
    kind: "string",
    default: "127.0.0.1:8081",
    doc: "Admin address (HOST:PORT). Keep it on loopback or a private network.",
    check: checkListen,
  },
  token: {
    kind: "string",
    default: "",
    doc: "Bearer token of the admin listener (prefer VBKPOOL_ADMIN_TOKEN or token_file to a " +
      "file others can read); at least 16 characters.",
    check: checkToken,
  },
  token_file: {
    kind: "string",
    default: "",
    doc: "File holding the bearer token (first line; used when token is empty).",
  },
  metrics: {
    kind: "boolean",
    default: true,
    doc: "Also serve Prometheus /metrics on the admin listener (with the token); set " +
      "api.metrics = false to keep them off the public port.",
  },
  max_connections: {
    kind: "integer",
    default: 16,
    min: 1,
    max: 10000,
    doc: "Admin connections at once; more are closed at accept.",
  },
};

/**
 * The admin token from `[admin]`: `token`, else the first line of `token_file`.
 *
 * @example Usage
 * ```ts
 * import { adminToken } from "./_admin_schema.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(adminToken({ token: "0123456789abcdef0123", token_file: "" }), "0123456789abcdef0123");
 * assert.throws(() => adminToken({ token: "", token_file: "" }));
 * ```
 *
 * @param a The `[admin]` values.
 * @returns The token.
 * @throws {ConfigError} When neither is set, the file cannot be read or holds a short token.
 */
export function adminToken(a: Record<string, unknown>): string {
  const inline = a.token as string;
  if (inline !== "") return inline;
  const file = a.token_file as string;
  if (file === "") {
    throw new ConfigError(
      "Invalid configuration: the admin listener needs admin.token (or VBKPOOL_ADMIN_TOKEN) or " +
        "admin.token_file",
      "admin.token",
    );
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (err) {
    throw new ConfigError(
      `Cannot read admin.token_file ${file}: ${(err as Error).message}`,
      "admin.token_file",
    );
  }
  const token = (text.split(/\r?\n/)[0] ?? "").trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(
      `Invalid admin.token_file ${file}: its first line must be a token of at least ` +
        `${MIN_TOKEN_LENGTH} characters`,
      "admin.token_file",
    );
  }
  return token;
}
