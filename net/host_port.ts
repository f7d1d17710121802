/**
 * How an address is written in logs, errors and URLs: `HOST:PORT`, with an IPv6 host in
 * brackets (`[::1]:3333`) so that the port stays readable. `parseHostPort` (in
 * `line_client.ts`) reads both forms back.
 *
 * @module
 */

/**
 * Write a host and port as `HOST:PORT`, bracketing an IPv6 host.
 *
 * @example Usage
 * ```ts
 * import { formatHostPort } from "./host_port.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatHostPort("127.0.0.1", 3333), "127.0.0.1:3333");
 * assert.equal(formatHostPort("::1", 3333), "[::1]:3333");
 * assert.equal(formatHostPort("[::1]", 3333), "[::1]:3333");
 * ```
 *
 * @param hostname Host name or address (an IPv6 address may already be bracketed).
 * @param port Port.
 * @returns The address text.
 */
export function formatHostPort(hostname: string, port: number): string {
  const host = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  return `${host}:${port}`;
}
