/**
 * Builds the single-file executable (`deno task compile`): `dist/vbkpool` for Linux x86-64
 * (glibc), `dist/vbkpool.sha256` beside it, and the bundle it carries, `dist/vbkpool.js`.
 *
 * By default the executable is `_tools/launcher.sh`, a POSIX sh header, followed by a
 * gzip-compressed tar of a Deno binary and the bundled program (`deno bundle main.ts`); the
 * header checks, unpacks once and execs Deno on the program (see the header's own comment).
 * It builds offline: the Deno binary is the one of the npm package `@deno/linux-x64-glibc` at
 * {@linkcode DENO_VERSION}, checked against {@linkcode DENO_SHA256} wherever it comes from:
 * `--deno-bin PATH`, else the running Deno when it is that very file (as under
 * `npx -y deno@2.9.5`, whose platform package it is), else `npm pack` of the package (npm takes
 * it from its cache when it is there, from the registry otherwise).
 *
 * `--native` runs `deno compile` on the same bundle instead, with `--target` for another
 * platform; it needs the internet (`deno compile` downloads its runtime, `denort`).
 *
 * ```sh
 * deno run -A _tools/compile.ts [--out dist/vbkpool] [--deno-bin PATH]
 * deno run -A _tools/compile.ts --native [--target aarch64-apple-darwin] [--out PATH]
 * ```
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LAUNCHER = fileURLToPath(new URL("./launcher.sh", import.meta.url));
/** vbkpool's version, from `deno.json` (which a test keeps equal to `cli/version.ts`). */
const VERSION: string = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).version;

/** The Deno version the executable carries (keep equal to `DENO_VERSION` in `.ci/run`). */
export const DENO_VERSION = "2.9.5";
/** The npm package whose `deno` binary the executable carries. */
export const DENO_PACKAGE = "@deno/linux-x64-glibc";
/** SHA-256 of that binary (`package/deno` in the package's tarball). */
export const DENO_SHA256 = "dc480c462c8c3582524f3e75c160613d0a975e1f66b5465995d58bae236da7d3";
/** npm's integrity string of the package's tarball (`npm pack --json` prints it). */
const DENO_INTEGRITY =
  "sha512-TDqcnoLe3jlgqYEQm7H7MK6q0JOth+o8iSZzknRODnVkJfPiNnjVn1M1Zc6vnp+ipkyb6Av1/CUlHgHtlq59Gw==";

/** A regular file for {@linkcode ustar}. */
export interface TarFile {
  /** Its name in the archive (at most 100 bytes, no folders needed). */
  name: string;
  /** Its bytes. */
  data: Uint8Array;
  /** Permission bits, e.g. `0o755`. */
  mode: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function tarHeader(file: TarFile): Uint8Array<ArrayBuffer> {
  const name = new TextEncoder().encode(file.name);
  if (name.length > 100) throw new RangeError(`Cannot archive "${file.name}": name too long`);
  const block = new Uint8Array(512);
  const put = (offset: number, text: string) => block.set(new TextEncoder().encode(text), offset);
  block.set(name, 0);
  put(100, octal(file.mode, 8));
  put(108, octal(0, 8)); // uid
  put(116, octal(0, 8)); // gid
  put(124, octal(file.data.length, 12));
  put(136, octal(0, 12)); // mtime: fixed, for a reproducible build (unpacked with tar -m)
  put(148, "        "); // the checksum counts its own field as spaces
  put(156, "0");
  put(257, "ustar\x0000");
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, octal(sum, 7) + " ");
  return block;
}

/**
 * A POSIX ustar archive of regular files (owner 0, time 0), as a Blob (no copy of the data).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ustar } from "./compile.ts";
 *
 * const tar = ustar([{ name: "a.txt", data: new TextEncoder().encode("hi\n"), mode: 0o644 }]);
 * assert.equal(tar.size, 512 + 512 + 1024); // header, padded data, two zero blocks
 * ```
 *
 * @param files The files.
 * @returns The archive.
 */
export function ustar(files: readonly TarFile[]): Blob {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (const file of files) {
    parts.push(tarHeader(file), file.data as Uint8Array<ArrayBuffer>);
    const pad = (512 - file.data.length % 512) % 512;
    if (pad > 0) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(1024));
  return new Blob(parts);
}

/** What {@linkcode launcherScript} writes into the header. */
export interface LauncherFields {
  /** vbkpool's version. */
  version: string;
  /** Deno's version. */
  denoVersion: string;
  /** SHA-256 of the payload, lowercase hex. */
  payloadSha256: string;
  /** Payload bytes. */
  payloadSize: number;
  /** Bytes of the unpacked `deno`. */
  denoSize: number;
  /** Bytes of the unpacked `vbkpool.js`. */
  programSize: number;
}

