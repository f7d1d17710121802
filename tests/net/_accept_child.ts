/**
 * Child process of `accept_loop_test.ts`, run under a low `ulimit -n`: an echo line server and
 * an HTTP server, both without a descriptor budget, so that a flood of connections makes their
 * accepts fail with EMFILE. Prints `{"line": PORT, "http": PORT}` on stdout, logs to stderr,
 * and stops cleanly on SIGTERM (exit 0). The line `errors` is answered with the accept errors
 * so far (`errors {"EMFILE":N}`), so the test can wait for them instead of sleeping.
 *
 * @module
 */
import { setupLogging } from "../../cli/log.ts";
import { acceptErrorCounts } from "../../net/accept_loop.ts";
import { HttpServer, LineServer } from "../../net/mod.ts";

setupLogging({ level: "info" });
const lines = LineServer.listen({
  port: 0,
  name: "echo",
  descriptors: null,
  onConnection: (conn) => ({
    onLine: (line) =>
      void conn.send(
        line === "errors" ? `errors ${JSON.stringify(acceptErrorCounts())}` : `echo ${line}`,
      ),
  }),
});
const http = HttpServer.listen({
  port: 0,
  name: "http",
  descriptors: null,
  headerTimeoutMs: 120_000,
  handler: () => new Response("ok"),
});
console.log(JSON.stringify({ line: lines.addr.port, http: http.addr.port }));
Deno.addSignalListener("SIGTERM", async () => {
  await Promise.all([lines.close(), http.close()]);
  Deno.exit(0);
});
