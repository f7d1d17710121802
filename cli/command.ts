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
  /**
   * Read the configuration again as it was read at start (the same file, the environment as it
   * is now, the same flags, which still win); throws a `ConfigError` when it is invalid. For a
   * reload (SIGHUP).
   */
  reloadConfig?: () => LoadedConfig;
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
  /**
   * The configuration the command reads: whole sections (`"stratum"`) or single keys
   * (`"nodecore.address"`, see `schemaKeys`). Exactly these keys get a `--SECTION.KEY` flag and
   * are loaded; a key the command does not read is an unknown option, never a silent no-op.
   */
  sections: string[];
  /** Run; resolves to the process exit status. */
  run(ctx: CommandContext): Promise<number>;
}

/**
 * Wait until the user asks to stop, or until `seconds` have passed.
 *
 * @example Usage
 * ```ts
 * import { waitForStop } from "./command.ts";
 *
 * const stop = new AbortController();
 * const waiting = waitForStop(stop.signal);
 * stop.abort();
 * await waiting;
 * await waitForStop(new AbortController().signal, 0.01);
 * ```
 *
 * @param signal The command's stop signal.
 * @param seconds Longest wait (none: until the signal).
 * @returns Resolves on the signal or the timeout, whichever comes first.
 */
export function waitForStop(signal: AbortSignal, seconds?: number): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = seconds === undefined ? undefined : setTimeout(done, seconds * 1000);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