/**
 * The launcher header for a payload: `template` (`_tools/launcher.sh`) with its `@FIELD@`
 * placeholders filled in, `FILE_SIZE` being the header's own length plus the payload's.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { launcherScript } from "./compile.ts";
 *
 * const header = launcherScript("FILE_SIZE=@FILE_SIZE@ KEY=@PAYLOAD_ID@\n", {
 *   version: "1.0.0", denoVersion: "2.9.5", payloadSha256: "ab".repeat(32),
 *   payloadSize: 1000, denoSize: 1, programSize: 1,
 * });
 * assert.equal(header, "FILE_SIZE=1036 KEY=abababababababab\n");
 * assert.equal(new TextEncoder().encode(header).length + 1000, 1036);
 * ```
 *
 * @param template The header with placeholders.
 * @param fields The values.
 * @returns The header.
 */
export function launcherScript(template: string, fields: LauncherFields): string {
  const values: Record<string, string> = {
    VBKPOOL_VERSION: fields.version,
    DENO_VERSION: fields.denoVersion,
    PAYLOAD_SHA256: fields.payloadSha256,
    PAYLOAD_ID: fields.payloadSha256.slice(0, 16),
    PAYLOAD_SIZE: String(fields.payloadSize),
    DENO_SIZE: String(fields.denoSize),
    PROGRAM_SIZE: String(fields.programSize),
  };
  for (const [name, value] of Object.entries(values)) {
    if (!/^[0-9A-Za-z.+-]+$/.test(value)) {
      throw new TypeError(`Cannot write ${name} into the launcher: unsafe value "${value}"`);
    }
  }
  const fill = (fileSize: number) =>
    template.replace(/@([A-Z0-9_]+)@/g, (all, name: string) => {
      if (name === "FILE_SIZE") return String(fileSize);
      const value = values[name];
      if (value === undefined) throw new SyntaxError(`Cannot fill the launcher: unknown ${all}`);
      return value;
    });
  // The size is part of the text it measures: settle it (two rounds at most).
  let fileSize = 0;
  for (;;) {
    const text = fill(fileSize);
    const size = new TextEncoder().encode(text).length + fields.payloadSize;
    if (size === fileSize) return text;
    fileSize = size;
  }
}

