/**
 * The `vbkpool` command-line runner: program help and version, command dispatch, global options,
 * configuration and logging set-up, and the exit status.
 *
 * @module
 */
import { configFlags, formatOptions, type OptionSpec, parseArgs, UsageError } from "./args.ts";
import type { Command } from "./command.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { SCHEMA } from "./config_schema.ts";
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
 * A `--SECTION.KEY VALUE` option for every key of the given configuration sections, so that
 * every key can be set by a flag (a list key takes one item per occurrence; a boolean key
 * takes `true` or `false`). The value is checked by the schema, naming the key.
 *
 * @example Usage
 * ```ts
 * import { keyOptions } from "./run.ts";
 * import assert from "node:assert/strict";
 *
 * const specs = keyOptions(["mine"]);
 * const timeout = specs.find((s) => s.flag === "mine.connect_timeout");
 * assert.equal(timeout?.key, "mine.connect_timeout");
 * assert.equal(specs.find((s) => s.flag === "mine.pools")?.kind, "list");
 * ```
 *
 * @param sections Configuration sections (unknown names are skipped).
 * @returns One option per key, named `SECTION.KEY` like the key itself.
 */
export function keyOptions(sections: readonly string[]): OptionSpec[] {
  const out: OptionSpec[] = [];
  for (const section of new Set(sections)) {
    for (const [key, field] of Object.entries(SCHEMA[section] ?? {})) {
      out.push({
        flag: `${section}.${key}`,
        key: `${section}.${key}`,
        kind: field.kind === "string_list" ? "list" : "string",
        valueName: "VALUE",
        doc: field.doc,
      });
    }
  }
  return out;
}

function commandSections(command: Command): string[] {
  return ["log", ...command.sections];
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
  const sections = commandSections(command).map((s) => `[${s}]`).join(", ");
  lines.push(
    "",
    `Any configuration key of ${sections} can also be set with --SECTION.KEY VALUE`,
    "(e.g. --log.level debug; repeat the flag for a list; see vbkpool.example.toml).",
  );
  return lines.join("\n");
}

function usageFailure(output: RunOutput, message: string, command?: Command): number {
  const hint = command ? `vbkpool ${command.name} --help` : "vbkpool --help";
  output.err(`vbkpool: ${message} (see '${hint}')`);
  return 2;
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
  if (first.startsWith("-")) return usageFailure(output, `unknown option ${first}`);
  const command = commands.find((c) => c.name === first);
  if (command === undefined) return usageFailure(output, `unknown command '${first}'`);
  const specs = [...command.options, ...GLOBAL_OPTIONS, ...keyOptions(commandSections(command))];
  let parsed;
  try {
    parsed = parseArgs(argv.slice(1), specs);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(output, err.message, command);
    throw err;
  }
  if (parsed.options.help === true) {
    output.out(commandHelp(command));
    return 0;
  }
  let config;
  try {
    config = loadConfig(SCHEMA, {
      path: parsed.options.config as string | undefined,
      env: options.env ?? Deno.env.toObject(),
      flags: configFlags(parsed, specs),
      sections: commandSections(command),
    });
  } catch (err) {
    if (err instanceof ConfigError) return usageFailure(output, err.message, command);
    throw err;
  }
  const log = config.values.log!;
  setupLogging({
    level: log.level as LogLevel,
    format: log.format as LogFormat,
    summarySeconds: log.summary_seconds as number,
  });
  try {
    return await command.run({
      args: parsed,
      config,
      stopSignal: options.stopSignal ?? signalDrivenAbort(),
    });
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(output, err.message, command);
    if (err instanceof ConfigError) return usageFailure(output, err.message, command);
    const message = err instanceof Error ? err.message : String(err);
    logger("cli").fatal("{command} failed: {message}", { command: command.name, message });
    logger("cli").debug("{stack}", { stack: err instanceof Error ? err.stack : "" });
    return 1;
  } finally {
    // Repeated events still being counted get their end line (with their totals) before exit.
    endAllEpisodes();
  }
}
