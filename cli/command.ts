/**
 * The shape of a `vbkpool` subcommand.
 *
 * @module
 */
import type { OptionSpec, ParsedArgs } from "./args.ts";
import type { LoadedConfig } from "./config.ts";

/** What a command receives when it runs. */
export interface CommandContext {
  /** Parsed command line. */
  args: ParsedArgs;
  /** Loaded configuration (the sections the command declared, plus `log`). */
  config: LoadedConfig;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM). */
  stopSignal: AbortSignal;
}

/** A subcommand. */
export interface Command {
  /** Name on the command line. */
  name: string;
  /** One-line summary for the program help. */
  summary: string;
  /** Usage lines, without the leading `vbkpool `. */
  usage: string[];
  /** Longer help paragraphs. */
  description?: string[];
  /** Command-specific options (global ones are added by the runner). */
  options: OptionSpec[];
  /** Configuration sections the command reads. */
  sections: string[];
  /** Run; resolves to the process exit status. */
  run(ctx: CommandContext): Promise<number>;
}
