/**
 * The `vbkpool` command-line runner: program help and version, command dispatch, global options,
 * configuration and logging set-up, and the exit status.
 *
 * @module
 */
import { configFlags, formatOptions, type OptionSpec, parseArgs, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { expandKeys, SCHEMA } from "./config_schema.ts";
import { type LogFormat, logger, setupLogging } from "./log.ts";
import type { LogLevel } from "@logtape/logtape";
import { VERSION } from "./version.ts";
import { endAllEpisodes } from "../log/mod.ts";

/** Options every command accepts. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { flag: "config", kind: "string", valueName: "PATH", doc: "TOML configuration file" },
  { flag: "log-level", key: "log.level", kind: "string", valueName: "LEVEL", doc: "log level" },
  {
    flag: "log-format",
    key: "log.format",
    kind: "string",
    valueName: "FORMAT",
    doc: "pretty or json",
  },
  { flag: "help", kind: "boolean", doc: "show this help" },
];

/** Where the runner writes its own output. */
export interface RunOutput {
  /** Normal output (help, version). */
  out: (text: string) => void;
  /** Error output. */
  err: (text: string) => void;
}

const DEFAULT_OUTPUT: RunOutput = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

/**
 * A `--SECTION.KEY VALUE` option for every key of the given configuration sections and keys, so
 * that every key can be set by a flag (a list key takes one item per occurrence; a boolean key
 * takes `true` or `false`). The value is checked by the schema, naming the key.
 *
 * @example Usage
 * ```ts
 * import { keyOptions } from "./run.ts";
 * import assert from "node:assert/strict";
 *
 * const specs = keyOptions(["mine", "nodecore.address"]);
 * const timeout = specs.find((s) => s.flag === "mine.connect_timeout");
 * assert.equal(timeout?.key, "mine.connect_timeout");
 * assert.equal(specs.find((s) => s.flag === "mine.pools")?.kind, "list");
 * assert.ok(specs.some((s) => s.flag === "nodecore.address"));
 * assert.ok(!specs.some((s) => s.flag === "nodecore.endpoints"));
 * ```
 *
 * @param sections Configuration sections and single keys (unknown names are skipped).
 * @returns One option per key, named `SECTION.KEY` like the key itself.
 */
export function keyOptions(sections: readonly string[]): OptionSpec[] {
  return expandKeys(sections).map((name) => {
    const [section, key] = name.split(".") as [string, string];
    const field = SCHEMA[section]![key]!;
    return {
      flag: name,
      key: name,
      kind: field.kind === "string_list" ? "list" : "string",
      valueName: "VALUE",
      doc: field.doc,
    };
  });
}

function commandSections(command: Command): string[] {
  return ["log", ...command.sections];
}

/** `[stratum]`, `[payouts] (except enabled)` or `store.url, …`: what a command reads. */
function describeKeys(entries: readonly string[]): string[] {
  const keys = expandKeys(entries);
  const out: string[] = [];
  for (const section of new Set(keys.map((k) => k.split(".")[0]!))) {
    const all = Object.keys(SCHEMA[section]!);
    const read = keys.filter((k) => k.startsWith(`${section}.`)).map((k) => k.split(".")[1]!);
    const left = all.filter((k) => !read.includes(k));
    if (left.length === 0) out.push(`[${section}]`);
    else if (left.length <= read.length) out.push(`[${section}] (except ${left.join(", ")})`);
    else out.push(...read.map((k) => `${section}.${k}`));
  }
  return out;
}

function wrap(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/**
 * Why `--NAME` is unknown when it sets a configuration key the command does not read (`NAME` is
 * the key, or another command's option for it).
 */
function notRead(command: Command, name: string, commands: readonly Command[]): string | undefined {
  if (expandKeys([name]).includes(name)) return `vbkpool ${command.name} does not read ${name}`;
  for (const other of commands) {
    const key = other.options.find((o) => o.flag === name)?.key;
    if (key !== undefined) {
      return `vbkpool ${command.name} does not read ${key} (--${name} of vbkpool ${other.name})`;
    }
  }
  return undefined;
}

function programHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `vbkpool ${VERSION}: a VeriBlock (vBlake) mining pool and miner in one program`,
    "",
    "Usage: vbkpool <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  --help     show help (also after a command: vbkpool <command> --help)",
    "  --version  print the version (and the Deno that runs it)",
    "",
    "Configuration: --config PATH, or vbkpool.toml in the working directory; every key can also",
    "be set with an environment variable VBKPOOL_<SECTION>_<KEY> or a flag --SECTION.KEY VALUE",
    "(flag > env > file; see vbkpool.example.toml for the keys).",
  ].join("\n");
}

