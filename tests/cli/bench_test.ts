import assert from "node:assert/strict";
import { COMMANDS, runCli } from "../../cli/mod.ts";

async function bench(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  try {
    const code = await runCli(["bench", ...args], COMMANDS, {
      output: { out: (t) => out.push(t), err: (t) => err.push(t) },
      env: {},
      stopSignal: new AbortController().signal,
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
  }
}

Deno.test("vbkpool bench --verify prints one checksum for every kernel beside its rate", async () => {
  const r = await bench(["--verify", "--nonces", "65536", "--json"]);
  assert.equal(r.code, 0, r.err);
  const rows = r.out.split("\n").filter((l) => /^(wasm-simd|wasm|ts) /.test(l));
  assert.equal(rows.length, 3, r.out);
  for (const row of rows) {
    assert.match(row, /^\S+\s+65536\s+\d+\s+[0-9a-f]{64}\s+[\d.]+ [kM]?H\/s$/);
  }
  const { verify } = JSON.parse(r.out.split("\n").at(-1)!);
  const sums = new Set(verify.map((v: { checksum: string }) => v.checksum));
  assert.equal(sums.size, 1);
  assert.match(r.out, new RegExp(`^checksum ${[...sums][0]}: all 3 kernels agree$`, "m"));
});

Deno.test("vbkpool bench --verify refuses a bad nonce count or kernel", async () => {
  for (const args of [["--nonces", "0"], ["--nonces", "4294967297"], ["--kernel", "gpu"]]) {
    const r = await bench(["--verify", ...args]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.err, /--nonces|--kernel/);
  }
});
