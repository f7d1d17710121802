/**
 * The `vbkpool` command line: one module per subcommand, the configuration schema and loader,
 * logging set-up and the runner. Nothing imports `cli/`; `main.ts` calls {@linkcode runCli}.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { adminCommand } from "./admin.ts";
import { auditCommand } from "./audit.ts";
import { benchCommand } from "./bench.ts";
import { demoCommand } from "./demo.ts";
import { devnetCommand } from "./devnet.ts";
import { hashCommand } from "./hash.ts";
import { mineCommand } from "./mine.ts";
import { payoutsCommand } from "./payouts.ts";
import { serverCommand } from "./server.ts";

export { runCli } from "./run.ts";
export type { Command } from "./command.ts";

/** Every implemented command, in help order. */
export const COMMANDS: readonly Command[] = [
  serverCommand,
  hashCommand,
  mineCommand,
  benchCommand,
  devnetCommand,
  payoutsCommand,
  auditCommand,
  adminCommand,
  demoCommand,
];