function commandHelp(command: Command): string {
  const lines = [
    `vbkpool ${command.name}: ${command.summary}`,
    "",
    "Usage:",
    ...command.usage.map((u) => `  vbkpool ${u}`),
  ];
  if (command.description) lines.push("", ...command.description);
  lines.push("", "Options:", ...formatOptions([...command.options, ...GLOBAL_OPTIONS]));
  const keys = describeKeys(commandSections(command)).join(", ");
  lines.push(
    "",
    ...wrap(
      `Any configuration key of ${keys} can also be set with --SECTION.KEY VALUE ` +
        "(e.g. --log.level debug; repeat the flag for a list; see vbkpool.example.toml).",
    ),
  );
  return lines.join("\n");
}

/** How a usage or configuration error is shown: to whom, and whether as a JSON log line. */
interface FailureOptions {
  output: RunOutput;
  command?: Command | undefined;
  json: boolean;
}

/**
 * Show a usage or configuration error: one line, `vbkpool: …` on the error output, or with
 * `--log-format json` a JSON log line like every other line on stderr.
 */
function usageFailure(message: string, options: FailureOptions): number {
  const { command } = options;
  const hint = command ? `vbkpool ${command.name} --help` : "vbkpool --help";
  const text = `${message} (see '${hint}')`;
  if (options.json) {
    setupLogging({ format: "json" });
    logger("cli").error("{message}", { message: text });
  } else options.output.err(`vbkpool: ${text}`);
  return 2;
}

/** Whether JSON logs were asked for, read before the configuration is (or could be) loaded. */
function wantsJsonLog(argv: readonly string[], env: Record<string, string>): boolean {
  for (let i = 0; i < argv.length; i++) {
    const m = /^--log[-.]format(?:=(.*))?$/.exec(argv[i]!);
    if (m !== null) return (m[1] ?? argv[i + 1]) === "json";
  }
  return env["VBKPOOL_LOG_FORMAT"] === "json";
}

/** Options for {@linkcode runCli}. */
export interface RunCliOptions {
  /** Output functions. @default console */
  output?: RunOutput;
  /** Environment. @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** Stop signal handed to the command. A SIGINT/SIGTERM-driven one by default. */
  stopSignal?: AbortSignal;
}

function signalDrivenAbort(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(sig, stop);
    } catch {
      // Not every platform has every signal.
    }
  }
  return controller.signal;
}

/**
 * Run the command line and return the exit status.
 *
 * @param argv Arguments (without the program name).
 * @param commands Implemented commands.
 * @param options Output, environment, stop signal.
 * @returns 0 on success, 1 on a runtime failure, 2 on a usage or configuration error.
 */
export async function runCli(
  argv: readonly string[],
  commands: readonly Command[],
  options: RunCliOptions = {},
): Promise<number> {
  const output = options.output ?? DEFAULT_OUTPUT;
  const env = options.env ?? Deno.env.toObject();
  const failure = { output, json: wantsJsonLog(argv, env) };
  const first = argv[0];
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const topic = first === "help" ? commands.find((c) => c.name === argv[1]) : undefined;
    output.out(topic ? commandHelp(topic) : programHelp(commands));
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-V") {
    output.out(`vbkpool ${VERSION} (Deno ${Deno.version.deno})`);
    return 0;
  }
  if (first.startsWith("-")) return usageFailure(`unknown option ${first}`, failure);
  const command = commands.find((c) => c.name === first);
  if (command === undefined) return usageFailure(`unknown command '${first}'`, failure);
  const specs = [...command.options, ...GLOBAL_OPTIONS, ...keyOptions(commandSections(command))];
  let parsed;
  try {
    parsed = parseArgs(argv.slice(1), specs, {
      whyUnknown: (name) => notRead(command, name, commands),
    });
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(err.message, { ...failure, command });
    throw err;
  }
  if (parsed.options.help === true) {
    output.out(commandHelp(command));
    return 0;
  }
  const path = parsed.options.config as string | undefined;
  const flags = configFlags(parsed, specs);
  const sections = commandSections(command);
  const reloadConfig = () =>
    loadConfig(SCHEMA, { path, env: options.env ?? Deno.env.toObject(), flags, sections });
  let config;
  try {
    config = loadConfig(SCHEMA, { path, env, flags, sections });
  } catch (err) {
    if (err instanceof ConfigError) return usageFailure(err.message, { ...failure, command });
    throw err;
  }
  const log = config.values.log!;
  setupLogging({
    level: log.level as LogLevel,
    format: log.format as LogFormat,
    summarySeconds: log.summary_seconds as number,
  });
  for (const warning of config.warnings) logger("config").warn("{warning}", { warning });
  try {
    return await command.run({
      args: parsed,
      config,
      stopSignal: options.stopSignal ?? signalDrivenAbort(),
      reloadConfig,
    });
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      return usageFailure(err.message, { output, command, json: log.format === "json" });
    }
    const message = err instanceof Error ? err.message : String(err);
    logger("cli").fatal("{command} failed: {message}", { command: command.name, message });
    logger("cli").debug("{stack}", { stack: err instanceof Error ? err.stack : "" });
    return 1;
  } finally {
    // Repeated events still being counted get their end line (with their totals) before exit.
    endAllEpisodes();
  }
}
