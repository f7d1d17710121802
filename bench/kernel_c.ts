/**
 * The plain C comparison for `bench/kernel_speed.ts`: finds a C compiler, builds this
 * project's own C vBlake (`bench/c/vblake.c` with its scan driver `bench/c/bench_main.c`) in
 * a temporary folder, checks the binary against the TypeScript reference, and runs it.
 *
 * Two builds of the same source: "c" (the straightforward form: a loop over the rounds with
 * the sigma table) and "c-unrolled" (`-DVBLAKE_UNROLLED`: rounds unrolled, m[i] ^ C[i]
 * computed once per scan).
 *
 * @module
 */
import { difficultyToTarget, targetToBytes } from "../hash/difficulty.ts";
import { bytesToHex } from "../hash/hex.ts";
import { createReferenceKernel } from "../hash/kernel.ts";
import { vblake } from "../hash/vblake.ts";

/** The C builds. */
export const C_VARIANTS = ["c", "c-unrolled"] as const;

/** Name of a C build. */
export type CVariant = typeof C_VARIANTS[number];

/** A built and checked C binary. */
export interface CBinary {
  variant: CVariant;
  path: string;
  /** The compiler command and flags used. */
  command: string;
}

/** One timed run of a C binary. */
export interface CRun {
  hashes: number;
  wallMs: number;
  /** CPU time of the hashing thread. */
  cpuMs: number;
}

const SOURCES = ["vblake.c", "bench_main.c"].map((f) =>
  new URL(`./c/${f}`, import.meta.url).pathname
);

async function output(cmd: string, args: string[]): Promise<{ code: number; text: string }> {
  const result = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    text: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

/**
 * Find a C compiler: `$CC`, then `cc`, `gcc`, `clang`.
 *
 * @example Usage
 * ```ts
 * import { findCompiler } from "./kernel_c.ts";
 * import assert from "node:assert/strict";
 *
 * const compiler = await findCompiler();
 * assert.ok(compiler === undefined || compiler.version.length > 0);
 * ```
 *
 * @returns The command and its version line, or undefined when none runs.
 */
export async function findCompiler(): Promise<{ cc: string; version: string } | undefined> {
  const candidates = [Deno.env.get("CC"), "cc", "gcc", "clang"].filter((c): c is string => !!c);
  for (const cc of candidates) {
    try {
      const { code, text } = await output(cc, ["--version"]);
      if (code === 0) return { cc, version: text.split("\n")[0]!.trim() };
    } catch {
      // not installed
    }
  }
  return undefined;
}

/**
 * Build one C variant into `dir` and check it: the hash of `header` and a 4000-nonce scan at
 * difficulty 256 (first three finds, and the nonces tried) must equal the reference's.
 *
 * @example Usage
 * ```ts
 * import { buildC, findCompiler, runC } from "./kernel_c.ts";
 * import assert from "node:assert/strict";
 *
 * const compiler = await findCompiler();
 * if (compiler) {
 *   const dir = await Deno.makeTempDir();
 *   const header = new Uint8Array(64);
 *   const binary = await buildC(compiler.cc, { variant: "c", flags: ["-O1"], dir, header });
 *   const run = await runC(binary, { header, ms: 10, startNonce: 0 });
 *   assert.ok(run.hashes > 0 && run.cpuMs > 0);
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @param cc Compiler command.
 * @param options Variant, flags (e.g. ["-O3", "-march=native"]), output folder, check header.
 * @returns The binary.
 * @throws {Error} When the build fails or the binary disagrees with the reference.
 */
export async function buildC(
  cc: string,
  options: { variant: CVariant; flags: string[]; dir: string; header: Uint8Array },
): Promise<CBinary> {
  const { variant, flags, dir, header } = options;
  const path = `${dir}/vblake_${variant}`;
  const args = [...flags, ...(variant === "c-unrolled" ? ["-DVBLAKE_UNROLLED"] : [])];
  const build = await output(cc, [...args, "-o", path, ...SOURCES]);
  if (build.code !== 0) throw new Error(`Cannot build the C kernel ${variant}: ${build.text}`);
  const hex = bytesToHex(header, { upper: true });
  const hash = await output(path, ["hash", hex]);
  const want = bytesToHex(vblake(header), { upper: true });
  if (hash.text.trim() !== want) {
    throw new Error(`Cannot trust the C kernel ${variant}: hash ${hash.text.trim()}, want ${want}`);
  }
  const target = difficultyToTarget(256n);
  const scan = await output(path, [
    "scan",
    hex,
    bytesToHex(targetToBytes(target)),
    "4000000000",
    "4000",
    "3",
  ]);
  const ref = createReferenceKernel().scan(header, {
    startNonce: 4_000_000_000,
    count: 4000,
    target,
    maxResults: 3,
  });
  const wantScan = [ref.tried, ...ref.nonces].join(" ");
  if (scan.text.trim() !== wantScan) {
    throw new Error(
      `Cannot trust the C kernel ${variant}: scan ${scan.text.trim()}, want ${wantScan}`,
    );
  }
  return { variant, path, command: [cc, ...args].join(" ") };
}

/**
 * Run a C binary's timed scan (see {@linkcode buildC} for an example).
 *
 * @param binary The binary.
 * @param options Header template, duration and first nonce.
 * @returns What it measured.
 */
export async function runC(
  binary: CBinary,
  options: { header: Uint8Array; ms: number; startNonce: number },
): Promise<CRun> {
  const { code, text } = await output(binary.path, [
    "run",
    bytesToHex(options.header),
    String(options.ms / 1000),
    String(options.startNonce >>> 0),
  ]);
  if (code !== 0) throw new Error(`Cannot run the C kernel ${binary.variant}: ${text}`);
  return JSON.parse(text) as CRun;
}
