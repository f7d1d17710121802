/**
 * The program version (kept equal to `deno.json`'s `version` by a test).
 *
 * @module
 */

/** The vbkpool version. */
export const VERSION = "0.1.0";
