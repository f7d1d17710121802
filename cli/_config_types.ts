/**
 * The shapes of the configuration (a schema of sections and keys, loaded values, where each
 * came from) and its error, shared by `config.ts` and `_config_file.ts`; `config.ts` exports
 * them.
 *
 * @module
 */

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
