/**
 * Reading the TOML configuration file: its text parsed with smol-toml, every section and key
 * checked against the schema, and each mistake named where it is (`vbkpool.toml:12:5: …`, with
 * the closest known name for a misspelt key or section). The values themselves are checked by
 * `config.ts`.
 *
 * @module
 */
import { parse as parseToml, TomlError } from "smol-toml";
import { ConfigError, type ConfigSchema } from "./_config_types.ts";
import { didYouMean } from "./_suggest.ts";

function readFile(path: string, required: boolean): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    if (!required && err instanceof Deno.errors.NotFound) return undefined;
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`Cannot read configuration file ${path}: ${why}`);
  }
}

function parseFile(path: string, text: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const why = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new ConfigError(`${path}:${err.line}:${err.column}: Cannot parse TOML: ${why}`);
    }
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new ConfigError(`Cannot parse configuration file ${path}: ${why}`);
  }
}

/** The dotted path a TOML line opens (`[a.b]`) or assigns (`a.b = …`), without quotes. */
function linePath(line: string): { path: string; header: boolean; column: number } | undefined {
  const m = /^(\s*)(\[?)\s*([A-Za-z0-9_\-."' ]+?)\s*(\]|=)/.exec(line);
  if (m === null || (m[2] === "[") !== (m[4] === "]") || line.trimStart().startsWith("[[")) {
    return undefined;
  }
  const path = m[3]!.split(".").map((p) => p.trim().replace(/^(["'])(.*)\1$/, "$2")).join(".");
  return { path, header: m[2] === "[", column: m[1]!.length + 1 };
}

/**
 * `path:line:column` of the first line that opens or assigns `name` (or something under it);
 * else of the line that opens its closest enclosing table (`stratum = { listn = … }`); else
 * just `path`.
 */
function locate(text: string, path: string, name: string): string {
  let table = "";
  let enclosing: { at: string; depth: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const found = linePath(lines[i]!);
    if (found === undefined) continue;
    if (found.header) table = found.path;
    const full = found.header || table === "" ? found.path : `${table}.${found.path}`;
    const at = `${path}:${i + 1}:${found.column}`;
    if (full === name || full.startsWith(`${name}.`)) return at;
    if (name.startsWith(`${full}.`) && full.length > (enclosing?.depth ?? -1)) {
      enclosing = { at, depth: full.length };
    }
  }
  return enclosing?.at ?? path;
}

function checkFileShape(
  schema: ConfigSchema,
  doc: Record<string, unknown>,
  file: { path: string; text: string },
): void {
  const where = (name: string) => locate(file.text, file.path, name);
  for (const [section, body] of Object.entries(doc)) {
    const spec = schema[section];
    if (spec === undefined) {
      const hint = didYouMean(section, Object.keys(schema), (s) => `[${s}]`) ||
        `; known sections are ${Object.keys(schema).join(", ")}`;
      throw new ConfigError(
        `${where(section)}: Unknown configuration section [${section}]${hint}`,
        section,
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new ConfigError(
        `${where(section)}: Invalid configuration: ${section} must be a table ([${section}])`,
        section,
      );
    }
    for (const key of Object.keys(body)) {
      if (spec[key] !== undefined) continue;
      const name = `${section}.${key}`;
      const known = Object.keys(spec).map((k) => `${section}.${k}`);
      const hint = didYouMean(name, known) ||
        `; known keys of [${section}] are ${Object.keys(spec).join(", ")}`;
      throw new ConfigError(`${where(name)}: Unknown configuration key ${name}${hint}`, name);
    }
  }
}

/** Options for {@linkcode readConfigFile}. */
export interface ReadConfigFileOptions {
  /** Whether a missing file is an error (an explicit `--config`) or means no file. */
  required: boolean;
  /** Every known section and key. */
  schema: ConfigSchema;
}

/**
 * Read, parse and check the shape of a configuration file.
 *
 * @example Usage
 * ```ts
 * import { readConfigFile } from "./_config_file.ts";
 * import assert from "node:assert/strict";
 *
 * const schema = { log: { level: { kind: "string" as const, default: "info", doc: "." } } };
 * const path = await Deno.makeTempFile({ suffix: ".toml" });
 * await Deno.writeTextFile(path, '[log]\nlevle = "debug"\n');
 * assert.throws(
 *   () => readConfigFile(path, { required: true, schema }),
 *   { message: `${path}:2:1: Unknown configuration key log.levle — did you mean log.level?` },
 * );
 * assert.equal(readConfigFile("/nonexistent.toml", { required: false, schema }), undefined);
 * await Deno.remove(path);
 * ```
 *
 * @param path The file.
 * @param options Whether it must exist, and the schema.
 * @returns The parsed document, or undefined when an optional file is missing.
 * @throws {ConfigError} On an unreadable file, a TOML syntax error, or an unknown key or section.
 */
export function readConfigFile(
  path: string,
  options: ReadConfigFileOptions,
): Record<string, unknown> | undefined {
  const text = readFile(path, options.required);
  if (text === undefined) return undefined;
  const doc = parseFile(path, text);
  checkFileShape(options.schema, doc, { path, text });
  return doc;
}
