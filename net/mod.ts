/**
 * TCP plumbing shared by the pool, the devnet and the miner: newline-delimited text connections
 * with bounded framing and send queues, a listener with caps, bans and deadlines, and a client
 * connector. It knows bytes and lines, not Stratum or UCP. Imports only `protocol/`.
 *
 * @module
 */
export * from "./line_connection.ts";
export * from "./line_server.ts";
export * from "./line_client.ts";
export * from "./host_port.ts";
export * from "./listen_error.ts";
