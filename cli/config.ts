/**
 * Configuration loading: one TOML file, environment variables and command-line flags, merged with
 * the precedence flag > env > file > default, every value checked against a schema.
 *
 * @module
 */
import { parse as parseToml } from "smol-toml";

/** The kinds of value a configuration key can hold. */
export type ValueKind = "string" | "integer" | "number" | "boolean" | "string_list";

/** One configuration key. */
export interface FieldSpec {
  /** Value kind. */
  kind: ValueKind;
  /** Default value (already of the right kind). */
  default: unknown;
  /** One-line description, shown in help output and the example file. */
  doc: string;
  /** Allowed values for strings. */
  choices?: readonly string[];
  /** Inclusive bounds for numbers. */
  min?: number;
  /** Inclusive bounds for numbers. */
  max?: number;
  /** Extra check; returns what was expected when the value is wrong. */
  check?: (value: unknown) => string | undefined;
}

/** Keys of one `[section]`. */
export type SectionSpec = Record<string, FieldSpec>;

/** The whole schema: section name to keys. */
export type ConfigSchema = Record<string, SectionSpec>;

/** A loaded configuration: section to key to value. */
export type ConfigValues = Record<string, Record<string, unknown>>;

/** Where a value came from. */
export type ValueSource = "default" | "file" | "env" | "flag";

/** A configuration error naming the key, the value and what was expected. */
export class ConfigError extends Error {
  /** `section.key`, when the error is about one key. */
  readonly key: string | undefined;

  /**
   * @param message Complete message.
   * @param key The key concerned.
   */
  constructor(message: string, key?: string) {
    super(message);
    this.name = "ConfigError";
    this.key = key;
  }
}

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Explicit file path (`--config`). Missing file is an error. */
  path?: string;
  /** File to use when present and no path given. @default "vbkpool.toml" */
  defaultPath?: string;
  /** Environment variables. @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** Flag values, keyed `section.key`, as text or already-typed values. */
  flags?: Record<string, unknown>;
  /** Sections to load; others in the file are still checked for unknown keys. */
  sections?: readonly string[];
}

/** A loaded configuration with the origin of each value. */
export interface LoadedConfig {
  /** The values. */
  values: ConfigValues;
  /** `section.key` to where its value came from. */
  sources: Record<string, ValueSource>;
  /** The file that was read, if any. */
  file: string | undefined;
}

/**
 * The environment variable for a key: `VBKPOOL_<SECTION>_<KEY>`.
 *
 * @example Usage
 * ```ts
 * import { envName } from "./config.ts";
 * import assert from "node:assert/strict";
 * assert.equal(envName("log", "level"), "VBKPOOL_LOG_LEVEL");
 * ```
 *
 * @param section Section name.
 * @param key Key name.
 * @returns The variable name.
 */
export function envName(section: string, key: string): string {
  return `VBKPOOL_${section}_${key}`.toUpperCase();
}

function describe(spec: FieldSpec): string {
  switch (spec.kind) {
    case "string":
      return spec.choices ? `one of ${spec.choices.join(", ")}` : "a string";
    case "integer":
    case "number": {
      const what = spec.kind === "integer" ? "an integer" : "a number";
      if (spec.min !== undefined && spec.max !== undefined) {
        return `${what} from ${spec.min} to ${spec.max}`;
      }
      if (spec.min !== undefined) return `${what} >= ${spec.min}`;
      return what;
    }
    case "boolean":
      return "true or false";
    case "string_list":
      return "a list of strings";
  }
}

function fail(key: string, value: unknown, origin: string, expected: string): never {
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new ConfigError(
    `Invalid configuration value for ${key} (${origin}): got ${shown}, expected ${expected}`,
    key,
  );
}

function fromText(text: string, spec: FieldSpec): unknown {
  const t = text.trim();
  switch (spec.kind) {
    case "string":
      return text;
    case "integer":
      return /^[-+]?\d+$/.test(t) ? Number(t) : text;
    case "number":
      return t !== "" && Number.isFinite(Number(t)) ? Number(t) : text;
    case "boolean":
      if (/^(true|yes|on|1)$/i.test(t)) return true;
      if (/^(false|no|off|0)$/i.test(t)) return false;
      return text;
    case "string_list":
      return t === "" ? [] : t.split(",").map((s) => s.trim()).filter((s) => s !== "");
  }
}

function coerce(
  key: string,
  value: unknown,
  spec: FieldSpec,
  origin: string,
  raw: unknown = value,
): unknown {
  let v = value;
  if (typeof v === "bigint") v = Number(v);
  if (spec.kind === "string_list" && typeof v === "string") v = [v];
  const expected = describe(spec);
  switch (spec.kind) {
    case "string":
      if (typeof v !== "string") fail(key, raw, origin, expected);
      if (spec.choices && !spec.choices.includes(v)) fail(key, raw, origin, expected);
      break;
    case "integer":
    case "number":
      if (typeof v !== "number" || !Number.isFinite(v)) fail(key, raw, origin, expected);
      if (spec.kind === "integer" && !Number.isSafeInteger(v)) fail(key, raw, origin, expected);
      if (spec.min !== undefined && v < spec.min) fail(key, raw, origin, expected);
      if (spec.max !== undefined && v > spec.max) fail(key, raw, origin, expected);
      break;
    case "boolean":
      if (typeof v !== "boolean") fail(key, raw, origin, expected);
      break;
    case "string_list":
      if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
        fail(key, raw, origin, expected);
      }
      break;
  }
  const problem = spec.check?.(v);
  if (problem !== undefined) fail(key, raw, origin, problem);
  return v;
}

