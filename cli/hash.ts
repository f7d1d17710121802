/**
 * `vbkpool hash`: hash one header and show its fields, or verify a chain file.
 *
 * @module
 */
import { UsageError } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import {
  bytesToHex,
  createBestKernel,
  decodeBits,
  decodeHeader,
  difficultyToTarget,
  hashDifficulty,
  hashToBigInt,
  hexToBytes,
  parseChainText,
  verifyChain,
} from "../hash/mod.ts";

function parseHeaderArg(text: string): Uint8Array {
  const clean = text.trim();
  if (!/^[0-9a-fA-F]*$/.test(clean)) {
    throw new UsageError(`HEADER_HEX must be hex, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  if (clean.length !== 128) {
    throw new UsageError(
      `HEADER_HEX must be 128 hex chars (64 bytes), got ${clean.length} chars`,
    );
  }
  return hexToBytes(clean);
}

function describeBits(bits: number): { text: string; target?: bigint } {
  try {
    const difficulty = decodeBits(bits);
    return { text: difficulty.toString(), target: difficultyToTarget(difficulty) };
  } catch (err) {
    return { text: `invalid (${err instanceof Error ? err.message : String(err)})` };
  }
}

function showHeader(text: string): number {
  const bytes = parseHeaderArg(text);
  const header = decodeHeader(bytes);
  const hash = createBestKernel().hash(bytes);
  const bits = describeBits(header.bits);
  const meets = bits.target !== undefined && hashToBigInt(hash) < bits.target;
  const rows: [string, string][] = [
    ["hash", bytesToHex(hash)],
    ["height", String(header.height)],
    ["version", String(header.version)],
    ["previous", bytesToHex(header.previousHash)],
    ["keystone1", bytesToHex(header.previousKeystone)],
    ["keystone2", bytesToHex(header.secondKeystone)],
    ["merkle", bytesToHex(header.merkleRoot)],
    ["timestamp", `${header.timestamp} (${new Date(header.timestamp * 1000).toISOString()})`],
    ["bits", `0x${header.bits.toString(16).padStart(8, "0").toUpperCase()}`],
    ["difficulty", bits.text],
    ["nonce", String(header.nonce)],
    ["achieved", hashDifficulty(hash).toString()],
    ["meets bits", meets ? "yes" : "no"],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(11)} ${v}`);
  return 0;
}

async function verifyFile(path: string): Promise<number> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new Error(`Cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const headers = parseChainText(text);
  const started = performance.now();
  const report = verifyChain(headers, { kernel: createBestKernel() });
  const ms = performance.now() - started;
  console.log(`file        ${path}`);
  console.log(`headers     ${report.count}`);
  console.log(`pow ok      ${report.count - report.powFailures.length}`);
  console.log(`pow failed  ${report.powFailures.length}`);
  console.log(`links ok    ${report.linksChecked - report.linkFailures.length}`);
  console.log(`links bad   ${report.linkFailures.length}`);
  console.log(`time        ${ms.toFixed(0)} ms`);
  for (const f of [...report.powFailures, ...report.linkFailures].slice(0, 20)) {
    console.log(`FAIL line ${f.index + 1} height ${f.height}: ${f.reason}`);
  }
  const ok = report.powFailures.length === 0 && report.linkFailures.length === 0;
  console.log(ok ? "result      OK" : "result      FAILED");
  return ok ? 0 : 1;
}

function run(ctx: CommandContext): Promise<number> {
  const verify = ctx.args.options.verify as string | undefined;
  const positionals = ctx.args.positionals;
  if (verify !== undefined) {
    if (positionals.length > 0) throw new UsageError("--verify takes no HEADER_HEX");
    return verifyFile(verify);
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? "missing HEADER_HEX" : "expected exactly one HEADER_HEX",
    );
  }
  return Promise.resolve(showHeader(positionals[0]!));
}

/** The `hash` command. */
export const hashCommand: Command = {
  name: "hash",
  summary: "hash a 64-byte header, or verify a chain file",
  usage: ["hash HEADER_HEX", "hash --verify FILE"],
  description: [
    "HEADER_HEX is a 64-byte vBlake-era VeriBlock header as 128 hex chars. The hash, decoded",
    "fields, the difficulty the hash achieves and whether it meets its own bits are printed.",
    "--verify checks every header line of FILE (proof of work against its own bits and the",
    "previous-hash links) and exits 1 on any failure.",
  ],
  options: [
    { flag: "verify", kind: "string", valueName: "FILE", doc: "verify a chain file" },
  ],
  sections: [],
  run,
};
