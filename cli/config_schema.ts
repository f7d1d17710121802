/**
 * Every configuration section and key of vbkpool, with defaults and descriptions. The committed
 * `vbkpool.example.toml` is rendered from this table (`deno task gen:example`).
 *
 * @module
 */
import type { ConfigSchema } from "./config.ts";
import { LOG_FORMATS, LOG_LEVELS } from "./log.ts";
import { DEVNET_SCHEMA } from "./_devnet_schema.ts";
import { NODECORE_SCHEMA } from "./_nodecore_schema.ts";

/** Short descriptions of each section, used in the example file. */
export const SECTION_DOCS: Record<string, string> = {
  log: "Logging (always to stderr).",
  devnet: "The embedded devnet (`vbkpool devnet`, and `server` when [nodecore] has no endpoints).",
  nodecore: "The pool's NodeCore connection (UCP). No endpoints = an embedded devnet.",
};

/** The configuration schema. */
export const SCHEMA: ConfigSchema = {
  log: {
    level: {
      kind: "string",
      default: "info",
      choices: LOG_LEVELS,
      doc: "Lowest level written: trace, debug, info, warning, error, fatal.",
    },
    format: {
      kind: "string",
      default: "pretty",
      choices: LOG_FORMATS,
      doc: "pretty (human-readable text) or json (one JSON object per line).",
    },
  },
  devnet: DEVNET_SCHEMA,
  nodecore: NODECORE_SCHEMA,
};