function readFile(path: string, required: boolean): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (!required && err instanceof Deno.errors.NotFound) return undefined;
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`Cannot read configuration file ${path}: ${why}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new ConfigError(`Cannot parse configuration file ${path}: ${why}`);
  }
}

function checkFileShape(schema: ConfigSchema, doc: Record<string, unknown>, path: string): void {
  for (const [section, body] of Object.entries(doc)) {
    const spec = schema[section];
    if (spec === undefined) {
      throw new ConfigError(
        `Unknown configuration section [${section}] in ${path}: known sections are ${
          Object.keys(schema).join(", ")
        }`,
        section,
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new ConfigError(
        `Invalid configuration: ${section} in ${path} must be a table`,
        section,
      );
    }
    for (const key of Object.keys(body)) {
      if (spec[key] === undefined) {
        throw new ConfigError(
          `Unknown configuration key ${section}.${key} in ${path}: known keys are ${
            Object.keys(spec).join(", ")
          }`,
          `${section}.${key}`,
        );
      }
    }
  }
}

/**
 * Load and validate configuration from defaults, a TOML file, the environment and flags.
 *
 * @example Usage
 * ```ts
 * import { loadConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 * const schema = { log: { level: { kind: "string" as const, default: "info", doc: "level" } } };
 * const cfg = loadConfig(schema, { env: { VBKPOOL_LOG_LEVEL: "debug" }, defaultPath: "/nonexistent" });
 * assert.equal(cfg.values.log?.level, "debug");
 * assert.equal(cfg.sources["log.level"], "env");
 * ```
 *
 * @param schema Every known section and key.
 * @param options File, environment and flags.
 * @returns The merged values with their sources.
 * @throws {ConfigError} On an unreadable or malformed file, an unknown key or a bad value.
 */
export function loadConfig(schema: ConfigSchema, options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? Deno.env.toObject();
  const flags = options.flags ?? {};
  const path = options.path ?? env["VBKPOOL_CONFIG"];
  const filePath = path ?? options.defaultPath ?? "vbkpool.toml";
  const doc = readFile(filePath, path !== undefined);
  if (doc) checkFileShape(schema, doc, filePath);
  const values: ConfigValues = {};
  const sources: Record<string, ValueSource> = {};
  const sections = options.sections ?? Object.keys(schema);
  for (const section of sections) {
    const spec = schema[section];
    if (spec === undefined) continue;
    const out: Record<string, unknown> = {};
    const fileSection = doc?.[section] as Record<string, unknown> | undefined;
    for (const [key, field] of Object.entries(spec)) {
      const name = `${section}.${key}`;
      const envVar = envName(section, key);
      let value: unknown = field.default;
      let source: ValueSource = "default";
      if (name in flags) {
        const raw = flags[name];
        const typed = typeof raw === "string" ? fromText(raw, field) : raw;
        value = coerce(name, typed, field, "flag", raw);
        source = "flag";
      } else if (env[envVar] !== undefined) {
        const origin = `environment ${envVar}`;
        value = coerce(name, fromText(env[envVar], field), field, origin, env[envVar]);
        source = "env";
      } else if (fileSection !== undefined && key in fileSection) {
        value = coerce(name, fileSection[key], field, filePath);
        source = "file";
      }
      out[key] = value;
      sources[name] = source;
    }
    values[section] = out;
  }
  return { values, sources, file: doc ? filePath : undefined };
}

/** Options for {@linkcode renderExample}. */
export interface RenderExampleOptions {
  /** Comment lines at the top of the file. */
  header?: string[];
  /** A description per section. */
  sectionDocs?: Record<string, string>;
}

/**
 * Render the schema as a commented TOML document (the basis of `vbkpool.example.toml`).
 *
 * @example Usage
 * ```ts
 * import { renderExample } from "./config.ts";
 * import assert from "node:assert/strict";
 * const schema = { log: { level: { kind: "string" as const, default: "info", doc: "Level." } } };
 * assert.match(renderExample(schema), /level = "info"/);
 * ```
 *
 * @param schema Every known section and key.
 * @param options Header and section descriptions.
 * @returns TOML text with every key at its default, each preceded by its description.
 */
export function renderExample(schema: ConfigSchema, options: RenderExampleOptions = {}): string {
  const lines: string[] = (options.header ?? []).map((l) => `# ${l}`.trimEnd());
  if (lines.length > 0) lines.push("");
  for (const [section, spec] of Object.entries(schema)) {
    const doc = options.sectionDocs?.[section];
    if (doc !== undefined) lines.push(`# ${doc}`);
    lines.push(`[${section}]`);
    for (const [key, field] of Object.entries(spec)) {
      lines.push(`# ${field.doc}`);
      lines.push(`# (${describe(field)}; env ${envName(section, key)})`);
      lines.push(`${key} = ${JSON.stringify(field.default)}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
