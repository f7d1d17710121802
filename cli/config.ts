/**
 * Configuration loading: one TOML file, environment variables and command-line flags, merged with
 * the precedence flag > env > file > default, every value checked against a schema.
 *
 * Mistakes are named where they are: a TOML syntax error or an unknown key as
 * `vbkpool.toml:12:5: …`, a misspelt key, section or `VBKPOOL_*` variable with the closest known
 * name (`— did you mean stratum.listen?`). An unknown variable is a warning (the environment is
 * shared with other programs), an unknown key in the file an error.
 *
 * @module
 */
import { didYouMean } from "./_suggest.ts";
import { readConfigFile } from "./_config_file.ts";
import {
  ConfigError,
  type ConfigSchema,
  type ConfigValues,
  type FieldSpec,
  type ValueSource,
} from "./_config_types.ts";

export {
  ConfigError,
  type ConfigSchema,
  type ConfigValues,
  type FieldSpec,
  type SectionSpec,
  type ValueKind,
  type ValueSource,
} from "./_config_types.ts";

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
  /**
   * What to load: whole sections (`"stratum"`) or single keys (`"nodecore.address"`); the rest
   * of the file is still checked for unknown keys. @default every section
   */
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
  /** Problems that do not stop the program (unknown `VBKPOOL_*` variables), one line each. */
  warnings: string[];
}

/**
 * Environment variables that are not configuration keys: `--config`, the single-file
 * executable's cache folder (read by its launcher; the systemd unit sets it) and the test hooks.
 */
const OTHER_VARIABLES = /^VBKPOOL_(CONFIG$|CACHE_DIR$|TEST_)/;

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

/**
 * One warning per `VBKPOOL_*` variable that names no configuration key, with the closest
 * known name.
 *
 * @example Usage
 * ```ts
 * import { unknownVariables } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const schema = { stratum: { listen: { kind: "string" as const, default: "", doc: "." } } };
 * assert.deepEqual(unknownVariables(schema, { VBKPOOL_STRATUM_LISTN: "x", HOME: "/" }), [
 *   "Unknown environment variable VBKPOOL_STRATUM_LISTN is ignored — did you mean " +
 *   "VBKPOOL_STRATUM_LISTEN?",
 * ]);
 * ```
 *
 * @param schema Every known section and key.
 * @param env The environment.
 * @returns The warnings, in the variables' sorted order.
 */
export function unknownVariables(schema: ConfigSchema, env: Record<string, string>): string[] {
  const known = new Set<string>();
  for (const [section, spec] of Object.entries(schema)) {
    for (const key of Object.keys(spec)) known.add(envName(section, key));
  }
  return Object.keys(env)
    .filter((name) => name.startsWith("VBKPOOL_") && !known.has(name))
    .filter((name) => !OTHER_VARIABLES.test(name))
    .sort()
    .map((name) =>
      `Unknown environment variable ${name} is ignored${
        didYouMean(name, [...known, "VBKPOOL_CONFIG"])
      }`
    );
}

/** Which keys of which sections to load, from `LoadConfigOptions.sections`. */
function selection(schema: ConfigSchema, entries: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const entry of entries) {
    const dot = entry.indexOf(".");
    const section = dot === -1 ? entry : entry.slice(0, dot);
    const spec = schema[section];
    if (spec === undefined) continue;
    const keys = dot === -1 ? Object.keys(spec) : [entry.slice(dot + 1)].filter((k) => k in spec);
    const have = out.get(section) ?? [];
    out.set(section, [...have, ...keys.filter((k) => !have.includes(k))]);
  }
  return out;
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
  const doc = readConfigFile(filePath, { required: path !== undefined, schema });
  const values: ConfigValues = {};
  const sources: Record<string, ValueSource> = {};
  const selected = selection(schema, options.sections ?? Object.keys(schema));
  for (const [section, keys] of selected) {
    const spec = schema[section]!;
    const out: Record<string, unknown> = {};
    const fileSection = doc?.[section] as Record<string, unknown> | undefined;
    for (const key of keys) {
      const field = spec[key]!;
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
  const warnings = unknownVariables(schema, env);
  return { values, sources, file: doc ? filePath : undefined, warnings };
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

/** Options for {@linkcode renderConfig}. */
export interface RenderConfigOptions {
  /** Comment lines at the top. */
  header?: string[];
  /** Where each value came from (`section.key` to source), written as a comment beside it. */
  sources?: Record<string, ValueSource>;
  /** `section.key` names whose values are secrets: written as a comment saying whether set. */
  secrets?: readonly string[];
}

function tomlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
  // A JSON string is a TOML basic string; JSON numbers and booleans are TOML ones.
  return JSON.stringify(value);
}

/**
 * Render loaded values as a TOML document that loads back to the same values (the effective
 * configuration of `--print-config`). Secrets are not written.
 *
 * @example Usage
 * ```ts
 * import { renderConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const text = renderConfig(
 *   { mine: { pools: ["stratum+tcp://127.0.0.1:3333"], threads: 2, api_token: "s3cret" } },
 *   { sources: { "mine.threads": "flag" }, secrets: ["mine.api_token"] },
 * );
 * assert.match(text, /^\[mine\]$/m);
 * assert.match(text, /^pools = \["stratum\+tcp:\/\/127\.0\.0\.1:3333"\]$/m);
 * assert.match(text, /^threads = 2 # flag$/m);
 * assert.doesNotMatch(text, /s3cret/);
 * ```
 *
 * @param values Values by section and key.
 * @param options Header, sources and secrets.
 * @returns TOML text.
 */
export function renderConfig(values: ConfigValues, options: RenderConfigOptions = {}): string {
  const lines: string[] = (options.header ?? []).map((l) => `# ${l}`.trimEnd());
  if (lines.length > 0) lines.push("");
  for (const [section, keys] of Object.entries(values)) {
    lines.push(`[${section}]`);
    for (const [key, value] of Object.entries(keys)) {
      const name = `${section}.${key}`;
      const source = options.sources?.[name];
      const note = source === undefined || source === "default" ? "" : ` # ${source}`;
      if (options.secrets?.includes(name)) {
        const set = typeof value === "string" && value !== "";
        lines.push(`# ${key} = ${set ? "(set, not shown)" : '""'}${note}`);
      } else lines.push(`${key} = ${tomlValue(value)}${note}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
