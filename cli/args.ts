/**
 * Command-line parsing: `--name value`, `--name=value`, boolean switches, repeatable options and
 * positionals, with one-line errors for anything unknown (naming the closest known option),
 * missing or malformed.
 *
 * @module
 */
import { didYouMean } from "./_suggest.ts";

/** The kinds of value an option takes. */
export type OptionKind = "string" | "integer" | "number" | "boolean" | "list";

/** One command-line option. */
export interface OptionSpec {
  /** Long name without dashes, e.g. `log-level`. */
  flag: string;
  /** Configuration key (`section.key`) this option sets; its text is checked by the schema. */
  key?: string;
  /** Value kind; `list` may be repeated. */
  kind: OptionKind;
  /** Placeholder in usage text, e.g. `LEVEL`. */
  valueName?: string;
  /** One-line description. */
  doc: string;
}

/** Parsed command line for one command. */
export interface ParsedArgs {
  /** Option values by flag name: text for `key` options, typed values otherwise. */
  options: Record<string, unknown>;
  /** Positional arguments in order. */
  positionals: string[];
}

/** A command-line usage error: printed as one line plus a hint, exit status 2. */
export class UsageError extends Error {
  /**
   * @param message What is wrong, in one line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function typedValue(spec: OptionSpec, text: string): unknown {
  if (spec.key !== undefined) return text; // the config schema checks it, naming the key
  if (spec.kind === "integer") {
    if (!/^[-+]?\d+$/.test(text.trim())) {
      throw new UsageError(`Option --${spec.flag} expects an integer, got ${JSON.stringify(text)}`);
    }
    return Number(text);
  }
  if (spec.kind === "number") {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n)) {
      throw new UsageError(`Option --${spec.flag} expects a number, got ${JSON.stringify(text)}`);
    }
    return n;
  }
  return text;
}

/** Options for {@linkcode parseArgs}. */
export interface ParseArgsOptions {
  /**
   * Why an unknown option is unknown, when the caller knows better than "did you mean" (e.g. a
   * configuration key the command does not read); undefined to suggest the closest option.
   */
  whyUnknown?: (name: string) => string | undefined;
}

function unknownOption(name: string, specs: readonly OptionSpec[], o: ParseArgsOptions): never {
  const why = o.whyUnknown?.(name);
  const hint = why === undefined
    ? didYouMean(name, specs.map((s) => s.flag), (f) => `--${f}`)
    : `: ${why}`;
  throw new UsageError(`Unknown option --${name}${hint}`);
}

/**
 * Parse `argv` against the option specs of one command.
 *
 * @example Usage
 * ```ts
 * import { parseArgs } from "./args.ts";
 * import assert from "node:assert/strict";
 * const specs = [{ flag: "threads", kind: "integer" as const, doc: "threads" }];
 * const parsed = parseArgs(["--threads=2", "file.txt"], specs);
 * assert.equal(parsed.options.threads, 2);
 * assert.deepEqual(parsed.positionals, ["file.txt"]);
 * ```
 *
 * @param argv Arguments after the command name.
 * @param specs Options the command accepts.
 * @param options How to explain an unknown option.
 * @returns Options and positionals.
 * @throws {UsageError} On an unknown option, a missing value or a malformed number.
 */
export function parseArgs(
  argv: readonly string[],
  specs: readonly OptionSpec[],
  options: ParseArgsOptions = {},
): ParsedArgs {
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-" && !/^-\d/.test(arg)) {
        throw new UsageError(`Unknown option ${arg}`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = byFlag.get(name);
    if (spec === undefined) unknownOption(name, specs, options);
    if (spec.kind === "boolean") {
      if (eq !== -1) {
        const v = arg.slice(eq + 1);
        if (!/^(true|false)$/.test(v)) {
          throw new UsageError(`Option --${name} expects true or false, got ${JSON.stringify(v)}`);
        }
        values[name] = v === "true";
      } else {
        values[name] = true;
      }
      continue;
    }
    let text: string;
    if (eq !== -1) {
      text = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(`Option --${name} needs a value`);
      }
      text = next;
      i++;
    }
    if (spec.kind === "list") {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(text);
      values[name] = list;
    } else {
      values[name] = typedValue(spec, text);
    }
  }
  return { options: values, positionals };
}

/**
 * Collect the options that set configuration keys, keyed `section.key`.
 *
 * @param parsed Parsed arguments.
 * @param specs The specs they were parsed with.
 * @returns Flag values for {@linkcode loadConfig}.
 */
export function configFlags(
  parsed: ParsedArgs,
  specs: readonly OptionSpec[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    if (spec.key !== undefined && spec.flag in parsed.options) {
      out[spec.key] = parsed.options[spec.flag];
    }
  }
  return out;
}

/**
 * Render options as aligned help lines.
 *
 * @param specs Options to show.
 * @returns Lines such as `  --threads N   worker threads`.
 */
export function formatOptions(specs: readonly OptionSpec[]): string[] {
  const left = specs.map((s) =>
    s.kind === "boolean" ? `--${s.flag}` : `--${s.flag} ${s.valueName ?? "VALUE"}`
  );
  const width = Math.max(0, ...left.map((l) => l.length));
  return specs.map((s, i) => `  ${left[i]!.padEnd(width)}  ${s.doc}`);
}
