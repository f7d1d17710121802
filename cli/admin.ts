/**
 * `vbkpool admin …`: the client of a running server's admin listener (`[admin]`, see
 * `api/admin_server.ts`). It reads the same `[admin]` settings as the server (`listen`, and the
 * token from `token`, `VBKPOOL_ADMIN_TOKEN` or `token_file`), sends one request and prints the
 * answer as JSON. Exit status: 0 when the server did it, 1 when it refused or cannot be
 * reached, 2 on a usage or configuration error.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import { adminToken } from "./_admin_schema.ts";
import { parseListen } from "./_devnet_schema.ts";
import { formatHostPort } from "../net/mod.ts";
import { reachableHost } from "./_listen.ts";

/** One admin request. */
interface AdminRequest {
  method: "GET" | "POST" | "DELETE";
  path: string;
  body?: Record<string, unknown>;
}

const VERBS: Record<string, { args: string; doc: string }> = {
  bans: { args: "", doc: "list the IP bans in force" },
  ban: { args: "IP", doc: "ban an IP (--seconds N; default stratum.ban_seconds)" },
  unban: { args: "IP", doc: "lift an IP ban" },
  connections: { args: "", doc: "list the miners' connections" },
  drop: { args: "ID", doc: "close a connection" },
  difficulty: { args: "WORKER N", doc: "set the difficulty of a worker (ADDRESS[.NAME])" },
  reload: { args: "", doc: "reload the configuration (as SIGHUP)" },
  handover: { args: "", doc: "hand the miners over to the next process and exit (as SIGUSR2)" },
  upstream: { args: "", doc: "show the NodeCore connection" },
  store: { args: "", doc: "show the store's state" },
  payments: { args: "", doc: "list payments whose outcome is unknown" },
  settle: { args: "ID", doc: "settle one: --sent TXID or --not-sent [--force]" },
  metrics: { args: "", doc: "print the Prometheus metrics" },
};

function expect(words: string[], n: number, verb: string): string[] {
  if (words.length !== n) {
    const args = VERBS[verb]!.args;
    throw new UsageError(`admin ${verb} takes ${args === "" ? "no arguments" : args}`);
  }
  return words;
}

/** The request of a command line (`verb` and its words). */
function request(words: string[], options: Record<string, unknown>): AdminRequest {
  const [verb, ...rest] = words;
  if (verb === undefined) throw new UsageError("admin needs a command (see vbkpool admin --help)");
  if (!(verb in VERBS)) throw new UsageError(`unknown admin command '${verb}'`);
  const seconds = options.seconds as string | undefined;
  if (seconds !== undefined && verb !== "ban") throw new UsageError("--seconds goes with ban");
  const settling = options.sent !== undefined || options["not-sent"] === true ||
    options.force === true;
  if (settling && verb !== "settle") {
    throw new UsageError("--sent, --not-sent and --force go with settle");
  }
  const e = (s: string) => encodeURIComponent(s);
  switch (verb) {
    case "bans":
    case "connections":
    case "upstream":
    case "store":
    case "payments":
      expect(rest, 0, verb);
      return { method: "GET", path: `/admin/${verb}` };
    case "metrics":
      expect(rest, 0, verb);
      return { method: "GET", path: "/metrics" };
    case "reload":
    case "handover":
      expect(rest, 0, verb);
      return { method: "POST", path: `/admin/${verb}` };
    case "ban": {
      const [ip] = expect(rest, 1, verb);
      return {
        method: "POST",
        path: "/admin/bans",
        body: { ip, ...(seconds === undefined ? {} : { seconds }) },
      };
    }
    case "unban":
      return { method: "DELETE", path: `/admin/bans/${e(expect(rest, 1, verb)[0]!)}` };
    case "drop":
      return { method: "DELETE", path: `/admin/connections/${e(expect(rest, 1, verb)[0]!)}` };
    case "difficulty": {
      const [worker, difficulty] = expect(rest, 2, verb);
      return { method: "POST", path: "/admin/difficulty", body: { worker, difficulty } };
    }
    default: { // settle
      const [id] = expect(rest, 1, verb);
      const sent = options.sent as string | undefined;
      if ((sent === undefined) === (options["not-sent"] !== true)) {
        throw new UsageError("admin settle ID needs exactly one of --sent TXID and --not-sent");
      }
      return {
        method: "POST",
        path: `/admin/payments/${e(id!)}/settle`,
        body: {
          ...(sent === undefined ? { not_sent: true } : { sent }),
          ...(options.force === true ? { force: true } : {}),
        },
      };
    }
  }
}

async function run(ctx: CommandContext): Promise<number> {
  const req = request(ctx.args.positionals, ctx.args.options);
  const a = ctx.config.values.admin!;
  const token = adminToken(a);
  const { hostname, port } = parseListen(a.listen as string);
  const url = `http://${formatHostPort(reachableHost(hostname), port)}${req.path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: req.method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(req.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      signal: AbortSignal.timeout(150_000),
    });
  } catch (err) {
    console.error(
      `vbkpool admin: cannot reach the admin listener at ${url}: ${(err as Error).message} ` +
        "(is vbkpool server running with [admin] enabled = true?)",
    );
    return 1;
  }
  const text = await response.text();
  if (req.path === "/metrics" && response.ok) {
    console.log(text.trimEnd());
    return 0;
  }
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Printed as text.
  }
  if (!response.ok) {
    const error = (body as { error?: string })?.error ?? text.slice(0, 500);
    console.error(`vbkpool admin: ${error} (HTTP ${response.status})`);
    if (typeof body === "object" && body !== null && !("status" in body)) {
      console.error(JSON.stringify(body, null, 2));
    }
    return 1;
  }
  console.log(typeof body === "string" ? body : JSON.stringify(body, null, 2));
  return 0;
}

/** The `admin` command. */
export const adminCommand: Command = {
  name: "admin",
  summary: "talk to a running server's admin listener: bans, connections, reload, hand-over…",
  usage: Object.entries(VERBS).map(([verb, v]) => `admin ${verb}${v.args ? " " + v.args : ""}`),
  description: [
    "Sends one request to the admin listener of a running vbkpool server ([admin] listen, with",
    "the bearer token from admin.token, VBKPOOL_ADMIN_TOKEN or admin.token_file) and prints the",
    "answer as JSON. Commands:",
    ...Object.entries(VERBS).map(([verb, v]) =>
      `  ${(verb + (v.args ? " " + v.args : "")).padEnd(18)} ${v.doc}`
    ),
    "Exit status: 0 done, 1 refused by the server or unreachable, 2 usage or configuration.",
  ],
  options: [
    { flag: "seconds", kind: "string", valueName: "N", doc: "with ban: ban length in seconds" },
    { flag: "sent", kind: "string", valueName: "TXID", doc: "with settle: sent in TXID" },
    { flag: "not-sent", kind: "boolean", doc: "with settle: not sent (amounts paid again)" },
    { flag: "force", kind: "boolean", doc: "with settle: even when NodeCore cannot confirm it" },
  ],
  sections: ["admin.listen", "admin.token", "admin.token_file"],
  run,
};
