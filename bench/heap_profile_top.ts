/**
 * `deno run -A bench/heap_profile_top.ts FILE.heapprofile`: a sampling heap profile (V8's
 * `HeapProfiler.stopSampling` result, as `bench/pool_memory.ts --alloc-profile` writes it)
 * summed per function (self size of the samples allocated in it) and per call path ending in the
 * product's code. `--top N` rows (25).
 *
 * @module
 */
import { parseArgs } from "node:util";

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  callFrame: Frame;
  selfSize: number;
  children: ProfileNode[];
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { top: { type: "string", default: "25" } },
  allowPositionals: true,
});
const top = Number(values.top);
const profile = JSON.parse(await Deno.readTextFile(positionals[0]!)) as { head: ProfileNode };
const where = (f: Frame) =>
  `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(wt-[^/]+|main)\//, "")}:${
    f.lineNumber + 1
  }`;
const self = new Map<string, number>();
/** Self size per innermost frame of our own code (not ext:, node:, npm). */
const own = new Map<string, number>();
let total = 0;
function walk(node: ProfileNode, ownFrame: string | undefined): void {
  const here = where(node.callFrame);
  const isOwn = node.callFrame.url.startsWith("file://") &&
    !node.callFrame.url.includes("/node_modules/");
  const ownHere = isOwn ? here : ownFrame;
  if (node.selfSize > 0) {
    total += node.selfSize;
    self.set(here, (self.get(here) ?? 0) + node.selfSize);
    const k = ownHere ?? "(no own frame)";
    own.set(k, (own.get(k) ?? 0) + node.selfSize);
  }
  for (const c of node.children) walk(c, ownHere);
}
walk(profile.head, undefined);
const mib = (n: number) => (n / 2 ** 20).toFixed(1);
console.log(`${mib(total)} MiB sampled`);
console.log("\nby function (self):");
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${mib(v).padStart(8)} MiB ${(v / total * 100).toFixed(1).padStart(5)} %  ${k}`);
}
console.log("\nby innermost frame of the repository's code:");
for (const [k, v] of [...own].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${mib(v).padStart(8)} MiB ${(v / total * 100).toFixed(1).padStart(5)} %  ${k}`);
}