async function sha256(data: Uint8Array<ArrayBuffer> | Blob): Promise<string> {
  const bytes = data instanceof Blob ? await data.arrayBuffer() : data;
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function run(cmd: string, args: string[], cwd = ROOT): Promise<string> {
  let result;
  try {
    result = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    throw new Error(`Cannot run ${cmd}: ${err instanceof Error ? err.message : err}`);
  }
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${result.code}):\n` +
        decoder.decode(result.stderr) + decoder.decode(result.stdout),
    );
  }
  return decoder.decode(result.stdout);
}

/** A Deno binary checked against {@linkcode DENO_SHA256}, and where it came from. */
interface DenoBinary {
  data: Uint8Array<ArrayBuffer>;
  source: string;
}

async function readDeno(path: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const data = await Deno.readFile(path);
  return await sha256(data) === DENO_SHA256 ? data : undefined;
}

async function npmPackDeno(): Promise<DenoBinary> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-deno-pkg-" });
  try {
    const spec = `${DENO_PACKAGE}@${DENO_VERSION}`;
    const out = await run("npm", [
      "pack",
      spec,
      "--prefer-offline",
      "--json",
      "--pack-destination",
      dir,
    ], dir);
    const [info] = JSON.parse(out) as { filename: string; integrity: string }[];
    if (info?.integrity !== DENO_INTEGRITY) {
      throw new Error(`npm pack ${spec}: integrity ${info?.integrity}, expected ${DENO_INTEGRITY}`);
    }
    await run("tar", ["-xzf", join(dir, info.filename), "-C", dir, "package/deno"], dir);
    const data = await readDeno(join(dir, "package", "deno"));
    if (data === undefined) throw new Error(`${spec}: its deno binary has the wrong SHA-256`);
    return { data, source: `npm pack ${spec}` };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function denoBinary(explicit: string | undefined): Promise<DenoBinary> {
  if (explicit !== undefined) {
    const data = await readDeno(explicit);
    if (data === undefined) {
      throw new Error(
        `${explicit} is not the deno binary of ${DENO_PACKAGE}@${DENO_VERSION} ` +
          `(SHA-256 ${DENO_SHA256})`,
      );
    }
    return { data, source: explicit };
  }
  const running = Deno.execPath();
  const data = await readDeno(running).catch(() => undefined);
  if (data !== undefined) return { data, source: `${running} (the running Deno)` };
  return await npmPackDeno();
}

async function bundle(out: string): Promise<Uint8Array<ArrayBuffer>> {
  await Deno.mkdir(dirname(out), { recursive: true });
  await run(Deno.execPath(), ["bundle", "--quiet", "-o", out, "main.ts"]);
  return await Deno.readFile(out);
}

async function writeOutputs(out: string, data: Blob): Promise<string> {
  const partial = `${out}.partial`;
  await Deno.writeFile(partial, data.stream(), { mode: 0o755 });
  await Deno.chmod(partial, 0o755);
  await Deno.rename(partial, out);
  const hash = await sha256(data);
  await Deno.writeTextFile(`${out}.sha256`, `${hash}  ${basename(out)}\n`);
  return hash;
}

/** Options for {@linkcode buildExecutable}. */
export interface BuildOptions {
  /**
   * A Deno binary to carry (must be {@linkcode DENO_PACKAGE}'s, {@linkcode DENO_SHA256}).
   * @default the running Deno if it is that binary, else `npm pack`
   */
  denoBin?: string;
  /** Run `deno compile` instead of building the launcher. @default false */
  native?: boolean;
  /** `deno compile --target` (with `native` only). */
  target?: string;
}

/** What {@linkcode buildExecutable} built. */
export interface BuildResult {
  /** The executable's path. */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** Its SHA-256 (also written to `PATH.sha256`). */
  sha256: string;
  /** The version of the Deno inside (the compiling Deno's for a native build). */
  denoVersion: string;
  /** Where the carried Deno came from (`deno compile` for a native build). */
  denoSource: string;
}

/**
 * Build the executable `out`, `out.sha256` beside it and the bundle `vbkpool.js` in the same
 * folder.
 *
 * @example Usage
 * ```ts ignore
 * import { buildExecutable } from "./compile.ts";
 *
 * const built = await buildExecutable("dist/vbkpool");
 * console.log(built.size, built.sha256);
 * ```
 *
 * @param out The executable's path.
 * @param options Deno binary, native build.
 * @returns What was built.
 */
export async function buildExecutable(
  out: string,
  options: BuildOptions = {},
): Promise<BuildResult> {
  out = resolve(out);
  if (options.target !== undefined && !options.native) {
    throw new TypeError(
      "Cannot build the launcher for another target: it carries Linux x86-64 Deno only " +
        "(use --native --target TARGET, which needs the internet)",
    );
  }
  const programPath = join(dirname(out), "vbkpool.js");
  const program = await bundle(programPath);
  if (options.native) {
    const args = [
      "compile",
      "-A",
      "--unstable-net", // SO_REUSEPORT for zero-downtime upgrades (process.reuse_port)
      "--no-config",
      "--no-lock",
      "--no-npm",
      "-o",
      `${out}.partial`,
    ];
    if (options.target !== undefined) args.push("--target", options.target);
    await run(Deno.execPath(), [...args, programPath]);
    await Deno.rename(`${out}.partial`, out);
    const data = new Blob([await Deno.readFile(out)]);
    const hash = await sha256(data);
    await Deno.writeTextFile(`${out}.sha256`, `${hash}  ${basename(out)}\n`);
    return {
      path: out,
      size: data.size,
      sha256: hash,
      denoVersion: Deno.version.deno,
      denoSource: `deno compile${
        options.target === undefined ? "" : ` --target ${options.target}`
      }`,
    };
  }
  const deno = await denoBinary(options.denoBin);
  const tar = ustar([
    { name: "deno", data: deno.data, mode: 0o755 },
    { name: "vbkpool.js", data: program, mode: 0o644 },
  ]);
  const payload = await new Response(tar.stream().pipeThrough(new CompressionStream("gzip")))
    .blob();
  const header = launcherScript(await Deno.readTextFile(LAUNCHER), {
    version: VERSION,
    denoVersion: DENO_VERSION,
    payloadSha256: await sha256(payload),
    payloadSize: payload.size,
    denoSize: deno.data.length,
    programSize: program.length,
  });
  const file = new Blob([header, payload]);
  const hash = await writeOutputs(out, file);
  return {
    path: out,
    size: file.size,
    sha256: hash,
    denoVersion: DENO_VERSION,
    denoSource: deno.source,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: join(ROOT, "dist", "vbkpool") },
      "deno-bin": { type: "string" },
      native: { type: "boolean", default: false },
      target: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno task compile [--out PATH] [--deno-bin PATH] [--native [--target TARGET]]",
    );
    Deno.exit(0);
  }
  try {
    const built = await buildExecutable(values.out, {
      ...(values["deno-bin"] === undefined ? {} : { denoBin: values["deno-bin"] }),
      native: values.native,
      ...(values.target === undefined ? {} : { target: values.target }),
    });
    const mb = (built.size / 1e6).toFixed(1);
    console.log(`${built.path}: ${mb} MB, SHA-256 ${built.sha256} (in ${built.path}.sha256)`);
    console.log(`vbkpool ${VERSION}, Deno ${built.denoVersion} from ${built.denoSource}`);
  } catch (err) {
    console.error(`compile: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
