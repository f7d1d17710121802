/**
 * A NodeCore that lies: an HTTP proxy in front of the devnet's JSON-RPC API that passes every
 * request on and lets a test rewrite the `result` of the replies (real HTTP both ways).
 *
 * @module
 */
/** A JSON object. */
export type Json = Record<string, unknown>;

/** A running proxy. */
export interface RewriteProxy {
  /** Its `/api` URL. */
  url: string;
  /** Stop it. */
  close(): Promise<void>;
}

/**
 * Start a proxy to `target` that passes each reply's `result` through `rewrite`.
 *
 * @param target The real API URL.
 * @param rewrite Changes a method's result in place.
 * @returns The proxy.
 */
export function startRewriteProxy(
  target: string,
  rewrite: (method: string, result: Json) => void,
): RewriteProxy {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    const { method } = JSON.parse(body) as { method: string };
    const reply = await fetch(target, { method: "POST", headers: req.headers, body });
    const doc = await reply.json() as Json;
    if (typeof doc.result === "object" && doc.result !== null) {
      rewrite(method, doc.result as Json);
    }
    return Response.json(doc, { status: reply.status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/api`,
    close: () => server.shutdown(),
  };
}
