/**
 * Renders `vbkpool.example.toml` from the configuration schema (`deno task gen:example`).
 *
 * @module
 */
import { renderExample } from "./config.ts";
import { SCHEMA, SECTION_DOCS } from "./config_schema.ts";

/** Comment lines at the top of the example file. */
export const EXAMPLE_HEADER = [
  "vbkpool example configuration. Copy to vbkpool.toml (read from the working directory) or pass",
  "--config PATH. Every key shows its default. Any key can also be set with an environment",
  "variable VBKPOOL_<SECTION>_<KEY> or a command-line flag --SECTION.KEY VALUE (e.g. --log.level",
  "debug); precedence: flag > env > file > default.",
  "Generated from cli/config_schema.ts by `deno task gen:example`.",
];

if (import.meta.main) {
  const text = renderExample(SCHEMA, { header: EXAMPLE_HEADER, sectionDocs: SECTION_DOCS });
  Deno.writeTextFileSync(new URL("../vbkpool.example.toml", import.meta.url), text);
}
