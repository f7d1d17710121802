/**
 * TCP plumbing shared by the pool, the devnet and the miner: newline-delimited text connections
 * with bounded framing and send queues, a listener with caps, bans and deadlines, a client
 * connector, a small strict HTTP/1.1 server (for the API), and what every listener shares: the
 * accept loop that survives accept errors and the process's descriptor budget; and each port's
 * edge: TLS sessions on accepted sockets (certificates reloadable), PROXY protocol headers from
 * trusted proxies (address lists), both under a deadline, and the miner's TLS client (CA file or
 * pinned fingerprint). It knows bytes, lines and HTTP framing, not Stratum or UCP. Imports only
 * `protocol/`.
 *
 * @module
 */
export * from "./line_connection.ts";
export * from "./read_gate.ts";
export * from "./line_server.ts";
export * from "./line_client.ts";
export * from "./accept_loop.ts";
export * from "./descriptor_budget.ts";
export * from "./http_server.ts";
export * from "./host_port.ts";
export * from "./listen_error.ts";
export * from "./address_list.ts";
export * from "./edge_listener.ts";
export * from "./edge_connection.ts";
export * from "./tls_certificate.ts";
export * from "./tls_client.ts";
