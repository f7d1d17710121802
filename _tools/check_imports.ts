/**
 * Enforces DESIGN.md's import directions, the absence of import cycles, and the purity of
 * `hash/` and `protocol/` (no Deno namespace, timers, sockets or workers). Run by CI
 * (`deno task check:imports`); prints every violation and exits 1 if there is any.
 *
 * @module
 */
import { dirname, join, normalize } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
const SOURCE_DIRS = [
  "cli",
  "log",
  "hash",
  "protocol",
  "net",
  "server",
  "store",
  "payouts",
  "devnet",
  "miner",
  "api",
  "alerts",
];

/** Which top-level folders each folder may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  hash: [],
  protocol: ["hash"],
  log: [],
  net: ["protocol", "log"],
  store: ["hash", "log"],
  server: ["net", "protocol", "hash", "store", "log"],
  payouts: ["net", "protocol", "hash", "store", "log"],
  devnet: ["net", "protocol", "hash", "log"],
  miner: ["net", "protocol", "hash", "log"],
  api: ["server", "store", "net", "protocol", "hash", "log"],
  alerts: ["log"],
  cli: [
    "server",
    "miner",
    "devnet",
    "payouts",
    "store",
    "net",
    "protocol",
    "hash",
    "api",
    "log",
    "alerts",
  ],
  bench: SOURCE_DIRS.concat(["tests"]),
  tests: SOURCE_DIRS.concat(["bench", "tests", "_tools"]),
  _tools: SOURCE_DIRS,
};

/** Patterns that mean I/O or ambient effects, forbidden in pure folders. */
const IMPURE = [/\bDeno\./, /\bsetTimeout\(/, /\bsetInterval\(/, /\bfetch\(/, /new Worker\(/];
const PURE_DIRS = ["hash", "protocol"];
/** Build tools that live beside pure code but are never imported by it. */
const PURE_EXEMPT = [/^hash\/_wasm_gen\/build\.ts$/];

function walk(dir: string, out: string[]): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(join(ROOT, dir))];
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = join(dir, e.name);
    if (e.isDirectory) walk(rel, out);
    else if (/\.(ts|tsx|js)$/.test(e.name)) out.push(rel);
  }
}

function importsOf(text: string): string[] {
  const specs: string[] = [];
  const re =
    /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|;)\s*import\s*["']([^"']+)["']/gm;
  for (const m of text.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]!);
  return specs;
}

const files: string[] = [];
for (const d of [...SOURCE_DIRS, "bench", "tests", "_tools"]) walk(d, files);
files.push("main.ts");
const problems: string[] = [];
const graph = new Map<string, string[]>();

for (const file of files) {
  const text = Deno.readTextFileSync(join(ROOT, file));
  // Comments hold JSDoc examples that import by relative path; they are not real imports.
  const code = text.replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, "$1");
  const top = file.includes("/") ? file.split("/")[0]! : file;
  const edges: string[] = [];
  for (const spec of importsOf(code)) {
    if (!spec.startsWith(".")) continue;
    const target = normalize(join(dirname(file), spec));
    const targetTop = target.includes("/") ? target.split("/")[0]! : target;
    edges.push(target);
    if (target === "main.ts") problems.push(`${file}: nothing may import main.ts`);
    if (targetTop === "cli" && top !== "cli" && file !== "main.ts" && top !== "tests") {
      problems.push(`${file}: only main.ts and tests may import cli/ (imports ${target})`);
    }
    if (file === "main.ts" || targetTop === top || !(top in ALLOWED)) continue;
    if (!ALLOWED[top]!.includes(targetTop)) {
      problems.push(`${file}: ${top}/ may not import ${targetTop}/ (imports ${target})`);
    }
  }
  graph.set(file, edges);
  const pure = PURE_DIRS.includes(top) && !PURE_EXEMPT.some((re) => re.test(file));
  if (pure) {
    for (const re of IMPURE) {
      if (re.test(code)) problems.push(`${file}: ${top}/ must be pure, found ${re.source}`);
    }
  }
}

// Cycle detection (depth-first, colouring).
const state = new Map<string, 1 | 2>();
const stack: string[] = [];
function visit(node: string): void {
  state.set(node, 1);
  stack.push(node);
  for (const next of graph.get(node) ?? []) {
    if (!graph.has(next)) continue;
    const s = state.get(next);
    if (s === 1) {
      const cycle = stack.slice(stack.indexOf(next)).concat(next);
      problems.push(`import cycle: ${cycle.join(" -> ")}`);
    } else if (s === undefined) {
      visit(next);
    }
  }
  stack.pop();
  state.set(node, 2);
}
for (const node of graph.keys()) if (!state.has(node)) visit(node);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`${problems.length} import rule violation(s)`);
  Deno.exit(1);
}
console.log(`import rules ok: ${files.length} files, no cycles`);
